"""A registration's completion (spec §10): the UAF RegistrationResponse checked against the
session and the policy, and the new key kept as the user's appkey with its registration audit.
It is an attempt of the Appkey modality (appkey_attempts), as a passkey registration is one of
the Passkey modality."""

from __future__ import annotations

import base64

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import uaf
from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services import events
from idstore.services.appkey_attempts import AppkeyAttempt, AppkeyAuthentication, key_rows
from idstore.services.appkey_checks import registered_key_type
from idstore.services.appkey_errors import AppkeyAlreadyRegistered, RegistrationResponseMalformed
from idstore.services.appkey_facets import app_id_of
from idstore.services.appkey_rows import appkey_from_row
from idstore.services.appkey_sessions import AppkeySession
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import ResourceNotFound
from idstore.services.models import (
    AppkeyConfig,
    AppkeyRegistrationPolicy,
    AppkeyStatus,
    AppkeyType,
    JsonObject,
    UserAppkey,
)


async def register(
    attempt: AppkeyAttempt,
    config: AppkeyConfig,
    policy: AppkeyRegistrationPolicy,
    *,
    client_response: object,
    client_failure: object,
) -> AppkeyAuthentication:
    """Judge the RegistrationResponse and keep the new key, counters reset, audited, committed.

    Raises, audited: 2102, 2100, 2101, 9005; 1104, 1105, 1102, 1115 (the client's failure);
    the uaf package's refusals (3711, 3712, 3716, 3717, 1026, 1029, 3718, 3714, 3715, 3713,
    3710); AppkeyTypeNotAllowed (1035) and AppkeyAlreadyRegistered (3721).
    """
    session = attempt.scope.session
    assert session is not None  # noqa: S101  # registrations always have one
    await attempt.check_standing(enrolling=True)
    await attempt.check_modality()

    answer = await attempt.client_response(client_response, client_failure)
    malformed = RegistrationResponseMalformed
    response = await attempt.judge(
        lambda: uaf.read_registration_response(answer), malformed=malformed
    )
    new_key = await attempt.judge(
        lambda: uaf.check_registration(
            response,
            app_id=app_id_of(config.rp_id),
            challenge=session.challenge,
            trusted_facets=config.trusted_facets,
            accepted_aaids=policy.aaids,
            attestation=policy.attestation,  # type: ignore[arg-type]  # checked when configured
            root_certificates=[_der(root) for root in policy.attestation_root_certificates],
            now=attempt.ctx.now,
        ),
        malformed=malformed,
    )
    key_type = await attempt.judge(
        lambda: registered_key_type(new_key.key_type, policy.key_types), malformed=malformed
    )

    if await key_rows(attempt.conn, attempt.store_id, new_key.aaid, new_key.key_id, config.rp_id):
        raise await attempt.refuse(AppkeyAlreadyRegistered())
    appkey = await _insert_appkey(
        attempt.conn, attempt.ctx, attempt.store_id, session, new_key, key_type
    )
    return await attempt.succeed_with(appkey)


def _der(root: str) -> bytes:
    # Checked to be base64 DER of a CA certificate when the policy was configured.
    return base64.b64decode(root)


async def _insert_appkey(
    conn: AsyncConnection,
    ctx: Context,
    store_id: str,
    session: AppkeySession,
    new_key: uaf.NewKey,
    key_type: AppkeyType,
) -> UserAppkey:
    """Keep the verified key as the session's user's new, active appkey. Raises
    AppkeyAlreadyRegistered (3721: a concurrent registration of the same key won) or
    ResourceNotFound (the user went meanwhile)."""
    appkey_id = new_id()
    values = {
        "id": appkey_id,
        "store_id": store_id,
        "user_id": session.user_id,
        "rp_id": session.rp_id,
        "aaid": new_key.aaid,
        "key_id": new_key.key_id,
        "key_type": str(key_type),
        "device_id": session.device_id,
        "device_name": session.device_name,
        "status": str(AppkeyStatus.ACTIVE),
        "sign_count": new_key.sign_counter,
        "public_key": new_key.public_key,
        "signature_algorithm": new_key.signature_algorithm,
        "attestation_type": new_key.attestation_type,
        "registration_audit": _registration_audit(new_key, session),
        "preferred": False,
        "created_dtm": ctx.now,
        "last_updated_dtm": ctx.now,
        "last_authenticated_with_dtm": None,
    }
    try:
        inserted = insert(tables.user_appkeys).values(values).returning(tables.user_appkeys)
        row = (await conn.execute(inserted)).one()
    except IntegrityError as exc:
        raise conflict(
            exc, unique=AppkeyAlreadyRegistered(), missing=ResourceNotFound("user not found")
        ) from exc
    await events.record(conn, ctx, "appkey.registered", store_id=store_id, subject_id=appkey_id)
    return appkey_from_row(row)


def _registration_audit(new_key: uaf.NewKey, session: AppkeySession) -> JsonObject:
    audit: JsonObject = {
        "aaid": new_key.aaid,
        "attestationType": new_key.attestation_type,
        "attestationSubject": new_key.attestation_subject,
        "facetId": new_key.facet_id,
        "deviceId": session.device_id,
        "deviceName": session.device_name,
        "authenticatorVersion": new_key.authenticator_version,
    }
    return {name: value for name, value in audit.items() if value is not None}
