"""The WebAuthn user handle of a user for a relying party (spec §9, issue 7 F1).

The server owns `attributes.passkeyUsers.{rpId}.USER_HANDLE`: the user API ignores a client's
(`clients_attributes`) and keeps the server's through any update of attributes (`with_server_part`),
and a registration trusts a handle only when it is base64url of
1 to 64 bytes, fits the passkeys' column and no other user of the store has it for the relying
party; any other value is replaced. A handle names one user: discoverable sign-in finds the user
by it, so a handle shared by two users would let one sign in as the other. The database holds
that rule (`passkey_user_handles`, migration 0014): a registration's completion claims its handle
there, so that of two registrations given one handle at once, in any processes, one keeps it.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.services.context import Context
from idstore.services.passkey_sessions import b64url, b64url_decode

PASSKEY_USERS = "passkeyUsers"
USER_HANDLE_BYTES = 32
_MAX_HANDLE_BYTES = 64  # WebAuthn's limit for user.id
_MAX_HANDLE_CHARS = tables.user_passkeys.c.user_handle.type.length  # type: ignore[attr-defined]
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")  # fullmatch only


def clients_attributes(given: dict[str, Any] | None) -> dict[str, Any] | None:
    """The attributes a client gave, without passkeyUsers: the server writes user handles, so a
    client's passkeyUsers (its own read back, another user's, anything) is ignored, never
    written and never refused (spec §1: fields the server emits are ignored on input)."""
    if given is None or PASSKEY_USERS not in given:
        return given
    return {key: value for key, value in given.items() if key != PASSKEY_USERS}


async def with_server_part(
    conn: AsyncConnection, user_row: Row[Any], given: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The attributes an update writes: the client's (passkeyUsers left out) with the server's
    passkeyUsers kept, so that no update of attributes, null included, loses a user handle."""
    own = clients_attributes(given)
    passkey_users = await _server_passkey_users(conn, user_row)
    if not passkey_users:
        return own
    return {**(own or {}), PASSKEY_USERS: passkey_users}


def with_passkeys_handles(attributes: Any, carried: dict[str, str]) -> Any:
    """The attributes with passkeyUsers naming, for each relying party in `carried`, the handle
    the user's passkeys of it carry (the truth); other relying parties' entries stay."""
    if not carried:
        return attributes
    own = dict(attributes) if isinstance(attributes, dict) else {}
    passkey_users = own.get(PASSKEY_USERS)
    passkey_users = dict(passkey_users) if isinstance(passkey_users, dict) else {}
    for rp_id, handle in carried.items():
        passkey_users[rp_id] = {"USER_HANDLE": handle}
    return {**own, PASSKEY_USERS: passkey_users}


async def _server_passkey_users(conn: AsyncConnection, user_row: Row[Any]) -> dict[str, Any]:
    """The user's handle per relying party. passkey_user_handles is the truth: the handle the
    user's passkeys carry, else the stored one when the table has it for the user (or has none
    of the user's for that relying party yet: a registration started and not completed), else
    one the table holds for the user, so that attributes lost by an older version come back."""
    stored = _stored_handles(user_row.attributes)
    claimed = await _claimed_handles(conn, user_row)
    carried = await _passkeys_handles_by_rp(conn, user_row)
    kept: dict[str, Any] = {}
    for rp_id in sorted(stored.keys() | claimed.keys() | carried.keys()):
        ours = claimed.get(rp_id, set())
        handle = carried.get(rp_id) or stored.get(rp_id)
        if ours and handle not in ours:
            handle = min(ours)  # any of the user's own: one handle names one user either way
        kept[rp_id] = {"USER_HANDLE": handle}
    return kept


async def _claimed_handles(conn: AsyncConnection, user_row: Row[Any]) -> dict[str, set[str]]:
    """The handles passkey_user_handles holds for the user, by relying party."""
    handles = tables.passkey_user_handles.c
    claimed: dict[str, set[str]] = {}
    for rp_id, handle in await conn.execute(
        select(handles.rp_id, handles.user_handle).where(
            handles.store_id == user_row.store_id, handles.user_id == user_row.id
        )
    ):
        claimed.setdefault(rp_id, set()).add(handle)
    return claimed


async def _passkeys_handles_by_rp(conn: AsyncConnection, user_row: Row[Any]) -> dict[str, str]:
    """The handle the user's passkeys carry, by relying party (one per relying party)."""
    passkeys = tables.user_passkeys.c
    found = await conn.execute(
        select(passkeys.rp_id, passkeys.user_handle)
        .where(passkeys.store_id == user_row.store_id, passkeys.user_id == user_row.id)
        .distinct()
    )
    return {rp_id: handle for rp_id, handle in found}


def _stored_handles(attributes: Any) -> dict[str, Any]:
    passkey_users = attributes.get(PASSKEY_USERS) if isinstance(attributes, dict) else None
    if not isinstance(passkey_users, dict):
        return {}
    return {
        rp_id: entry["USER_HANDLE"]
        for rp_id, entry in passkey_users.items()
        if isinstance(entry, dict) and "USER_HANDLE" in entry
    }


def is_user_handle(value: object) -> bool:
    """Canonical base64url (no padding) of 1 to 64 bytes that the passkeys' column can hold."""
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_HANDLE_CHARS:
        return False
    if not _BASE64URL.fullmatch(value):
        return False
    try:
        raw = b64url_decode(value)
    except ValueError:
        return False
    return 0 < len(raw) <= _MAX_HANDLE_BYTES and b64url(raw) == value


async def user_handle(conn: AsyncConnection, ctx: Context, user_row: Row[Any], rp_id: str) -> str:
    """The user's handle for the relying party: the one the user's passkeys of it carry, else
    the attributes' when it is well formed and no other user's, else a new random one. Written
    back to the attributes when they do not say it already."""
    attributes: dict[str, Any] = (
        dict(user_row.attributes) if isinstance(user_row.attributes, dict) else {}
    )
    passkey_users = attributes.get(PASSKEY_USERS)
    passkey_users = dict(passkey_users) if isinstance(passkey_users, dict) else {}
    entry = passkey_users.get(rp_id)
    given = entry.get("USER_HANDLE") if isinstance(entry, dict) else None

    handle = await _passkeys_handle(conn, user_row, rp_id)
    if handle is None and is_user_handle(given) and not await _taken(conn, user_row, rp_id, given):
        handle = str(given)
    handle = handle or b64url(secrets.token_bytes(USER_HANDLE_BYTES))
    if entry != {"USER_HANDLE": handle}:
        passkey_users[rp_id] = {"USER_HANDLE": handle}
        attributes[PASSKEY_USERS] = passkey_users
        await conn.execute(
            update(tables.users)
            .where(tables.users.c.store_id == user_row.store_id, tables.users.c.id == user_row.id)
            .values(attributes=attributes, last_updated_dtm=ctx.now)
        )
    return handle


async def _passkeys_handle(conn: AsyncConnection, user_row: Row[Any], rp_id: str) -> str | None:
    passkeys = tables.user_passkeys
    handle = await conn.scalar(
        select(passkeys.c.user_handle)
        .where(
            passkeys.c.store_id == user_row.store_id,
            passkeys.c.user_id == user_row.id,
            passkeys.c.rp_id == rp_id,
        )
        .limit(1)
    )
    return None if handle is None else str(handle)


async def claim(
    conn: AsyncConnection, *, store_id: str, user_id: str, rp_id: str, handle: str
) -> bool:
    """Record the handle as the user's for the relying party, unless it is another user's
    already; whether it is the user's now. Called in the registration's transaction, so the
    claim stands or goes with the passkey."""
    handles = tables.passkey_user_handles
    # The primary key decides: a concurrent claim of the handle waits for this one's transaction
    # and then does nothing, and the owner read below (a new snapshot) names the winner.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(handles)
        .values(store_id=store_id, rp_id=rp_id, user_handle=handle, user_id=user_id)
        .on_conflict_do_nothing(index_elements=["store_id", "rp_id", "user_handle"])
    )

    owner = await conn.scalar(
        select(handles.c.user_id).where(
            handles.c.store_id == store_id,
            handles.c.rp_id == rp_id,
            handles.c.user_handle == handle,
        )
    )
    return owner == user_id


async def _taken(conn: AsyncConnection, user_row: Row[Any], rp_id: str, handle: object) -> bool:
    """Whether the handle names another user of the store for the relying party."""
    handles = tables.passkey_user_handles
    owner = await conn.scalar(
        select(handles.c.user_id).where(
            handles.c.store_id == user_row.store_id,
            handles.c.rp_id == rp_id,
            handles.c.user_handle == handle,
        )
    )
    return owner is not None and owner != user_row.id
