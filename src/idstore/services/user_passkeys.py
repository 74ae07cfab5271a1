"""A user's passkeys (spec §9): the list of them, and the kind of key that user_keys reads,
re-statuses and deletes by id."""

from __future__ import annotations

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.models import Modality, PasskeyStatus, UserPasskey
from idstore.services.owned_lists import page_of_owned
from idstore.services.paging import Page, PageRequest
from idstore.services.rows import passkey_from_row
from idstore.services.user_keys import KeyKind

_PASSKEYS = tables.user_passkeys
PASSKEYS = KeyKind("passkey", _PASSKEYS, passkey_from_row, PasskeyStatus, Modality.PASSKEY)
# As the appkey list: the timestamps, and the relying party that groups them.
SORTABLE = {
    "createdDtm": _PASSKEYS.c.created_dtm,
    "lastAuthenticatedWithDtm": _PASSKEYS.c.last_authenticated_with_dtm,
    "rpId": _PASSKEYS.c.rp_id,
}


async def list_passkeys(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, request: PageRequest
) -> Page[UserPasskey]:
    """One page of the user's passkeys.

    Raises StoreNotFound (3000), UserNotFound (3100), InvalidField (9002) for an unknown sort field.
    """
    return await page_of_owned(
        database,
        ctx,
        _PASSKEYS,
        store_name=store_name,
        ref=ref,
        request=request,
        sortable=SORTABLE,
        convert=passkey_from_row,
    )
