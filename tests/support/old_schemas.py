"""Databases at an older schema revision, with rows as that revision held them: what
`idstore migrate` must upgrade without losing anything (tests/db)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db.engine import Database
from idstore.db.migrate import alembic_config
from tests.support.databases import async_url, drop_database, fresh_database_url

Fill = Callable[[AsyncConnection, str], Awaitable[None]]


@contextmanager
def database_at(revision: str, fill: Fill, directory: Path | None = None) -> Iterator[str]:
    """A new database migrated to `revision` only, then given rows by `fill` (called with the
    connection and the dialect's name) in the same transaction; its plain URL."""
    url = fresh_database_url(directory)
    asyncio.run(_make(url, revision, fill))
    try:
        yield url
    finally:
        drop_database(url)


async def _make(url: str, revision: str, fill: Fill) -> None:
    database = Database(async_url(url))
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, revision)
            await fill(conn, database.dialect)
    finally:
        await database.dispose()


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
