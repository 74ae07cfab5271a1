"""Removing a user's appkeys of a relying party by type, device or key id, and choosing the
preferred device (spec §10). A removal answers the UAF DeregistrationRequest the app applies
so that its authenticator forgets the keys too."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import uaf
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import events
from idstore.services.appkey_facets import app_id_of
from idstore.services.appkey_management_errors import AppkeyDeviceNotFound, NoAppkeysMatched
from idstore.services.context import Context, UserRef
from idstore.services.models import AppkeyType, JsonValue, User
from idstore.services.rows import find_store, find_user_row, reload_user

_APPKEYS = tables.user_appkeys
ALL_TYPES = "ALL"


@dataclass(frozen=True)
class Deregistration:
    """The user as the removal left it, and the DeregistrationRequest for the app."""

    user: User
    request: list[dict[str, object]]


async def deregister(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    rp_id: str,
    key_type: str,
    device_id: str | None,
) -> Deregistration:
    """Remove the user's appkeys of the relying party of `key_type` (DEVICE, BIOMETRIC or ALL),
    on `device_id` when given. Raises 3000, 3100, NoAppkeysMatched (3701)."""
    condition = [] if key_type == ALL_TYPES else [_APPKEYS.c.key_type == str(AppkeyType(key_type))]
    if device_id is not None:
        condition.append(_APPKEYS.c.device_id == device_id)
    return await _remove(
        database, ctx, store_name=store_name, ref=ref, rp_id=rp_id, condition=condition
    )


async def delete_key_id(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, rp_id: str, key_id: str
) -> Deregistration:
    """Remove the user's appkey(s) of the relying party with that key id, whatever their AAID.
    Raises 3000, 3100, NoAppkeysMatched (3701)."""
    return await _remove(
        database,
        ctx,
        store_name=store_name,
        ref=ref,
        rp_id=rp_id,
        condition=[_APPKEYS.c.key_id == key_id],
    )


async def _remove(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    rp_id: str,
    condition: list[ColumnElement[bool]],
) -> Deregistration:
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        removed = (
            await conn.execute(
                delete(_APPKEYS)
                .where(
                    _APPKEYS.c.store_id == store.id,
                    _APPKEYS.c.user_id == user_row.id,
                    _APPKEYS.c.rp_id == rp_id,
                    *condition,
                )
                .returning(_APPKEYS.c.id, _APPKEYS.c.aaid, _APPKEYS.c.key_id)
            )
        ).all()
        if not removed:
            raise NoAppkeysMatched(f"no appkey of the user for {rp_id!r} matches")
        # Sorted so that the request does not depend on the order the database deleted in.
        keys = sorted((row.aaid, row.key_id) for row in removed)
        ids: list[JsonValue] = sorted(row.id for row in removed)
        await events.record(
            conn,
            ctx,
            "appkey.deregistered",
            store_id=store.id,
            subject_id=user_row.id,
            details={"rpId": rp_id, "appkeyIds": ids},
        )
        user = await reload_user(conn, user_row, ctx.now)
    request = uaf.deregistration_request(app_id=app_id_of(rp_id), keys=keys)
    return Deregistration(user=user, request=request)


async def prefer_device(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    rp_id: str,
    device_id: str,
) -> User:
    """Mark the keys of the user's `device_id` for the relying party preferred and every other
    key of the user for it not, in one statement. Raises 3000, 3100, AppkeyDeviceNotFound
    (3702)."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        of_user = (
            _APPKEYS.c.store_id == store.id,
            _APPKEYS.c.user_id == user_row.id,
            _APPKEYS.c.rp_id == rp_id,
        )
        if not await _has_device(conn, of_user, device_id):
            raise AppkeyDeviceNotFound(f"the user has no appkey for {rp_id!r} on that device")
        on_device = case((_APPKEYS.c.device_id == device_id, True), else_=False)
        await conn.execute(
            update(_APPKEYS).where(*of_user).values(preferred=on_device, last_updated_dtm=ctx.now)
        )
        await events.record(
            conn,
            ctx,
            "appkey.preferredDeviceChanged",
            store_id=store.id,
            subject_id=user_row.id,
            details={"rpId": rp_id, "deviceId": device_id},
        )
        return await reload_user(conn, user_row, ctx.now)


async def _has_device(
    conn: AsyncConnection, of_user: tuple[ColumnElement[bool], ...], device_id: str
) -> bool:
    query = select(exists().where(*of_user, _APPKEYS.c.device_id == device_id))
    return bool(await conn.scalar(query))
