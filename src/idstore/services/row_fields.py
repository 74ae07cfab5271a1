"""Reading rows into the domain's dataclasses: the columns named as a dataclass's fields become
those fields, and a user's authenticators of one kind come oldest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Row, Select, Table
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
# A dataclass's field names, read once per class: rows are read on every request.
_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def from_row(kind: type[T], row: Row[Any], *, prefix: str = "", **converted: Any) -> T:
    """A `kind` whose fields are the row's columns of the same names (with `prefix` where a join
    labelled them); `converted` gives the fields whose column is converted (to an enum, a tuple,
    the policies of a JSON map) or named otherwise. Columns are read as attributes, so that an
    imported record checked as a row (transfer/passkey_records.py) reads the same way."""
    given = {
        name: getattr(row, prefix + name) for name in _field_names(kind) if name not in converted
    }
    return kind(**given, **converted)


async def oldest_first(
    conn: AsyncConnection, query: Select[Any], table: Table, convert: Callable[[Row[Any]], T]
) -> tuple[T, ...]:
    """The rows `query` selects from `table`, oldest first (ties by id), each converted."""
    rows = await conn.execute(query.order_by(table.c.created_dtm, table.c.id))
    return tuple(convert(row) for row in rows)


def _field_names(kind: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(item.name for item in fields(kind))
    return names
