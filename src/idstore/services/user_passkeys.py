"""A user's passkeys (spec §9): the list of them, and the kind of key that user_keys reads,
re-statuses and deletes by id."""

from __future__ import annotations

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.models import PasskeyStatus, UserPasskey
from idstore.services.rows import find_store, find_user_row, passkey_from_row, passkeys_of
from idstore.services.user_keys import KeyKind

PASSKEYS = KeyKind("passkey", tables.user_passkeys, passkey_from_row, PasskeyStatus)


async def list_passkeys(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef
) -> tuple[UserPasskey, ...]:
    """Raises StoreNotFound (3000), UserNotFound (3100)."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        return await passkeys_of(conn, store_id=store.id, user_id=user.id)
