"""Revocations: a key this process blocks stops at once, even while a refresh is reading.

The refresh replaces what the process knows with what the database said when it read. A block
committed after that read began is not in its rows; the process that blocked the key must still
refuse the key's tokens the moment the block answers, not two seconds later."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.services.callers import Revocations
from tests.support.databases import async_url, drop_database, fresh_database_url

READ_AT = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
TOKEN_ISSUED_MS = int((READ_AT - timedelta(minutes=1)).timestamp() * 1000)


class HeldDatabase(Database):
    """A real database whose read transactions, once their rows are read, wait to be let go:
    the refresh's rows are then older than what happens meanwhile."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.rows_read = asyncio.Event()
        self.let_go = asyncio.Event()
        self.let_go.set()

    @asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[AsyncConnection]:
        async with super().transaction(**options) as connection:
            yield connection
        if not options.get("write", True):
            self.rows_read.set()
            await self.let_go.wait()


@pytest.fixture
def database_url() -> Iterator[str]:
    url = fresh_database_url()
    asyncio.run(_migrate(url))
    yield url
    drop_database(url)


async def _migrate(url: str) -> None:
    database = Database(async_url(url))
    try:
        await migrate(database)
    finally:
        await database.dispose()


async def _key(database: Database, status: str) -> str:
    key_id = str(uuid.uuid4())
    async with database.transaction() as conn:
        await conn.execute(
            insert(tables.api_keys).values(
                id=key_id,
                lookup_id=uuid.uuid4().hex,
                tenant_id="default",
                permissions=[],
                status=status,
                hash_key_id="k1",
                key_hash=b"\0" * 32,
                is_bootstrap=False,
                created_dtm=READ_AT,
                last_updated_dtm=READ_AT,
            )
        )
    return key_id


async def _set_status(database: Database, key_id: str, status: str) -> None:
    async with database.transaction() as conn:
        await conn.execute(
            update(tables.api_keys).where(tables.api_keys.c.id == key_id).values(status=status)
        )


def _race(url: str, *, status: str, change: str) -> tuple[Revocations, str]:
    """A refresh reads; meanwhile this process commits `change` and tells its Revocations, as
    the API does; then the refresh ends."""

    async def run() -> tuple[Revocations, str]:
        database = HeldDatabase(async_url(url))
        try:
            key_id = await _key(database, status)
            revocations = Revocations()
            await revocations.refresh(database, changed_since=READ_AT)  # what the process knew
            database.let_go.clear()
            database.rows_read.clear()

            refresh = asyncio.create_task(revocations.refresh(database, changed_since=READ_AT))
            await database.rows_read.wait()
            if change == "block":
                await _set_status(database, key_id, "BLOCKED")
                revocations.add(key_id)
            else:
                await _set_status(database, key_id, "ACTIVE")
                revocations.restore(key_id, not_before=READ_AT)
            database.let_go.set()
            await refresh

            return revocations, key_id
        finally:
            await database.dispose()

    return asyncio.run(run())


def test_a_key_blocked_while_a_refresh_reads_stays_blocked(database_url: str) -> None:
    revocations, key_id = _race(database_url, status="ACTIVE", change="block")

    assert revocations.void(key_id, TOKEN_ISSUED_MS) is True


def test_a_key_unblocked_while_a_refresh_reads_takes_only_new_tokens(database_url: str) -> None:
    revocations, key_id = _race(database_url, status="BLOCKED", change="unblock")
    issued_after_ms = int((READ_AT + timedelta(seconds=1)).timestamp() * 1000)

    assert revocations.void(key_id, TOKEN_ISSUED_MS) is True  # stolen before the unblock
    assert revocations.void(key_id, issued_after_ms) is False
