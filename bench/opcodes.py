"""Python opcodes per TOTP authentication, idstore against the floor, by package and function.

The interpreter's opcodes are a count no load moves, like bench.grind's instructions, and say
where the Python goes (which the machine instructions, all inside the interpreter loop, do not).
Both apps run in-process on one new PostgreSQL database as bench.grind drives them: seeded users,
the same wrong-code authentications through a bare ASGI call, eight in flight, a warm-up round
first; then `sys.settrace` with opcode events counts every opcode the process runs while one app
is driven (the event loop's included).

    .venv/bin/python -m bench.opcodes                 # both apps, 200 requests each
    .venv/bin/python -m bench.opcodes --top 60        # more of idstore's functions

Tracing runs the code some thirty times slower; the counts do not change with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from starlette.types import ASGIApp

from bench.database import drop_database, open_database
from bench.grind import APPS, Call, asgi_caller, floor_app, send_wrong_codes
from bench.in_process import Seeded, SteppingClock, app_client, bench_settings, seed

Place = tuple[str, int, str]  # file, first line, function


def main() -> int:
    options = _parser().parse_args()
    return asyncio.run(_run(options))


async def _run(options: argparse.Namespace) -> int:
    database = await open_database(time.strftime("%Y%m%d_%H%M%S"))
    try:
        os.environ["IDSTORE_DATABASE_URL"] = database.url
        counted = await _count(options)
    finally:
        await drop_database(database)
    for app in APPS:
        _report(app, counted[app], options.requests, options.top)
    return 0


async def _count(options: argparse.Namespace) -> dict[str, Counter[Place]]:
    clock = SteppingClock()
    held: list[ASGIApp] = []

    def hold(app: ASGIApp) -> ASGIApp:
        held.append(app)
        return app

    counted: dict[str, Counter[Place]] = {}
    with tempfile.TemporaryDirectory(prefix="idstore-opcodes-") as work:
        async with app_client(bench_settings(Path(work)), clock, wrap=hold) as client:
            seeded = await seed(client, options.users, clock)
            token = client.headers["Authorization"]
            floor = floor_app()
            async with floor.router.lifespan_context(floor):
                calls = {"idstore": asgi_caller(held[0]), "floor": asgi_caller(floor)}
                for app in APPS:
                    await _drive(calls[app], seeded, token, clock, options.requests, None)
                    counted[app] = Counter()
                    await _drive(calls[app], seeded, token, clock, options.requests, counted[app])
    return counted


async def _drive(
    call: Call,
    seeded: Seeded,
    token: str,
    clock: SteppingClock,
    requests: int,
    counts: Counter[Place] | None,
) -> None:
    if counts is not None:
        sys.settrace(_tracer(counts))
    try:
        await send_wrong_codes(call, seeded, token, clock, requests)
    finally:
        sys.settrace(None)


def _tracer(counts: Counter[Place]) -> Any:
    def trace(frame: FrameType, event: str, _argument: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename, code.co_firstlineno, code.co_name)] += 1
        return trace

    return trace


def _package(filename: str) -> str:
    if "/src/idstore/" in filename:
        return "idstore"
    if "/bench/" in filename:
        return "bench"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith("<"):
        return filename  # generated code: dataclasses' __init__, namedtuples
    return "stdlib " + Path(filename).name


def _report(app: str, counts: Counter[Place], requests: int, top: int) -> None:
    print(f"{app}: {sum(counts.values()) / requests:,.0f} opcodes a request")
    packages: Counter[str] = Counter()
    for (filename, _line, _name), count in counts.items():
        packages[_package(filename)] += count
    for package, count in packages.most_common(15):
        print(f"  {count / requests:8,.0f}  {package}")
    own = [(place, count) for place, count in counts.items() if "/src/idstore/" in place[0]]
    if own:
        print(f"  idstore's busiest functions (opcodes a request, top {top}):")
    for (filename, line, name), count in sorted(own, key=lambda item: -item[1])[:top]:
        print(f"  {count / requests:8,.0f}  {filename.split('/src/idstore/', 1)[1]}:{line} {name}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="counted requests per app")
    parser.add_argument("--users", type=int, default=50, help="users seeded with a TOTP")
    parser.add_argument("--top", type=int, default=25, help="idstore functions listed")
    return parser


if __name__ == "__main__":
    sys.exit(main())
