"""Reading rows into the domain's dataclasses: the columns named as a dataclass's fields become
those fields, and a user's authenticators of one kind come oldest first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Row, Select, Table
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
Reader = Callable[[Any], tuple[Any, ...]]


def from_row(kind: type[T], row: Row[Any], *, prefix: str = "", **converted: Any) -> T:
    """A `kind` whose fields are the row's columns of the same names (with `prefix` where a join
    labelled them); `converted` gives the fields whose column is converted (to an enum, a tuple,
    the policies of a JSON map) or named otherwise. Columns are read as attributes, so that an
    imported record checked as a row (transfer/passkey_records.py) reads the same way."""
    names, read = _reader(kind, prefix, frozenset(converted))
    return kind(**dict(zip(names, read(row), strict=True)), **converted)


# For each kind, prefix and set of converted fields: the other fields' names, and one getter
# that reads their columns in a single C call. Built once: rows are read on every request.
_READERS: dict[tuple[type[Any], str, frozenset[str]], tuple[tuple[str, ...], Reader]] = {}


def _reader(
    kind: type[Any], prefix: str, converted: frozenset[str]
) -> tuple[tuple[str, ...], Reader]:
    key = (kind, prefix, converted)
    found = _READERS.get(key)
    if found is None:
        names = tuple(item.name for item in fields(kind) if item.name not in converted)
        found = _READERS[key] = (names, _getter(prefix + name for name in names))
    return found


def _getter(columns: Iterable[str]) -> Reader:
    """A function of a row that reads `columns` as a tuple."""
    named = tuple(columns)
    if len(named) < 2:  # attrgetter of one name returns the value itself, of none it fails
        return lambda row: tuple(getattr(row, column) for column in named)
    getter: Reader = attrgetter(*named)
    return getter


async def oldest_first(
    conn: AsyncConnection, query: Select[Any], table: Table, convert: Callable[[Row[Any]], T]
) -> tuple[T, ...]:
    """The rows `query` selects from `table`, oldest first (ties by id), each converted."""
    rows = await conn.execute(query.order_by(table.c.created_dtm, table.c.id))
    return tuple(convert(row) for row in rows)
