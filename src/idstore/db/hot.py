"""The hot path's statements, run on PostgreSQL straight on the transaction's asyncpg connection.

An authentication runs the same three or four statements every time, and on PostgreSQL
SQLAlchemy's per-statement machinery (compiling the cache key, the execution context, the result
objects, the hop through the greenlet bridge) costs more Python than asyncpg's own work. A
`HotStatement` is compiled once; on PostgreSQL it runs as an asyncpg prepared statement on the
transaction's pooled connection (db/pooled.py), in the same database transaction as any statement
SQLAlchemy runs there, so they share its row locks and its commit. Values go through the bind and
result processors the tables declare (UtcDateTime, JSONB through the codecs SQLAlchemy put on the
connection), so a row reads the same either way.
On SQLite it runs through SQLAlchemy unchanged.

The engine's `before_cursor_execute` listeners still see each statement (tests count and explain
them). A driver error becomes the same `DBAPIError` SQLAlchemy would raise, and a connection found
closed is invalidated, so callers tell a lost database (503) from a wrong statement as before.

`HotWrites` are writes an attempt always makes together (the audit record and the user row): on
PostgreSQL one statement, the first writes as data-modifying WITH clauses, so they cost one round
trip instead of one each.

The asyncpg connection's statement cache decides whether the statement is named: with
`statement_cache_size=0` (`?prepared_statements=false` on the database URL) it is prepared unnamed
inside the transaction, which a transaction-mode pooler such as PgBouncer passes through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, Delete, Insert, Select, Update

from idstore.db.driver_errors import driver_error
from idstore.db.pooled import PooledConnection
from idstore.db.types import UtcDateTime

Processor = Callable[[Any], Any] | None
Statement = Select[Any] | Insert | Update | Delete


class HotRow:
    """A row read directly: its columns by attribute and through `_mapping`, as a Row's are."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        # The columns are the instance's attributes: reading one costs no call.
        self.__dict__ = mapping

    @property
    def _mapping(self) -> dict[str, Any]:
        return self.__dict__


class _Prepared:
    """The statement's PostgreSQL text with its positional binds and their processors."""

    def __init__(self, statement: Statement, dialect: Dialect, keys: list[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        self.statement = statement
        self.dialect = dialect
        self.sql = str(compiled)
        names = compiled.positiontup or []
        # The values in bind order are taken in one C call; only the few binds with a processor
        # (a timestamp, a JSON document) are then visited one by one.
        self.take = _taker(names)
        self.bind_processors = [
            (index, process)
            for index, name in enumerate(names)
            if (process := _bind_processor(compiled, name, dialect)) is not None
        ]
        self.column_names: list[str] | None = None
        self.column_processors: list[tuple[str, Callable[[Any], Any], bool]] = []

    def describe(self, attributes: Iterable[Any]) -> None:
        """Learn the result columns' processors from the server's description of the rows
        (some processors depend on the type the server reports, a float's say)."""
        selected: list[ColumnElement[Any]] = (
            list(self.statement.selected_columns) if isinstance(self.statement, Select) else []
        )
        pairs = list(zip(selected, attributes, strict=True))
        self.column_processors = [
            (attribute.name, process, isinstance(column.type, UtcDateTime))
            for column, attribute in pairs
            if (process := _result_processor(column, attribute.type.oid, self.dialect)) is not None
        ]
        # Last: once it has names the statement counts as described (hot.py _run), so a
        # failure above leaves it to be described again.
        self.column_names = [attribute.name for _column, attribute in pairs]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = self.take(parameters)
        for index, process in self.bind_processors:
            values[index] = process(values[index])
        return values

    def row(self, record: Iterable[Any]) -> HotRow:
        values = dict(zip(self.column_names or (), record, strict=True))
        for name, process, is_utc in self.column_processors:
            value = values[name]
            # asyncpg reads a timestamptz as an aware datetime in UTC, which UtcDateTime's
            # processor returns as it is (and NULL as NULL): it runs only for a value in another
            # zone or in none (asyncpg reads ±infinity as naive).
            if not (is_utc and (value is None or value.tzinfo is UTC)):
                values[name] = process(value)
        return HotRow(values)


def _taker(names: list[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function of the parameters that lists their values in the order of `names`."""
    if not names:
        return lambda _parameters: []
    get = itemgetter(*names)
    if len(names) == 1:
        return lambda parameters: [get(parameters)]
    return lambda parameters: list(get(parameters))


def _result_processor(column: ColumnElement[Any], oid: int, dialect: Dialect) -> Processor:
    process: Processor = column.type.dialect_impl(dialect).result_processor(dialect, oid)
    return process


def _bind_processor(compiled: SQLCompiler, name: str, dialect: Dialect) -> Processor:
    process: Processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process


class HotStatement:
    """One statement of the hot path, with the SET or VALUES columns it always names."""

    def __init__(self, statement: Statement, *, column_keys: Iterable[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = None if column_keys is None else sorted(column_keys)
        self._prepared: _Prepared | None = None

    async def rows(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> list[Any]:
        """Every row the statement returns (a query)."""
        dialect = _dialect(conn)
        if dialect.name != "postgresql":
            return list((await conn.execute(self.statement, dict(parameters))).all())
        prepared = self._prepare(dialect)
        records = await _run(conn, prepared, parameters, fetch=True)
        return [prepared.row(record) for record in records]

    async def rowcount(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> int:
        """How many rows the statement wrote (an INSERT, UPDATE or DELETE)."""
        dialect = _dialect(conn)
        if dialect.name != "postgresql":
            return int((await conn.execute(self.statement, dict(parameters))).rowcount)
        status = await _run(conn, self._prepare(dialect), parameters, fetch=False)
        return int(str(status).rsplit(" ", 1)[-1])

    def _prepare(self, dialect: Dialect) -> _Prepared:
        # Compiled on first use, for the dialect the engine configured (its JSON serializer).
        if self._prepared is None:
            self._prepared = _Prepared(self.statement, dialect, self.column_keys)
        return self._prepared


class HotWrites:
    """Writes the hot path always makes together, sent as one statement on PostgreSQL.

    PostgreSQL runs each data-modifying WITH clause of a statement exactly once, whether or not
    the rest reads it, so `WITH write_1 AS (UPDATE …) INSERT …` makes both writes, atomically,
    in one round trip. SQLite allows no writes in WITH: there they run one after the other in the
    order given, each with its own parameters. Every write names its values with explicit bind
    parameters (no SET or VALUES columns taken from the parameters), and no two writes share a
    bind name, so one set of parameters serves the statement either way.
    """

    def __init__(self, *writes: Insert | Update | Delete) -> None:
        self.apart = [(HotStatement(write), sorted(write.compile().params)) for write in writes]
        names = [name for _write, own in self.apart for name in own]
        if not writes or len(names) != len(set(names)):
            raise ValueError("writes sent together need distinct bind names")

        *withs, last = writes
        for number, write in enumerate(withs, start=1):
            last = last.add_cte(write.cte(f"write_{number}"))
        self.together = HotStatement(last)

    async def run(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> None:
        """Make every write, with the values `parameters` give their binds."""
        if _dialect(conn).name == "postgresql":
            await self.together.rowcount(conn, parameters)
            return
        for write, names in self.apart:
            await write.rowcount(conn, {name: parameters[name] for name in names})


def _dialect(conn: AsyncConnection) -> Dialect:
    # The engine's attribute: AsyncConnection.dialect costs a proxy lookup (and a Connection).
    return conn.sync_engine.dialect


def _adapter(conn: AsyncConnection) -> Any:
    """SQLAlchemy's adapter of the transaction's asyncpg connection."""
    if isinstance(conn, PooledConnection):
        return conn.adapter
    sync = conn.sync_connection
    if sync is None:
        raise RuntimeError("the connection is not open")
    return sync.connection.dbapi_connection


def _listened(conn: AsyncConnection) -> Connection:
    """The Connection the engine's statement listeners are handed (tests count statements): the
    transaction's own if it has one, else one made around its pooled connection for them."""
    if conn.sync_connection is not None:
        return conn.sync_connection
    assert isinstance(conn, PooledConnection)  # noqa: S101  # any other is made with one
    return Connection(conn.sync_engine, connection=conn.pooled, _has_events=False)


async def _run(
    conn: AsyncConnection, prepared: _Prepared, parameters: Mapping[str, Any], *, fetch: bool
) -> Any:
    arguments = prepared.arguments(parameters)
    engine = conn.sync_engine
    if engine._has_events:  # as Connection checks before dispatching
        listened = _listened(conn)
        for listener in engine.dispatch.before_cursor_execute:
            listener(listened, None, prepared.sql, tuple(arguments), None, False)

    adapter: Any = _adapter(conn)
    driver: Any = adapter._connection
    try:
        # SQLAlchemy's asyncpg adapter begins its transaction at the first statement; begun
        # here the same way, so that SQLAlchemy's statements and these share it.
        if adapter._transaction is None:
            await adapter._start_transaction()
        if fetch:
            if prepared.column_names is None:
                # Once a process: an unnamed statement, described and not run.
                prepared.describe((await driver.prepare(prepared.sql)).get_attributes())
            return await driver.fetch(prepared.sql, *arguments)
        return await driver.execute(prepared.sql, *arguments)
    except Exception as error:
        raise await driver_error(conn, adapter, prepared.sql, arguments, error) from error
