"""asyncpg's errors as SQLAlchemy raises them, for statements run on asyncpg directly (db/hot.py,
db/pooled.py): callers tell a lost database (503) from a wrong statement the same way either way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


async def driver_error(
    conn: AsyncConnection, adapter: Any, sql: str, arguments: list[Any], error: Exception
) -> Exception:
    """The exception SQLAlchemy raises for this asyncpg error; a closed connection invalidated."""
    dialect = conn.sync_engine.dialect
    try:
        adapter._handle_exception(error)  # raises asyncpg's error as the adapter's DBAPI error
    except Exception as adapted:
        dbapi_error = dialect.loaded_dbapi.Error
        if not isinstance(adapted, dbapi_error):
            return adapted
        closed = bool(adapter._connection.is_closed())
        if closed:
            await conn.invalidate(adapted)
        return DBAPIError.instance(
            sql,
            arguments,
            adapted,
            dbapi_error,
            hide_parameters=True,
            connection_invalidated=closed,
            dialect=dialect,
        )
    return error
