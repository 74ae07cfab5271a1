"""Seeding: a store and its TOTP policy over the API, users over the API (or in bulk), and
their ACTIVE TOTPs written straight into user_totps, sealed with the server's key ring."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no type information published
import httpx

from bench.database import BenchDatabase
from idstore.crypto.keyring import KeyRing

BASE = "/api/identity-store/stores"
POLICY = "bench"
DRIFT_STEPS = 1
PERIOD = 30
DIGITS = 6
SECRET_BYTES = 20
_API_CONCURRENCY = 16

TOTP_COLUMNS = (
    "id",
    "store_id",
    "user_id",
    "policy_id",
    "policy_name",
    "status",
    "issuer",
    "username",
    "algorithm",
    "digits",
    "period",
    "secret_sealed",
    "last_used_step",
    "created_dtm",
    "last_updated_dtm",
    "activated_dtm",
    "expiration_dtm",
    "last_authenticated_with_dtm",
)
USER_COLUMNS = (
    "id",
    "store_id",
    "external_id",
    "status",
    "created_dtm",
    "last_updated_dtm",
    "failed_attempts",
    "lock_count",
    "temp_lock_streak",
    "modality_locks",
)


@dataclass(frozen=True)
class BenchUser:
    id: str
    external_id: str
    secret: bytes


@dataclass(frozen=True)
class Population:
    """What the load drives: one store, one policy, users with known TOTP secrets."""

    store_name: str
    store_id: str
    policy_name: str
    policy_id: str
    users: tuple[BenchUser, ...]
    seconds: dict[str, float]


class KeyRefused(Exception):
    """idstore does not take the harness's API key."""


def issue_token(base_url: str, api_key: str) -> str:
    response = httpx.post(
        f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}, timeout=30
    )
    if response.status_code == 401:
        raise KeyRefused(
            "idstore refused the API key: a database that already holds API keys gets no "
            "bootstrap key; set IDSTORE_BENCH_API_KEY to a key of tenant default with every "
            "permission"
        )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


async def seed(
    base_url: str, token: str, database: BenchDatabase, keyring: KeyRing, *, users: int, via: str
) -> Population:
    """Make the store, `users` users (over the API, or via="sql" in bulk) and their TOTPs."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        store = await _create_store(client)
        policy = store["configuration"]["totpPolicies"][POLICY]
        seconds["store"] = time.monotonic() - started
        started = time.monotonic()
        if via == "sql":
            made = await _insert_users(database, store["id"], users)
        else:
            made = await _create_users(client, store["name"], users)
    seconds["users"] = time.monotonic() - started
    started = time.monotonic()
    await _insert_totps(database, keyring, store, policy, made)
    seconds["totps"] = time.monotonic() - started
    return Population(
        store_name=store["name"],
        store_id=store["id"],
        policy_name=POLICY,
        policy_id=policy["id"],
        users=tuple(made),
        seconds=seconds,
    )


async def _create_store(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {
        "name": f"bench-{uuid.uuid4().hex[:10]}",
        "description": "idstore benchmark",
        "configuration": {
            # Wrong codes must never lock anyone out of the run.
            "userLocking": {"enabled": False},
            "totpPolicies": {
                POLICY: {"digits": DIGITS, "period": PERIOD, "driftSteps": DRIFT_STEPS}
            },
        },
    }
    response = await client.post(BASE, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"creating the store answered {response.status_code}: {response.text}")
    created: dict[str, Any] = response.json()
    return created


async def _create_users(client: httpx.AsyncClient, store: str, count: int) -> list[BenchUser]:
    gate = asyncio.Semaphore(_API_CONCURRENCY)

    async def one(index: int) -> BenchUser:
        external_id = f"bench-user-{index:07d}"
        async with gate:
            response = await client.post(f"{BASE}/{store}/users", json={"externalId": external_id})
        if response.status_code != 201:
            raise RuntimeError(f"creating a user answered {response.status_code}: {response.text}")
        return BenchUser(response.json()["id"], external_id, secrets.token_bytes(SECRET_BYTES))

    return list(await asyncio.gather(*(one(index) for index in range(count))))


async def _insert_users(database: BenchDatabase, store_id: str, count: int) -> list[BenchUser]:
    """Users as the API would write them (no admin events), with COPY: for large populations."""
    now = datetime.now(UTC)
    made = [
        BenchUser(str(uuid.uuid4()), f"bench-user-{index:07d}", secrets.token_bytes(SECRET_BYTES))
        for index in range(count)
    ]
    rows = [(u.id, store_id, u.external_id, "ACTIVE", now, now, 0, 0, 0, "{}") for u in made]
    await _copy(database, "users", USER_COLUMNS, rows)
    return made


async def _insert_totps(
    database: BenchDatabase,
    keyring: KeyRing,
    store: dict[str, Any],
    policy: dict[str, Any],
    users: Sequence[BenchUser],
) -> None:
    now = datetime.now(UTC)
    rows = []
    for user in users:
        totp_id = str(uuid.uuid4())
        sealed = keyring.seal(user.secret, context=totp_id)
        owner = (totp_id, store["id"], user.id, policy["id"], POLICY, "ACTIVE", store["name"])
        settings = (user.external_id, "SHA1", DIGITS, PERIOD, sealed, -1)
        rows.append((*owner, *settings, now, now, now, None, None))
    await _copy(database, "user_totps", TOTP_COLUMNS, rows)


async def _copy(
    database: BenchDatabase, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.copy_records_to_table(table, records=rows, columns=list(columns))
        await connection.execute(f"ANALYZE {table}")
    finally:
        await connection.close()
