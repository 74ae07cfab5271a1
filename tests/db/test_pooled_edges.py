"""Edges of the pooled PostgreSQL transaction (db/pooled.py) that its own tests leave out:
SQLAlchemy's Connection built after the driver committed or rolled back, a cancellation while a
statement runs, while waiting for a connection, and while the COMMIT is under way, and hot
statements in the transactions that keep SQLAlchemy's way (snapshot, housekeeping). After each,
what committed is exactly what should have, and no connection is left checked out or open in a
transaction on the server."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import Float, bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.hot import HotStatement
from tests.db.test_pooled_transactions import Refused
from tests.db.test_pooled_transactions import database_url as database_url  # the fixture
from tests.support.databases import async_url, is_postgresql
from tests.support.store_rows import INSERT_STORE, on_database, store_names, store_row

pytestmark = pytest.mark.skipif(not is_postgresql(), reason="pooled transactions are PostgreSQL's")

_SLEEP = HotStatement(select(func.pg_sleep(bindparam("seconds", type_=Float))))


async def _open_transactions(database: Database) -> int:
    """Server sessions of this database, other than the asking one, in a transaction."""
    async with database.transaction(write=False) as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )
        return int(found.scalar_one())


async def _leftovers(database: Database) -> tuple[int, int]:
    return database.connections_in_use(), await _open_transactions(database)


def test_sqlalchemy_rollback_after_hot_writes_then_more_writes(database_url: str) -> None:
    # AsyncConnection.rollback is not the pooled one's: it builds the Connection to roll back.
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("rolled-back"))
            await conn.rollback()
            await INSERT_STORE.rowcount(conn, store_row("hot-after-rollback"))
            await conn.execute(insert(tables.stores), store_row("sa-after-rollback"))
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["hot-after-rollback", "sa-after-rollback"]
    assert leftovers == (0, 0)


def test_connection_built_after_a_driver_commit_then_a_failure(database_url: str) -> None:
    # The Connection's RootTransaction begins after the driver committed; the failure rolls
    # back only what came after the commit.
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        for number in range(3):  # more than the pool holds
            with pytest.raises(Refused):
                async with database.transaction() as conn:
                    await INSERT_STORE.rowcount(conn, store_row(f"committed-{number}"))
                    await conn.commit()
                    await conn.execute(insert(tables.stores), store_row(f"lost-sa-{number}"))
                    await INSERT_STORE.rowcount(conn, store_row(f"lost-hot-{number}"))
                    raise Refused
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["committed-0", "committed-1", "committed-2"]
    assert leftovers == (0, 0)


def test_a_failure_after_the_last_commit_keeps_everything(database_url: str) -> None:
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        for number in range(3):
            with pytest.raises(Refused):
                async with database.transaction() as conn:
                    await conn.execute(insert(tables.stores), store_row(f"sa-{number}"))
                    await INSERT_STORE.rowcount(conn, store_row(f"hot-{number}"))
                    await conn.commit()
                    raise Refused
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == sorted([f"{kind}-{n}" for kind in ("sa", "hot") for n in range(3)])
    assert leftovers == (0, 0)


def test_a_cancellation_while_a_hot_statement_runs_rolls_back(database_url: str) -> None:
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("present"))

        async def request(name: str) -> None:
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row(name))
                await _SLEEP.rows(conn, {"seconds": 5})

        for number in range(3):  # more than the pool holds
            task = asyncio.ensure_future(request(f"cancelled-{number}"))
            await asyncio.sleep(0.3)  # the sleep is running on the server
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["present"]
    assert leftovers == (0, 0)


def test_a_cancellation_while_waiting_for_a_connection_takes_none(database_url: str) -> None:
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        held = asyncio.Event()
        release = asyncio.Event()

        async def holder(name: str) -> None:
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row(name))
                held.set()
                await release.wait()

        holders = [asyncio.ensure_future(holder(f"held-{n}")) for n in range(2)]
        await held.wait()
        await asyncio.sleep(0.1)

        async def waiter() -> None:
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row("never"))

        waiters = [asyncio.ensure_future(waiter()) for _ in range(3)]
        await asyncio.sleep(0.3)
        for task in waiters:
            task.cancel()
        for task in waiters:
            with pytest.raises(asyncio.CancelledError):
                await task
        release.set()
        await asyncio.gather(*holders)
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["held-0", "held-1"]
    assert leftovers == (0, 0)


_SLOW_COMMIT = (
    "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON stores DEFERRABLE "
    "INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
)


async def _commit_under_way(database: Database) -> None:
    """Return once another session sleeps in the deferred trigger, which only its COMMIT runs:
    a fixed wait let a slow machine cancel the request before its COMMIT, which then rolled
    back."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        async with database.transaction(write=False) as conn:
            sleeping = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND wait_event = 'PgSleep'"
                )
            )
        if sleeping:
            return
        assert asyncio.get_running_loop().time() < deadline, "the COMMIT never began"
        await asyncio.sleep(0.01)  # polling for the COMMIT, not waiting a fixed time


def test_a_cancellation_during_the_commit_lets_it_finish(database_url: str) -> None:
    # The COMMIT takes two seconds (a deferred trigger): cancelled meanwhile, the request's end
    # runs to completion, and the cancellation is raised after it.
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        async with database.transaction() as conn:
            for statement in _SLOW_COMMIT:
                await conn.execute(text(statement))

        async def request() -> None:
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row("committed-despite-cancel"))

        task = asyncio.ensure_future(request())
        await _commit_under_way(database)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["committed-despite-cancel"]
    assert leftovers == (0, 0)


@pytest.mark.parametrize("kind", ["snapshot", "housekeeping"])
def test_hot_statements_in_sqlalchemy_transactions_still_commit(
    database_url: str, kind: str
) -> None:
    async def body(database: Database) -> tuple[list[str], tuple[int, int]]:
        async with database.transaction(**{kind: True}) as conn:
            await INSERT_STORE.rowcount(conn, store_row(f"hot-in-{kind}"))
            await conn.execute(insert(tables.stores), store_row(f"sa-in-{kind}"))
        return await store_names(database), await _leftovers(database)

    names, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == [f"hot-in-{kind}", f"sa-in-{kind}"]
    assert leftovers == (0, 0)


@pytest.mark.parametrize("built", [False, True], ids=["hot-only", "with-sqlalchemy"])
def test_a_backend_killed_mid_transaction_is_dropped_and_replaced(
    database_url: str, built: bool
) -> None:
    async def body(database: Database) -> tuple[list[str], tuple[int, int], bool]:
        invalidated = False
        for number in range(3):  # more than the pool holds
            with pytest.raises(DBAPIError) as failure:
                async with database.transaction() as conn:
                    if built:
                        await conn.execute(insert(tables.stores), store_row(f"lost-sa-{number}"))
                    await INSERT_STORE.rowcount(conn, store_row(f"lost-hot-{number}"))
                    pid = await conn.execute(text("SELECT pg_backend_pid()")) if built else None
                    async with database.transaction(housekeeping=True) as admin:
                        target = (
                            pid.scalar_one()
                            if pid is not None
                            else (
                                await admin.execute(
                                    text(
                                        "SELECT pid FROM pg_stat_activity WHERE datname = "
                                        "current_database() AND state LIKE 'idle in transaction%'"
                                    )
                                )
                            ).scalar_one()
                        )
                        await admin.execute(text(f"SELECT pg_terminate_backend({int(target)})"))
                    await asyncio.sleep(0.2)
                    await INSERT_STORE.rowcount(conn, store_row(f"lost-again-{number}"))
            invalidated = invalidated or failure.value.connection_invalidated
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("after"))
        return await store_names(database), await _leftovers(database), invalidated

    names, leftovers, invalidated = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["after"]
    assert leftovers == (0, 0)
    assert invalidated


async def _committed_names(url: str) -> list[str]:
    """The stores' names as a session of its own sees them: what is committed."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return sorted((await conn.execute(select(tables.stores.c.name))).scalars())
    finally:
        await engine.dispose()


def test_a_cancellation_during_begin_leaves_no_transaction_for_the_next_one(
    database_url: str,
) -> None:
    # Cancelled at each await of its first statement in turn, BEGIN's included: asyncpg then
    # keeps the failed top transaction, and the server may have begun it. A connection given
    # back like that runs the next transaction as a SAVEPOINT inside the stale one: it
    # "commits" (RELEASE SAVEPOINT) and nothing is ever committed.
    async def body(database: Database) -> tuple[list[str], list[str], tuple[int, int]]:
        expected = []
        for turns in range(8):

            async def request(name: str) -> None:
                async with database.transaction() as conn:
                    await INSERT_STORE.rowcount(conn, store_row(name))

            task = asyncio.ensure_future(request(f"cancelled-{turns}"))
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row(f"next-{turns}"))
            expected.append(f"next-{turns}")
        committed = [name for name in await _committed_names(database_url) if "next" in name]
        return expected, committed, await _leftovers(database)

    expected, committed, leftovers = asyncio.run(on_database(database_url, body, pool_size=2))

    assert committed == expected
    assert leftovers == (0, 0)
