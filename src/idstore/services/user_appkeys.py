"""A user's appkeys (spec §10): the page of them, and the kind of key that user_keys reads,
re-statuses and deletes by id."""

from __future__ import annotations

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.appkey_rows import appkey_from_row
from idstore.services.context import Context, UserRef
from idstore.services.models import AppkeyStatus, Modality, UserAppkey
from idstore.services.owned_lists import page_of_owned
from idstore.services.paging import Page, PageRequest
from idstore.services.user_keys import KeyKind

_APPKEYS = tables.user_appkeys
APPKEYS = KeyKind("appkey", _APPKEYS, appkey_from_row, AppkeyStatus, Modality.APPKEY)
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
    return await page_of_owned(
        database,
        ctx,
        _APPKEYS,
        store_name=store_name,
        ref=ref,
        request=request,
        sortable=SORTABLE,
        convert=appkey_from_row,
    )
