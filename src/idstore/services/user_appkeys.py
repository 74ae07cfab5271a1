"""A user's appkeys (spec §10): the page of them, and the kind of key that user_keys reads,
re-statuses and deletes by id."""

from __future__ import annotations

from sqlalchemy import select

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.appkey_rows import appkey_from_row
from idstore.services.context import Context, UserRef
from idstore.services.models import UserAppkey
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import find_store, find_user_row
from idstore.services.user_keys import KeyKind

_APPKEYS = tables.user_appkeys
APPKEYS = KeyKind("appkey", _APPKEYS, appkey_from_row)
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
