"""Paged lists: `page`, `size` and `sort` as spec §1 defines them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.services.errors import InvalidField

T = TypeVar("T")

DEFAULT_SORT = "createdDtm"


@dataclass(frozen=True)
class PageRequest:
    """Which page: 0-based `page`, `size` 1-200, sorted by a contract field name."""

    page: int = 0
    size: int = 20
    sort: str = DEFAULT_SORT
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    size: int
    total_elements: int


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    request: PageRequest,
    sortable: Mapping[str, ColumnElement[Any]],
    tiebreak: ColumnElement[Any],
    convert: Callable[[Any], T],
    total: Select[Any] | None = None,
) -> Page[T]:
    """Run `query` for one page, ordered by the requested field then by id, and count the whole
    (or run `total`, a cheaper statement whose one value is that count).

    Raises InvalidField (9002) for a sort field the resource does not have.
    """
    column = sortable.get(request.sort)
    if column is None:
        allowed = ", ".join(sorted(sortable))
        raise InvalidField.of("sort", f"unknown sort field; one of {allowed}")

    ordering = (column.desc(), tiebreak.desc()) if request.descending else (column, tiebreak)
    paged = query.order_by(*ordering).offset(request.page * request.size).limit(request.size)
    rows = (await conn.execute(paged)).all()

    if total is None:
        total = select(func.count()).select_from(query.order_by(None).subquery())
    counted = await conn.scalar(total)
    return Page([convert(row) for row in rows], request.page, request.size, int(counted or 0))
