"""Rules of the appkey ceremonies (spec §10) that need no database: the uaf package's refusals
as the contract's errors, the client's reported failure, and the key type a registration earns."""

from __future__ import annotations

from idstore.services.appkey_errors import (
    AaidNotAccepted,
    AppIdMismatch,
    AppkeyAlgorithmNotSupported,
    AppkeyAttestationRefused,
    AppkeyChallengeMismatch,
    AppkeyClientCancelled,
    AppkeyClientFailed,
    AppkeyClientFailureMalformed,
    AppkeyClientResponseMissing,
    AppkeyNotAnAuthentication,
    AppkeyNotARegistration,
    AppkeySignatureInvalid,
    AppkeyTypeNotAllowed,
    AuthenticationResponseMalformed,
    FacetNotTrusted,
    FinalChallengeHashMismatch,
    NoAuthenticationAssertion,
    RegistrationAssertionCount,
    RegistrationResponseMalformed,
    SeveralAuthenticationAssertions,
    SingleShotChallengeRefused,
    UafVersionNotSupported,
)
from idstore.services.errors import IdstoreError
from idstore.services.models import AppkeyType
from idstore.uaf import UafError

# The UAF refusals, by the code the uaf package gives them.
_UAF_ERRORS: dict[int, type[IdstoreError]] = {
    kind.code: kind
    for kind in (
        AppkeyNotAnAuthentication,
        FacetNotTrusted,
        AppkeyChallengeMismatch,
        AuthenticationResponseMalformed,
        NoAuthenticationAssertion,
        SeveralAuthenticationAssertions,
        AppkeySignatureInvalid,
        RegistrationResponseMalformed,
        RegistrationAssertionCount,
        AppkeyAttestationRefused,
        AaidNotAccepted,
        AppkeyAlgorithmNotSupported,
        AppkeyNotARegistration,
        AppIdMismatch,
        FinalChallengeHashMismatch,
        UafVersionNotSupported,
        SingleShotChallengeRefused,
    )
}
# Refusals that say the proof is wrong, not merely malformed or refused by policy: they count
# towards the Appkey modality's lock (spec §6), as a wrong TOTP code does.
WRONG_PROOFS = frozenset(
    {
        FacetNotTrusted.code,
        AppkeyChallengeMismatch.code,
        AppkeySignatureInvalid.code,
        AppkeyAttestationRefused.code,
        AppIdMismatch.code,
        FinalChallengeHashMismatch.code,
        SingleShotChallengeRefused.code,
    }
)
_FAILURES: dict[str, type[IdstoreError]] = {
    "FAILED": AppkeyClientFailed,
    "CANCELLED": AppkeyClientCancelled,
}
_FAILURE_FIELDS = frozenset({"reason", "message"})
_MAX_FAILURE_MESSAGE = 1024


def from_uaf(error: UafError, *, malformed: type[IdstoreError]) -> IdstoreError:
    """The contract's error for a refusal of the uaf package; `malformed` for a code it does not
    know (none today: a guard against a code added there and not here)."""
    kind = _UAF_ERRORS.get(int(error.code), malformed)
    return kind(error.message)


def client_response_of(client_response: object, client_failure: object) -> object:
    """The UAF response the client sent. Raises AppkeyClientFailed (1104) or
    AppkeyClientCancelled (1105) for the failure it reported instead,
    AppkeyClientFailureMalformed (1102) for a failure that is not one, or sent with a response,
    and AppkeyClientResponseMissing (1115) when the request carries neither."""
    if client_failure is not None:
        if client_response is not None:
            raise AppkeyClientFailureMalformed("give clientResponse or clientFailure, not both")
        raise _reported_failure(client_failure)
    if client_response is None:
        raise AppkeyClientResponseMissing()
    return client_response


def _reported_failure(client_failure: object) -> IdstoreError:
    if not isinstance(client_failure, dict) or not set(client_failure) <= _FAILURE_FIELDS:
        return AppkeyClientFailureMalformed("clientFailure must be {reason, message?}")
    message = client_failure.get("message")
    if message is not None and (
        not isinstance(message, str) or len(message) > _MAX_FAILURE_MESSAGE
    ):
        return AppkeyClientFailureMalformed("clientFailure.message must be a short string")
    reason = client_failure.get("reason")
    kind = _FAILURES.get(reason) if isinstance(reason, str) else None
    if kind is None:
        return AppkeyClientFailureMalformed("clientFailure.reason must be FAILED or CANCELLED")
    return kind()


def registered_key_type(signed: str | None, allowed: tuple[AppkeyType, ...]) -> AppkeyType:
    """The type a new key is registered with: the one its authenticator signed (the KRD's
    `idstore.keyType` extension) when it did; else the policy's, when the policy allows a single
    type; else DEVICE, the lesser claim, since nothing proved a biometric check.
    Raises AppkeyTypeNotAllowed (1035) when the signed type is not one the policy allows."""
    if signed is not None:
        key_type = AppkeyType(signed)
        if key_type not in allowed:
            raise AppkeyTypeNotAllowed(f"the registration policy does not accept {key_type} keys")
        return key_type
    if len(allowed) == 1:
        return allowed[0]
    return AppkeyType.DEVICE
