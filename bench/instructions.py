"""Python function calls per TOTP authentication, counted in-process: a figure load cannot move.

The machine the benchmark runs on is shared, so wall-clock throughput and even CPU time wander
from run to run. The number of Python function calls one request makes does not: this script
builds the app as `idstore serve` would (log level WARNING, no caller rate limit), seeds one
store, users and their TOTPs over the API, then sends authentications through an in-process ASGI
transport (all as `bench.in_process` does) with the app (only) under cProfile, and reports calls
per request, in total, by package and by function.

    .venv/bin/python -m bench.instructions                   # SQLite in a temporary directory
    .venv/bin/python -m bench.instructions --requests 500 --top 25
    IDSTORE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB .venv/bin/python \\
        -m bench.instructions                                # PostgreSQL (an empty database)

Two mixes: `wrong` (every code wrong, 3401) and `right` (the user's code of the current step,
200); a fake clock moves one period each time the users come round again, so every code is
fresh and no user runs out of attempts (9005); enough users keep the clock within the bearer
token's lifetime. Coroutines count one call each time they resume; calls the database driver
makes in a thread of its own (aiosqlite) are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.in_process import (
    MIXES,
    Seeded,
    SteppingClock,
    app_client,
    bench_settings,
    drive,
    seed,
)


class Profiled:
    """ASGI wrapper: profiles the app's own work only, while `profile` is set, and adds up the
    CPU time of the thread the app runs in, while `profile` is not.

    The in-process transport awaits the app for each request, one request at a time, so the
    calls and the CPU counted are the server's (its reads of the request and writes of the
    answer included), not the client's. A driver's own thread (aiosqlite) is not counted.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.profile: cProfile.Profile | None = None
        self.cpu_seconds = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        profile = self.profile
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif profile is None:
            started = time.thread_time()
            try:
                await self.app(scope, receive, send)
            finally:
                self.cpu_seconds += time.thread_time() - started
        else:
            profile.enable()
            try:
                await self.app(scope, receive, send)
            finally:
                profile.disable()


def _package(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    parts = Path(filename).parts
    for marker in ("site-packages", "src"):
        if marker in parts:
            return parts[parts.index(marker) + 1].removesuffix(".py")
    if "bench" in parts:
        return "bench"
    return "stdlib"


def _calls(stats: pstats.Stats) -> tuple[Counter[str], Counter[str]]:
    """Calls by package and by function; a built-in's calls count for the packages calling it."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for (filename, line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        calls, callers = row[1], row[4]
        package = _package(filename)
        by_function[f"{package}:{Path(filename).name}:{line}({name})"] += calls
        if package != "builtins":
            by_package[package] += calls
            continue
        for (caller_file, _line, _name), caller_row in callers.items():
            by_package[_package(caller_file)] += caller_row[1]
    return by_package, by_function


async def _measure(
    client: httpx.AsyncClient, seeded: Seeded, clock: SteppingClock, options: argparse.Namespace
) -> None:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, Profiled)
    for mix in MIXES:
        await drive(client, seeded, 20, mix, clock)  # warm: caches, compiled statements
        transport.app.profile = profile = cProfile.Profile()
        answers = await drive(client, seeded, options.requests, mix, clock)
        transport.app.profile = None
        _check(mix, answers, options.requests)
        if options.save:
            profile.dump_stats(f"{options.save}-{mix}.pstats")
        _print(mix, options, *_calls(pstats.Stats(profile)))
        app = transport.app
        cpu = await _cpu_per_request(client, seeded, clock, options.cpu_requests, mix, app)
        print(f"  CPU of the app's thread, unprofiled: {cpu * 1e6:.0f} µs a request")


async def _cpu_per_request(
    client: httpx.AsyncClient,
    seeded: Seeded,
    clock: SteppingClock,
    requests: int,
    mix: str,
    app: Profiled,
) -> float:
    app.cpu_seconds = 0.0
    answers = await drive(client, seeded, requests, mix, clock)
    _check(mix, answers, requests)
    return app.cpu_seconds / requests


def _check(mix: str, answers: Counter[int], requests: int) -> None:
    if answers != Counter({200 if mix == "right" else 400: requests}):
        raise SystemExit(f"{mix}: unexpected answers {dict(answers)}")


def _print(
    mix: str, options: argparse.Namespace, by_package: Counter[str], by_function: Counter[str]
) -> None:
    n = options.requests
    print(f"\n{mix}: {n} requests, {sum(by_package.values()) / n:.0f} function calls a request")
    for package, calls in by_package.most_common():
        print(f"  {package:<20} {calls / n:8.1f}")
    print(f"  top {options.top} Python functions by calls:")
    python = Counter({f: c for f, c in by_function.items() if not f.startswith("builtins:")})
    for function, calls in python.most_common(options.top):
        print(f"    {calls / n:6.1f}  {function}")


async def main(options: argparse.Namespace) -> None:
    clock = SteppingClock()
    with tempfile.TemporaryDirectory(prefix="idstore-instructions-") as work:
        settings = bench_settings(Path(work))
        async with app_client(settings, clock, wrap=Profiled) as client:
            seeded = await seed(client, options.users, clock)
            await _measure(client, seeded, clock, options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per mix")
    parser.add_argument("--users", type=int, default=200, help="users, each with a TOTP")
    parser.add_argument("--top", type=int, default=15, help="functions listed per mix")
    parser.add_argument(
        "--cpu-requests", type=int, default=1000, help="unprofiled requests timed per mix"
    )
    parser.add_argument("--save", help="also write the profiles to SAVE-wrong.pstats, SAVE-right…")
    return parser


if __name__ == "__main__":
    asyncio.run(main(_parser().parse_args()))
