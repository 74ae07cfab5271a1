"""Routes for signing in with a passkey (spec §9): start, then complete with an INTERNAL
session's id or an EXTERNAL session's sealed data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from idstore.api.common import answers
from idstore.api.examples import passkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.passkeys import COMPLETION_REFUSALS, ceremony_start_out, completion_of
from idstore.api.presenters import json_response, passkey_out, user_out
from idstore.api.routing import PathRpId, PathText, segment
from idstore.api.runtime import Runtime, RuntimeDep, context_for
from idstore.api.schemas.audit import PasskeyAuthenticationOut
from idstore.api.schemas.passkeys import (
    AuthenticationStartIn,
    CeremonyStartOut,
    CompleteIn,
    ExternalCompleteIn,
)
from idstore.services import passkey_attempts, passkey_authentications
from idstore.services.ceremony_sessions import AUTHENTICATION
from idstore.services.context import Context
from idstore.services.errors import (
    ModalityLocked,
    StoreNotFound,
    UserDisabled,
    UserLocked,
    UserNotActive,
    UserNotFound,
)
from idstore.services.passkey_attempts import PasskeyAuthentication
from idstore.services.passkey_errors import (
    CredentialNotAllowed,
    PasskeyNotActive,
    PasskeyNotFound,
    PasskeyOfAnotherUser,
    SignCountNotIncreased,
    UserHandleMismatch,
)
from idstore.services.passkey_sessions import Completion

router = APIRouter(prefix="/api/identity-store/stores", tags=["passkey authentication"])

AUTHENTICATIONS = f"/{segment('storeName')}/passkeys/authentications"
_ATTEMPT_REFUSALS = (
    *COMPLETION_REFUSALS,
    UserDisabled,
    UserLocked,
    UserNotActive,
    ModalityLocked,
    PasskeyNotFound,
    PasskeyOfAnotherUser,
    CredentialNotAllowed,
    UserHandleMismatch,
    PasskeyNotActive,
    SignCountNotIncreased,
)


async def _complete(
    run: Runtime, ctx: Context, store_name: str, completion: Completion
) -> Response:
    result = await passkey_attempts.complete(
        run.database,
        run.keyring,
        ctx,
        store_name=store_name,
        ceremony=AUTHENTICATION,
        completion=completion,
        rate=run.attempt_rate,
    )
    return _authentication_out(result)


def _authentication_out(result: PasskeyAuthentication) -> Response:
    body = PasskeyAuthenticationOut(
        user=user_out(result.user),
        passkey=passkey_out(result.passkey),
        authentication_id=result.authentication_id,
    )
    return json_response(body)


@router.post(
    f"{AUTHENTICATIONS}/relyingParties/{segment('rpId')}",
    response_model_exclude_none=True,
    responses=answers(
        examples.AUTHENTICATION_STARTED_OUT,
        StoreNotFound,
        UserNotFound,
        examples.CONFIG_NOT_FOUND,
        CredentialNotAllowed,
        examples.USER_ID_AND_EXT_ID,
        NUL_IN_STORE_NAME,
    ),
    operation_id="startPasskeyAuthentication",
)
async def start_authentication(
    storeName: PathText,
    rpId: PathRpId,
    body: Annotated[AuthenticationStartIn, Body(openapi_examples=examples.AUTHENTICATION_START_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("startPasskeyAuthentication")],
) -> CeremonyStartOut:
    """Start a sign-in for a user (`userId` or `userExtId`) or, with neither, for any
    discoverable passkey of the store."""
    started = await passkey_authentications.start_authentication(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        rp_id=rpId,
        policy_name=body.policy_name,
        ref=passkey_authentications.user_ref_of(body.user_id, body.user_ext_id),
    )
    return ceremony_start_out(started)


@router.post(
    f"{AUTHENTICATIONS}/sessions/{segment('sessionId')}",
    response_model=PasskeyAuthenticationOut,
    responses=answers(examples.AUTHENTICATION, *_ATTEMPT_REFUSALS, attempt=True),
    operation_id="completePasskeyAuthentication",
)
async def complete_authentication(
    storeName: PathText,
    sessionId: PathText,
    body: Annotated[CompleteIn, Body(openapi_examples=examples.AUTHENTICATION_COMPLETE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("completePasskeyAuthentication")],
) -> Response:
    """Judge the assertion; a refusal answers 400 with its code and the updated user."""
    return await _complete(run, ctx, storeName, completion_of(body, session_id=sessionId))


@router.post(
    AUTHENTICATIONS,
    response_model=PasskeyAuthenticationOut,
    responses=answers(examples.AUTHENTICATION, *_ATTEMPT_REFUSALS, attempt=True),
    operation_id="completeExternalPasskeyAuthentication",
)
async def complete_external_authentication(
    storeName: PathText,
    body: Annotated[
        ExternalCompleteIn, Body(openapi_examples=examples.EXTERNAL_AUTHENTICATION_COMPLETE_IN)
    ],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("completeExternalPasskeyAuthentication")],
) -> Response:
    """Judge the assertion of an EXTERNAL session (`sessionData`)."""
    return await _complete(run, ctx, storeName, completion_of(body, session_id=None))
