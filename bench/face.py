"""`make bench-face`: the face model's latency and memory through FaceWorkers, and, with `--totp`,
TOTP authentications under load with and without face work running beside them.

Latency and memory: a FaceWorkers pool in this process (as the server holds one), its first call
timed from cold (pool start, model load), then enrolments (`template_of`) and matches
(`score_against`) one at a time and then as many at once as there are workers: p50/p95/p99 and
throughput. Memory: RSS of this process before and after the pool, RSS, peak RSS and PSS (shared
pages split among the processes sharing them) of each worker and of the forkserver.

`--totp`: the TOTP load of `make bench` (bench/run.py: PostgreSQL, `idstore serve`, wrk, wrong
codes) measured alone, then while this process keeps every face worker busy with matches at the
workers' niceness (10), then at niceness 0. The face pool is not inside the server here (the
server's face endpoints come separately); the competition for the machine's cores is the same.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageEnhance

from bench import cpu, report, services
from bench.database import BenchDatabase
from bench.load import WRONG
from bench.run import KEY_RING, RESULTS, Bench, measure, run_bench
from bench.seeding import issue_token, seed
from idstore.face import FaceTemplate, FaceWorkers
from idstore.face.workers import WORKER_NICENESS

Call = Callable[[], Awaitable[object]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.face", description=__doc__)
    add = parser.add_argument
    add("--face-workers", type=int, default=None, help="face processes (default: the cores)")
    add("--samples", type=int, default=40, help="timed calls of each kind (default 40)")
    add("--niceness", type=int, default=WORKER_NICENESS, help="of the face workers (10)")
    add("--totp", action="store_true", help="then TOTP throughput with and without face work")
    add("--users", type=int, default=500, help="--totp: users with an ACTIVE TOTP (500)")
    add("--concurrency", type=int, default=8, help="--totp: wrk connections (8)")
    add("--duration", type=float, default=15.0, help="--totp: seconds of each run (15)")
    add("--warmup", type=float, default=3.0, help="--totp: seconds of warm-up (3)")
    add("--stats-wait", type=float, default=2.0, help="--totp: pause after each run (2)")
    add("--keep-database", action="store_true", help="--totp: keep the database made for it")
    return parser


def portrait_jpeg() -> bytes:
    """The Grace Hopper portrait of Matplotlib's sample data (512 x 600)."""
    from matplotlib import cbook  # the dev extra, as for the tests

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


def brightened_crop(portrait: bytes) -> bytes:
    """A genuine probe: the portrait cropped to 340 x 380 and brightened, as a JPEG."""
    import io

    with Image.open(io.BytesIO(portrait)) as picture:
        crop = picture.convert("RGB").crop((100, 80, 440, 460))
    buffer = io.BytesIO()
    ImageEnhance.Brightness(crop).enhance(1.3).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max of a sample of durations, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "p50": round(cuts[49] * 1000, 1),
        "p95": round(cuts[94] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


async def _timed_one_at_a_time(call: Call, samples: int, workers: FaceWorkers) -> dict[str, Any]:
    """Latency, and the workers' CPU time per call: the figure a busy machine does not inflate."""
    durations = []
    cpu_before = cpu.cpu_by_pid(workers.worker_pids())
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - started)
    cpu_seconds = cpu.cpu_used(cpu_before, cpu.cpu_by_pid(workers.worker_pids()))
    return {
        "samples": samples,
        "latency_ms": percentiles(durations),
        "worker_cpu_ms_per_call": round(cpu_seconds * 1000 / samples, 1),
    }


async def _timed_in_parallel(call: Call, samples: int, width: int) -> dict[str, Any]:
    """`samples` calls, `width` in flight at any time: latency as a client sees it, and rate."""
    durations: list[float] = []
    remaining = iter(range(samples))

    async def client() -> None:
        for _ in remaining:
            started = time.perf_counter()
            await call()
            durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(width)))
    elapsed = time.perf_counter() - started
    return {
        "samples": samples,
        "in_flight": width,
        "per_second": round(samples / elapsed, 2),
        "latency_ms": percentiles(durations),
    }


def memory_of(pid: int) -> dict[str, float]:
    """RSS, peak RSS and PSS of a process, in MB."""
    status = services.memory_kib(pid)
    pss_kib = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "pid": pid,
        "rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mb": round(status.get("VmHWM", 0) / 1024, 1),
        "pss_mb": round(pss_kib / 1024, 1),
    }


def _forkserver_pid(worker_pids: Sequence[int]) -> int | None:
    """The workers' parent: multiprocessing's forkserver."""
    try:
        stat = Path(f"/proc/{worker_pids[0]}/stat").read_text()
    except (OSError, IndexError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


async def latency_and_memory(workers: FaceWorkers, samples: int) -> dict[str, Any]:
    """The figures of part one; see the module's docstring."""
    portrait = portrait_jpeg()
    probe = brightened_crop(portrait)
    api_before = memory_of(os.getpid())

    started = time.perf_counter()
    enrolled: FaceTemplate = await workers.template_of(portrait)
    cold_ms = round((time.perf_counter() - started) * 1000, 1)
    # Every worker started and loaded before timing: the pool starts its processes on demand.
    await asyncio.gather(*(workers.template_of(portrait) for _ in range(workers.workers * 2)))

    async def enrol() -> FaceTemplate:
        return await workers.template_of(portrait)

    async def match() -> float:
        return await workers.score_against(probe, enrolled)

    found: dict[str, Any] = {
        "workers": workers.workers,
        "first_call_from_cold_ms": cold_ms,
        "enrol_one_at_a_time": await _timed_one_at_a_time(enrol, samples, workers),
        "match_one_at_a_time": await _timed_one_at_a_time(match, samples, workers),
        "enrol_in_parallel": await _timed_in_parallel(enrol, samples, workers.workers),
        "match_in_parallel": await _timed_in_parallel(match, samples, workers.workers),
        "match_score": round(await match(), 3),
    }
    worker_pids = workers.worker_pids()
    forkserver = _forkserver_pid(worker_pids)
    found["memory"] = {
        "api_process_before_pool": api_before,
        "api_process_after": memory_of(os.getpid()),
        "workers": [memory_of(pid) for pid in worker_pids],
        "forkserver": memory_of(forkserver) if forkserver else None,
    }
    return found


class FaceLoad:
    """Keeps every worker of a pool busy with matches, in a thread of its own, until stopped."""

    def __init__(self, niceness: int, workers: int | None) -> None:
        self.pool = FaceWorkers(workers, niceness=niceness)
        self.matches = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        """Start, and return once every worker has loaded the model and matched once."""
        self._thread.start()
        self._ready.wait()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.pool.close()
        return self.matches

    async def _run(self) -> None:
        portrait = portrait_jpeg()
        probe = brightened_crop(portrait)
        enrolled = await self.pool.template_of(portrait)
        await asyncio.gather(
            *(self.pool.score_against(probe, enrolled) for _ in range(self.pool.workers))
        )
        self._ready.set()

        async def client() -> None:
            while not self._stop.is_set():
                await self.pool.score_against(probe, enrolled)
                self.matches += 1

        await asyncio.gather(*(client() for _ in range(self.pool.workers)))


def totp_beside_faces(options: argparse.Namespace, wrk: str, database: BenchDatabase) -> Any:
    """TOTP throughput alone, beside face matches at nice 10, and beside them at nice 0."""
    with tempfile.TemporaryDirectory(prefix="idstore-bench-face-") as work:
        bench = Bench(options, wrk, database, Path(work), _api_key(), "face")
        try:
            idstore = bench.start_idstore()
            token = issue_token(idstore.base_url, bench.api_key)
            population = asyncio.run(
                seed(idstore.base_url, token, database, KEY_RING, users=options.users, via="sql")
            )
            runs = []
            for niceness in (None, WORKER_NICENESS, 0):
                runs.append(_totp_run(bench, idstore, population, niceness))
                print(f"bench: {_totp_line(runs[-1])}", flush=True)
            return runs
        finally:
            bench.stop_all()


def _totp_run(bench: Bench, idstore: Any, population: Any, niceness: int | None) -> Any:
    face_load = FaceLoad(niceness, bench.options.face_workers) if niceness is not None else None
    if face_load:
        face_load.start()
    try:
        row = measure(bench, idstore, population, WRONG, bench.options.concurrency)
    finally:
        matches = face_load.stop() if face_load else 0
    row["face_niceness"] = niceness
    row["face_matches_during_warmup_and_run"] = matches
    return row


def _totp_line(row: dict[str, Any]) -> str:
    beside = (
        "alone" if row["face_niceness"] is None else f"beside faces, nice {row['face_niceness']}"
    )
    latency = row["latency_ms"]
    return (
        f"TOTP {beside}: {row['requests_per_second']:.0f} req/s, p50 {latency['p50']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms, face matches {row['face_matches_during_warmup_and_run']}"
    )


def _api_key() -> str:
    import secrets

    return os.environ.get("IDSTORE_BENCH_API_KEY") or secrets.token_urlsafe(32)


def _memory_text(figures: dict[str, float]) -> str:
    return f"RSS {figures['rss_mb']} MB (peak {figures['peak_rss_mb']}), PSS {figures['pss_mb']} MB"


def _print_latency(found: dict[str, Any]) -> None:
    cold = found["first_call_from_cold_ms"]
    print(f"face workers: {found['workers']}; first call from cold {cold} ms")
    for name in (
        "enrol one at a time",
        "match one at a time",
        "enrol in parallel",
        "match in parallel",
    ):
        part = found[name.replace(" ", "_")]
        rate = f", {part['per_second']}/s" if "per_second" in part else ""
        if "worker_cpu_ms_per_call" in part:
            rate += f", worker CPU {part['worker_cpu_ms_per_call']} ms a call"
        figures = ", ".join(f"{key} {value}" for key, value in part["latency_ms"].items())
        print(f"{name}: {figures} ms{rate}")
    memory = found["memory"]
    print(f"API process before the pool: {_memory_text(memory['api_process_before_pool'])}")
    print(f"API process after: {_memory_text(memory['api_process_after'])}")
    for worker in memory["workers"]:
        print(f"worker {worker['pid']}: {_memory_text(worker)}")
    if memory["forkserver"]:
        print(f"forkserver: {_memory_text(memory['forkserver'])}")


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    options.workers = 1  # server processes of `idstore serve` under --totp
    workers = FaceWorkers(options.face_workers, niceness=options.niceness)
    try:
        found = asyncio.run(latency_and_memory(workers, options.samples))
    finally:
        workers.close()
    _print_latency(found)
    document: dict[str, Any] = {"face": found}
    if options.totp:
        totp = run_bench(
            options, lambda o, wrk, db, _stamp: {"totp": totp_beside_faces(o, wrk, db)}
        )
        if isinstance(totp, int):
            return totp
        document |= totp
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    path = RESULTS / f"face-{stamp}.json"
    report.write_json(path, document)
    print(f"bench: results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
