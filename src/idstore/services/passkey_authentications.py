"""Starting a passkey sign-in (spec §9): for a known user (by either id), offering the user's
active passkeys, or for any discoverable passkey of the store. Completions: passkey_attempts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import passkey_sessions
from idstore.services.ceremony_sessions import AUTHENTICATION
from idstore.services.context import Context, UserRef
from idstore.services.errors import InvalidField
from idstore.services.models import PasskeyPolicy, PasskeyStatus
from idstore.services.passkey_configs import authentication_policy, find_config
from idstore.services.passkey_errors import CredentialNotAllowed
from idstore.services.passkey_registrations import CeremonyStart
from idstore.services.passkey_sessions import SessionState, b64url_decode
from idstore.services.rows import find_store, find_user_row

_PASSKEYS = tables.user_passkeys


async def start_authentication(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    rp_id: str,
    policy_name: str,
    ref: UserRef | None,
) -> CeremonyStart:
    """Start a sign-in: for the user's active passkeys of the relying party, or, with no user,
    for any discoverable passkey. Raises 3000, 3100, 9011, CredentialNotAllowed (364: the user
    has no active passkey for the relying party)."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id)
        policy = authentication_policy(config, policy_name)
        user_id, user_handle, allowed = None, None, []
        if ref is not None:
            user_row = await find_user_row(conn, store_id=store.id, ref=ref)
            allowed = await _active_passkeys(
                conn, store_id=store.id, user_id=user_row.id, rp_id=rp_id
            )
            # The passkeys carry the handle they were made with, whatever the attributes say now.
            user_id, user_handle = user_row.id, allowed[0].user_handle if allowed else None
            if not allowed:
                raise CredentialNotAllowed("the user has no active passkey for this relying party")

        session = await passkey_sessions.start(
            conn,
            keyring,
            store_id=store.id,
            mode=config.session_management,
            ceremony=AUTHENTICATION,
            rp_id=rp_id,
            policy_name=policy_name,
            user_id=user_id,
            user_handle=user_handle,
            allowed_credentials=tuple(row.credential_id for row in allowed),
            now=ctx.now,
            timeout_seconds=policy.timeout_seconds,
        )
        return CeremonyStart(session, _request_options(rp_id, policy, session.state, allowed))


async def _active_passkeys(
    conn: AsyncConnection, *, store_id: str, user_id: str, rp_id: str
) -> list[Any]:
    rows = await conn.execute(
        select(_PASSKEYS.c.credential_id, _PASSKEYS.c.transports, _PASSKEYS.c.user_handle).where(
            _PASSKEYS.c.store_id == store_id,
            _PASSKEYS.c.user_id == user_id,
            _PASSKEYS.c.rp_id == rp_id,
            _PASSKEYS.c.status == str(PasskeyStatus.ACTIVE),
        )
    )
    return list(rows)


def _request_options(
    rp_id: str, policy: PasskeyPolicy, state: SessionState, allowed: list[Any]
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions in their JSON form, flat."""
    # py_webauthn loads on the first passkey request, not at a worker's start (webauthn_terms).
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorTransport,
        PublicKeyCredentialDescriptor,
        UserVerificationRequirement,
    )

    from idstore.services.webauthn_strict import known_transports

    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=state.challenge_bytes(),
        timeout=policy.timeout_seconds * 1000,
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=b64url_decode(row.credential_id),
                transports=[AuthenticatorTransport(t) for t in known_transports(row.transports)]
                or None,
            )
            for row in allowed
        ],
        user_verification=UserVerificationRequirement(policy.user_verification),
    )
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def user_ref_of(user_id: str | None, user_ext_id: str | None) -> UserRef | None:
    """The user a start names, by one id or none. Raises InvalidField (9002) for both."""
    if user_id is not None and user_ext_id is not None:
        raise InvalidField.of("userExtId", "give userId or userExtId, not both")
    if user_id is not None:
        return UserRef.by_id(user_id)
    return None if user_ext_id is None else UserRef.by_external_id(user_ext_id)
