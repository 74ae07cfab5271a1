"""Routes for signing in with an appkey (spec §10): start for a user or for any key, then
complete with the UAF AuthenticationResponse by INTERNAL session id or EXTERNAL `sessionData`;
or, with no start at all, a single-shot response to `POST …/appkeys/authentications`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from idstore.api.appkey_ceremonies import (
    AUTHENTICATION_REFUSALS,
    EXTERNAL_AUTHENTICATION_REFUSALS,
    STORE,
    CompletionRoutes,
    completion_of,
    outcome_out,
    start_out,
)
from idstore.api.common import answers
from idstore.api.examples import appkey_ceremonies as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.routing import Operation, PathRpId, PathText, segment
from idstore.api.runtime import Runtime, RuntimeDep, context_for
from idstore.api.schemas.appkey_ceremonies import (
    AppkeyAuthenticationStartIn,
    AppkeyCeremonyStartOut,
    AppkeyCompleteIn,
    AppkeyExternalCompleteIn,
)
from idstore.services import appkey_completions, appkey_starts
from idstore.services.appkey_errors import NoActiveAppkey
from idstore.services.context import Context
from idstore.services.errors import StoreNotFound, UserNotFound
from idstore.services.passkey_authentications import user_ref_of

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["appkey authentication"], route_class=JsonBodyRoute
)

AUTHENTICATIONS = f"{STORE}/appkeys/authentications"


@router.post(
    f"{AUTHENTICATIONS}/relyingParties/{segment('rpId')}",
    response_model_exclude_none=True,
    responses=answers(
        examples.AUTHENTICATION_STARTED_OUT,
        StoreNotFound,
        UserNotFound,
        NUL_IN_STORE_NAME,
        examples.CONFIG_NOT_FOUND,
        NoActiveAppkey,
        examples.USER_ID_AND_EXT_ID,
    ),
    operation_id="startAppkeyAuthentication",
)
async def start_authentication(
    storeName: PathText,
    rpId: PathRpId,
    body: Annotated[
        AppkeyAuthenticationStartIn, Body(openapi_examples=examples.AUTHENTICATION_START_IN)
    ],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("startAppkeyAuthentication")],
) -> AppkeyCeremonyStartOut:
    """Start a sign-in for a user (`userId` or `userExtId`: their active keys are offered) or,
    with neither, for any key of the relying party; `transactionText` asks the authenticator to
    show it and sign its hash."""
    started = await appkey_starts.start_authentication(
        run.database,
        run.keyring,
        ctx,
        store_name=storeName,
        rp_id=rpId,
        policy_name=body.policy_name,
        ref=user_ref_of(body.user_id, body.user_ext_id),
        transaction_text=body.transaction_text,
    )
    return start_out(started)


COMPLETIONS = CompletionRoutes(
    "Authentication", AUTHENTICATIONS, appkey_completions.complete_authentication
)


async def _complete_external(
    storeName: str, body: AppkeyExternalCompleteIn, run: Runtime, ctx: Context
) -> Response:
    # Without `sessionData` (and no client failure to report) the response is a single shot.
    if body.session_data is None and body.client_failure is None:
        signed_in = await appkey_completions.complete_single_shot(
            run.database,
            run.keyring,
            ctx,
            store_name=storeName,
            client_response=body.client_response,
            rate=run.attempt_rate,
        )
        return outcome_out(signed_in)
    return await COMPLETIONS.finish(run, ctx, storeName, completion_of(body, session_id=None))


COMPLETIONS.add_to(
    router,
    session=Operation(
        "Judge the AuthenticationResponse of an INTERNAL session; a refusal answers 400 with its\n"
        "code and the updated user.",
        answers(examples.AUTHENTICATION, *AUTHENTICATION_REFUSALS, attempt=True),
        body=Annotated[
            AppkeyCompleteIn, Body(openapi_examples=examples.AUTHENTICATION_COMPLETE_IN)
        ],
    ),
    external=Operation(
        "Judge the AuthenticationResponse of an EXTERNAL session (`sessionData`), or, without\n"
        "`sessionData`, a single-shot response whose challenge is the client's UTC time.",
        answers(examples.AUTHENTICATION, *EXTERNAL_AUTHENTICATION_REFUSALS, attempt=True),
        body=Annotated[
            AppkeyExternalCompleteIn,
            Body(openapi_examples=examples.EXTERNAL_AUTHENTICATION_COMPLETE_IN),
        ],
    ),
    complete_external=_complete_external,
)
