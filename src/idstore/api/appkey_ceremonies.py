"""What the appkey ceremony routes share (spec §10): the refusals they declare, the start's
answer, the completion read from a body, and the outcome's one serialisation."""

from __future__ import annotations

from fastapi import Response

from idstore.api.examples import appkey_ceremonies as examples
from idstore.api.presenters import appkey_out, user_out
from idstore.api.routing import segment
from idstore.api.schemas.appkey_ceremonies import (
    AppkeyCeremonyStartOut,
    AppkeyCompleteIn,
    AppkeyOutcomeOut,
)
from idstore.services import appkey_errors as refusals
from idstore.services.appkey_attempts import AppkeyAuthentication
from idstore.services.appkey_completions import AppkeyCompletion
from idstore.services.appkey_starts import AppkeyCeremonyStart
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
    # Serialised once, as the other authentication routes do.
    body = AppkeyOutcomeOut(
        user=user_out(result.user),
        appkey=appkey_out(result.appkey),
        authentication_id=result.authentication_id,
    )
    return Response(
        body.model_dump_json(by_alias=True, exclude_none=True), media_type="application/json"
    )
