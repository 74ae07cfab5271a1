"""A user's authenticator row by its id, as the routes by id (TOTPs, passkeys, appkeys) find,
re-status and delete it: the same reads and writes for each kind, each write with its admin event.
Every statement names the row's store, the key the tables are distributed by."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.services import events
from idstore.services.context import Context, UserRef
from idstore.services.errors import IdstoreError
from idstore.services.rows import find_store, find_user_row


async def owned_row(
    conn: AsyncConnection,
    ctx: Context,
    table: Table,
    *,
    store_name: str,
    ref: UserRef,
    row_id: str,
    for_update: bool = False,
) -> Row[Any] | None:
    """The row of `table` with that id when it belongs to the user, else None (the caller names
    what is missing); locked when `for_update`. Raises StoreNotFound (3000), UserNotFound (3100)."""
    store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
    user = await find_user_row(conn, store_id=store.id, ref=ref)
    query = select(table).where(
        table.c.store_id == store.id, table.c.user_id == user.id, table.c.id == row_id
    )
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def change_status(
    conn: AsyncConnection, ctx: Context, table: Table, row: Row[Any], status: StrEnum, kind: str
) -> None:
    """Store the row's new status and record the `kind` event (e.g. totp.statusChanged)."""
    await conn.execute(
        update(table)
        .where(table.c.store_id == row.store_id, table.c.id == row.id)
        .values(status=str(status), last_updated_dtm=ctx.now)
    )
    await events.record(
        conn, ctx, kind, store_id=row.store_id, subject_id=row.id, details={"status": str(status)}
    )


async def delete_owned(
    conn: AsyncConnection,
    ctx: Context,
    table: Table,
    row: Row[Any],
    kind: str,
    *,
    missing: Callable[[], IdstoreError],
) -> None:
    """Delete the row and record the `kind` event (e.g. passkey.deleted).

    Raises `missing()` when no row was deleted: a concurrent delete took it first, and only the
    one that deleted it answers 204 and records the event.
    """
    deleted = await conn.execute(
        delete(table).where(table.c.store_id == row.store_id, table.c.id == row.id)
    )
    if deleted.rowcount == 0:
        raise missing()

    await events.record(conn, ctx, kind, store_id=row.store_id, subject_id=row.id)
