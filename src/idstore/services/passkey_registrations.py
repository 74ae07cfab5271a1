"""Starting a passkey registration (spec §9): the session and the creation options; its
completion is an attempt of the Passkey modality (passkey_attempts.complete). The user handle
is made at the first registration for a relying party and kept in
`attributes.passkeyUsers.{rpId}.USER_HANDLE` (passkey_user_handles)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services import locking, passkey_sessions
from idstore.services.ceremony_sessions import REGISTRATION, StartedSession
from idstore.services.context import Context, UserRef
from idstore.services.errors import UserDisabled, UserLocked
from idstore.services.models import (
    PasskeyConfig,
    PasskeyPolicy,
    UserStatus,
)
from idstore.services.passkey_configs import find_config, registration_policy
from idstore.services.passkey_sessions import SessionState, b64url_decode
from idstore.services.passkey_user_handles import user_handle
from idstore.services.rows import find_store, find_user_row, lock_state_from_row


@dataclass(frozen=True)
class CeremonyStart:
    """A ceremony started: its session as the caller receives it, and the browser's options."""

    session: StartedSession[SessionState]
    options: dict[str, Any]


async def start_registration(
    database: Database,
    keyring: KeyRing,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    rp_id: str,
    policy_name: str,
    user_name: str | None,
    display_name: str | None,
) -> CeremonyStart:
    """Start a registration for the user. Raises 3000, 3100, 9011 (configuration or policy not
    found), UserDisabled (2102), UserLocked (2100): refused at the start as the completion would
    refuse them, so that no browser ceremony is asked for in vain."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id)
        policy = registration_policy(config, policy_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        if user_row.status == UserStatus.DISABLED:
            raise UserDisabled()
        if locking.user_lock_holds(lock_state_from_row(user_row), ctx.now):
            raise UserLocked()

        handle = await user_handle(conn, ctx, user_row, rp_id)
        registered = await conn.execute(
            select(tables.user_passkeys.c.credential_id).where(
                tables.user_passkeys.c.store_id == store.id,
                tables.user_passkeys.c.user_id == user_row.id,
                tables.user_passkeys.c.rp_id == rp_id,
            )
        )
        session = await passkey_sessions.start(
            conn,
            keyring,
            store_id=store.id,
            mode=config.session_management,
            ceremony=REGISTRATION,
            rp_id=rp_id,
            policy_name=policy_name,
            user_id=user_row.id,
            user_handle=handle,
            allowed_credentials=(),
            now=ctx.now,
            timeout_seconds=policy.timeout_seconds,
        )
        options = _creation_options(
            config,
            policy,
            session.state,
            user_name=user_name or user_row.external_id,
            display_name=display_name,
            excluded=[row.credential_id for row in registered],
        )
        return CeremonyStart(session=session, options=options)


def _creation_options(
    config: PasskeyConfig,
    policy: PasskeyPolicy,
    state: SessionState,
    *,
    user_name: str,
    display_name: str | None,
    excluded: list[str],
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions in their JSON form, flat (not under `publicKey`)."""
    # py_webauthn loads on the first passkey request, not at a worker's start (webauthn_terms).
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorAttachment,
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    assert state.user_handle is not None  # noqa: S101  # registration sessions always carry one
    attachment = policy.authenticator_attachment
    options = generate_registration_options(
        rp_id=config.rp_id,
        rp_name=config.rp_name,
        user_name=user_name,
        user_id=b64url_decode(state.user_handle),
        user_display_name=display_name,
        challenge=state.challenge_bytes(),
        timeout=policy.timeout_seconds * 1000,
        attestation=AttestationConveyancePreference(policy.attestation),
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=None
            if attachment is None
            else AuthenticatorAttachment(attachment),
            resident_key=ResidentKeyRequirement(policy.resident_key),
            user_verification=UserVerificationRequirement(policy.user_verification),
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=b64url_decode(credential_id))
            for credential_id in excluded
        ],
        supported_pub_key_algs=[COSEAlgorithmIdentifier(alg) for alg in policy.algorithms],
    )
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed
