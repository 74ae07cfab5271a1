"""The one error family of the service. Each error carries the contract's numeric code and status.

Services raise these; the API layer alone turns them into HTTP responses. Messages say what is
wrong with the request and never echo a secret or a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from idstore.services.models import User


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request: its name as the client spells it, and what is wrong."""

    field: str
    message: str


class IdstoreError(Exception):
    """Base of every error the contract numbers."""

    code: ClassVar[int] = 9099
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "unexpected server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field_errors: tuple[FieldError, ...] = (),
        user: User | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field_errors = field_errors
        self.user = user
        self.retry_after_seconds = retry_after_seconds
        super().__init__(self.message)

    def with_user(self, user: User) -> IdstoreError:
        """The same refusal, carrying the updated user so the caller sees its lock state."""
        self.user = user
        return self


class InvalidField(IdstoreError):
    """A field is missing or invalid; `field_errors` says which."""

    code = 9002
    http_status = 400
    default_message = "request validation failed"

    @classmethod
    def of(cls, field: str, message: str) -> InvalidField:
        return cls(f"{field}: {message}", field_errors=(FieldError(field, message),))


# Requests and callers (this service's own codes).


class InvalidJson(IdstoreError):
    """Request body is not valid JSON."""

    code = 9001
    http_status = 400
    default_message = "request body is not valid JSON"


class Unauthenticated(IdstoreError):
    """No credentials, or a token or API key that is malformed, expired, revoked or blocked."""

    code = 9003
    http_status = 401
    default_message = "missing or invalid credentials"


class PermissionDenied(IdstoreError):
    """The caller's API key lacks the permission the route needs (docs/permissions.md)."""

    code = 9004
    http_status = 403
    default_message = "the credentials lack the permission"


class TooManyRequests(IdstoreError):
    """Too many requests: of the caller (its API key's rate) or of attempts on one user;
    `Retry-After` says when to retry."""

    code = 9005
    http_status = 429
    default_message = "too many requests"


class RouteNotFound(IdstoreError):
    """No route has that path (the body is the error body, never an HTML page)."""

    code = 9006
    http_status = 404
    default_message = "no such route"


class MethodNotAllowed(IdstoreError):
    """Method not allowed on this route."""

    code = 9007
    http_status = 405
    default_message = "method not allowed on this route"


class UnsupportedMediaType(IdstoreError):
    """Body must be application/json."""

    code = 9008
    http_status = 415
    default_message = "body must be application/json"


class BodyTooLarge(IdstoreError):
    """Request body too large."""

    code = 9009
    http_status = 413
    default_message = "request body too large"


class DatabaseUnavailable(IdstoreError):
    """The database does not answer, or is too busy to answer in time; `Retry-After` says when to
    retry."""

    code = 9010
    http_status = 503
    default_message = "database unavailable; retry later"


class ResourceNotFound(IdstoreError):
    """A resource other than a store, user, policy or TOTP is missing; the message names it (API
    key, audit record…)."""

    code = 9011
    http_status = 404
    default_message = "resource not found"


class UnexpectedError(IdstoreError):
    """Unexpected server error: logged with the request id, never with a trace in the response."""

    code = 9099
    http_status = 500
    default_message = "unexpected server error"


# Stores, users and policies.


class StoreNotFound(IdstoreError):
    """Store not found."""

    code = 3000
    http_status = 404
    default_message = "store not found"


class StoreNameTaken(IdstoreError):
    """A store with that name already exists."""

    code = 3001
    http_status = 409
    default_message = "a store with that name already exists"


class StoreNotEmpty(IdstoreError):
    """The store still holds users: delete them first."""

    code = 3002
    http_status = 409
    default_message = "the store still holds users"


class UserNotFound(IdstoreError):
    """User not found."""

    code = 3100
    http_status = 404
    default_message = "user not found"


class ExternalIdTaken(IdstoreError):
    """External id already used in this store."""

    code = 3101
    http_status = 409
    default_message = "external id already used in this store"


class PolicyNotFound(IdstoreError):
    """TOTP policy not found."""

    code = 3200
    http_status = 404
    default_message = "TOTP policy not found"


class PolicyNameTaken(IdstoreError):
    """A TOTP policy with that name exists."""

    code = 3201
    http_status = 409
    default_message = "a TOTP policy with that name exists"


class PolicyInUse(IdstoreError):
    """The TOTP policy still has user TOTPs: delete them first, or delete with `?force=true`."""

    code = 3202
    http_status = 409
    default_message = "TOTP policy has user TOTPs; use ?force=true"


# User TOTPs and codes.


class RegistrationNotFound(IdstoreError):
    """No TOTP registration for that user and policy."""

    code = 3300
    http_status = 404
    default_message = "no TOTP registration for that user and policy"


class TotpAlreadyRegistered(IdstoreError):
    """The user already has an active TOTP for that policy."""

    code = 3301
    http_status = 409
    default_message = "the user already has a TOTP for that policy"


class RegistrationExpired(IdstoreError):
    """The pending registration expired before it was completed: start a new one."""

    code = 3302
    http_status = 400
    default_message = "the pending registration expired"


class TotpNotFound(IdstoreError):
    """User TOTP not found."""

    code = 3303
    http_status = 404
    default_message = "user TOTP not found"


class TotpNotActive(IdstoreError):
    """The TOTP is pending: complete the registration first."""

    code = 3304
    http_status = 400
    default_message = "the TOTP is not active; complete the registration first"


class StatusChangeNotAllowed(IdstoreError):
    """Status change not allowed (to `PENDING`, or to `ACTIVE` for a TOTP never activated)."""

    code = 3305
    http_status = 400
    default_message = "status change not allowed"


class CodeMalformed(IdstoreError):
    """Code malformed: wrong length or not digits."""

    code = 3400
    http_status = 400
    default_message = "code malformed: wrong length or not digits"


class CodeIncorrect(IdstoreError):
    """Code incorrect: no time step within the policy's drift gives it. Counts as a failure."""

    code = 3401
    http_status = 400
    default_message = "code incorrect"


class CodeAlreadyUsed(IdstoreError):
    """Code already used: its time step is not newer than the last one accepted. Counts as a
    failure."""

    code = 3402
    http_status = 400
    default_message = "code already used"


# The user's standing, numbered by the changelog.


class UserNotActive(IdstoreError):
    """The user is not active (still `PENDING_ACTIVE`): only a registration may be completed."""

    code = 502
    http_status = 400
    default_message = "the user is not active"


class UserLocked(IdstoreError):
    """The user is locked: until the temporary lock ends, or until an administrator unlocks a
    permanent one."""

    code = 2100
    http_status = 400
    default_message = "the user is locked"


class ModalityLocked(IdstoreError):
    """The modality is locked for this user after too many failures, until the lock ends or an
    unlock."""

    code = 2101
    http_status = 400
    default_message = "the modality is locked for this user"


class UserDisabled(IdstoreError):
    """The user is disabled by an administrator."""

    code = 2102
    http_status = 400
    default_message = "the user is disabled"


class AuthenticatorDisabled(IdstoreError):
    """The authenticator (the user's TOTP) is disabled."""

    code = 2103
    http_status = 400
    default_message = "the authenticator is disabled"
