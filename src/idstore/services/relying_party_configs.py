"""What passkey and appkey configurations share (spec §9, §10): one row per store and relying
party in a table of their own, created, read, updated and deleted alike, each change with its
admin event in the same transaction. The modules of each kind build and check the values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.services import events
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import IdstoreError, ResourceNotFound, StoreNotFound


@dataclass(frozen=True)
class ConfigChanges:
    """The fields a request gave, by snake_case name; policies as maps of their given fields."""

    values: dict[str, Any] = field(default_factory=dict)
    registration_policies: dict[str, dict[str, Any]] | None = None
    authentication_policies: dict[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class ConfigKind:
    """Where a kind of configuration is kept, the noun its 404 uses and its events' prefix."""

    table: Table
    noun: str
    event: str


async def insert_row(
    conn: AsyncConnection,
    ctx: Context,
    kind: ConfigKind,
    values: dict[str, Any],
    *,
    exists: IdstoreError,
) -> None:
    """Raises `exists` when the store has one for that relying party, StoreNotFound (3000)
    when the store went meanwhile."""
    try:
        await conn.execute(insert(kind.table).values(values))
    except IntegrityError as exc:
        raise conflict(exc, unique=exists, missing=StoreNotFound("store not found")) from exc
    await _event(conn, ctx, kind, "created", values)


async def find_row(
    conn: AsyncConnection, kind: ConfigKind, *, store_id: str, rp_id: str, for_update: bool = False
) -> Row[Any]:
    """Raises ResourceNotFound (9011) naming the kind of configuration."""
    columns = kind.table.c
    query = select(kind.table).where(columns.store_id == store_id, columns.rp_id == rp_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise ResourceNotFound(f"{kind.noun} for {rp_id!r} not found")
    return row


async def update_row(
    conn: AsyncConnection, ctx: Context, kind: ConfigKind, values: dict[str, Any]
) -> None:
    columns = kind.table.c
    await conn.execute(
        update(kind.table)
        .where(columns.store_id == values["store_id"], columns.id == values["id"])
        .values(values)
    )
    await _event(conn, ctx, kind, "updated", values)


async def delete_row(
    conn: AsyncConnection, ctx: Context, kind: ConfigKind, *, store_id: str, rp_id: str
) -> None:
    """Raises ResourceNotFound (9011) naming the kind of configuration."""
    row = await find_row(conn, kind, store_id=store_id, rp_id=rp_id, for_update=True)
    columns = kind.table.c
    await conn.execute(delete(kind.table).where(columns.store_id == store_id, columns.id == row.id))
    await _event(conn, ctx, kind, "deleted", {"store_id": store_id, "id": row.id})


async def _event(
    conn: AsyncConnection, ctx: Context, kind: ConfigKind, what: str, values: dict[str, Any]
) -> None:
    await events.record(
        conn, ctx, f"{kind.event}.{what}", store_id=values["store_id"], subject_id=values["id"]
    )
