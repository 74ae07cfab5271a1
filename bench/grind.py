"""Machine instructions per TOTP authentication, idstore against the floor, counted by callgrind.

Throughput and even CPU time wander on a shared machine; the number of machine instructions one
request takes does not, and valgrind's callgrind counts them whatever else runs. This script
builds idstore in-process as `idstore serve` would (bench.in_process) and the floor app
(bench.floor) on one PostgreSQL database, seeds users with active TOTPs, and sends each app the
same wrong-code authentications (3401) through a bare ASGI call: no HTTP server and no client
library, the same few instructions for both. Counting is on only while one app is driven
(callgrind_control turns it on, dumps and turns it off), so seeding and start-up stay out.

    .venv/bin/python -m bench.grind               # a new idstore_bench_<stamp> on 127.0.0.1
    .venv/bin/python -m bench.grind --requests 1000 --users 200 --keep /tmp/grind
    IDSTORE_DATABASE_URL=postgresql://user@host/db .venv/bin/python -m bench.grind   # empty db

It prints instructions per request of each app and their ratio; `--keep DIR` keeps the callgrind
files (callgrind_annotate reads them: which C functions, libraries and extension modules the
instructions went to). Everything runs some fifty times slower under valgrind: about two
minutes with the defaults. Needs valgrind (Debian: apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from bench.database import drop_database, open_database
from bench.in_process import (
    BASE,
    KEY_RING,
    PERIOD,
    POLICY,
    Seeded,
    SteppingClock,
    app_client,
    bench_settings,
    seed,
    wrong_code_at,
)
from idstore.crypto.keyring import format_key_ring

CHILD = "IDSTORE_GRIND_OUT"  # set in the process valgrind runs: where its dumps go
APPS = ("idstore", "floor")
CONCURRENCY = 8  # requests in flight, as wrk keeps them at the benchmark's lower level
Call = Callable[[dict[str, Any], bytes], Awaitable[int]]


def main(options: argparse.Namespace) -> int:
    out = os.environ.get(CHILD)
    if out is not None:
        asyncio.run(_count(options, Path(out)))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench.grind needs valgrind: apt-get install valgrind", file=sys.stderr)
        return 2
    return asyncio.run(_run(options))


async def _run(options: argparse.Namespace) -> int:
    database = await open_database(time.strftime("%Y%m%d_%H%M%S"))
    keep = Path(options.keep) if options.keep else None
    try:
        with tempfile.TemporaryDirectory(prefix="idstore-grind-") as scratch:
            out = keep or Path(scratch)
            out.mkdir(parents=True, exist_ok=True)
            _under_valgrind(options, database.url, out)
            counted = _instructions(out)
    finally:
        await drop_database(database)
    _report(counted, options.requests)
    return 0


def _under_valgrind(options: argparse.Namespace, url: str, out: Path) -> None:
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={out}/callgrind.out.%p", sys.executable, "-m", "bench.grind"]
    command += ["--requests", str(options.requests), "--users", str(options.users)]
    env = {**os.environ, CHILD: str(out), "IDSTORE_DATABASE_URL": url}
    with open(out / "valgrind.log", "wb") as log:
        subprocess.run(command, env=env, stderr=log, check=True)


def _instructions(out: Path) -> dict[str, int]:
    """Instructions counted in each app's dump, by the name it was dumped under."""
    counted: dict[str, int] = {}
    for dump in sorted(out.glob("callgrind.out.*.*")):
        text = dump.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: dump (\w+)$", text, re.MULTILINE)
        totals = re.search(r"^totals: (\d+)$", text, re.MULTILINE)
        if trigger and totals:
            counted[trigger.group(1)] = int(totals.group(1))
    return counted


def _report(counted: dict[str, int], requests: int) -> None:
    per_request = {app: counted[app] / requests for app in APPS}
    for app in APPS:
        print(f"{app:<8} {per_request[app] / 1000:8.0f} k instructions a request")
    print(f"ratio    {per_request['idstore'] / per_request['floor']:8.2f} (idstore / floor)")
    print(json.dumps({"requests": requests, "instructions_per_request": per_request}))


async def _count(options: argparse.Namespace, out: Path) -> None:
    """In the process valgrind runs: seed, warm both apps, then count each one's requests."""
    clock = SteppingClock()
    held: list[ASGIApp] = []

    def hold(app: ASGIApp) -> ASGIApp:
        held.append(app)
        return app

    with tempfile.TemporaryDirectory(prefix="idstore-grind-") as work:
        settings = bench_settings(Path(work))
        async with app_client(settings, clock, wrap=hold) as client:
            seeded = await seed(client, options.users, clock)
            token = client.headers["Authorization"]
            floor = floor_app()
            async with floor.router.lifespan_context(floor):
                calls = {"idstore": asgi_caller(held[0]), "floor": asgi_caller(floor)}
                n = options.requests
                for counted in (None, out):  # a warm-up round first: caches, statements
                    for app in APPS:
                        answers = await _drive(calls[app], seeded, token, clock, n, counted, app)
                        _expect_refusals(app, answers)


def floor_app() -> Any:
    os.environ["FLOOR_DATABASE_URL"] = os.environ["IDSTORE_DATABASE_URL"]
    os.environ["FLOOR_SECRET_KEYS"] = format_key_ring(KEY_RING).strip()
    from bench.floor import create_app  # reads the two variables above

    return create_app()


def asgi_caller(app: ASGIApp) -> Call:
    """One POST through the app's ASGI interface; returns the status it answered."""

    async def call(scope: dict[str, Any], body: bytes) -> int:
        delivered = False
        statuses: list[int] = []

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect: the request stays open
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        return statuses[0]

    return call


async def _drive(
    call: Call,
    seeded: Seeded,
    token: str,
    clock: SteppingClock,
    requests: int,
    out: Path | None,
    name: str = "",
) -> Counter[int]:
    """Send `requests` wrong-code authentications; with `out`, count them (and only them) and
    dump the count under `name`."""
    if out is None:
        return await send_wrong_codes(call, seeded, token, clock, requests)
    _callgrind("--instr=on")
    answers = await send_wrong_codes(call, seeded, token, clock, requests)
    _callgrind(f"--dump={name}")
    _callgrind("--instr=off")
    return answers


async def send_wrong_codes(
    call: Call, seeded: Seeded, token: str, clock: SteppingClock, requests: int
) -> Counter[int]:
    """`requests` wrong-code authentications in a new time step, CONCURRENCY at a time (the
    requests built first); the answers by status."""
    clock.advance(PERIOD)  # every user's attempts refilled, as a new step
    prepared = wrong_code_requests(seeded, token, clock, requests)
    answers: Counter[int] = Counter()

    async def worker() -> None:
        while prepared:
            scope, body = prepared.pop()
            answers[await call(scope, body)] += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return answers


def wrong_code_requests(
    seeded: Seeded, token: str, clock: SteppingClock, requests: int
) -> list[tuple[dict[str, Any], bytes]]:
    """Each request's scope and body, built before counting starts."""
    users = seeded.users
    codes = {user_id: wrong_code_at(secret, clock.now()) for user_id, secret in users}
    made = []
    for index in range(requests):
        user_id, _secret = users[index % len(users)]
        path = f"{BASE}/{seeded.store}/users/{user_id}/totps/authentications/{POLICY}"
        body = json.dumps({"code": codes[user_id]}).encode()
        made.append((_scope(path, token, len(body)), body))
    return made


def _scope(path: str, authorization: str, length: int) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", authorization.encode()),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def _callgrind(option: str) -> None:
    subprocess.run(["callgrind_control", option, str(os.getpid())], check=True, capture_output=True)


def _expect_refusals(app: str, answers: Counter[int]) -> None:
    if set(answers) != {400}:
        raise SystemExit(f"{app}: expected only 400 (3401), got {dict(answers)}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=500, help="counted requests per app")
    parser.add_argument("--users", type=int, default=100, help="users, each with a TOTP")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files in DIR")
    return parser


if __name__ == "__main__":
    sys.exit(main(_parser().parse_args()))
