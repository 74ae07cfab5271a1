"""The guard behind every server test: a task that holds a pooled connection and takes another
is seen (tests/support/connection_holds.py), and one taken after the other is not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from idstore.db.engine import Database
from tests.support.connection_holds import ConnectionHolds
from tests.support.databases import async_url


async def _checkouts(database: Database, *, nested: bool) -> None:
    async with database.transaction(write=False):
        if nested:
            async with database.transaction(write=False):
                pass
    async with database.transaction(write=False):
        pass


def _nested_seen(tmp_path: Path, *, nested: bool) -> list[str]:
    async def run() -> list[str]:
        database = Database(async_url(f"sqlite:///{tmp_path / 'holds.db'}"))
        holds = ConnectionHolds()
        holds.watch(database)
        try:
            await _checkouts(database, nested=nested)
        finally:
            await database.dispose()
        return holds.take_nested()

    return asyncio.run(run())


def test_a_second_connection_taken_while_holding_one_is_seen(tmp_path: Path) -> None:
    nested = _nested_seen(tmp_path, nested=True)

    assert len(nested) == 1
    assert "_checkouts" in nested[0]


def test_connections_taken_one_after_the_other_are_not(tmp_path: Path) -> None:
    assert _nested_seen(tmp_path, nested=False) == []
