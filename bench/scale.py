"""`make bench-scale`: idstore with a million users and ten million audit records.

In one fresh PostgreSQL database: a store with `--small-users` users (ACTIVE TOTPs) and their
share of audit records; TOTP authentication latency and first-page latencies measured there;
then the store bulk-loaded by COPY to `--users` users and `--audit` records (load time printed)
and the same measured again. Prints a table and writes bench/results/scale-<timestamp>.json.
See bench/README.md and docs/scaling.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]  # no type information published
import httpx

from bench import bulk, cpu, report
from bench.bulk import LoadPlan
from bench.database import BenchDatabase
from bench.load import WRONG
from bench.run import BUSY_PERCENT, KEY_RING, RESULTS, Bench, measure, run_bench
from bench.seeding import BASE, Population, issue_token, seed
from bench.services import Service


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    add = parser.add_argument
    add("--users", type=int, default=1_000_000, help="users at scale (default 1,000,000)")
    add("--audit", type=int, default=10_000_000, help="audit records at scale (10,000,000)")
    add("--small-users", type=int, default=1000, help="users of the small store (1000)")
    add("--sample", type=int, default=10_000, help="users the load drives at scale (10,000)")
    add("--concurrency", type=int, default=8, help="wrk connections (default 8)")
    add("--duration", type=float, default=15.0, help="seconds of each measured run (15)")
    add("--warmup", type=float, default=3.0, help="seconds of warm-up before each run (3)")
    add("--stats-wait", type=float, default=11.0, help="seconds for PostgreSQL's counters (11)")
    add("--heavy-audit", type=int, default=100_000, help="records of one user at scale (100,000)")
    add("--list-requests", type=int, default=200, help="requests per list measured (200)")
    add("--keep-database", action="store_true", help="do not drop the database made for the run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    options.workers = 1
    document = run_bench(options, _run_in)
    if isinstance(document, int):
        return document
    path = RESULTS / f"scale-{document['timestamp']}.json"
    report.write_json(path, document)
    print("\n" + table(document))
    print(f"\nbench: {document['total_seconds']:.0f} s in all; results in {path}")
    return 0


def _run_in(
    options: argparse.Namespace, wrk: str, database: BenchDatabase, stamp: str
) -> dict[str, Any]:
    api_key = os.environ.get("IDSTORE_BENCH_API_KEY") or secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="idstore-bench-scale-") as work:
        bench = Bench(options, wrk, database, Path(work), api_key, stamp)
        try:
            idstore = bench.start_idstore()
            print(f"bench: idstore serving on {idstore.base_url}", flush=True)
            return _phases(bench, idstore)
        finally:
            bench.stop_all()


@dataclass(frozen=True)
class Phase:
    """One size of the store: how many users and records it holds, which users the load drives,
    and the user with the most records."""

    users: int
    audit: int
    population: Population
    heavy_user_id: str


def _phases(bench: Bench, idstore: Service) -> dict[str, Any]:
    """The small store measured, then grown to full size and measured again."""
    options = bench.options
    token = issue_token(idstore.base_url, bench.api_key)
    small = asyncio.run(
        seed(
            idstore.base_url, token, bench.database, KEY_RING, users=options.small_users, via="sql"
        )
    )
    share = options.small_users / options.users
    small_audit, small_heavy = int(options.audit * share), int(options.heavy_audit * share)
    first = LoadPlan(options.small_users, small_audit, 0, options.small_users, small_heavy)
    small_load = asyncio.run(bulk.load(bench.database, KEY_RING, small, first))
    heavy_id = small.users[0].id
    phases = [_measure(bench, idstore, Phase(options.small_users, small_audit, small, heavy_id))]

    print(f"bench: loading {options.users} users and {options.audit} audit records", flush=True)
    grow = LoadPlan(
        options.users,
        options.audit - small_audit,
        options.sample,
        first_index=options.small_users,
        heavy_audit=options.heavy_audit - small_heavy,
    )
    started = time.monotonic()
    grown = asyncio.run(bulk.load(bench.database, KEY_RING, small, grow))
    load_seconds = round(time.monotonic() - started, 1)
    print(f"bench: loaded in {load_seconds:.0f} s: {_rounded(grown.seconds)}", flush=True)
    driven = replace(small, users=tuple(grown.sample))
    phases.append(_measure(bench, idstore, Phase(options.users, options.audit, driven, heavy_id)))
    return {
        "small_load_seconds": _rounded(small_load.seconds),
        "load_seconds": load_seconds,
        "load_parts_seconds": _rounded(grown.seconds),
        "count_star_ms": asyncio.run(_time_count(bench.database, small.store_id)),
        "phases": phases,
    }


def _measure(bench: Bench, idstore: Service, phase: Phase) -> dict[str, Any]:
    time.sleep(bench.options.stats_wait)
    busy = cpu.busy_percent()
    print(f"bench: measuring at {phase.users} users, {phase.audit} audit records", flush=True)
    if busy > BUSY_PERCENT:
        print(f"bench: WARNING: the CPUs were {busy:.0f} % busy before this phase", flush=True)
    row = measure(bench, idstore, phase.population, WRONG, bench.options.concurrency)
    print(f"bench: {phase.users} users: TOTP p50 {row['latency_ms']['p50']} ms", flush=True)
    token = issue_token(idstore.base_url, bench.api_key)
    lists = asyncio.run(_time_lists(idstore, token, phase, bench.options.list_requests))
    return {
        "users": phase.users,
        "audit": phase.audit,
        "machine_busy_percent_before": busy,
        "authentication": row,
        "lists": lists,
    }


async def _time_lists(idstore: Service, token: str, phase: Phase, requests: int) -> dict[str, Any]:
    """First pages, one request at a time: the store's users, random users' audit, and the
    audit of the user with the most records."""
    store = f"{BASE}/{quote(phase.population.store_name, safe='')}"
    pick = random.Random(3)
    chosen = [pick.choice(phase.population.users).id for _ in range(requests)]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=idstore.base_url, headers=headers) as client:
        users = await _timed(client, [f"{store}/users"] * requests)
        audit = await _timed(client, [f"{store}/users/{u}/authentications" for u in chosen])
        heavy = f"{store}/users/{phase.heavy_user_id}/authentications"
        heavy_audit = await _timed(client, [heavy] * requests)
    return {
        "store_users_first_page": users,
        "user_audit_first_page": audit,
        "heavy_user_audit_first_page": heavy_audit,
    }


async def _timed(client: httpx.AsyncClient, paths: list[str]) -> dict[str, Any]:
    await client.get(paths[0])  # a warm connection
    latencies, totals = [], set()
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text}")
        totals.add(response.json()["totalElements"])
    return {**_percentiles(latencies), "requests": len(paths), "total_elements": sorted(totals)}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2)}


async def _time_count(database: BenchDatabase, store_id: str) -> float:
    """What a count(*) of the store's users costs, which the user counter saves (median of 5)."""
    connection = await asyncpg.connect(database.dsn)
    try:
        spent = []
        for _ in range(5):
            started = time.perf_counter()
            await connection.fetchval("SELECT count(*) FROM users WHERE store_id = $1", store_id)
            spent.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(spent), 1)
    finally:
        await connection.close()


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {part: round(value, 1) for part, value in seconds.items()}


def table(document: dict[str, Any]) -> str:
    """The phases side by side, then the ratio of the large to the small."""
    small, large = document["phases"]
    lines = [
        "| measure | " + " | ".join(_scale(phase) for phase in (small, large)) + " | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines.append(
        "| CPU share others used during the TOTP run % | "
        + " | ".join(f"{_other(phase):.0f}" for phase in (small, large))
        + " | |"
    )
    for name, read in _MEASURES.items():
        before, after = read(small), read(large)
        lines.append(f"| {name} | {before:.1f} | {after:.1f} | {after / before:.2f} |")
    lines.append(f"\nLoad (COPY, indexes, VACUUM ANALYZE): {document['load_seconds']:.0f} s, ")
    lines[-1] += f"parts {document['load_parts_seconds']}; "
    lines[-1] += f"count(*) of the store's users: {document['count_star_ms']} ms"
    return "\n".join(lines)


def _scale(phase: dict[str, Any]) -> str:
    return f"{phase['users']:,} users / {phase['audit']:,} audit"


def _other(phase: dict[str, Any]) -> float:
    share: float = phase["authentication"]["cpu"]["others_percent"]
    return share


def _auth(field: str) -> Any:
    return lambda phase: phase["authentication"]["latency_ms"][field]


def _list(name: str, field: str) -> Any:
    return lambda phase: phase["lists"][name][field]


_PERCENTILES = ("p50", "p95", "p99")
_LISTS = {
    "store's users": "store_users_first_page",
    "a user's audit": "user_audit_first_page",
    "the heavy user's audit": "heavy_user_audit_first_page",
}
_MEASURES = {
    "TOTP authentication req/s": lambda phase: phase["authentication"]["requests_per_second"],
    **{f"TOTP authentication {p} ms": _auth(p) for p in _PERCENTILES},
    **{
        f"{label}, first page {p} ms": _list(key, p)
        for label, key in _LISTS.items()
        for p in _PERCENTILES
    },
}


if __name__ == "__main__":
    sys.exit(main())
