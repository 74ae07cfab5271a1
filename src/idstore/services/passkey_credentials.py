"""A verified registration kept as a user's passkey (spec §9), with its registration audit:
how it was registered (attestation format, AAGUID, origin, flags, algorithm, policy)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services import events
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import ResourceNotFound
from idstore.services.models import JsonObject, PasskeyStatus, UserPasskey
from idstore.services.passkey_errors import CredentialAlreadyRegistered
from idstore.services.passkey_sessions import SessionState
from idstore.services.rows import passkey_from_row
from idstore.services.webauthn_terms import NewCredential
from idstore.timestamps import format_dtm


async def is_registered(
    conn: AsyncConnection, store_id: str, rp_id: str, credential: NewCredential
) -> bool:
    """Whether the relying party has a passkey with the credential's id in the store."""
    passkeys = tables.user_passkeys
    known = await conn.scalar(
        select(passkeys.c.id).where(
            passkeys.c.store_id == store_id,
            passkeys.c.rp_id == rp_id,
            passkeys.c.credential_id == credential.credential_id,
        )
    )
    return known is not None


async def insert_passkey(
    conn: AsyncConnection,
    ctx: Context,
    store_id: str,
    state: SessionState,
    credential: NewCredential,
) -> UserPasskey:
    """Keep the verified credential as the session's user's new, active passkey. Raises
    CredentialAlreadyRegistered (3605) or ResourceNotFound (the user went meanwhile)."""
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
        inserted = insert(tables.user_passkeys).values(values).returning(tables.user_passkeys)
        row = (await conn.execute(inserted)).one()
    except IntegrityError as exc:  # a concurrent registration of the same credential won
        raise conflict(
            exc, unique=CredentialAlreadyRegistered(), missing=ResourceNotFound("user not found")
        ) from exc
    await events.record(conn, ctx, "passkey.registered", store_id=store_id, subject_id=passkey_id)
    return passkey_from_row(row)


def _registration_audit(credential: NewCredential, state: SessionState, ctx: Context) -> JsonObject:
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
