"""A transaction's end runs to completion even when its request is cancelled meanwhile: the
cancellation is raised once the end is done; a failure of the end itself is never lost. One its
use case already committed ends in place, and keeps what it committed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select

from idstore.db import tables
from idstore.db.completion import run_to_completion
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from tests.support.databases import drop_database, fresh_database_url
from tests.support.store_rows import on_database, store_row


def _cancel_while_ending(fails: bool) -> tuple[BaseException, list[str]]:
    """The request ends a transaction and is cancelled while the end runs; what it raised."""
    steps: list[str] = []

    async def end_of_transaction() -> None:
        steps.append("started")
        await asyncio.sleep(0.05)
        steps.append("finished")
        if fails:
            raise RuntimeError("COMMIT refused")

    async def run() -> BaseException:
        request = asyncio.ensure_future(run_to_completion(end_of_transaction()))
        await asyncio.sleep(0.01)
        request.cancel()
        with pytest.raises((asyncio.CancelledError, RuntimeError)) as raised:
            await request
        return raised.value

    return asyncio.run(run()), steps


def test_a_cancelled_request_waits_for_its_transaction_to_end() -> None:
    cancelled, steps = _cancel_while_ending(fails=False)

    assert steps == ["started", "finished"]
    assert isinstance(cancelled, asyncio.CancelledError)
    assert cancelled.__cause__ is None


def test_a_failure_of_the_end_is_raised_not_lost_in_the_cancellation() -> None:
    raised, steps = _cancel_while_ending(fails=True)

    assert steps == ["started", "finished"]
    assert isinstance(raised, RuntimeError) and str(raised) == "COMMIT refused"


@pytest.fixture
def database_url() -> Iterator[str]:
    url = fresh_database_url()
    asyncio.run(on_database(url, migrate))
    yield url
    drop_database(url)


async def _names(database: Database) -> list[str]:
    async with database.transaction(write=False) as conn:
        return list((await conn.execute(select(tables.stores.c.name))).scalars())


def test_a_transaction_committed_by_its_use_case_ends_and_returns_its_connection(
    database_url: str,
) -> None:
    # As an attempt does: commit, then raise the refusal. What was committed stays, and the
    # connection is back in the pool (the end, with nothing left to send, runs in place).
    class Refused(Exception):
        pass

    async def body(database: Database) -> tuple[list[str], int]:
        with pytest.raises(Refused):
            async with database.transaction() as conn:
                await conn.execute(insert(tables.stores), store_row("committed-then-refused"))
                await conn.commit()
                raise Refused
        async with database.transaction() as conn:
            await conn.execute(insert(tables.stores), store_row("committed-then-returned"))
            await conn.commit()
        async with database.transaction() as conn:
            await conn.execute(insert(tables.stores), store_row("committed-at-the-end"))
        with pytest.raises(Refused):
            async with database.transaction() as conn:
                await conn.execute(insert(tables.stores), store_row("rolled-back"))
                raise Refused
        return sorted(await _names(database)), database.connections_in_use()

    names, in_use = asyncio.run(on_database(database_url, body))

    assert names == ["committed-at-the-end", "committed-then-refused", "committed-then-returned"]
    assert in_use == 0
