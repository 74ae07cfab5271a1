"""Routes for passkey registration and a user's passkeys (spec §9), user routes with `/ext`
twins keyed by `extUserId` as the changelog spells them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from idstore.api.common import answers, page_request
from idstore.api.examples import passkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME, PAGE_TOO_LARGE
from idstore.api.examples.registration_audits import PASSKEY_REGISTRATION_AUDIT
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import page_out, passkey_out, registration_out, user_out
from idstore.api.routing import PathRpId, PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.audit import PasskeyRegistrationOut
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.passkeys import (
    CeremonyStartOut,
    CompleteIn,
    ExternalCompleteIn,
    PasskeyOut,
    PasskeyStatusIn,
    RegistrationStartIn,
)
from idstore.api.schemas.registration_audits import PasskeyRegistrationAuditRecordOut
from idstore.services import passkey_attempts, passkey_registrations, user_keys, user_passkeys
from idstore.services.ceremony_sessions import REGISTRATION
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    ModalityLocked,
    StoreNotFound,
    UserDisabled,
    UserLocked,
    UserNotFound,
)
from idstore.services.models import PasskeyStatus
from idstore.services.paging import PageRequest
from idstore.services.passkey_attempts import PasskeyAuthentication
from idstore.services.passkey_errors import (
    AlgorithmNotAllowed,
    AttestationRefused,
    ChallengeMismatch,
    ClientCancelled,
    ClientFailed,
    ClientResponseMissing,
    ClientTimedOut,
    CredentialAlreadyRegistered,
    FlagsRefused,
    NotAnAuthentication,
    OriginNotAllowed,
    OriginNotHttps,
    OriginNotOfRelyingParty,
    SessionDataMissing,
    SessionDataNotExpected,
    SessionDataUnreadable,
    SessionExpired,
    SessionPolicyNameMissing,
    SessionRelyingPartyMissing,
    SignatureInvalid,
    TokenBindingRefused,
)
from idstore.services.passkey_registrations import CeremonyStart
from idstore.services.passkey_sessions import Completion
from idstore.services.user_keys import KeyAddress
from idstore.services.user_passkeys import PASSKEYS

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["passkeys"], route_class=JsonBodyRoute
)

STORE = f"/{segment('storeName')}"
USER_PASSKEYS = f"{STORE}/users/{{user}}/passkeys"
PASSKEY_ID = segment("id")
EXT = "extUserId"
_USER = (StoreNotFound, UserNotFound, NUL_IN_STORE_NAME)
_PASSKEY = (*_USER, examples.PASSKEY_NOT_FOUND)
# What any completion may answer once its session is found, whatever the ceremony.
COMPLETION_REFUSALS = (
    StoreNotFound,
    examples.SESSION_NOT_FOUND,
    SessionExpired,
    SessionDataMissing,
    SessionDataUnreadable,
    SessionRelyingPartyMissing,
    SessionDataNotExpected,
    SessionPolicyNameMissing,
    ClientResponseMissing,
    ClientFailed,
    ClientCancelled,
    ClientTimedOut,
    NotAnAuthentication,
    ChallengeMismatch,
    OriginNotAllowed,
    OriginNotHttps,
    OriginNotOfRelyingParty,
    FlagsRefused,
    SignatureInvalid,
    TokenBindingRefused,
)
_REGISTRATION_REFUSALS = (
    *COMPLETION_REFUSALS,
    UserDisabled,
    UserLocked,
    ModalityLocked,
    AlgorithmNotAllowed,
    AttestationRefused,
    CredentialAlreadyRegistered,
)


def ceremony_start_out(started: CeremonyStart) -> CeremonyStartOut:
    return CeremonyStartOut(
        session_id=started.session.session_id,
        session_data=started.session.session_data,
        options=started.options,
    )


def completion_of(body: CompleteIn, *, session_id: str | None) -> Completion:
    failure = body.client_failure
    return Completion(
        session_id=session_id,
        # Any value sent to a session's own route is refused (388), whatever its type.
        session_data=None if body.session_data is None else str(body.session_data),
        client_response=body.client_response,
        client_failure=None if failure is None else failure.reason,
    )


@user_route(
    router,
    "POST",
    f"{USER_PASSKEYS}/registrations/relyingParties/{segment('rpId')}",
    operation_id="startPasskeyRegistration",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(
        examples.REGISTRATION_STARTED_OUT,
        *_USER,
        examples.CONFIG_NOT_FOUND,
        UserDisabled,
        UserLocked,
    ),
)
async def start_registration(
    storeName: PathText,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[RegistrationStartIn, Body(openapi_examples=examples.REGISTRATION_START_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("startPasskeyRegistration")],
) -> CeremonyStartOut:
    """Start a registration: `sessionId` or `sessionData`, and the creation options."""
    started = await passkey_registrations.start_registration(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        rp_id=rpId,
        policy_name=body.policy_name,
        user_name=body.user_name,
        display_name=body.display_name,
    )
    return ceremony_start_out(started)


@router.post(
    f"{STORE}/passkeys/registrations/sessions/{segment('sessionId')}",
    response_model_exclude_none=True,
    responses=answers(examples.REGISTRATION_COMPLETED, *_REGISTRATION_REFUSALS),
    operation_id="completePasskeyRegistration",
)
async def complete_registration(
    storeName: PathText,
    sessionId: PathText,
    body: Annotated[CompleteIn, Body(openapi_examples=examples.REGISTRATION_COMPLETE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("completePasskeyRegistration")],
) -> PasskeyRegistrationOut:
    """Complete an INTERNAL-session registration with the browser's credential."""
    registered = await passkey_attempts.complete(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ceremony=REGISTRATION,
        completion=completion_of(body, session_id=sessionId),
        rate=run.attempt_rate,
    )
    return _registration_out(registered)


@router.post(
    f"{STORE}/passkeys/registrations",
    response_model_exclude_none=True,
    responses=answers(examples.REGISTRATION_COMPLETED, *_REGISTRATION_REFUSALS),
    operation_id="completeExternalPasskeyRegistration",
)
async def complete_external_registration(
    storeName: PathText,
    body: Annotated[
        ExternalCompleteIn, Body(openapi_examples=examples.EXTERNAL_REGISTRATION_COMPLETE_IN)
    ],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("completeExternalPasskeyRegistration")],
) -> PasskeyRegistrationOut:
    """Complete an EXTERNAL-session registration: `sessionData` and the credential."""
    registered = await passkey_attempts.complete(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ceremony=REGISTRATION,
        completion=completion_of(body, session_id=None),
        rate=run.attempt_rate,
    )
    return _registration_out(registered)


def _registration_out(registered: PasskeyAuthentication) -> PasskeyRegistrationOut:
    return PasskeyRegistrationOut(
        user=user_out(registered.user),
        passkey=passkey_out(registered.passkey),
        authentication_id=registered.authentication_id,
    )


@user_route(
    router,
    "GET",
    USER_PASSKEYS,
    operation_id="listUserPasskeys",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.PASSKEY_PAGE, *_USER, PAGE_TOO_LARGE),
)
async def list_passkeys(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listUserPasskeys")],
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[PasskeyOut]:
    """The user's passkeys, oldest first unless `sort` says otherwise."""
    page = await user_passkeys.list_passkeys(
        run.database, ctx, store_name=storeName, ref=user, request=paging
    )
    return page_out(page, passkey_out)


@user_route(
    router,
    "GET",
    f"{USER_PASSKEYS}/{PASSKEY_ID}",
    operation_id="getUserPasskey",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.PASSKEY, *_PASSKEY),
)
async def get_passkey(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getUserPasskey")],
) -> PasskeyOut:
    """One of the user's passkeys."""
    passkey = await user_keys.get_key(
        run.database, ctx, PASSKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return passkey_out(passkey)


@user_route(
    router,
    "POST",
    f"{USER_PASSKEYS}/{PASSKEY_ID}",
    operation_id="updateUserPasskey",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.DISABLED_PASSKEY, *_PASSKEY),
)
async def set_passkey_status(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    body: Annotated[PasskeyStatusIn, Body(openapi_examples=examples.STATUS_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateUserPasskey")],
) -> PasskeyOut:
    """Disable or re-enable a passkey; a disabled one is refused with 348. The passkey as read
    back may be sent, its other fields ignored; no status, or the one it has, changes nothing."""
    passkey = await user_keys.set_key_status(
        run.database,
        ctx,
        PASSKEYS,
        KeyAddress(store_name=storeName, ref=user, key_id=id),
        status=None if body.status is None else PasskeyStatus(body.status),
    )
    return passkey_out(passkey)


@user_route(
    router,
    "DELETE",
    f"{USER_PASSKEYS}/{PASSKEY_ID}",
    operation_id="deleteUserPasskey",
    ext_param=EXT,
    status_code=204,
    response_class=Response,
    responses=answers(None, *_PASSKEY),
)
async def delete_passkey(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteUserPasskey")],
) -> Response:
    """Delete one of the user's passkeys."""
    await user_keys.delete_key(
        run.database, ctx, PASSKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return Response(status_code=204)


@user_route(
    router,
    "GET",
    f"{USER_PASSKEYS}/{PASSKEY_ID}/registrationAudit",
    operation_id="getPasskeyRegistrationAudit",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(PASSKEY_REGISTRATION_AUDIT, *_PASSKEY),
)
async def get_registration_audit(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getPasskeyRegistrationAudit")],
) -> PasskeyRegistrationAuditRecordOut:
    """How the passkey was registered: attestation format, AAGUID, origin, flags; and the
    authentication record of the completion that registered it, when there is one."""
    registration = await user_keys.registration_audit(
        run.database, ctx, PASSKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return registration_out(PasskeyRegistrationAuditRecordOut, registration)
