"""A PostgreSQL transaction on a pooled asyncpg connection, with SQLAlchemy's Connection only on
demand.

SQLAlchemy begins a transaction with a Connection and a RootTransaction, built in one hop through
its greenlet bridge, and commits it in another: about 110 µs of CPU a transaction on this
machine, a tenth of a whole authentication, which runs its statements straight on asyncpg
(db/hot.py) and needs none of it. A `PooledConnection` is checked out of the same pool (its size,
its wait and its closed-connection check hold as before), runs hot statements and commits on the
driver, and builds the Connection around the same pooled connection, in the same database
transaction, only when code asks for SQLAlchemy (a query, an ORM-free `execute`, `run_sync`).

The transaction itself is the driver's either way: SQLAlchemy's asyncpg adapter begins it at the
first statement and keeps it in `_transaction`, which is where this module commits or rolls it
back, so a transaction mixing both kinds of statement ends once, with everything in it.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet

from idstore.db.completion import run_to_completion
from idstore.db.driver_errors import driver_error
from idstore.db.errors import failed_to_connect


class PooledConnection(AsyncConnection):
    """An AsyncConnection whose synchronous Connection is made the first time it is needed."""

    __slots__ = ("pooled",)

    def __init__(self, engine: AsyncEngine, pooled: PoolProxiedConnection) -> None:
        super().__init__(engine)
        self.pooled = pooled

    @property
    def _proxied(self) -> Connection:
        if self.sync_connection is None:
            connection = Connection(self.sync_engine, connection=self.pooled)
            connection.begin()  # no round trip: asyncpg's BEGIN waits for the first statement
            self.sync_connection = self._assign_proxied(connection)
        return self.sync_connection

    @property
    def adapter(self) -> Any:
        """SQLAlchemy's adapter of the asyncpg connection (None once invalidated)."""
        return self.pooled.dbapi_connection

    async def commit(self) -> None:
        """Commit what the transaction holds so far, whichever kind of statement wrote it."""
        await commit_on_driver(self)

    async def invalidate(self, exception: BaseException | None = None) -> None:
        if self.sync_connection is not None:
            await super().invalidate(exception)
        elif self.pooled.dbapi_connection is not None:
            self.pooled.invalidate(exception)


async def checkout(engine: AsyncEngine) -> PooledConnection:
    """A connection of the pool: taken in place when one is idle and open (no await at all), else
    through the greenlet bridge, which may wait for one to come back or connect a new one."""
    sync_engine = engine.sync_engine
    pool = sync_engine.pool
    if isinstance(pool, QueuePool) and pool.checkedin() and not _reconnecting(sync_engine):
        try:
            return PooledConnection(engine, sync_engine.raw_connection())
        except (ClosedOutsideBridge, MissingGreenlet):
            pass  # the idle one had to be connected again: the pool took it back unconnected
    return PooledConnection(engine, await greenlet_spawn(_raw_connection, sync_engine))


# Pooled records of an engine left without a connection: invalidated (the database restarted,
# say), and not connected again since (it may still be down: a failed connect leaves the record
# as it was, with no event). Only the bridge can connect one, so while an engine has any, its
# checkouts go through it. (Trying in place would work too, but leaves a "never awaited" warning
# of the connect it could not run.) Empty, as it nearly always is, it costs one test a checkout.
_UNCONNECTED: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[ConnectionPoolEntry]] = (
    weakref.WeakKeyDictionary()
)


def _reconnecting(engine: Engine) -> bool:
    return bool(_UNCONNECTED) and bool(_UNCONNECTED.get(engine))


def watch_invalidations(engine: Engine) -> None:
    """Send the engine's checkouts through the bridge while a record of its pool has no
    connection (see _UNCONNECTED)."""

    def _on_invalidate(_dbapi: Any, record: ConnectionPoolEntry, *_reason: Any) -> None:
        _UNCONNECTED.setdefault(engine, weakref.WeakSet()).add(record)

    def _on_connect(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        unconnected = _UNCONNECTED.get(engine)
        if unconnected is None:
            return
        unconnected.discard(record)
        if not unconnected:
            del _UNCONNECTED[engine]

    # `dispose` replaces the pool, listeners included.
    event.listen(engine.pool, "invalidate", _on_invalidate)
    event.listen(engine.pool, "soft_invalidate", _on_invalidate)
    event.listen(engine.pool, "connect", _on_connect)


class ClosedOutsideBridge(Exception):
    """A pooled connection found closed by a checkout made in place, where no new one can be
    connected: the pool invalidates it and takes it back, and `checkout` goes through the bridge."""


def check_open_at_checkout(driver: Any) -> None:
    """Refuse a pooled asyncpg connection the database has closed (it restarted, say); asyncpg
    knows without a round trip, unlike a pre-ping. In the bridge a DisconnectionError makes the
    pool connect a new one at once; in place ClosedOutsideBridge leaves that to the bridge."""
    if driver is None or not driver.is_closed():
        return
    if not in_greenlet():
        raise ClosedOutsideBridge
    raise DisconnectionError("the database closed this pooled connection")


def _raw_connection(engine: Engine) -> PoolProxiedConnection:
    try:
        try:
            return engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as error:
            # Raises the DBAPIError a Connection raises when it cannot connect.
            Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)
            raise
    except DBAPIError as refused:
        raise failed_to_connect(refused) from refused.__cause__


async def commit_on_driver(conn: PooledConnection) -> None:
    """COMMIT the driver's open transaction, if any; a failure is raised as SQLAlchemy would."""
    adapter = conn.adapter
    transaction = None if adapter is None else adapter._transaction
    if transaction is None:
        return
    try:
        await transaction.commit()
    except Exception as error:
        raise await driver_error(conn, adapter, "COMMIT", [], error) from error
    finally:
        adapter._transaction = None


async def finish(conn: PooledConnection, error: BaseException | None) -> None:
    """End the transaction (commit, or roll back after `error`) and return the connection."""
    try:
        adapter = conn.adapter
        if adapter is not None and adapter._transaction is not None:
            # A round trip: in a task of its own, which a cancelled request does not stop midway.
            await run_to_completion(_end_open(conn, adapter, commit=error is None))
    finally:
        _give_back(conn)


async def _end_open(conn: PooledConnection, adapter: Any, *, commit: bool) -> None:
    if commit:
        await commit_on_driver(conn)
        return
    try:
        await adapter._transaction.rollback()
    except Exception as failure:  # the request's own error is the one to raise
        await conn.invalidate(failure)
    finally:
        adapter._transaction = None


def _give_back(conn: PooledConnection) -> None:
    """Return the connection to the pool. One still in a transaction here is dropped with it
    (the pool's reset would need a round trip): its end was cancelled before it ran, or its
    BEGIN was, after which asyncpg keeps the failed transaction as the connection's own and the
    server may have begun it. Given back so, it would run the next transaction as a SAVEPOINT
    inside that one, which nothing ever commits."""
    adapter = conn.adapter
    if adapter is not None and _in_transaction(adapter):
        conn.pooled.invalidate()
    if conn.sync_connection is not None:
        conn.sync_connection.close()  # its RootTransaction's rollback finds nothing to send
    else:
        conn.pooled.close()


def _in_transaction(adapter: Any) -> bool:
    driver = adapter._connection
    return (
        adapter._transaction is not None
        or driver._top_xact is not None
        or bool(driver.is_in_transaction())
    )
