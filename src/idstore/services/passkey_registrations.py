"""Registering a passkey (spec §9): start a ceremony, then complete it with the browser's
credential. The user handle is made at the first registration for a relying party and kept in
`attributes.passkeyUsers.{rpId}.USER_HANDLE` (passkey_user_handles)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
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

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import events, passkey_sessions
from idstore.services.conflicts import conflict
from idstore.services.context import Context, UserRef
from idstore.services.errors import IdstoreError, ResourceNotFound, UserDisabled
from idstore.services.models import (
    JsonObject,
    PasskeyConfig,
    PasskeyPolicy,
    PasskeyStatus,
    User,
    UserPasskey,
    UserStatus,
)
from idstore.services.passkey_configs import find_config, open_session, registration_policy
from idstore.services.passkey_errors import CredentialAlreadyRegistered
from idstore.services.passkey_sessions import (
    REGISTRATION,
    Completion,
    StartedSession,
    b64url_decode,
)
from idstore.services.passkey_user_handles import user_handle
from idstore.services.rows import find_store, find_user_row, passkey_from_row, reload_user
from idstore.services.webauthn_checks import (
    NewCredential,
    client_response_of,
    parse_registration,
    verify_registration,
)
from idstore.timestamps import format_dtm


@dataclass(frozen=True)
class CeremonyStart:
    """A ceremony started: its session as the caller receives it, and the browser's options."""

    session: StartedSession
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
    found), UserDisabled (2102)."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id)
        policy = registration_policy(config, policy_name)
        user_row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        if user_row.status == UserStatus.DISABLED:
            raise UserDisabled()

        handle = await user_handle(conn, ctx, user_row, rp_id)
        registered = await conn.execute(
            select(tables.user_passkeys.c.credential_id).where(
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
    state: passkey_sessions.SessionState,
    *,
    user_name: str,
    display_name: str | None,
    excluded: list[str],
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions in their JSON form, flat (not under `publicKey`)."""
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


async def complete_registration(
    database: Database, keyring: KeyRing, ctx: Context, *, store_name: str, completion: Completion
) -> tuple[User, UserPasskey]:
    """Verify the browser's credential and keep it as the user's new passkey.

    The session is used up whatever the outcome. Raises 3000; 9011 (session unknown or used,
    configuration or policy gone); 384, 386, 388, 3606 (session); 2102 (the user was disabled
    since the start); 395, 397, 398, 403 (client);
    the response's refusals of webauthn_checks.verify_registration; 3605 (registered already).
    """
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        try:
            state, expected = await open_session(
                conn,
                keyring,
                store_id=store.id,
                ceremony=REGISTRATION,
                completion=completion,
                now=ctx.now,
            )
            await _check_user_enabled(conn, store.id, state)
            client_response = client_response_of(
                completion.client_response, completion.client_failure
            )
            credential = verify_registration(parse_registration(client_response), expected)
            await _refuse_known_credential(conn, store.id, state.rp_id, credential)
        except IdstoreError:
            await conn.commit()  # the session stays used up: a refused response cannot retry it
            raise

        passkey = await _insert_passkey(conn, ctx, store.id, state, credential)
        user_row = await find_user_row(conn, store_id=store.id, ref=UserRef.by_id(passkey.user_id))
        return await reload_user(conn, user_row, ctx.now), passkey


async def _check_user_enabled(
    conn: AsyncConnection, store_id: str, state: passkey_sessions.SessionState
) -> None:
    """The user may still register: one disabled between start and complete may not (2102).
    The row lock holds the status until the passkey is in."""
    assert state.user_id is not None  # noqa: S101  # registration sessions always name the user
    user_row = await find_user_row(
        conn, store_id=store_id, ref=UserRef.by_id(state.user_id), for_update=True
    )
    if user_row.status == UserStatus.DISABLED:
        raise UserDisabled()


async def _refuse_known_credential(
    conn: AsyncConnection, store_id: str, rp_id: str, credential: NewCredential
) -> None:
    passkeys = tables.user_passkeys
    known = await conn.scalar(
        select(passkeys.c.id).where(
            passkeys.c.store_id == store_id,
            passkeys.c.rp_id == rp_id,
            passkeys.c.credential_id == credential.credential_id,
        )
    )
    if known is not None:
        raise CredentialAlreadyRegistered()


async def _insert_passkey(
    conn: AsyncConnection,
    ctx: Context,
    store_id: str,
    state: passkey_sessions.SessionState,
    credential: NewCredential,
) -> UserPasskey:
    assert state.user_id is not None and state.user_handle is not None  # noqa: S101
    passkey_id = new_id()
    values = {
        "id": passkey_id,
        "store_id": store_id,
        "user_id": state.user_id,
        "rp_id": state.rp_id,
        "credential_id": credential.credential_id,
        "public_key": credential.public_key,
        "algorithm": credential.algorithm,
        "status": str(PasskeyStatus.ACTIVE),
        "sign_count": credential.sign_count,
        "aaguid": credential.aaguid,
        "transports": list(credential.transports),
        "backup_eligible": credential.backup_eligible,
        "backup_state": credential.backup_state,
        "user_handle": state.user_handle,
        "registration_audit": _registration_audit(credential, state, ctx),
        "created_dtm": ctx.now,
        "last_updated_dtm": ctx.now,
        "last_authenticated_with_dtm": None,
    }
    try:
        await conn.execute(insert(tables.user_passkeys).values(values))
    except IntegrityError as exc:  # a concurrent registration of the same credential won
        raise conflict(
            exc, unique=CredentialAlreadyRegistered(), missing=ResourceNotFound("user not found")
        ) from exc
    await events.record(conn, ctx, "passkey.registered", store_id=store_id, subject_id=passkey_id)
    row = (
        await conn.execute(
            select(tables.user_passkeys).where(tables.user_passkeys.c.id == passkey_id)
        )
    ).one()
    return passkey_from_row(row)


def _registration_audit(
    credential: NewCredential, state: passkey_sessions.SessionState, ctx: Context
) -> JsonObject:
    flags = credential.flags
    return {
        "attestationFormat": credential.attestation_format,
        "aaguid": credential.aaguid,
        "origin": credential.origin,
        "flags": flags,
        "userPresent": bool(flags & 0x01),
        "userVerified": credential.user_verified,
        "backupEligible": credential.backup_eligible,
        "backupState": credential.backup_state,
        "algorithm": credential.algorithm,
        "policyName": state.policy_name,
        "registeredDtm": format_dtm(ctx.now),
    }
