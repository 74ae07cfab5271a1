"""Tests that talk to the database layer directly: a store's row to insert, and a body run on a
Database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, select

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.hot import HotStatement
from tests.support.databases import async_url

T = TypeVar("T")
CREATED = datetime(2026, 12, 5, tzinfo=UTC)
_STORE_COLUMNS = ("id", "tenant_id", "name", "configuration", "created_dtm", "last_updated_dtm")
# A store's row written as a hot statement (straight on asyncpg on PostgreSQL).
INSERT_STORE = HotStatement(
    insert(tables.stores).values({name: bindparam(name) for name in _STORE_COLUMNS})
)


def store_row(name: str, *, now: datetime = CREATED) -> dict[str, Any]:
    """A row of `stores` for tenant `default`, with an empty configuration."""
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": "default",
        "name": name,
        "configuration": {},
        "created_dtm": now,
        "last_updated_dtm": now,
    }


async def on_database(url: str, body: Callable[[Database], Awaitable[T]], **options: Any) -> T:
    """`body` on a Database of its own for `url` (sync form), disposed afterwards."""
    database = Database(async_url(url), **options)
    try:
        return await body(database)
    finally:
        await database.dispose()


async def store_names(database: Database) -> list[str]:
    """The names of every store, sorted: what the transactions under test left committed."""
    async with database.transaction(write=False) as conn:
        return sorted((await conn.execute(select(tables.stores.c.name))).scalars())
