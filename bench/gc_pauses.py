"""Garbage collector pauses during TOTP authentications, counted in-process.

A full collection walks every object the process holds and stops every request in flight while
it does. `idstore serve` freezes what exists once the app is built (`idstore.serving`); this
script measures what that buys: the app is built and seeded as `bench.in_process` does, then
wrong-code authentications are sent with the collector's callbacks timing each collection by
generation, once as the server runs (frozen after the app is built) and once without the freeze.
Each run is a fresh interpreter, so neither inherits the other's heap.

    .venv/bin/python -m bench.gc_pauses                      # SQLite in a temporary directory
    .venv/bin/python -m bench.gc_pauses --requests 20000

Collections are counted exactly; their durations are wall-clock (noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.in_process import SteppingClock, app_client, bench_settings, drive, seed
from idstore.serving import freeze_what_lives_as_long_as_the_process


class Pauses:
    """Collections and their time, by generation, while installed as a gc callback."""

    def __init__(self) -> None:
        self.count: Counter[int] = Counter()
        self.seconds: dict[int, float] = dict.fromkeys((0, 1, 2), 0.0)
        self.longest: dict[int, float] = dict.fromkeys((0, 1, 2), 0.0)
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation, took = info["generation"], time.perf_counter() - self._started
        self.count[generation] += 1
        self.seconds[generation] += took
        self.longest[generation] = max(self.longest[generation], took)

    def report(self) -> dict[str, Any]:
        return {
            str(g): {
                "collections": self.count[g],
                "total_ms": round(self.seconds[g] * 1000, 1),
                "longest_ms": round(self.longest[g] * 1000, 1),
            }
            for g in (0, 1, 2)
        }


async def _one_run(requests: int, users: int, frozen: bool) -> dict[str, Any]:
    clock = SteppingClock()
    with tempfile.TemporaryDirectory(prefix="idstore-gc-") as work:
        async with app_client(bench_settings(Path(work)), clock) as client:
            if frozen:
                freeze_what_lives_as_long_as_the_process()
            seeded = await seed(client, users, clock)
            pauses = Pauses()
            gc.callbacks.append(pauses)
            try:
                await drive(client, seeded, requests, "wrong", clock)
            finally:
                gc.callbacks.remove(pauses)
    return {"frozen": frozen, "tracked_objects": len(gc.get_objects()), **pauses.report()}


def _in_fresh_interpreter(options: argparse.Namespace, frozen: bool) -> dict[str, Any]:
    arguments = ["--requests", str(options.requests), "--users", str(options.users)]
    done = subprocess.run(  # this interpreter, this module
        [sys.executable, "-m", "bench.gc_pauses", *arguments, "--one", str(frozen).lower()],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(options: argparse.Namespace) -> None:
    if options.one is not None:
        print(json.dumps(asyncio.run(_one_run(options.requests, options.users, options.one))))
        return
    database = "$IDSTORE_DATABASE_URL" if os.environ.get("IDSTORE_DATABASE_URL") else "SQLite"
    print(f"{options.requests} wrong-code authentications, {options.users} users, {database}")
    print(f"{'run':<10}{'gen':>4}{'collections':>13}{'total ms':>10}{'longest ms':>12}")
    for frozen in (True, False):
        result = _in_fresh_interpreter(options, frozen)
        name = "frozen" if frozen else "unfrozen"
        for generation in ("0", "1", "2"):
            row = result[generation]
            print(
                f"{name:<10}{generation:>4}{row['collections']:>13}"
                f"{row['total_ms']:>10}{row['longest_ms']:>12}"
            )
        print(f"{'':<10}objects the collector tracks at the end: {result['tracked_objects']}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=10_000, help="authentications per run")
    parser.add_argument("--users", type=int, default=200, help="users, each with a TOTP")
    parser.add_argument("--one", choices=("true", "false"), default=None, help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    parsed = _parser().parse_args()
    if parsed.one is not None:
        parsed.one = parsed.one == "true"
    main(parsed)
