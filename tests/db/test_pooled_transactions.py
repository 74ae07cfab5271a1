"""A PostgreSQL transaction on a pooled connection (db/pooled.py): hot statements alone never build
SQLAlchemy's Connection; mixed with SQLAlchemy's statements they share one database transaction,
which ends once with everything in it; a failure or a cancellation rolls all of it back; and the
connection always goes back to the pool, replaced when the database closed it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]  # no type information published
import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.db.pooled import PooledConnection
from tests.support.databases import drop_database, fresh_database_url, is_postgresql
from tests.support.store_rows import INSERT_STORE, on_database, store_names, store_row

pytestmark = pytest.mark.skipif(
    not is_postgresql(), reason="pooled transactions are PostgreSQL's; SQLite keeps SQLAlchemy's"
)


class Refused(Exception):
    pass


@pytest.fixture
def database_url() -> Iterator[str]:
    url = fresh_database_url()
    asyncio.run(on_database(url, migrate))
    yield url
    drop_database(url)


def test_hot_statements_alone_commit_at_the_end_without_a_sqlalchemy_connection(
    database_url: str,
) -> None:
    async def body(database: Database) -> tuple[bool, bool, list[str], int]:
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("hot-only"))
            pooled = isinstance(conn, PooledConnection)
            built = conn.sync_connection is not None
        return pooled, built, await store_names(database), database.connections_in_use()

    pooled, built, names, in_use = asyncio.run(on_database(database_url, body, pool_size=2))

    assert (pooled, built) == (True, False)
    assert names == ["hot-only"]
    assert in_use == 0


def test_both_kinds_of_statement_share_the_transaction_before_and_after_a_commit(
    database_url: str,
) -> None:
    # A hot write, a SQLAlchemy one (which builds the Connection), a commit, then a hot write
    # the Connection never saw begin: the end commits that one too.
    async def body(database: Database) -> tuple[list[str], int]:
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("a-hot"))
            await conn.execute(insert(tables.stores), store_row("b-sqlalchemy"))
            await conn.commit()
            await INSERT_STORE.rowcount(conn, store_row("c-hot-after-commit"))
        return await store_names(database), database.connections_in_use()

    names, in_use = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["a-hot", "b-sqlalchemy", "c-hot-after-commit"]
    assert in_use == 0


def test_a_failure_rolls_back_both_kinds_and_the_connection_serves_again(
    database_url: str,
) -> None:
    async def body(database: Database) -> tuple[list[str], int, int]:
        for _ in range(3):  # more than the pool holds: a connection left behind would show
            with pytest.raises(Refused):
                async with database.transaction() as conn:
                    await INSERT_STORE.rowcount(conn, store_row(f"hot-{uuid.uuid4().hex}"))
                    await conn.execute(insert(tables.stores), store_row(f"sa-{uuid.uuid4().hex}"))
                    raise Refused
        in_use = database.connections_in_use()
        async with database.transaction() as conn:
            await INSERT_STORE.rowcount(conn, store_row("after"))
            backend = int((await conn.execute(text("SELECT 1"))).scalar_one())
        return await store_names(database), in_use, backend

    names, in_use, backend = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["after"]
    assert (in_use, backend) == (0, 1)


def test_a_cancelled_request_rolls_back_and_returns_its_connection(database_url: str) -> None:
    async def body(database: Database) -> tuple[list[str], int]:
        started = asyncio.Event()

        async def request() -> None:
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row("cancelled"))
                started.set()
                await asyncio.sleep(30)

        task = asyncio.ensure_future(request())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await store_names(database), database.connections_in_use()

    names, in_use = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == []
    assert in_use == 0


async def _terminated(database_url: str, survivor: int) -> None:
    """Return once no backend of the database but `survivor` is left: pg_terminate_backend only
    signals, and on a loaded machine a backend took longer to exit than a fixed wait."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND pid <> $1",
            survivor,
        ):
            assert asyncio.get_running_loop().time() < deadline, "a backend never exited"
            await asyncio.sleep(0.01)  # polling for the exit, not waiting a fixed time
    finally:
        await conn.close()


def test_connections_the_database_closed_are_replaced_at_checkout(database_url: str) -> None:
    async def body(database: Database) -> tuple[list[str], int]:
        # Both pooled connections open and idle, then closed by the server.
        async with database.transaction() as first, database.transaction() as second:
            await INSERT_STORE.rowcount(first, store_row("before-1"))
            await INSERT_STORE.rowcount(second, store_row("before-2"))
        async with database.transaction(write=False) as admin:
            survivor = await admin.scalar(text("SELECT pg_backend_pid()"))
            await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        await _terminated(database_url, survivor)
        await asyncio.sleep(0.2)  # asyncpg reads the socket the exiting backend closed

        for number in range(3):
            async with database.transaction() as conn:
                await INSERT_STORE.rowcount(conn, store_row(f"after-{number}"))
        return await store_names(database), database.connections_in_use()

    names, in_use = asyncio.run(on_database(database_url, body, pool_size=2))

    assert names == ["after-0", "after-1", "after-2", "before-1", "before-2"]
    assert in_use == 0
