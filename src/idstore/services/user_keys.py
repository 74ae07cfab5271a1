"""A user's passkey or appkey by its id (spec §9, §10): read it, its registration audit, enable
or disable it, delete it; one transaction each, the same for either kind of key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Row, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.errors import ResourceNotFound
from idstore.services.models import AuditRecord, JsonObject, Modality, replaced
from idstore.services.owned_rows import change_status, delete_owned, owned_row
from idstore.services.registration_records import registration_record

S = TypeVar("S", bound=StrEnum)
S_co = TypeVar("S_co", bound=StrEnum, covariant=True)


class Key(Protocol[S_co]):
    """What user_keys reads of a passkey or appkey beyond its row: its status, of the kind's own
    status type (PasskeyStatus, AppkeyStatus)."""

    @property
    def status(self) -> S_co: ...


K = TypeVar("K", bound=Key[StrEnum])


@dataclass(frozen=True)
class KeyAddress:
    """Where the key asked for is: the store's name, its user, the key's id."""

    store_name: str
    ref: UserRef
    key_id: str


@dataclass(frozen=True)
class KeyKind(Generic[S, K]):
    """One kind of key: its `name` (in the not-found message and the event kinds), its table,
    how a row of it reads and its status type, so that a status change takes only the kind's
    own statuses (`found.status is status` would never hold for another enum's member); the
    modality its attempts are audited as."""

    name: str
    table: Table
    from_row: Callable[[Row[Any]], K]
    statuses: type[S]
    modality: Modality


@dataclass(frozen=True)
class KeyRegistration:
    """How a key was registered: what the registration kept on the key row (`audit`), and the
    authentication record of its completion, when there is one."""

    audit: JsonObject
    record: AuditRecord | None


async def get_key(database: Database, ctx: Context, kind: KeyKind[S, K], key: KeyAddress) -> K:
    """Raises StoreNotFound (3000), UserNotFound (3100), ResourceNotFound (9011)."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, kind, key)
        return kind.from_row(row)


async def registration_audit(
    database: Database, ctx: Context, kind: KeyKind[S, K], key: KeyAddress
) -> KeyRegistration:
    """What the key's registration recorded. Raises 3000, 3100, 9011."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, kind, key)
        record = await registration_record(conn, kind.modality, row)
        return KeyRegistration(dict(row.registration_audit), record)


async def set_key_status(
    database: Database, ctx: Context, kind: KeyKind[S, K], key: KeyAddress, status: S | None
) -> K:
    """Disable or re-enable the key; the `{name}.statusChanged` event when it changes. No status
    (an update of `{}`, or of the key as read back) changes nothing. Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        # Locked first: of two concurrent changes to one status, the second
        # sees the first's and changes (and records) nothing.
        row = await _find(conn, ctx, kind, key, for_update=True)
        found = kind.from_row(row)
        if status is None or found.status is status:
            return found
        await change_status(conn, ctx, kind.table, row, status, f"{kind.name}.statusChanged")
        return replaced(found, status=status, last_updated_dtm=ctx.now)


async def delete_key(
    database: Database, ctx: Context, kind: KeyKind[S, K], key: KeyAddress
) -> None:
    """Delete the key, with the `{name}.deleted` event. Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        # Locked first, as for a status change: of concurrent deletes, one deletes the key and
        # records it; the others find it gone.
        row = await _find(conn, ctx, kind, key, for_update=True)
        await delete_owned(
            conn, ctx, kind.table, row, f"{kind.name}.deleted", missing=lambda: _missing(kind)
        )


async def _find(
    conn: AsyncConnection,
    ctx: Context,
    kind: KeyKind[S, K],
    key: KeyAddress,
    *,
    for_update: bool = False,
) -> Row[Any]:
    """Raises 3000, 3100, 9011."""
    row = await owned_row(
        conn,
        ctx,
        kind.table,
        store_name=key.store_name,
        ref=key.ref,
        row_id=key.key_id,
        for_update=for_update,
    )
    if row is None:
        raise _missing(kind)
    return row


def _missing(kind: KeyKind[S, K]) -> ResourceNotFound:
    return ResourceNotFound(f"{kind.name} not found")
