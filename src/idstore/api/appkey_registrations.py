"""Routes for registering an appkey (spec §10): start for a user (with its `/ext` twin), then
complete with the UAF RegistrationResponse by INTERNAL session id or EXTERNAL `sessionData`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from idstore.api.appkey_ceremonies import (
    REGISTRATION_REFUSALS,
    STORE,
    CompletionRoutes,
    start_out,
)
from idstore.api.common import answers
from idstore.api.examples import appkey_ceremonies as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.routing import Operation, PathRpId, PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.appkey_ceremonies import (
    AppkeyCeremonyStartOut,
    AppkeyCompleteIn,
    AppkeyExternalCompleteIn,
    AppkeyRegistrationStartIn,
)
from idstore.services import appkey_completions, appkey_starts
from idstore.services.context import Context, UserRef
from idstore.services.errors import StoreNotFound, UserDisabled, UserNotFound

router = APIRouter(prefix="/api/identity-store/stores", tags=["appkeys"], route_class=JsonBodyRoute)


@user_route(
    router,
    "POST",
    f"{STORE}/users/{{user}}/appkeys/registrations/relyingParties/{segment('rpId')}",
    operation_id="startAppkeyRegistration",
    ext_param="extUserId",
    response_model_exclude_none=True,
    responses=answers(
        examples.REGISTRATION_STARTED_OUT,
        StoreNotFound,
        UserNotFound,
        NUL_IN_STORE_NAME,
        examples.CONFIG_NOT_FOUND,
        UserDisabled,
    ),
)
async def start_registration(
    storeName: PathText,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[
        AppkeyRegistrationStartIn, Body(openapi_examples=examples.REGISTRATION_START_IN)
    ],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("startAppkeyRegistration")],
) -> AppkeyCeremonyStartOut:
    """Start a registration: `sessionId` or `sessionData`, and the UAF RegistrationRequest for
    the app's UAF client."""
    started = await appkey_starts.start_registration(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        ref=user,
        rp_id=rpId,
        policy_name=body.policy_name,
        device_id=body.device_id,
        device_name=body.device_name,
    )
    return start_out(started)


CompletionRoutes(
    "Registration", f"{STORE}/appkeys/registrations", appkey_completions.complete_registration
).add_to(
    router,
    session=Operation(
        "Complete an INTERNAL-session registration with the UAF RegistrationResponse; a refusal\n"
        "answers 400 with its code and the updated user.",
        answers(examples.REGISTRATION_COMPLETED, *REGISTRATION_REFUSALS, attempt=True),
        body=Annotated[AppkeyCompleteIn, Body(openapi_examples=examples.REGISTRATION_COMPLETE_IN)],
    ),
    external=Operation(
        "Complete an EXTERNAL-session registration: `sessionData` and the RegistrationResponse.",
        answers(examples.REGISTRATION_COMPLETED, *REGISTRATION_REFUSALS, attempt=True),
        body=Annotated[
            AppkeyExternalCompleteIn,
            Body(openapi_examples=examples.EXTERNAL_REGISTRATION_COMPLETE_IN),
        ],
    ),
)
