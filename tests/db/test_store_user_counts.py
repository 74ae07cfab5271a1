"""Migration 0008 counts the users a database already holds, then triggers keep the count."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import alembic_config, migrate
from tests.support.databases import async_url, drop_database, fresh_database_url

NOW = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = fresh_database_url()
    yield url
    drop_database(url)


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _store(name: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": "default",
        "name": name,
        "configuration": {},
        "created_dtm": NOW,
        "last_updated_dtm": NOW,
    }


def _users(store: dict[str, object], count: int) -> list[dict[str, object]]:
    return [
        {
            "id": str(uuid.uuid4()),
            "store_id": store["id"],
            "external_id": f"user-{number}",
            "status": "ACTIVE",
            "created_dtm": NOW,
            "last_updated_dtm": NOW,
            "failed_attempts": 0,
            "lock_count": 0,
            "temp_lock_streak": 0,
            "modality_locks": {},
        }
        for number in range(count)
    ]


async def _counts_across_the_upgrade(url: str) -> tuple[dict[str, int], dict[str, int]]:
    database = Database(async_url(url))
    big, small, empty = _store("big"), _store("small"), _store("empty")
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0007")
            await conn.execute(insert(tables.stores).values([big, small, empty]))
            await conn.execute(insert(tables.users).values(_users(big, 30) + _users(small, 2)))
        await migrate(database)
        counts = tables.store_user_counts
        async with database.engine.begin() as conn:
            migrated = {row.store_id: row.user_count for row in await conn.execute(select(counts))}
            await conn.execute(insert(tables.users).values(_users(empty, 4)))
            await conn.execute(delete(tables.users).where(tables.users.c.store_id == big["id"]))
            later = {row.store_id: row.user_count for row in await conn.execute(select(counts))}
        names = {big["id"]: "big", small["id"]: "small", empty["id"]: "empty"}
        return (
            {names[key]: value for key, value in migrated.items()},
            {names[key]: value for key, value in later.items()},
        )
    finally:
        await database.dispose()


def test_the_upgrade_counts_existing_users_and_later_writes_keep_counting(
    empty_database: str,
) -> None:
    migrated, later = asyncio.run(_counts_across_the_upgrade(empty_database))

    assert migrated == {"big": 30, "small": 2}
    assert later == {"big": 0, "small": 2, "empty": 4}
