"""Routes for user TOTPs (spec §5.2), each with its `/ext` twin."""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Response

from idstore import otp
from idstore.api.common import answers, page_request
from idstore.api.examples import totps as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME, PAGE_TOO_LARGE
from idstore.api.examples.users import ACTIVE_TOTP
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import json_response, page_out, totp_out, user_out
from idstore.api.routing import PathPolicyName, PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.audit import TotpAuthenticationOut
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.totps import (
    CodeIn,
    RegistrationOut,
    RegistrationStartIn,
    TotpStatusIn,
    UserTotpOut,
)
from idstore.api.schemas.users import UserOut
from idstore.services import totp_attempts, totp_registrations, user_totps
from idstore.services.context import Context, UserRef
from idstore.services.errors import (
    AuthenticatorDisabled,
    CodeAlreadyUsed,
    CodeIncorrect,
    CodeMalformed,
    ModalityLocked,
    PolicyNotFound,
    RegistrationExpired,
    RegistrationNotFound,
    StatusChangeNotAllowed,
    StoreNotFound,
    TotpAlreadyRegistered,
    TotpNotActive,
    TotpNotFound,
    UserDisabled,
    UserLocked,
    UserNotActive,
    UserNotFound,
)
from idstore.services.models import TotpStatus
from idstore.services.paging import PageRequest
from idstore.services.totp_attempts import TotpAuthentication
from idstore.services.totp_registrations import Registration

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["user TOTPs"], route_class=JsonBodyRoute
)

USER_TOTPS = f"/{segment('storeName')}/users/{{user}}/totps"
POLICY = segment("policyName")
TOTP_ID = segment("id")
_USER = (StoreNotFound, UserNotFound)
_POLICY = (*_USER, PolicyNotFound)
_TOTP = (*_USER, TotpNotFound)
# What stops an attempt before its code is judged, then the verdicts on the code itself.
_ATTEMPT = (
    *_POLICY,
    RegistrationNotFound,
    AuthenticatorDisabled,
    UserDisabled,
    UserLocked,
    ModalityLocked,
    CodeMalformed,
    CodeIncorrect,
    CodeAlreadyUsed,
    examples.CODE_NOT_A_STRING,
)
QrFormat = Annotated[
    Literal["png", "svg", "none"],
    Query(description="How `qrCode` is encoded: base64 of a PNG (default) or an SVG, or absent."),
]


def _registration_out(registration: Registration, qr_format: str) -> RegistrationOut:
    uri = registration.otpauth_uri
    qr_code = None
    if uri is not None and qr_format != "none":
        image = otp.qr_svg(uri) if qr_format == "svg" else otp.qr_png(uri)
        qr_code = base64.b64encode(image).decode("ascii")
    return RegistrationOut(
        totp=totp_out(registration.totp),
        secret=None if registration.secret is None else otp.encode_secret(registration.secret),
        otpauth_uri=uri,
        qr_code=qr_code,
    )


def _authentication_out(result: TotpAuthentication) -> Response:
    body = TotpAuthenticationOut(
        user=user_out(result.user),
        totp=totp_out(result.totp),
        authentication_id=result.authentication_id,
    )
    return json_response(body)


@user_route(
    router,
    "POST",
    f"{USER_TOTPS}/registrations/{POLICY}",
    operation_id="startTotpRegistration",
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.PENDING_REGISTRATION,
        *_POLICY,
        TotpAlreadyRegistered,
        UserDisabled,
        UserLocked,
        examples.USERNAME_WITH_COLON,
        status=201,
    ),
)
async def start_registration(
    storeName: PathText,
    user: UserRef,
    policyName: PathPolicyName,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("startTotpRegistration")],
    body: Annotated[
        RegistrationStartIn | None, Body(openapi_examples=examples.REGISTRATION_START_IN)
    ] = None,
    qrFormat: QrFormat = "png",
) -> RegistrationOut:
    """Start a registration: a new secret, a PENDING TOTP, its otpauth URI and QR code."""
    registration = await totp_registrations.start_registration(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        policy_name=policyName,
        username=None if body is None else body.username,
    )
    return _registration_out(registration, qrFormat)


@user_route(
    router,
    "GET",
    f"{USER_TOTPS}/registrations/{POLICY}",
    operation_id="getTotpRegistration",
    response_model_exclude_none=True,
    responses=answers(
        examples.PENDING_REGISTRATION,
        *_POLICY,
        RegistrationNotFound,
        RegistrationExpired,
        NUL_IN_STORE_NAME,
    ),
)
async def get_registration(
    storeName: PathText,
    user: UserRef,
    policyName: PathPolicyName,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getTotpRegistration")],
    qrFormat: QrFormat = "png",
) -> RegistrationOut:
    """The registration: with its secret while pending, the TOTP alone once active."""
    registration = await totp_registrations.get_registration(
        run.database, run.keyring, ctx, store_name=storeName, ref=user, policy_name=policyName
    )
    return _registration_out(registration, qrFormat)


@user_route(
    router,
    "POST",
    f"{USER_TOTPS}/registrations/{POLICY}/complete",
    operation_id="completeTotpRegistration",
    response_model=TotpAuthenticationOut,
    responses=answers(
        examples.COMPLETION, *_ATTEMPT, TotpAlreadyRegistered, RegistrationExpired, attempt=True
    ),
)
async def complete_registration(
    storeName: PathText,
    user: UserRef,
    policyName: PathPolicyName,
    body: Annotated[CodeIn, Body(openapi_examples=examples.CODE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("completeTotpRegistration")],
) -> Response:
    """Activate the pending TOTP with a first code; audited, locked and counted like a sign-in."""
    result = await totp_attempts.complete_registration(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        policy_name=policyName,
        code=body.code,
        rate=run.attempt_rate,
    )
    return _authentication_out(result)


@user_route(
    router,
    "POST",
    f"{USER_TOTPS}/authentications/{POLICY}",
    operation_id="authenticateTotp",
    response_model=TotpAuthenticationOut,
    responses=answers(
        examples.AUTHENTICATION, *_ATTEMPT, TotpNotActive, UserNotActive, attempt=True
    ),
)
async def authenticate(
    storeName: PathText,
    user: UserRef,
    policyName: PathPolicyName,
    body: Annotated[CodeIn, Body(openapi_examples=examples.CODE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("authenticateTotp")],
) -> Response:
    """Check a code; a failure answers 400 with its code and the user's updated lock state."""
    result = await totp_attempts.authenticate(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        policy_name=policyName,
        code=body.code,
        rate=run.attempt_rate,
    )
    return _authentication_out(result)


@user_route(
    router,
    "POST",
    f"{USER_TOTPS}/deregistrations/{POLICY}",
    operation_id="deregisterTotp",
    response_model_exclude_none=True,
    responses=answers(
        examples.USER_WITHOUT_TOTP, *_POLICY, RegistrationNotFound, NUL_IN_STORE_NAME
    ),
)
async def deregister(
    storeName: PathText,
    user: UserRef,
    policyName: PathPolicyName,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deregisterTotp")],
) -> UserOut:
    """Remove the user's TOTP for the policy; answers the updated user."""
    updated = await totp_registrations.deregister(
        run.database, ctx, store_name=storeName, ref=user, policy_name=policyName
    )
    return user_out(updated)


@user_route(
    router,
    "GET",
    USER_TOTPS,
    operation_id="listUserTotps",
    response_model_exclude_none=True,
    responses=answers(examples.TOTP_PAGE, *_USER, NUL_IN_STORE_NAME, PAGE_TOO_LARGE),
)
async def list_totps(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listUserTotps")],
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[UserTotpOut]:
    """The user's TOTPs, oldest first unless `sort` says otherwise."""
    page = await user_totps.list_totps(
        run.database, ctx, store_name=storeName, ref=user, request=paging
    )
    return page_out(page, totp_out)


@user_route(
    router,
    "GET",
    f"{USER_TOTPS}/{TOTP_ID}",
    operation_id="getUserTotp",
    response_model_exclude_none=True,
    responses=answers(ACTIVE_TOTP, *_TOTP, NUL_IN_STORE_NAME),
)
async def get_totp(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getUserTotp")],
) -> UserTotpOut:
    """One of the user's TOTPs."""
    totp = await user_totps.get_totp(run.database, ctx, store_name=storeName, ref=user, totp_id=id)
    return totp_out(totp)


@user_route(
    router,
    "POST",
    f"{USER_TOTPS}/{TOTP_ID}",
    operation_id="updateUserTotp",
    response_model_exclude_none=True,
    responses=answers(
        examples.DISABLED_TOTP, *_TOTP, StatusChangeNotAllowed, examples.STATUS_UNKNOWN
    ),
)
async def set_totp_status(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    body: Annotated[TotpStatusIn, Body(openapi_examples=examples.STATUS_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateUserTotp")],
) -> UserTotpOut:
    """Disable or re-enable an activated TOTP (3305 for other changes). The TOTP as read back
    may be sent, its other fields ignored; no status, or the one it has, changes nothing."""
    totp = await user_totps.set_totp_status(
        run.database,
        ctx,
        store_name=storeName,
        ref=user,
        totp_id=id,
        status=None if body.status is None else TotpStatus(body.status),
    )
    return totp_out(totp)


@user_route(
    router,
    "DELETE",
    f"{USER_TOTPS}/{TOTP_ID}",
    operation_id="deleteUserTotp",
    status_code=204,
    response_class=Response,
    responses=answers(None, *_TOTP, NUL_IN_STORE_NAME),
)
async def delete_totp(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteUserTotp")],
) -> Response:
    """Delete one of the user's TOTPs."""
    await user_totps.delete_totp(run.database, ctx, store_name=storeName, ref=user, totp_id=id)
    return Response(status_code=204)
