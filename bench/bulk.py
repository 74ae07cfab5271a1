"""Bulk load for the scale run: users with ACTIVE TOTPs and audit records, streamed by COPY.

Rows are generated as COPY consumes them, never held all at once. Ids are time-ordered (as
idstore's own UUIDv7 ids are), so primary keys grow at their right edge. The audit table's two
secondary indexes are dropped for the load and built again after it: one sort instead of ten
million random inserts. Audit records are interleaved in time across users, as real traffic
writes them, so one user's records lie on different pages; they carry no hash chain.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no type information published

from bench.database import BenchDatabase
from bench.seeding import (
    DIGITS,
    PERIOD,
    POLICY,
    SECRET_BYTES,
    TOTP_COLUMNS,
    USER_COLUMNS,
    BenchUser,
    Population,
)
from idstore.crypto.keyring import KeyRing
from idstore.db import tables

# What an attempt's record needs (and its error code); no request id, no hash chain.
_AUDIT_COLUMNS = [
    column.name
    for column in tables.authentication_audit.columns
    if not column.nullable or column.name == "error_code"
]
_DETAILS = '{"totpInfo": {"policyName": "bench"}}'
_MAINTENANCE_MEMORY = "1GB"


@dataclass(frozen=True)
class LoadPlan:
    """How many users the store ends with, how many audit records, and which users to keep
    (with their secrets) for the load to drive: `sample` of them, spread over the whole range."""

    users: int
    audit: int
    sample: int
    first_index: int  # users below this index exist already
    heavy_audit: int = 0  # of the audit records, how many go to one user (the store's first)
    seed: int = 1


@dataclass
class Loaded:
    """What the load made: the sampled users, their user ids, and seconds per part."""

    sample: list[BenchUser]
    user_ids: list[str]
    seconds: dict[str, float]


def time_ordered_id(moment: datetime, serial: int) -> str:
    """A UUID version 7 from the instant and a serial: ordered by time, then by serial."""
    value = (int(moment.timestamp() * 1000) & (2**48 - 1)) << 80
    value |= 0x7 << 76 | (serial & 0xFFF) << 64 | 0x2 << 62 | (serial & (2**62 - 1))
    return str(uuid.UUID(int=value))


async def load(
    database: BenchDatabase, keyring: KeyRing, population: Population, plan: LoadPlan
) -> Loaded:
    """Users `first_index`..`users` of the population's store, each with an ACTIVE TOTP, then
    `plan.audit` audit records over all of the store's users; VACUUM ANALYZE at the end."""
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute(f"SET maintenance_work_mem = '{_MAINTENANCE_MEMORY}'")
        return await _load(connection, keyring, population, plan)
    finally:
        await connection.close()


async def _load(
    connection: Any, keyring: KeyRing, population: Population, plan: LoadPlan
) -> Loaded:
    seconds: dict[str, float] = {}
    chosen = set(random.Random(plan.seed).sample(range(plan.first_index, plan.users), plan.sample))
    loaded = Loaded([], [user.id for user in population.users], seconds)
    now = datetime.now(UTC)

    started = time.monotonic()
    users = _new_users(plan, chosen, population.store_id, now, loaded)
    await connection.copy_records_to_table("users", records=users, columns=list(USER_COLUMNS))
    seconds["users"] = time.monotonic() - started

    started = time.monotonic()
    totps = _totps(keyring, population, loaded.user_ids[plan.first_index :], now, plan)
    await connection.copy_records_to_table("user_totps", records=totps, columns=TOTP_COLUMNS)
    seconds["totps"] = time.monotonic() - started

    seconds |= await _load_audit(connection, population, loaded.user_ids, plan)

    started = time.monotonic()
    for table in ("users", "user_totps", "authentication_audit", "store_user_counts"):
        await connection.execute(f"VACUUM (ANALYZE) {table}")
    seconds["vacuum_analyze"] = time.monotonic() - started
    return loaded


def _new_users(
    plan: LoadPlan, chosen: set[int], store_id: str, now: datetime, loaded: Loaded
) -> Iterator[tuple[Any, ...]]:
    """The user rows; records each id in `loaded.user_ids` and each sampled user's secret."""
    for index in range(plan.first_index, plan.users):
        user_id = time_ordered_id(now, index)
        external_id = f"bench-user-{index:07d}"
        loaded.user_ids.append(user_id)
        if index in chosen:
            loaded.sample.append(BenchUser(user_id, external_id, _secret_of(plan, index)))
        yield (user_id, store_id, external_id, "ACTIVE", now, now, 0, 0, 0, "{}")


def _secret_of(plan: LoadPlan, index: int) -> bytes:
    """Every user's secret, derived from its index: the sample's are kept to compute codes."""
    return hashlib.blake2b(b"%d:%d" % (plan.seed, index), digest_size=SECRET_BYTES).digest()


def _totps(
    keyring: KeyRing, population: Population, user_ids: list[str], now: datetime, plan: LoadPlan
) -> Iterator[tuple[Any, ...]]:
    for offset, user_id in enumerate(user_ids):
        index = plan.first_index + offset
        totp_id = time_ordered_id(now + timedelta(milliseconds=1), index)
        sealed = keyring.seal(_secret_of(plan, index), context=totp_id)
        owner = (totp_id, population.store_id, user_id, population.policy_id, POLICY, "ACTIVE")
        settings = (population.store_name, f"bench-user-{index:07d}", "SHA1", DIGITS, PERIOD)
        yield (*owner, *settings, sealed, -1, now, now, now, None, None)


async def _load_audit(
    connection: Any, population: Population, user_ids: list[str], plan: LoadPlan
) -> dict[str, float]:
    audit = tables.authentication_audit
    seconds: dict[str, float] = {}
    started = time.monotonic()
    for index in audit.indexes:
        await connection.execute(f"DROP INDEX {index.name}")
    heavy = Heavy(population.users[0].id, plan.heavy_audit)
    records = _audit_records(population.store_id, user_ids, plan.audit, heavy)
    await connection.copy_records_to_table(
        "authentication_audit", records=records, columns=_AUDIT_COLUMNS
    )
    seconds["audit_copy"] = time.monotonic() - started

    started = time.monotonic()
    for index in audit.indexes:
        columns = ", ".join(column.name for column in index.columns)
        await connection.execute(f"CREATE INDEX {index.name} ON {audit.name} ({columns})")
    seconds["audit_indexes"] = time.monotonic() - started
    return seconds


@dataclass(frozen=True)
class Heavy:
    """A user with many more records than the others: `records` of them, evenly spread."""

    user_id: str
    records: int


def _audit_records(
    store_id: str, user_ids: list[str], count: int, heavy: Heavy
) -> Iterator[tuple[Any, ...]]:
    """`count` records in rounds: each round gives every user one, a round a day, the users of
    a round in a shuffled order, one attempt in five a success; every so many goes to the heavy
    user instead."""
    every = count // heavy.records if heavy.records else count + 1
    order = list(range(len(user_ids)))
    start = datetime.now(UTC) - timedelta(days=count // len(user_ids) + 1)
    shuffler = random.Random(2)
    serial = 0
    while serial < count:
        shuffler.shuffle(order)
        day = start + timedelta(days=serial // len(user_ids))
        for position, index in enumerate(order[: count - serial]):
            moment = day + timedelta(milliseconds=position)
            number = serial + position
            is_success = number % 5 == 0
            yield (
                time_ordered_id(moment, number),
                "default",
                store_id,
                heavy.user_id if number % every == every - 1 else user_ids[index],
                "TOTP",
                "SUCCESS" if is_success else "FAILURE",
                None if is_success else 3401,
                moment,
                _DETAILS,
            )
        serial += len(order[: count - serial])
