"""The database handle: one async engine per process and one transaction per use case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, RootTransaction, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import greenlet_spawn

from idstore.db import json_numbers, pooled
from idstore.db.completion import run_to_completion
from idstore.db.errors import failed_to_connect

# How long a SQLite writer waits for the one before it, instead of failing "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# How long opening a PostgreSQL connection may take before the request fails with 9010 (503);
# asyncpg's own default is a minute, far past any client's patience.
CONNECT_TIMEOUT_SECONDS = 5
# How long a request waits for one of its process's pooled PostgreSQL connections when all are
# busy, before it fails with 9010 (503) and a Retry-After.
POOL_WAIT_SECONDS = 10
# `?prepared_statements=false` on a PostgreSQL URL: the database is reached through a pooler in
# transaction mode (PgBouncer before 1.21), where a statement prepared in one transaction may be
# missing, or prepared by another client, in the next one (docs/scaling.md).
PREPARED_STATEMENTS_QUERY = "prepared_statements"


class Database:
    """Owns the engine. `transaction()` is the only way services reach the database."""

    def __init__(
        self, url: str, *, pool_size: int = 10, statement_timeout_seconds: float = 0
    ) -> None:
        """`statement_timeout_seconds` (PostgreSQL; 0: none) bounds how long one statement
        waits for the database: the one handle that serves requests sets it, while migrations
        and maintenance commands, whose statements may rightly run long, do not.

        A PostgreSQL `url` may end in `?prepared_statements=false` (see PREPARED_STATEMENTS_QUERY);
        `prepared_statements` tells whether statements may stay prepared between transactions,
        for code that prepares its own. Raises ArgumentError for a value neither true nor false.
        """
        self.url = url
        self.prepared_statements = True
        if not url.startswith("sqlite"):
            url, self.prepared_statements = _prepared_statements(url)
        # PostgreSQL: requests' transactions on a pooled connection (see `transaction`).
        self._pooled_transactions = not url.startswith("sqlite")
        self.engine: AsyncEngine = _create_engine(
            url,
            pool_size=pool_size,
            statement_timeout_seconds=statement_timeout_seconds,
            prepared_statements=self.prepared_statements,
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

        On PostgreSQL the transactions of requests run on a pooled connection that builds
        SQLAlchemy's Connection only if the work asks for it (db/pooled.py): an authentication,
        whose statements run straight on asyncpg, never does.
        """
        if self._pooled_transactions and not housekeeping and not snapshot:
            conn = await pooled.checkout(self.engine)
            try:
                yield conn
            except BaseException as error:
                await pooled.finish(conn, error)
                raise
            await pooled.finish(conn, None)
            return

        options: dict[str, Any] = {}
        if not write or housekeeping:
            # Readers take the options' absence as these defaults, which every authentication has.
            options.update(idstore_write=write, idstore_housekeeping=housekeeping)
        if snapshot and self.dialect == "postgresql":
            options.update(isolation_level="REPEATABLE READ")
        # What `async with engine.connect()` and `connection.begin()` do, in two hops through
        # SQLAlchemy's greenlet bridge instead of four: checkout, options and BEGIN in one; the
        # transaction's end and the checkin in the other, run to completion even if the request
        # is cancelled meanwhile (as AsyncConnection's own exit does).
        sync, transaction = await greenlet_spawn(_begin, self.engine.sync_engine, options)
        try:
            yield AsyncConnection(self.engine, sync)
        except BaseException as error:
            await _finish(sync, transaction, error)
            raise
        await _finish(sync, transaction, None)

    def connections_in_use(self) -> int:
        """Connections checked out of this process's pool right now."""
        checked_out = getattr(self.engine.pool, "checkedout", None)
        return int(checked_out()) if callable(checked_out) else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _finish(
    connection: Connection, transaction: RootTransaction, error: BaseException | None
) -> None:
    """End the transaction (commit, or roll back after `error`) and return the connection."""
    kind = None if error is None else type(error)
    traceback = None if error is None else error.__traceback__
    if _settled(connection):
        # Nothing to send to the database: ended here, without a hop through the greenlet
        # bridge and a task of its own.
        _end(connection, transaction, kind, error, traceback)
        return
    await run_to_completion(greenlet_spawn(_end, connection, transaction, kind, error, traceback))


def _settled(connection: Connection) -> bool:
    """Whether ending the transaction and returning the connection need no round trip: on
    PostgreSQL, when asyncpg holds no open transaction (the use case committed it itself, or ran
    no statement), SQLAlchemy's commit or rollback and the pool's reset on return have nothing
    to send."""
    if connection.invalidated or connection.closed:
        return False
    if connection.dialect.name != "postgresql":
        return False  # aiosqlite's commit and rollback always wait on its thread
    adapter = connection.connection.dbapi_connection
    return adapter is not None and getattr(adapter, "_transaction", True) is None


def _begin(engine: Engine, options: dict[str, Any]) -> tuple[Connection, RootTransaction]:
    try:
        connection = engine.connect()
    except DBAPIError as refused:
        raise failed_to_connect(refused) from refused.__cause__
    try:
        if options:
            connection.execution_options(**options)
        return connection, connection.begin()
    except BaseException:
        connection.close()
        raise


def _end(
    connection: Connection,
    transaction: RootTransaction,
    kind: type[BaseException] | None,
    error: BaseException | None,
    traceback: TracebackType | None,
) -> None:
    """Commit (or roll back, after `error`) what is still open, then return the connection."""
    try:
        transaction.__exit__(kind, error, traceback)
    finally:
        connection.close()


def _create_engine(
    url: str, *, pool_size: int, statement_timeout_seconds: float, prepared_statements: bool
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, hide_parameters=True
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {
        "timeout": CONNECT_TIMEOUT_SECONDS,
        # Enforced by the client, so that it holds when the server no longer answers at all.
        "command_timeout": statement_timeout_seconds or None,
    }
    if not prepared_statements:
        connect_args.update(_WITHOUT_STATEMENT_CACHES)
    # hide_parameters: a failed statement's error never carries the values bound to it.
    # No overflow: connections opened past the pool at a peak were closed as soon as they came
    # back, so a sustained peak connected (and prepared every statement) again and again (166
    # connections in 10 s at 64 requests in flight); a request now waits for a pooled one.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_WAIT_SECONDS,
        hide_parameters=True,
        connect_args=connect_args,
        json_serializer=json_numbers.dumps,
    )
    _drop_closed_connections(engine)
    pooled.watch_invalidations(engine.sync_engine)
    return engine


def _prepared_statements(url: str) -> tuple[str, bool]:
    """The URL without `prepared_statements`, and whether statements may stay prepared
    between transactions (the default; `false`, `0`, `no` or `off` says no).

    Raises ArgumentError (a database URL idstore cannot use) for any other value, so that a
    misspelt setting does not go unnoticed.
    """
    parsed = make_url(url)
    value = parsed.query.get(PREPARED_STATEMENTS_QUERY)
    if value is None:
        return url, True
    if not isinstance(value, str) or value.lower() not in _BOOLEANS:
        raise ArgumentError(f"{PREPARED_STATEMENTS_QUERY} in a database URL is true or false")
    bare = parsed.difference_update_query([PREPARED_STATEMENTS_QUERY])
    return bare.render_as_string(hide_password=False), _BOOLEANS[value.lower()]


_BOOLEANS = {
    **dict.fromkeys(("true", "1", "yes", "on"), True),
    **dict.fromkeys(("false", "0", "no", "off"), False),
}

# asyncpg and SQLAlchemy each keep a cache of prepared statements per connection. With both off,
# asyncpg prepares every statement unnamed, in the transaction that runs it, and nothing stays on
# the server connection for the next client a pooler hands it to (nor piles up there).
_WITHOUT_STATEMENT_CACHES: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
}


def _drop_closed_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        pooled.check_open_at_checkout(record.driver_connection)


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
