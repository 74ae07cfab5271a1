"""A user's appkeys by id (spec §10): list, read, enable or disable, delete, registration audit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.appkey_rows import appkey_from_row
from idstore.services.context import Context, UserRef
from idstore.services.errors import ResourceNotFound
from idstore.services.models import AppkeyStatus, JsonObject, UserAppkey
from idstore.services.owned_rows import change_status, delete_owned, owned_row
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import find_store, find_user_row

_APPKEYS = tables.user_appkeys
SORTABLE = {
    "createdDtm": _APPKEYS.c.created_dtm,
    "lastAuthenticatedWithDtm": _APPKEYS.c.last_authenticated_with_dtm,
    "rpId": _APPKEYS.c.rp_id,
    "deviceId": _APPKEYS.c.device_id,
}


async def list_appkeys(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, request: PageRequest
) -> Page[UserAppkey]:
    """One page of the user's appkeys. Raises 3000, 3100, 9002 (unknown sort field)."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        query = select(_APPKEYS).where(
            _APPKEYS.c.store_id == store.id, _APPKEYS.c.user_id == user.id
        )
        return await fetch_page(
            conn,
            query,
            request=request,
            sortable=SORTABLE,
            tiebreak=_APPKEYS.c.id,
            convert=appkey_from_row,
        )


async def get_appkey(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, appkey_id: str
) -> UserAppkey:
    """Raises 3000, 3100, ResourceNotFound (9011)."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, appkey_id=appkey_id)
        return appkey_from_row(row)


async def registration_audit(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, appkey_id: str
) -> JsonObject:
    """How the appkey was registered: AAID, attestation type and subject, facet, device.
    Raises 3000, 3100, 9011."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, appkey_id=appkey_id)
        audit: JsonObject = dict(row.registration_audit)
        return audit


async def set_appkey_status(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    appkey_id: str,
    status: AppkeyStatus,
) -> UserAppkey:
    """Disable or re-enable an appkey. Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        row = await _find(
            conn, ctx, store_name=store_name, ref=ref, appkey_id=appkey_id, for_update=True
        )
        appkey = appkey_from_row(row)
        if appkey.status is status:
            return appkey
        await change_status(conn, ctx, _APPKEYS, row, status, "appkey.statusChanged")
        return replace(appkey, status=status, last_updated_dtm=ctx.now)


async def delete_appkey(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, appkey_id: str
) -> None:
    """Raises 3000, 3100, 9011."""
    async with database.transaction() as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, appkey_id=appkey_id)
        await delete_owned(conn, ctx, _APPKEYS, row, "appkey.deleted")


async def _find(
    conn: AsyncConnection,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    appkey_id: str,
    for_update: bool = False,
) -> Row[Any]:
    """Raises 3000, 3100, 9011."""
    row = await owned_row(
        conn,
        ctx,
        _APPKEYS,
        store_name=store_name,
        ref=ref,
        row_id=appkey_id,
        for_update=for_update,
    )
    if row is None:
        raise ResourceNotFound("appkey not found")
    return row
