"""A page of the rows a user owns in one table (spec §1 "Lists are paged"): the one listing that a
user's TOTPs, passkeys and appkeys share, so that they page, sort and count alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Table

from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import find_store, find_user_row

T = TypeVar("T")


async def page_of_owned(
    database: Database,
    ctx: Context,
    table: Table,
    *,
    store_name: str,
    ref: UserRef,
    request: PageRequest,
    sortable: Mapping[str, ColumnElement[Any]],
    convert: Callable[[Row[Any]], T],
    shown: ColumnElement[bool] | None = None,
) -> Page[T]:
    """One page of the user's rows of `table` that satisfy `shown` (all by default), ordered by
    the requested field of `sortable`, then by id.

    Raises StoreNotFound (3000), UserNotFound (3100), InvalidField (9002) for an unknown sort field.
    """
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        owned = [table.c.store_id == store.id, table.c.user_id == user.id]
        # In the query, not applied after it, so that the totals count only what is shown.
        query = table.select().where(*owned, *([] if shown is None else [shown]))
        return await fetch_page(
            conn, query, request=request, sortable=sortable, tiebreak=table.c.id, convert=convert
        )
