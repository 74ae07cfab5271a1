"""Passkey errors (spec §9): the changelog's numbers 348-403, and this service's 36xx for what
the changelog does not number. All are 400 unless said otherwise, and carry the updated user
when an authentication is refused."""

from __future__ import annotations

from idstore.services.errors import IdstoreError


class PasskeyNotActive(IdstoreError):
    """The passkey matching the credential id is disabled."""

    code = 348
    http_status = 400
    default_message = "the passkey is not active"


class NotAnAuthentication(IdstoreError):
    """The client response is of the other ceremony (a registration sent to authentication, or
    the reverse)."""

    code = 352
    http_status = 400
    default_message = "the client response is not of this ceremony"


class ChallengeMismatch(IdstoreError):
    """The challenge signed in the client response is not the session's."""

    code = 353
    http_status = 400
    default_message = "the challenge does not match the session"


class OriginNotAllowed(IdstoreError):
    """The origin in the client response is not in `restrictedOrigins`, or the ceremony ran in
    a cross-origin frame (`crossOrigin` true or a `topOrigin`)."""

    code = 354
    http_status = 400
    default_message = "the origin is not in the restricted origins"


class TokenBindingRefused(IdstoreError):
    """clientDataJSON names a Token Binding this service cannot have seen (status `present`:
    it terminates no Token Binding, so no binding id can match), or a `tokenBinding` without a
    status (WebAuthn level 2 §7.1 step 10, §7.2 step 14)."""

    code = 356
    http_status = 400
    default_message = "the token binding in the client response does not match"


class PasskeyNotFound(IdstoreError):
    """No passkey of the relying party has the credential id the client used."""

    code = 362
    http_status = 400
    default_message = "no passkey matches the credential id"


class PasskeyOfAnotherUser(IdstoreError):
    """The credential belongs to another user than the one the session is for."""

    code = 363
    http_status = 400
    default_message = "the passkey belongs to another user"


class CredentialNotAllowed(IdstoreError):
    """The credential was not offered in `allowCredentials`, or the user has no user handle (no
    passkey) for the relying party."""

    code = 364
    http_status = 400
    default_message = "the credential is not allowed for this session"


class UserHandleMismatch(IdstoreError):
    """The user handle in the assertion is missing (discoverable) or not the credential owner's."""

    code = 365
    http_status = 400
    default_message = "the user handle does not match"


class SignCountNotIncreased(IdstoreError):
    """The signature counter did not increase: possibly a cloned authenticator."""

    code = 372
    http_status = 400
    default_message = "the signature counter did not increase"


class OriginNotHttps(IdstoreError):
    """The origin is not `https` (an `http://localhost` origin must be listed exactly)."""

    code = 382
    http_status = 400
    default_message = "the origin is not https"


class OriginNotOfRelyingParty(IdstoreError):
    """The origin, or the authenticator data's rpIdHash, does not match the relying party id."""

    code = 383
    http_status = 400
    default_message = "the origin does not match the relying party"


class SessionDataMissing(IdstoreError):
    """Session data was not provided (an EXTERNAL session completed without it)."""

    code = 384
    http_status = 400
    default_message = "session data not provided"


class SessionDataUnreadable(IdstoreError):
    """Session data cannot be opened (altered, or sealed by another service), or holds no
    challenge: the changelog's "session data is missing the challenge"."""

    code = 386
    http_status = 400
    default_message = "session data is incomplete"


class SessionRelyingPartyMissing(IdstoreError):
    """The session's state names no relying party (sealed by a version that did not keep it)."""

    code = 387
    http_status = 400
    default_message = "session data is missing the relying party ID"


class SessionPolicyNameMissing(IdstoreError):
    """The session's state names no policy. The changelog words 394 for authentication; a
    registration's state without one answers it too, as appkeys answer 1056 for either."""

    code = 394
    http_status = 400
    default_message = "session data is missing the policy name"


class SessionDataNotExpected(IdstoreError):
    """Session data was sent for a relying party whose sessions are INTERNAL, or to the route
    that completes a session by its id (which only INTERNAL sessions have)."""

    code = 388
    http_status = 400
    default_message = "session data given, but sessions are internal"


class ClientResponseMissing(IdstoreError):
    """Neither a client response nor a client failure was provided."""

    code = 395
    http_status = 400
    default_message = "no client response or failure provided"


class ClientFailed(IdstoreError):
    """The client reported that the ceremony failed (user verification failed on the device,
    say); counted as a wrong proof."""

    code = 397
    http_status = 400
    default_message = "the passkey ceremony failed on the client"


class ClientCancelled(IdstoreError):
    """The client reported that the user cancelled the ceremony; audited, not counted."""

    code = 398
    http_status = 400
    default_message = "the passkey ceremony was cancelled on the client"


class ClientTimedOut(IdstoreError):
    """The client reported that the ceremony timed out; audited, not counted."""

    code = 403
    http_status = 400
    default_message = "the passkey ceremony timed out on the client"


# This service's own codes for passkeys, where the changelog has no number.


class PasskeyConfigExists(IdstoreError):
    """The store already has a passkey configuration for that relying party id."""

    code = 3600
    http_status = 409
    default_message = "a passkey configuration for that relying party exists"


class FlagsRefused(IdstoreError):
    """The authenticator data's flags break a rule: user presence missing, user verification
    required but missing, backup state without backup eligibility, or eligibility changed."""

    code = 3601
    http_status = 400
    default_message = "the authenticator flags are refused"


class AlgorithmNotAllowed(IdstoreError):
    """The credential's algorithm is not one the policy offers."""

    code = 3602
    http_status = 400
    default_message = "the credential's algorithm is not allowed"


class AttestationRefused(IdstoreError):
    """The attestation is refused: malformed, `none` with a statement, `none` where the policy
    asks for one, or a statement that does not verify."""

    code = 3603
    http_status = 400
    default_message = "the attestation is refused"


class SignatureInvalid(IdstoreError):
    """The client response does not verify (signature, encoding or structure: clientDataJSON
    naming a member twice or holding NaN or Infinity included)."""

    code = 3604
    http_status = 400
    default_message = "the passkey response does not verify"


class CredentialAlreadyRegistered(IdstoreError):
    """A passkey with that credential id is registered for the relying party already."""

    code = 3605
    http_status = 409
    default_message = "the credential is already registered"


class SessionExpired(IdstoreError):
    """The ceremony finished after its session expired (the policy's `timeoutSeconds`)."""

    code = 3606
    http_status = 400
    default_message = "the passkey session expired"


class RelyingPartyIdRefused(IdstoreError):
    """The relying party id is not a registrable domain (a public suffix such as `com`)."""

    code = 3607
    http_status = 400
    default_message = "the relying party id is a public suffix or not a domain"


class UserHandleTaken(IdstoreError):
    """The registration's user handle names another user of the store for the relying party: a
    registration of that user completed first with the same handle. Starting again gives a new
    handle."""

    code = 3608
    http_status = 409
    default_message = "the user handle names another user; start the registration again"
