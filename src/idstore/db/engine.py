"""The database handle: one async engine per process and one transaction per use case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

# How long a SQLite writer waits for the one before it, instead of failing "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# How long opening a PostgreSQL connection may take before the request fails with 9010 (503);
# asyncpg's own default is a minute, far past any client's patience.
CONNECT_TIMEOUT_SECONDS = 5
# No statement cache in asyncpg (its statements are then unnamed) nor in SQLAlchemy's adapter.
_UNNAMED_STATEMENTS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}


class Database:
    """Owns the engine. `transaction()` is the only way services reach the database."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        statement_timeout_seconds: float = 0,
        prepared_statements: bool = True,
    ) -> None:
        """`statement_timeout_seconds` (PostgreSQL; 0: none) bounds how long one statement
        waits for the database: the one handle that serves requests sets it, while migrations
        and maintenance commands, whose statements may rightly run long, do not.
        `prepared_statements` False keeps no prepared statement on a PostgreSQL connection
        (asyncpg's and SQLAlchemy's caches off): every statement is prepared unnamed, which a
        pooler in transaction mode passes through."""
        self.url = url
        self.engine: AsyncEngine = _create_engine(
            url,
            pool_size=pool_size,
            statement_timeout_seconds=statement_timeout_seconds,
            prepared_statements=prepared_statements,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = True, housekeeping: bool = False, snapshot: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        On SQLite a writing transaction starts with BEGIN IMMEDIATE, so concurrent writers queue on
        the database lock up front instead of failing when they upgrade a read lock later.
        `housekeeping` marks work no request asked for (refreshing caches), so that per-request
        statement counts can leave it out. `snapshot` makes every statement see the database as
        of the first one (an export reading in batches); a SQLite read transaction already does.
        """
        async with self.engine.connect() as connection:
            if housekeeping or not write:
                # Absent options read as these defaults; setting them costs a greenlet hop.
                await connection.execution_options(
                    idstore_write=write, idstore_housekeeping=housekeeping
                )
            if snapshot and self.dialect == "postgresql":
                await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection

    def connections_in_use(self) -> int:
        """Connections checked out of this process's pool right now."""
        checked_out = getattr(self.engine.pool, "checkedout", None)
        return int(checked_out()) if callable(checked_out) else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


def _create_engine(
    url: str, *, pool_size: int, statement_timeout_seconds: float, prepared_statements: bool
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, hide_parameters=True
        )
        _configure_sqlite(engine)
        return engine
    # hide_parameters: a failed statement's error never carries the values bound to it.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        hide_parameters=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            # Enforced by the client, so that it holds when the server no longer answers at all.
            "command_timeout": statement_timeout_seconds or None,
            **({} if prepared_statements else _UNNAMED_STATEMENTS),
        },
    )
    _drop_closed_connections(engine)
    return engine


def _drop_closed_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        # The database closed this pooled connection (it restarted, say); asyncpg knows without a
        # round trip, unlike a pre-ping. DisconnectionError makes the pool open a new one instead.
        driver = record.driver_connection
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the database closed this pooled connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so that BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        is_write = connection.get_execution_options().get("idstore_write", True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN DEFERRED")
