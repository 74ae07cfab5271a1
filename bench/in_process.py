"""The app in-process, as the counting benchmarks drive it (`bench.instructions`,
`bench.gc_pauses`): built as `idstore serve` builds it (log level WARNING, no caller rate limit),
a store with users and their TOTPs seeded over the API through an ASGI transport, and TOTP
authentications sent on a clock the script moves.

A fake clock moves one period each time the users come round again, so every code is fresh and
no user runs out of attempts (9005); enough users keep the clock within the bearer token's
lifetime.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
from starlette.types import ASGIApp

from idstore import logs
from idstore.app import create_app
from idstore.crypto.keyring import KeyRing, format_key_ring
from idstore.settings import Settings
from idstore.startup import prepare

BASE = "/api/identity-store/stores"
STORE = "bench-instructions"
POLICY = "bench"
PERIOD = 30
API_KEY = "bench-instructions-bootstrap-key-0123456789"
KEY_RING = KeyRing((("k1", bytes(range(32))),))
MIXES = ("wrong", "right")  # every code wrong (3401), or the user's code of the current step


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


def bench_settings(work: Path) -> Settings:
    """The settings `idstore serve` would run with, its data in `work` (or the database
    `IDSTORE_DATABASE_URL` names, which must be empty)."""
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


@asynccontextmanager
async def app_client(
    settings: Settings,
    clock: SteppingClock,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, in-process, holding a bearer token of the bootstrap key; `wrap`
    puts ASGI middleware of the script's own (a profiler) around the app."""
    await prepare(settings)
    logs.configure(settings.log_level)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=wrap(app) if wrap else app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            issued = await client.post("/api/arthr/apiKeys/issue", headers={"X-Api-Key": API_KEY})
            issued.raise_for_status()
            client.headers["Authorization"] = f"Bearer {issued.json()['token']}"
            yield client


async def seed(client: httpx.AsyncClient, users: int, clock: SteppingClock) -> Seeded:
    """A store with one TOTP policy and `users` users, each with an active TOTP."""
    store = {
        "name": STORE,
        "configuration": {
            "userLocking": {"enabled": False},
            "totpPolicies": {POLICY: {"digits": 6, "period": PERIOD, "driftSteps": 1}},
        },
    }
    (await client.post(BASE, json=store)).raise_for_status()
    made = []
    for index in range(users):
        user = await client.post(f"{BASE}/{STORE}/users", json={"externalId": f"u{index}"})
        user.raise_for_status()
        user_id = user.json()["id"]
        url = f"{BASE}/{STORE}/users/{user_id}/totps/registrations/{POLICY}"
        started = await client.post(f"{url}?qrFormat=none")
        started.raise_for_status()
        secret = started.json()["secret"]
        done = await client.post(f"{url}/complete", json={"code": code_at(secret, clock.now())})
        done.raise_for_status()
        made.append((user_id, secret))
    return Seeded(STORE, made)


def code_at(secret: str, now: datetime) -> str:
    return str(pyotp.TOTP(secret, interval=PERIOD).at(now))


def wrong_code_at(secret: str, now: datetime) -> str:
    """A code that matches none of the steps the drift window accepts at `now`."""
    totp = pyotp.TOTP(secret, interval=PERIOD)
    near = {totp.at(now + timedelta(seconds=PERIOD * d)) for d in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


async def drive(
    client: httpx.AsyncClient, seeded: Seeded, requests: int, mix: str, clock: SteppingClock
) -> Counter[int]:
    """Send `requests` authentications of the mix (MIXES); returns the answers by status."""
    answers: Counter[int] = Counter()
    for index in range(requests):
        user_id, secret = seeded.users[index % len(seeded.users)]
        if index % len(seeded.users) == 0:
            # A new step for every user: their codes are fresh again, their attempts refilled.
            clock.advance(PERIOD)
        code = code_at if mix == "right" else wrong_code_at
        url = f"{BASE}/{seeded.store}/users/{user_id}/totps/authentications/{POLICY}"
        sent = await client.post(url, json={"code": code(secret, clock.now())})
        answers[sent.status_code] += 1
    return answers
