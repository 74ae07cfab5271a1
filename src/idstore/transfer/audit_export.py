"""Reading a store's authentication audit for export, in batches (`idstore export-audit`).

Records come in keyset-paged batches ordered by creation time then id: each batch is one short
read transaction that starts where the last one ended, so memory holds one batch whatever the
size of the audit, and no transaction stays open for the length of the export (on SQLite a long
reader would keep the write-ahead log from being checkpointed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.audit import record_from_row
from idstore.services.errors import StoreNotFound
from idstore.services.models import AuditRecord
from idstore.services.rows import find_store
from idstore.transfer.audit_formats import AuditWriter

BATCH_SIZE = 1000
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class TimeWindow:
    """Records created at or after `start` (when given) and strictly before `end`.

    Half-open, so that consecutive exports (a month, then the next) neither overlap nor leave
    a gap at the instant they share.
    """

    start: datetime | None
    end: datetime


@dataclass(frozen=True)
class AuditSource:
    """Whose audit: the tenant's store, by name or, for a store since deleted, by id."""

    tenant_id: str
    store_name: str | None = None
    store_id: str | None = None


async def resolve_store_id(database: Database, source: AuditSource) -> str:
    """The id of the store whose audit is wanted. Raises StoreNotFound (3000) for a name the
    tenant does not have, and for an id that is neither the tenant's store nor in its audit
    (the audit outlives its store, so a deleted store's id still counts)."""
    async with database.transaction(write=False) as conn:
        if source.store_name is not None:
            store = await find_store(conn, tenant_id=source.tenant_id, name=source.store_name)
            return str(store.id)
        store_id = str(source.store_id)
        if not await conn.scalar(select(_known(source.tenant_id, store_id))):
            raise StoreNotFound(f"no store or audit record with id {store_id!r}")
        return store_id


def _known(tenant_id: str, store_id: str) -> ColumnElement[bool]:
    stores, audit = tables.stores.c, tables.authentication_audit.c
    return or_(
        exists().where(stores.tenant_id == tenant_id, stores.id == store_id),
        exists().where(audit.tenant_id == tenant_id, audit.store_id == store_id),
    )


async def export_audit(
    database: Database,
    writer: AuditWriter,
    *,
    tenant_id: str,
    store_id: str,
    window: TimeWindow,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the store's records in the window, a batch at a time; return how many there were.
    `progress` hears the running count every PROGRESS_EVERY records."""
    written = 0
    batches = audit_batches(
        database, tenant_id=tenant_id, store_id=store_id, window=window, batch_size=batch_size
    )
    async for batch in batches:
        writer.write(batch)
        before, written = written, written + len(batch)
        if progress is not None and written // PROGRESS_EVERY > before // PROGRESS_EVERY:
            progress(written)
    return written


async def audit_batches(
    database: Database,
    *,
    tenant_id: str,
    store_id: str,
    window: TimeWindow,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[list[AuditRecord]]:
    """The store's records in the window, oldest first (ties by id), at most `batch_size` a
    batch, each batch read by one query."""
    after: tuple[datetime, str] | None = None
    while True:
        query = _batch_query(tenant_id, store_id, window, after).limit(batch_size)
        async with database.transaction(write=False) as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return
        yield [record_from_row(row) for row in rows]
        if len(rows) < batch_size:
            return
        after = (rows[-1].created_dtm, rows[-1].id)


def _batch_query(
    tenant_id: str, store_id: str, window: TimeWindow, after: tuple[datetime, str] | None
) -> Select[Any]:
    audit = tables.authentication_audit.c
    query = (
        select(tables.authentication_audit)
        .where(audit.tenant_id == tenant_id, audit.store_id == store_id)
        .where(audit.created_dtm < window.end)
        .order_by(audit.created_dtm, audit.id)
    )
    if window.start is not None:
        query = query.where(audit.created_dtm >= window.start)
    if after is not None:
        created_dtm, record_id = after
        # The plain `>=` lets both engines seek the (store_id, created_dtm) index to the batch's
        # start; a row comparison alone would have PostgreSQL scan the store from its beginning.
        query = query.where(
            audit.created_dtm >= created_dtm,
            or_(audit.created_dtm > created_dtm, audit.id > record_id),
        )
    return query
