"""The admin event log: each change a caller makes, written in the change's own transaction.

An event names the change (`kind`), what it changed (`subject_id`, the store), who (the API
key), when, and in which request; `details` name the fields changed, never their values, so
the log carries no personal data or secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services.context import Context
from idstore.services.models import JsonObject, JsonValue
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import find_store

SORTABLE = {"createdDtm": tables.admin_events.c.created_dtm}


@dataclass(frozen=True)
class AdminEvent:
    id: str
    tenant_id: str
    store_id: str | None
    caller_id: str
    request_id: str | None
    kind: str
    subject_id: str | None
    created_dtm: datetime
    details: JsonObject


@dataclass(frozen=True)
class EventFilter:
    store_name: str | None = None
    caller_id: str | None = None
    kind: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def record(
    conn: AsyncConnection,
    ctx: Context,
    kind: str,
    *,
    store_id: str | None,
    subject_id: str | None,
    details: JsonObject | None = None,
) -> None:
    """Write one event in the caller's transaction: it stands or falls with the change."""
    await record_many(conn, ctx, [Change(kind, store_id, subject_id, details or {})])


@dataclass(frozen=True)
class Change:
    """One event of a batch: what kind, on what, in which store."""

    kind: str
    store_id: str | None
    subject_id: str | None
    details: JsonObject = field(default_factory=dict)


async def record_many(conn: AsyncConnection, ctx: Context, changes: list[Change]) -> None:
    """Write the events of a bulk change (an import) in one statement, in its transaction."""
    if not changes:
        return
    await conn.execute(
        insert(tables.admin_events),
        [
            {
                "id": new_id(),
                "tenant_id": ctx.tenant_id,
                "store_id": change.store_id,
                "caller_id": ctx.caller_id,
                "request_id": ctx.request_id,
                "kind": change.kind,
                "subject_id": change.subject_id,
                "created_dtm": ctx.now,
                "details": change.details,
            }
            for change in changes
        ],
    )


def changed(fields: dict[str, Any]) -> JsonObject:
    """`details` of an update: the names of the fields given, as the API spells them (camelCase),
    never their values."""
    names: list[JsonValue] = [*sorted(_camel(name) for name in fields)]
    return {"fields": names}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


async def list_events(
    database: Database, ctx: Context, *, where: EventFilter, request: PageRequest
) -> Page[AdminEvent]:
    """One page of the caller's tenant's events. Raises StoreNotFound (3000) for the filter."""
    events = tables.admin_events.c
    query = select(tables.admin_events).where(events.tenant_id == ctx.tenant_id)
    async with database.transaction(write=False) as conn:
        if where.store_name is not None:
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=where.store_name)
            query = query.where(events.store_id == store.id)
        if where.caller_id is not None:
            query = query.where(events.caller_id == where.caller_id)
        if where.kind is not None:
            query = query.where(events.kind == where.kind)
        if where.created_from is not None:
            query = query.where(events.created_dtm >= where.created_from)
        if where.created_to is not None:
            query = query.where(events.created_dtm <= where.created_to)
        return await fetch_page(
            conn, query, request=request, sortable=SORTABLE, tiebreak=events.id, convert=_from_row
        )


def _from_row(row: Row[Any]) -> AdminEvent:
    return AdminEvent(**row._mapping)
