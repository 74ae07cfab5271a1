"""Appkey errors (spec §10): the changelog's numbers 1009-1115, the uaf package's 3710-3718
for what the changelog does not number, and this service's 3720-3729 for the ceremonies. All are
400 unless said otherwise, and carry the updated user when an attempt is refused."""

from __future__ import annotations

from idstore.services.errors import IdstoreError


class AppkeySessionDataMissing(IdstoreError):
    """Session data was not provided: an EXTERNAL appkey session completed without
    `sessionData`."""

    code = 1009
    http_status = 400
    default_message = "session data not provided"


class AppkeySessionDataUnreadable(IdstoreError):
    """Session data cannot be opened, so its challenge cannot be read: altered, truncated, or
    sealed by another service."""

    code = 1011
    http_status = 400
    default_message = "session data is missing the challenge"


class AppkeySessionRelyingPartyGone(IdstoreError):
    """The relying party the session names has no appkey configuration any more (deleted since
    the start)."""

    code = 1012
    http_status = 400
    default_message = "session data is missing the relying party ID"


class AppkeySessionDataNotExpected(IdstoreError):
    """Session data was sent for a relying party whose appkey sessions are INTERNAL."""

    code = 1014
    http_status = 400
    default_message = "session data given, but sessions are internal"


class AppkeyNotAnAuthentication(IdstoreError):
    """The client response is not an authentication (a registration sent to authentication,
    say)."""

    code = 1017
    http_status = 400
    default_message = "the client response is not an authentication"


class FacetNotTrusted(IdstoreError):
    """The facet id in the client response is not in the configuration's `trustedFacets`."""

    code = 1026
    http_status = 400
    default_message = "the facet is not in the trusted facets"


class AppkeyChallengeMismatch(IdstoreError):
    """The challenge in the client response is not the session's."""

    code = 1029
    http_status = 400
    default_message = "the challenge does not match the session"


class AppkeyTypeNotAllowed(IdstoreError):
    """The key type is not one the policy accepts: at registration, the type the authenticator
    signed; at authentication, the registered key's type."""

    code = 1035
    http_status = 400
    default_message = "the appkey type is not supported"


class AppkeySessionPolicyGone(IdstoreError):
    """The registration or authentication policy the session names is no longer in the
    configuration."""

    code = 1055
    http_status = 400
    default_message = "session data is missing the policy"


class AppkeySessionPolicyNameMissing(IdstoreError):
    """The session names no policy (its state was sealed without one)."""

    code = 1056
    http_status = 400
    default_message = "session data is missing authentication policy name"


class AppkeyNotFound(IdstoreError):
    """No appkey of the store has the AAID and KeyID of the authentication assertion."""

    code = 1058
    http_status = 400
    default_message = "no appkey matches the assertion's key id"


class AppkeyOfAnotherUser(IdstoreError):
    """The appkey named by the assertion is registered to another user than the session's."""

    code = 1059
    http_status = 400
    default_message = "the appkey belongs to another user"


class AppkeyNotActive(IdstoreError):
    """The appkey named by the assertion is disabled."""

    code = 1060
    http_status = 400
    default_message = "the appkey is not active"


class AppkeySignCountNotIncreased(IdstoreError):
    """The signature counter did not increase (it may stay 0 only when it was 0): possibly a
    cloned authenticator."""

    code = 1061
    http_status = 400
    default_message = "the signature counter is lower than expected"


class SingleShotChallengeRefused(IdstoreError):
    """A single-shot challenge's time is further than `singleShotWindowSeconds` from the server's
    clock, before or after, or the key had that time accepted before."""

    code = 1090
    http_status = 400
    default_message = "the single-shot challenge is outside the valid time window"


class AuthenticationResponseMalformed(IdstoreError):
    """The authentication response is malformed: bad JSON (a member named twice, NaN or Infinity
    included), base64url, TLV or types."""

    code = 1091
    http_status = 400
    default_message = "malformed authentication response"


class NoAuthenticationAssertion(IdstoreError):
    """The authentication response carries no assertion."""

    code = 1092
    http_status = 400
    default_message = "the client response contains no authentication response"


class SeveralAuthenticationAssertions(IdstoreError):
    """The authentication response carries several assertions."""

    code = 1093
    http_status = 400
    default_message = "the client response contains several authentication responses"


class AppkeyClientFailureMalformed(IdstoreError):
    """`clientFailure` is not an object with a `reason` of `FAILED` or `CANCELLED` and an
    optional string `message`, or came together with a `clientResponse`."""

    code = 1102
    http_status = 400
    default_message = "malformed client failure response"


class AppkeyClientFailed(IdstoreError):
    """The client reported that the appkey operation failed (user verification failed on the
    device, say); counted as a wrong proof."""

    code = 1104
    http_status = 400
    default_message = "the appkey operation failed on the client"


class AppkeyClientCancelled(IdstoreError):
    """The client reported that the user cancelled the appkey operation; audited, not counted."""

    code = 1105
    http_status = 400
    default_message = "the appkey operation was cancelled on the client"


class AppkeyClientResponseMissing(IdstoreError):
    """Neither `clientResponse` nor `clientFailure` was provided."""

    code = 1115
    http_status = 400
    default_message = "no client response or failure provided"


# The uaf package's refusals (UafError codes) where the changelog has no number.


class AppkeySignatureInvalid(IdstoreError):
    """The assertion's signature does not verify with the key (the registered one, or at
    registration the attestation key or the new key)."""

    code = 3710
    http_status = 400
    default_message = "the appkey signature does not verify"


class RegistrationResponseMalformed(IdstoreError):
    """The registration response is malformed: bad JSON (a member named twice, NaN or Infinity
    included), base64url, TLV or types."""

    code = 3711
    http_status = 400
    default_message = "malformed registration response"


class RegistrationAssertionCount(IdstoreError):
    """The registration response carries no assertion, or several."""

    code = 3712
    http_status = 400
    default_message = "the registration response must carry exactly one assertion"


class AppkeyAttestationRefused(IdstoreError):
    """The attestation is refused: not the type the policy asks for, a `BASIC_FULL` chain that
    does not reach a configured root, or a certificate out of its validity."""

    code = 3713
    http_status = 400
    default_message = "the attestation is refused"


class AaidNotAccepted(IdstoreError):
    """The authenticator's AAID is not one the registration policy accepts."""

    code = 3714
    http_status = 400
    default_message = "the AAID is not accepted"


class AppkeyAlgorithmNotSupported(IdstoreError):
    """The authenticator's signature algorithm or public key encoding is not supported."""

    code = 3715
    http_status = 400
    default_message = "the algorithm or key encoding is not supported"


class AppkeyNotARegistration(IdstoreError):
    """The client response is not a registration (an authentication sent to registration, say)."""

    code = 3716
    http_status = 400
    default_message = "the client response is not a registration"


class AppIdMismatch(IdstoreError):
    """The AppID in the client response is not the relying party's."""

    code = 3717
    http_status = 400
    default_message = "the app id does not match"


class FinalChallengeHashMismatch(IdstoreError):
    """The final challenge hash signed by the authenticator is not the hash of the final
    challenge parameters sent."""

    code = 3718
    http_status = 400
    default_message = "the final challenge hash does not match"


class UafVersionNotSupported(IdstoreError):
    """The client response is of a UAF protocol version this service does not speak."""

    code = 3719
    http_status = 400
    default_message = "the UAF protocol version is not supported"


# This service's own codes for the appkey ceremonies.


class AppkeySessionExpired(IdstoreError):
    """The ceremony finished after its session expired (the policy's `timeoutSeconds`)."""

    code = 3720
    http_status = 400
    default_message = "the appkey session expired"


class AppkeyAlreadyRegistered(IdstoreError):
    """A key with that AAID and KeyID is registered for the relying party already."""

    code = 3721
    http_status = 409
    default_message = "the appkey is already registered"


class NoActiveAppkey(IdstoreError):
    """An authentication was started for a user who has no active appkey for the relying party
    of a type the authentication policy accepts."""

    code = 3722
    http_status = 400
    default_message = "the user has no active appkey for this relying party that the policy accepts"


class TransactionNotConfirmed(IdstoreError):
    """The sign-in was started with a `transactionText`, and the assertion does not sign the
    SHA-256 of that text (no transaction hash, or another text's); or it signs a transaction
    hash when none was asked. Counted as a wrong proof."""

    code = 3723
    http_status = 400
    default_message = "the assertion does not confirm the transaction text"
