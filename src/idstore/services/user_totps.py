"""A user's TOTPs by id (spec §5.2): list, read, enable or disable, delete."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Row, or_
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.context import Context, UserRef
from idstore.services.errors import StatusChangeNotAllowed, TotpNotFound
from idstore.services.models import TotpStatus, UserTotp
from idstore.services.owned_lists import page_of_owned
from idstore.services.owned_rows import change_status, delete_owned, owned_row
from idstore.services.paging import Page, PageRequest
from idstore.services.rows import totp_from_row

_TOTPS = tables.user_totps
# The appkey list's choice (spec §1 leaves it open): the timestamps, and the field that groups.
SORTABLE = {
    "createdDtm": _TOTPS.c.created_dtm,
    "lastAuthenticatedWithDtm": _TOTPS.c.last_authenticated_with_dtm,
    "policyName": _TOTPS.c.policy_name,
}


async def list_totps(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, request: PageRequest
) -> Page[UserTotp]:
    """One page of the user's TOTPs (pending registrations past their deadline are gone).

    Raises 3000, 3100, InvalidField (9002) for an unknown sort field.
    """
    not_expired = or_(
        _TOTPS.c.status != TotpStatus.PENDING.value,
        _TOTPS.c.expiration_dtm.is_(None),
        _TOTPS.c.expiration_dtm > ctx.now,
    )
    return await page_of_owned(
        database,
        ctx,
        _TOTPS,
        store_name=store_name,
        ref=ref,
        request=request,
        sortable=SORTABLE,
        convert=totp_from_row,
        shown=not_expired,
    )


async def get_totp(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, totp_id: str
) -> UserTotp:
    """Raises 3000, 3100, 3303."""
    async with database.transaction(write=False) as conn:
        row = await _find(conn, ctx, store_name=store_name, ref=ref, totp_id=totp_id)
        return totp_from_row(row)


async def set_totp_status(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    totp_id: str,
    status: TotpStatus | None,
) -> UserTotp:
    """Enable or disable an activated TOTP. The status it has already, or none (an update of
    `{}`, or of the TOTP as read back), changes nothing: a pending TOTP sent back as PENDING
    stays so.

    Raises StatusChangeNotAllowed (3305) for PENDING as a target and for a TOTP never activated,
    which only completing its registration can activate; 3000, 3100, 3303.
    """
    async with database.transaction() as conn:
        # Locked first: of concurrent changes to one status, the later ones see the first's and
        # change (and record) nothing.
        row = await _find(
            conn, ctx, store_name=store_name, ref=ref, totp_id=totp_id, for_update=True
        )
        totp = totp_from_row(row)
        if status is None or totp.status is status:
            return totp
        if status is TotpStatus.PENDING:
            raise StatusChangeNotAllowed("a TOTP cannot be set back to PENDING")
        if totp.activated_dtm is None:
            raise StatusChangeNotAllowed("a pending TOTP becomes ACTIVE by completing registration")
        await change_status(conn, ctx, tables.user_totps, row, status, "totp.statusChanged")
        return dataclasses.replace(totp, status=status, last_updated_dtm=ctx.now)


async def delete_totp(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, totp_id: str
) -> None:
    """Raises 3000, 3100, 3303."""
    async with database.transaction() as conn:
        # Locked first, as a status change is: of concurrent deletes, one deletes and records it.
        row = await _find(
            conn, ctx, store_name=store_name, ref=ref, totp_id=totp_id, for_update=True
        )
        await delete_owned(conn, ctx, tables.user_totps, row, "totp.deleted", missing=TotpNotFound)


async def _find(
    conn: AsyncConnection,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    totp_id: str,
    for_update: bool = False,
) -> Row[Any]:
    """Raises 3000, 3100, 3303 (a pending registration past its deadline is gone too)."""
    row = await owned_row(
        conn,
        ctx,
        tables.user_totps,
        store_name=store_name,
        ref=ref,
        row_id=totp_id,
        for_update=for_update,
    )
    if row is None or totp_from_row(row).is_expired(ctx.now):
        raise TotpNotFound()
    return row
