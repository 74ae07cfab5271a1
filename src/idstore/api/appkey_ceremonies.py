"""What the appkey ceremony routes share (spec §10): the refusals they declare, the start's
answer, the completion read from a body, the outcome's one serialisation, and the two routes
that complete a registration or a sign-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response

from idstore.api.examples import appkey_ceremonies as examples
from idstore.api.presenters import appkey_out, json_response, user_out
from idstore.api.routing import Operation, segment
from idstore.api.runtime import Runtime
from idstore.api.schemas.appkey_ceremonies import (
    AppkeyCeremonyStartOut,
    AppkeyCompleteIn,
    AppkeyExternalCompleteIn,
    AppkeyOutcomeOut,
)
from idstore.services import appkey_errors as refusals
from idstore.services.appkey_attempts import AppkeyAuthentication
from idstore.services.appkey_completions import AppkeyCompletion
from idstore.services.appkey_starts import AppkeyCeremonyStart
from idstore.services.context import Context
from idstore.services.errors import (
    ModalityLocked,
    StoreNotFound,
    TooManyRequests,
    UserDisabled,
    UserLocked,
    UserNotActive,
)

STORE = f"/{segment('storeName')}"
# What any completion may answer once it got past the session, whatever the ceremony.
SESSION_REFUSALS = (
    StoreNotFound,
    examples.SESSION_NOT_FOUND,
    refusals.AppkeySessionDataMissing,
    refusals.AppkeySessionDataUnreadable,
    refusals.AppkeySessionRelyingPartyGone,
    refusals.AppkeySessionDataNotExpected,
    refusals.AppkeySessionPolicyGone,
    refusals.AppkeySessionPolicyNameMissing,
    refusals.AppkeySessionExpired,
)
ATTEMPT_REFUSALS = (
    UserDisabled,
    UserLocked,
    ModalityLocked,
    TooManyRequests,
    refusals.AppkeyClientResponseMissing,
    refusals.AppkeyClientFailureMalformed,
    refusals.AppkeyClientFailed,
    refusals.AppkeyClientCancelled,
    refusals.AppIdMismatch,
    refusals.FacetNotTrusted,
    refusals.AppkeyChallengeMismatch,
    refusals.FinalChallengeHashMismatch,
    refusals.UafVersionNotSupported,
    refusals.AppkeySignatureInvalid,
)
REGISTRATION_REFUSALS = (
    *SESSION_REFUSALS,
    *ATTEMPT_REFUSALS,
    refusals.RegistrationResponseMalformed,
    refusals.RegistrationAssertionCount,
    refusals.AppkeyNotARegistration,
    refusals.AaidNotAccepted,
    refusals.AppkeyAlgorithmNotSupported,
    refusals.AppkeyAttestationRefused,
    refusals.AppkeyTypeNotAllowed,
    refusals.AppkeyAlreadyRegistered,
)
SIGN_IN_REFUSALS = (
    *ATTEMPT_REFUSALS,
    UserNotActive,
    refusals.AuthenticationResponseMalformed,
    refusals.NoAuthenticationAssertion,
    refusals.SeveralAuthenticationAssertions,
    refusals.AppkeyNotAnAuthentication,
    refusals.AppkeyNotFound,
    refusals.AppkeyOfAnotherUser,
    refusals.AppkeyNotActive,
    refusals.AppkeyTypeNotAllowed,
    refusals.AppkeySignCountNotIncreased,
)
AUTHENTICATION_REFUSALS = (*SESSION_REFUSALS, *SIGN_IN_REFUSALS)
EXTERNAL_AUTHENTICATION_REFUSALS = (
    *AUTHENTICATION_REFUSALS,
    examples.CONFIG_NOT_FOUND,
    refusals.SingleShotChallengeRefused,
)


def start_out(started: AppkeyCeremonyStart) -> AppkeyCeremonyStartOut:
    return AppkeyCeremonyStartOut(
        session_id=started.session.session_id,
        session_data=started.session.session_data,
        request=started.request,
    )


def completion_of(body: AppkeyCompleteIn, *, session_id: str | None) -> AppkeyCompletion:
    return AppkeyCompletion(
        session_id=session_id,
        session_data=None if body.session_data is None else str(body.session_data),
        client_response=body.client_response,
        client_failure=body.client_failure,
    )


def outcome_out(result: AppkeyAuthentication) -> Response:
    body = AppkeyOutcomeOut(
        user=user_out(result.user),
        appkey=appkey_out(result.appkey),
        authentication_id=result.authentication_id,
    )
    return json_response(body)


# appkey_completions.complete_registration or complete_authentication.
Complete = Callable[..., Awaitable[AppkeyAuthentication]]
CompleteExternal = Callable[[str, AppkeyExternalCompleteIn, Runtime, Context], Awaitable[Response]]


@dataclass(frozen=True)
class CompletionRoutes:
    """The two routes that complete a ceremony with the UAF client's response: by INTERNAL
    session id at `{path}/sessions/{sessionId}`, by EXTERNAL `sessionData` at `path`.
    `ceremony` (`Registration`) names their operations and endpoints; `complete` is the
    service that judges the response."""

    ceremony: str
    path: str
    complete: Complete

    def add_to(
        self,
        router: APIRouter,
        *,
        session: Operation,
        external: Operation,
        complete_external: CompleteExternal | None = None,
    ) -> None:
        """Register both routes; `complete_external`, with the parameters of `_external`,
        replaces how the EXTERNAL one answers."""
        ceremony = self.ceremony
        self._add(
            router,
            f"{self.path}/sessions/{segment('sessionId')}",
            session,
            self._session,
            operation_id=f"completeAppkey{ceremony}",
            name=f"complete_{ceremony.lower()}",
        )
        self._add(
            router,
            self.path,
            external,
            complete_external or self._external,
            operation_id=f"completeExternalAppkey{ceremony}",
            name=f"complete_external_{ceremony.lower()}",
        )

    async def finish(
        self, run: Runtime, ctx: Context, store_name: str, completion: AppkeyCompletion
    ) -> Response:
        """Judge the completion; a refusal raises its error, which answers the updated user."""
        outcome = await self.complete(
            run.database,
            run.keyring,
            ctx,
            store_name=store_name,
            completion=completion,
            rate=run.attempt_rate,
        )
        return outcome_out(outcome)

    async def _session(
        self, storeName: str, sessionId: str, body: AppkeyCompleteIn, run: Runtime, ctx: Context
    ) -> Response:
        return await self.finish(run, ctx, storeName, completion_of(body, session_id=sessionId))

    async def _external(
        self, storeName: str, body: AppkeyExternalCompleteIn, run: Runtime, ctx: Context
    ) -> Response:
        return await self.finish(run, ctx, storeName, completion_of(body, session_id=None))

    def _add(
        self,
        router: APIRouter,
        path: str,
        operation: Operation,
        handle: Callable[..., Awaitable[Any]],
        *,
        operation_id: str,
        name: str,
    ) -> None:
        router.add_api_route(
            path,
            operation.endpoint(handle, operation_id),
            methods=["POST"],
            response_model=AppkeyOutcomeOut,
            responses=operation.responses,
            operation_id=operation_id,
            name=name,
            description=operation.description,
        )
