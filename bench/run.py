"""`make bench`: idstore's TOTP authentication under load on PostgreSQL, against a floor.

Makes (or takes) a PostgreSQL database, starts `idstore serve` and the floor app (bench/floor.py)
on it, seeds a store, users and ACTIVE TOTPs, drives both with wrk at each concurrency, and prints
a table and writes bench/results/<timestamp>.json. See bench/README.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cpu, load, profile, report, services
from bench.database import BenchDatabase, Counters, DatabaseRefused, drop_database, open_database
from bench.load import MIXED, WRONG, Mix, WrkMissing
from bench.seeding import KeyRefused, Population, issue_token, seed
from bench.services import Service, ServiceFailed
from idstore.crypto.keyring import KeyRing, format_key_ring

# Cores busier than this (percent) before the start mean something else shares the machine.
BUSY_PERCENT = 15.0
RESULTS = Path(__file__).resolve().parent / "results"
# A fixed key ring: the harness seals the seeded secrets with it, the servers open them.
KEY_RING = KeyRing((("bench", hashlib.sha256(b"idstore bench key ring").digest()),))


def _levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    add = parser.add_argument
    add("--users", type=int, default=2000, help="users with an ACTIVE TOTP (default 2000)")
    add("--workers", type=int, default=1, help="server processes of each app (default 1)")
    add("--concurrency", type=_levels, default=[1, 8, 32, 64], help="default 1,8,32,64")
    add("--mixed-concurrency", type=_levels, default=[8, 32], help="10%% correct codes; 8,32")
    add("--duration", type=float, default=15.0, help="seconds of each measured run (15)")
    add("--warmup", type=float, default=3.0, help="seconds of warm-up before each run (3)")
    add("--stats-wait", type=float, default=11.0, help="seconds for PostgreSQL's counters (11)")
    add("--seed-via", choices=("api", "sql"), default="api", help="users over the API or COPY")
    add("--no-floor", action="store_true", help="measure idstore alone")
    add("--profile", action="store_true", help="then sample idstore with py-spy in one more run")
    add("--profile-concurrency", type=int, default=32, help="that run's concurrency (32)")
    add("--keep-database", action="store_true", help="do not drop the database made for the run")
    return parser


@dataclass
class Bench:
    """Everything one benchmark run holds."""

    options: argparse.Namespace
    wrk: str
    database: BenchDatabase
    work: Path
    api_key: str
    stamp: str
    services: list[Service] = field(default_factory=list)

    def start_idstore(self) -> Service:
        port = services.free_port()
        env = {
            "IDSTORE_DATABASE_URL": self.database.url,
            "IDSTORE_SECRET_KEYS": format_key_ring(KEY_RING).strip(),
            "IDSTORE_BOOTSTRAP_API_KEY": self.api_key,
            "IDSTORE_LOG_LEVEL": "WARNING",
            "IDSTORE_CALLER_REQUESTS_PER_SECOND": "0",
            "IDSTORE_WORKERS": str(self.options.workers),
            "IDSTORE_DATA_DIR": str(self.work / "data"),
        }
        command = [str(services.VENV_BIN / "idstore"), "serve", "--port", str(port)]
        return self._start("idstore", command, env, port)

    def start_floor(self) -> Service:
        port = services.free_port()
        env = {
            "FLOOR_DATABASE_URL": self.database.url,
            "FLOOR_SECRET_KEYS": format_key_ring(KEY_RING).strip(),
        }
        command = [services.python(), "-m", "bench.floor", "--port", str(port)]
        command += ["--workers", str(self.options.workers)]
        return self._start("floor", command, env, port)

    def _start(self, name: str, command: list[str], env: dict[str, str], port: int) -> Service:
        service = services.start(name, command, env, port, self.work)
        self.services.append(service)
        return service

    def stop_all(self) -> None:
        for service in self.services:
            service.stop()


def measure(
    bench: Bench, target: Service, population: Population, mix: Mix, connections: int
) -> dict[str, Any]:
    """One level: warm-up, measured run, then the server's and the database's figures."""
    script = bench.work / f"{target.name}-{mix.name}-{connections}.lua"
    span = bench.options.warmup + bench.options.duration + 5
    token = issue_token(bench.services[0].base_url, bench.api_key)
    load.write_script(
        script, population, token, mix, threads=load.threads_for(connections), seconds=span
    )
    before = asyncio.run(bench.database.counters())
    warm_requests, result, cpu_figures = _drive(bench, target, script, connections)
    workers = target.worker_pids()
    extra: dict[str, Any] = {
        "warmup_requests": warm_requests,
        "workers": [_worker(pid) for pid in workers],
        "other_processes": [_worker(pid) for pid in target.pids() if pid not in workers],
        "cpu": cpu_figures,
    }
    # PostgreSQL publishes a backend's counters up to 10 s after it goes idle: wait for them.
    time.sleep(bench.options.stats_wait)
    delta = asyncio.run(bench.database.counters()).minus(before)
    extra["database"] = _per_request(delta, warm_requests + int(result["requests"]))
    return report.run_row(
        target=target.name, mix=mix.name, connections=connections, result=result, extra=extra
    )


def _drive(
    bench: Bench, target: Service, script: Path, connections: int
) -> tuple[int, dict[str, Any], dict[str, float]]:
    """Warm-up, then the measured run: (warm-up requests, wrk's result, CPU figures)."""
    url, options = target.base_url + "/", bench.options
    warm_requests = 0
    if options.warmup > 0:
        warm = load.run_wrk(bench.wrk, url, script, connections=connections, seconds=options.warmup)
        warm_requests = int(warm["requests"])
    before = cpu.Marks.take(target.pids(), bench.database.name)
    result = load.run_wrk(bench.wrk, url, script, connections=connections, seconds=options.duration)
    after = cpu.Marks.take(target.pids(), bench.database.name)
    return warm_requests, result, cpu.figures(before, after, int(result["requests"]))


def _per_request(delta: Counters, answered: int) -> dict[str, float]:
    """The database's counters over the warm-up and the run, per attempt the server decided.

    The attempts are counted by the audit records written: wrk's count leaves out the requests
    still in flight when it stops, which the server completes all the same.
    """
    attempts = max(delta.audited or answered, 1)
    return {
        "attempts_audited": delta.audited,
        "transactions_per_request": round(delta.transactions / attempts, 3),
        "connections_opened": delta.sessions,
        "table_scans_per_request": round(delta.scans / attempts, 3),
        "rows_inserted_per_request": round(delta.inserted / attempts, 3),
        "rows_updated_per_request": round(delta.updated / attempts, 3),
    }


def _worker(pid: int) -> dict[str, Any]:
    memory = services.memory_kib(pid)
    return {
        "pid": pid,
        "rss_mb": round(memory.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mb": round(memory.get("VmHWM", 0) / 1024, 1),
    }


def plan(options: argparse.Namespace) -> list[tuple[str, Mix, int]]:
    """idstore and the floor level by level with wrong codes, then idstore's mixed runs."""
    steps: list[tuple[str, Mix, int]] = []
    for connections in options.concurrency:
        steps.append(("idstore", WRONG, connections))
        if not options.no_floor:
            steps.append(("floor", WRONG, connections))
    steps += [("idstore", MIXED, connections) for connections in options.mixed_concurrency]
    return steps


def run_all(bench: Bench) -> dict[str, Any]:
    idstore = bench.start_idstore()
    print(f"bench: idstore serving on {idstore.base_url}", flush=True)
    population, seeding = _seed(bench, idstore)
    targets = {"idstore": idstore}
    if not bench.options.no_floor:
        targets["floor"] = bench.start_floor()
    # Let the seeding's database counters come in before the first run's are taken.
    time.sleep(bench.options.stats_wait)
    rows = []
    for name, mix, connections in plan(bench.options):
        row = measure(bench, targets[name], population, mix, connections)
        rows.append(row)
        print(_progress(row), flush=True)
    found: dict[str, Any] = {"seeding": seeding, "runs": rows, "ratios": report.ratios(rows)}
    if bench.options.profile:
        found["profile"] = profile_run(bench, idstore, population)
    return found


def profile_run(bench: Bench, idstore: Service, population: Population) -> dict[str, Any] | None:
    """One more run of wrong codes with py-spy sampling every idstore worker (not measured)."""
    binary = profile.py_spy()
    if binary is None:
        print("bench: --profile needs py-spy (pip install py-spy); no profile taken", flush=True)
        return None
    connections, seconds = bench.options.profile_concurrency, bench.options.duration
    script = bench.work / "profile.lua"
    token = issue_token(idstore.base_url, bench.api_key)
    threads = load.threads_for(connections)
    load.write_script(script, population, token, WRONG, threads=threads, seconds=seconds + 5)
    out = bench.work / "profile"
    out.mkdir()
    recorders = profile.start(binary, idstore.worker_pids(), seconds, out)
    result = load.run_wrk(
        bench.wrk, idstore.base_url + "/", script, connections=connections, seconds=seconds
    )
    for recorder in recorders:
        recorder.wait(timeout=seconds + 60)
    kept = RESULTS / f"{bench.stamp}-profile"
    kept.mkdir(parents=True, exist_ok=True)
    for sampled in sorted(out.glob("*.txt")):
        shutil.copy(sampled, kept / f"idstore-{sampled.name}")
    summary = profile.summarize(sorted(kept.glob("*.txt")))
    summary["collapsed_stacks"] = str(kept)
    summary["concurrency"] = connections
    summary["requests_per_second_while_sampled"] = round(
        result["requests"] / (result["duration_us"] / 1e6), 1
    )
    return summary


def _seed(bench: Bench, idstore: Service) -> tuple[Population, dict[str, Any]]:
    options = bench.options
    token = issue_token(idstore.base_url, bench.api_key)
    started = time.monotonic()
    population = asyncio.run(
        seed(
            idstore.base_url,
            token,
            bench.database,
            KEY_RING,
            users=options.users,
            via=options.seed_via,
        )
    )
    seconds = round(time.monotonic() - started, 2)
    seeding = {"users": options.users, "via": options.seed_via, "seconds": seconds}
    seeding |= {f"{part}_seconds": round(value, 2) for part, value in population.seconds.items()}
    print(f"bench: seeded {options.users} users with TOTPs in {seconds:.1f} s", flush=True)
    return population, seeding


def _progress(row: dict[str, Any]) -> str:
    latency = row["latency_ms"]
    return (
        f"bench: {row['target']} {row['mix']} c={row['concurrency']}: "
        f"{row['requests_per_second']:.0f} req/s, p50 {latency['p50']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms, answers {row['answers']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    document = run_bench(options, _run_in)
    if isinstance(document, int):
        return document
    path = RESULTS / f"{document['timestamp']}.json"
    report.write_json(path, document)
    print("\n" + report.table(document["runs"], document["ratios"]))
    if document.get("profile"):
        print("\n" + "\n".join(profile.lines(document["profile"])))
    print(f"\nbench: {document['total_seconds']:.0f} s in all; results in {path}")
    return 0


RunIn = Callable[[argparse.Namespace, str, BenchDatabase, str], dict[str, Any]]


def run_bench(options: argparse.Namespace, run_in: RunIn) -> dict[str, Any] | int:
    """wrk and a database ready, `run_in(options, wrk, database, stamp)` run, the database
    dropped (unless kept or given): the findings with what was measured where, or an exit
    status when the run could not be made."""
    try:
        wrk = load.ensure_wrk()
    except WrkMissing as missing:
        print(f"bench: {missing}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    started, busy_before = time.monotonic(), cpu.busy_percent()
    try:
        database = asyncio.run(open_database(stamp))
    except (DatabaseRefused, OSError) as refused:
        print(f"bench: no database: {refused}", file=sys.stderr)
        return 2
    _announce(database, busy_before)
    try:
        found = run_in(options, wrk, database, stamp)
    except (ServiceFailed, KeyRefused) as failed:
        print(f"bench: {failed}", file=sys.stderr)
        return 1
    finally:
        if options.keep_database:
            print(f"bench: kept database {database.name}", flush=True)
        else:
            asyncio.run(drop_database(database))
    return {
        "timestamp": stamp,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "source": _source(),
        "machine_busy_percent_before": busy_before,
        "options": vars(options),
        "total_seconds": round(time.monotonic() - started, 1),
        **found,
    }


def _source() -> dict[str, Any]:
    """Which idstore was measured: the commit, and whether src/ had uncommitted changes."""

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", *arguments], cwd=services.REPO, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "src_changed": bool(git("status", "--short", "src")),
    }


def _announce(database: BenchDatabase, busy: float) -> None:
    print(f"bench: database {database.name} ({'new' if database.created else 'given'})", flush=True)
    if busy > BUSY_PERCENT:
        print(
            f"bench: WARNING: the CPUs were {busy:.0f} % busy before the start: something else "
            "runs on this machine and the numbers will be noisy (see `other` in the table)",
            flush=True,
        )


def _run_in(
    options: argparse.Namespace, wrk: str, database: BenchDatabase, stamp: str
) -> dict[str, Any]:
    api_key = os.environ.get("IDSTORE_BENCH_API_KEY") or secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="idstore-bench-") as work:
        bench = Bench(
            options=options,
            wrk=wrk,
            database=database,
            work=Path(work),
            api_key=api_key,
            stamp=stamp,
        )
        try:
            return run_all(bench)
        finally:
            bench.stop_all()


if __name__ == "__main__":
    sys.exit(main())
