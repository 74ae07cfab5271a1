"""Starting an appkey ceremony (spec §10): the session, and the UAF request the app hands to its
UAF client. Registrations are for a user; authentications for a user (offering the user's
active keys) or for any key of the relying party. Completions: appkey_attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import uaf
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import appkey_sessions
from idstore.services.appkey_configs import authentication_policy, find_config, registration_policy
from idstore.services.appkey_errors import NoActiveAppkey
from idstore.services.appkey_facets import app_id_of
from idstore.services.appkey_sessions import AppkeySession, SessionStart
from idstore.services.ceremony_sessions import AUTHENTICATION, REGISTRATION, StartedSession
from idstore.services.context import Context, UserRef
from idstore.services.errors import UserDisabled
from idstore.services.models import AppkeyStatus, AppkeyType, UserStatus
from idstore.services.rows import find_store, find_user_row

# Registration policies carry no timeout (spec §10): a UAF registration asks the user for one
# gesture on the device, so five minutes is ample.
REGISTRATION_TIMEOUT_SECONDS = 300
_APPKEYS = tables.user_appkeys


@dataclass(frozen=True)
class AppkeyCeremonyStart:
    """A ceremony started: its session as the caller receives it, and the UAF request."""

    session: StartedSession[AppkeySession]
    request: list[dict[str, Any]]


async def start_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    rp_id: str,
    policy_name: str,
    device_id: str | None,
    device_name: str | None,
) -> AppkeyCeremonyStart:
    """Start a registration for the user. Raises 3000, 3100, 9011 (configuration or policy not
    found) and UserDisabled (2102)."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id)
        policy = registration_policy(config, policy_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref)
        if user_row.status == UserStatus.DISABLED:
            raise UserDisabled()

        begun = SessionStart(
            store_id=store.id,
            mode=config.session_management,
            ceremony=REGISTRATION,
            rp_id=rp_id,
            policy_name=policy_name,
            user_id=user_row.id,
            timeout_seconds=REGISTRATION_TIMEOUT_SECONDS,
            device_id=device_id,
            device_name=device_name,
        )
        session = await appkey_sessions.start(conn, keyring, begun, now=ctx.now)
        request = uaf.registration_request(
            app_id=app_id_of(rp_id),
            challenge=session.state.challenge,
            username=user_row.external_id,
            accepted_aaids=policy.aaids,
            key_types=[uaf_key_type(key_type) for key_type in policy.key_types],
        )
        return AppkeyCeremonyStart(session, request)


async def start_authentication(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    rp_id: str,
    policy_name: str,
    ref: UserRef | None,
    transaction_text: str | None,
) -> AppkeyCeremonyStart:
    """Start a sign-in: for the user's active keys of the relying party that the policy accepts
    (its key types), or, with no user, for any key of it. Raises 3000, 3100, 9011,
    NoActiveAppkey (3722) when the user has no such key, before anyone is asked to sign."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id)
        policy = authentication_policy(config, policy_name)
        user_id, keys = None, []
        if ref is not None:
            user_row = await find_user_row(conn, store_id=store.id, ref=ref)
            user_id = user_row.id
            keys = await _active_keys(conn, store.id, user_id, rp_id, policy.key_types)
            if not keys:
                raise NoActiveAppkey()

        begun = SessionStart(
            store_id=store.id,
            mode=config.session_management,
            ceremony=AUTHENTICATION,
            rp_id=rp_id,
            policy_name=policy_name,
            user_id=user_id,
            timeout_seconds=policy.timeout_seconds,
            transaction_hash=(
                None if transaction_text is None else uaf.transaction_content_hash(transaction_text)
            ),
        )
        session = await appkey_sessions.start(conn, keyring, begun, now=ctx.now)
        request = uaf.authentication_request(
            app_id=app_id_of(rp_id),
            challenge=session.state.challenge,
            accepted_aaids=sorted({aaid for aaid, _ in keys}),
            transaction_text=transaction_text,
            key_ids=[key_id for _, key_id in keys],
        )
        return AppkeyCeremonyStart(session, request)


def uaf_key_type(key_type: AppkeyType) -> uaf.KeyType:
    """The uaf package's name of a key type (the same words)."""
    return "BIOMETRIC" if key_type is AppkeyType.BIOMETRIC else "DEVICE"


async def _active_keys(
    conn: AsyncConnection,
    store_id: str,
    user_id: str,
    rp_id: str,
    key_types: Sequence[AppkeyType],
) -> list[tuple[str, str]]:
    """The (aaid, keyID) of the user's active keys for the relying party, of those types."""
    rows = await conn.execute(
        select(_APPKEYS.c.aaid, _APPKEYS.c.key_id)
        .where(
            _APPKEYS.c.store_id == store_id,
            _APPKEYS.c.user_id == user_id,
            _APPKEYS.c.rp_id == rp_id,
            _APPKEYS.c.status == str(AppkeyStatus.ACTIVE),
            _APPKEYS.c.key_type.in_([str(key_type) for key_type in key_types]),
        )
        .order_by(_APPKEYS.c.created_dtm, _APPKEYS.c.id)
    )
    return [(row.aaid, row.key_id) for row in rows]
