"""Tests that talk to the database layer directly: a store's row to insert, and a body run on a
Database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from idstore.db.engine import Database
from tests.support.databases import async_url

T = TypeVar("T")
CREATED = datetime(2026, 12, 5, tzinfo=UTC)


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
