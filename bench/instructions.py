"""Python function calls per TOTP authentication, counted in-process: a figure load cannot move.

The machine the benchmark runs on is shared, so wall-clock throughput and even CPU time wander
from run to run. The number of Python function calls one request makes does not: this script
builds the app as `idstore serve` would (log level WARNING, no caller rate limit), seeds one
store, users and their TOTPs over the API, then sends authentications through an in-process ASGI
transport with the app (only) under cProfile, and reports calls per request, in total, by
package and by function.

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
import os
import pstats
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
from starlette.types import ASGIApp, Receive, Scope, Send

from idstore import logs
from idstore.app import create_app
from idstore.crypto.keyring import KeyRing, format_key_ring
from idstore.settings import Settings
from idstore.startup import prepare

BASE = "/api/identity-store/stores"
POLICY = "bench"
PERIOD = 30
API_KEY = "bench-instructions-bootstrap-key-0123456789"
KEY_RING = KeyRing((("k1", bytes(range(32))),))


class SteppingClock:
    """A clock the script moves: each right code then falls in a step never used before."""

    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Seeded:
    store: str
    users: list[tuple[str, str]]  # (user id, base32 secret)


def _settings(work: Path) -> Settings:
    return Settings.from_env(
        {
            "IDSTORE_DATABASE_URL": os.environ.get("IDSTORE_DATABASE_URL", ""),
            "IDSTORE_SECRET_KEYS": format_key_ring(KEY_RING).strip(),
            "IDSTORE_BOOTSTRAP_API_KEY": API_KEY,
            "IDSTORE_LOG_LEVEL": "WARNING",
            "IDSTORE_CALLER_REQUESTS_PER_SECOND": "0",
            "IDSTORE_DATA_DIR": str(work),
        }
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


@asynccontextmanager
async def _client(settings: Settings, clock: SteppingClock) -> AsyncIterator[httpx.AsyncClient]:
    await prepare(settings)
    logs.configure(settings.log_level)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=Profiled(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            issued = await client.post("/api/arthr/apiKeys/issue", headers={"X-Api-Key": API_KEY})
            issued.raise_for_status()
            client.headers["Authorization"] = f"Bearer {issued.json()['token']}"
            yield client


async def _seed(client: httpx.AsyncClient, users: int) -> Seeded:
    store = {
        "name": "bench-instructions",
        "configuration": {
            "userLocking": {"enabled": False},
            "totpPolicies": {POLICY: {"digits": 6, "period": PERIOD, "driftSteps": 1}},
        },
    }
    (await client.post(BASE, json=store)).raise_for_status()
    made = []
    for index in range(users):
        user = await client.post(
            f"{BASE}/bench-instructions/users", json={"externalId": f"u{index}"}
        )
        user.raise_for_status()
        user_id = user.json()["id"]
        url = f"{BASE}/bench-instructions/users/{user_id}/totps/registrations/{POLICY}"
        started = await client.post(f"{url}?qrFormat=none")
        started.raise_for_status()
        secret = started.json()["secret"]
        done = await client.post(f"{url}/complete", json={"code": _code(secret)})
        done.raise_for_status()
        made.append((user_id, secret))
    return Seeded("bench-instructions", made)


_CLOCK: SteppingClock | None = None


def _code(secret: str) -> str:
    assert _CLOCK is not None
    return str(pyotp.TOTP(secret, interval=PERIOD).at(_CLOCK.now()))


def _wrong(secret: str) -> str:
    """A code that matches none of the steps the drift window accepts now."""
    assert _CLOCK is not None
    totp = pyotp.TOTP(secret, interval=PERIOD)
    near = {totp.at(_CLOCK.now() + timedelta(seconds=PERIOD * d)) for d in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


async def _drive(
    client: httpx.AsyncClient, seeded: Seeded, requests: int, mix: str, clock: SteppingClock
) -> Counter[int]:
    """Send `requests` authentications of the mix; returns the answers by status."""
    answers: Counter[int] = Counter()
    for index in range(requests):
        user_id, secret = seeded.users[index % len(seeded.users)]
        if index % len(seeded.users) == 0:
            # A new step for every user: their codes are fresh again, their attempts refilled.
            clock.advance(PERIOD)
        code = _code(secret) if mix == "right" else _wrong(secret)
        url = f"{BASE}/{seeded.store}/users/{user_id}/totps/authentications/{POLICY}"
        answers[(await client.post(url, json={"code": code})).status_code] += 1
    return answers


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


async def _measure(client: httpx.AsyncClient, seeded: Seeded, options: argparse.Namespace) -> None:
    assert _CLOCK is not None
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, Profiled)
    for mix in ("wrong", "right"):
        await _drive(client, seeded, 20, mix, _CLOCK)  # warm: caches, compiled statements
        transport.app.profile = profile = cProfile.Profile()
        answers = await _drive(client, seeded, options.requests, mix, _CLOCK)
        transport.app.profile = None
        _check(mix, answers, options.requests)
        if options.save:
            profile.dump_stats(f"{options.save}-{mix}.pstats")
        _print(mix, options, *_calls(pstats.Stats(profile)))
        cpu = await _cpu_per_request(client, seeded, options.cpu_requests, mix, transport.app)
        print(f"  CPU of the app's thread, unprofiled: {cpu * 1e6:.0f} µs a request")


async def _cpu_per_request(
    client: httpx.AsyncClient, seeded: Seeded, requests: int, mix: str, app: Profiled
) -> float:
    assert _CLOCK is not None
    app.cpu_seconds = 0.0
    answers = await _drive(client, seeded, requests, mix, _CLOCK)
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
    global _CLOCK
    _CLOCK = SteppingClock()
    with tempfile.TemporaryDirectory(prefix="idstore-instructions-") as work:
        settings = _settings(Path(work))
        async with _client(settings, _CLOCK) as client:
            seeded = await _seed(client, options.users)
            await _measure(client, seeded, options)


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
