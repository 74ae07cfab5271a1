"""The results: one row per run, the idstore/floor ratios, a table on stdout and a JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The goal of issue 5: at least 75 % of the floor's throughput at concurrency 8 and 32, p99
# within 1.5 times the floor's, under 120 MB RSS per worker process.
GOAL_THROUGHPUT, GOAL_P99, GOAL_RSS_MB = 0.75, 1.5, 120.0
LEGEND = (
    "errors: answers neither 200 nor 400 / socket errors / timeouts. RSS MB: of each worker "
    "process after the run.",
    "CPU ms, PG ms: CPU per request of the server's processes and of its PostgreSQL backends. "
    "xact: PostgreSQL transactions per request.",
    "conns: connections opened to the database during the run. other: share of the machine's "
    "CPU that neither the server, its backends nor wrk used.",
)


def run_row(
    *,
    target: str,
    mix: str,
    connections: int,
    result: dict[str, Any],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """What one measured wrk run says, with the server and database figures taken around it."""
    seconds = result["duration_us"] / 1e6
    answers: dict[str, int] = result["answers"]
    errors = result["errors"]
    return {
        "target": target,
        "mix": mix,
        "concurrency": connections,
        "seconds": round(seconds, 2),
        "requests": result["requests"],
        "requests_per_second": round(result["requests"] / seconds, 1),
        "latency_ms": {key: round(value / 1000, 2) for key, value in result["latency_us"].items()},
        "answers": dict(sorted(answers.items())),
        "errors": {
            "unexpected_answers": sum(
                count for key, count in answers.items() if key.split(":")[0] not in ("200", "400")
            ),
            "socket": errors["connect"] + errors["read"] + errors["write"],
            "timeouts": errors["timeout"],
        },
        **extra,
        "wrk_output": result["wrk_output"],
    }


def ratios(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """idstore / floor at each concurrency both ran with wrong codes."""
    found = []
    wrong = [row for row in rows if row["mix"] == "wrong"]
    for row in (row for row in wrong if row["target"] == "idstore"):
        floor = next(
            (f for f in wrong if f["target"] == "floor" and f["concurrency"] == row["concurrency"]),
            None,
        )
        if floor is None:
            continue
        found.append(
            {
                "concurrency": row["concurrency"],
                "throughput": round(row["requests_per_second"] / floor["requests_per_second"], 3),
                "p99": round(row["latency_ms"]["p99"] / max(floor["latency_ms"]["p99"], 0.001), 2),
            }
        )
    return found


def table(rows: Sequence[dict[str, Any]], found_ratios: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'target':8} {'mix':10} {'conc':>4} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>8} {'RSS MB':>9} {'CPU ms':>6} {'PG ms':>5} {'xact':>5} "
        f"{'conns':>5} {'other':>5}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        latency, errors = row["latency_ms"], row["errors"]
        error_text = f"{errors['unexpected_answers']}/{errors['socket']}/{errors['timeouts']}"
        rss = "/".join(f"{worker['rss_mb']:.0f}" for worker in row["workers"])
        database, used = row["database"], row["cpu"]
        lines.append(
            f"{row['target']:8} {row['mix']:10} {row['concurrency']:>4} "
            f"{row['requests_per_second']:>8.0f} {latency['p50']:>7.1f} {latency['p95']:>7.1f} "
            f"{latency['p99']:>7.1f} {error_text:>8} {rss:>9} "
            f"{used['server_ms_per_request']:>6.2f} {used['database_ms_per_request']:>5.2f} "
            f"{database['transactions_per_request']:>5.2f} {database['connections_opened']:>5} "
            f"{used['others_percent']:>4.0f}%"
        )
    lines += ["", *LEGEND, ""]
    lines += _answer_lines(rows)
    lines += _ratio_lines(found_ratios)
    return "\n".join(lines)


def _answer_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["answers by status:code"]
    for row in rows:
        shown = ", ".join(f"{key} {count}" for key, count in row["answers"].items())
        lines.append(f"  {row['target']:8} {row['mix']:10} c={row['concurrency']:<3} {shown}")
    return [*lines, ""]


def _ratio_lines(found: Sequence[dict[str, Any]]) -> list[str]:
    if not found:
        return []
    lines = [
        f"idstore / floor (wrong codes); goal at 8 and 32: throughput >= {GOAL_THROUGHPUT}, "
        f"p99 <= {GOAL_P99}",
        f"{'conc':>4} {'throughput':>10} {'p99':>6}",
    ]
    for ratio in found:
        lines.append(f"{ratio['concurrency']:>4} {ratio['throughput']:>10.2f} {ratio['p99']:>6.2f}")
    return lines


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
