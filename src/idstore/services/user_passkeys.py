"""A user's passkeys by id (spec §9): list, read, enable or disable, delete, registration audit."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.errors import ResourceNotFound
from idstore.services.models import JsonObject, PasskeyStatus, UserPasskey
from idstore.services.owned_rows import change_status, delete_owned, owned_row
from idstore.services.rows import find_store, find_user_row, passkey_from_row, passkeys_of

_PASSKEYS = tables.user_passkeys


async def list_passkeys(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef
) -> tuple[UserPasskey, ...]:
    """Raises StoreNotFound (3000), UserNotFound (3100)."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        return await passkeys_of(conn, store_id=store.id, user_id=user.id)


async def get_passkey(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, passkey_id: str
) -> UserPasskey:
    """Raises 3000, 3100, ResourceNotFound (9011)."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, passkey_id=passkey_id)
        return passkey_from_row(row)


async def registration_audit(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, passkey_id: str
) -> JsonObject:
    """How the passkey was registered: attestation format, AAGUID, origin, flags, policy.
    Raises 3000, 3100, 9011."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, passkey_id=passkey_id)
        audit: JsonObject = dict(row.registration_audit)
        return audit


async def set_passkey_status(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    passkey_id: str,
    status: PasskeyStatus,
) -> UserPasskey:
    """Disable or re-enable a passkey. Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, passkey_id=passkey_id)
        passkey = passkey_from_row(row)
        if passkey.status is status:
            return passkey
        await change_status(conn, ctx, _PASSKEYS, row, status, "passkey.statusChanged")
        return dataclasses.replace(passkey, status=status, last_updated_dtm=ctx.now)


async def delete_passkey(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, passkey_id: str
) -> None:
    """Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, passkey_id=passkey_id)
        await delete_owned(conn, ctx, _PASSKEYS, row, "passkey.deleted")


async def _find(
    conn: AsyncConnection, ctx: Context, *, store_name: str, ref: UserRef, passkey_id: str
) -> Row[Any]:
    """Raises 3000, 3100, 9011."""
    row = await owned_row(conn, ctx, _PASSKEYS, store_name=store_name, ref=ref, row_id=passkey_id)
    if row is None:
        raise ResourceNotFound("passkey not found")
    return row
