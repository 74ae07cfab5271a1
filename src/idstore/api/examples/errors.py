"""Examples of the error body (spec §1, §8): one per refusal an operation declares."""

from __future__ import annotations

from idstore.api.errors import error_body
from idstore.api.examples import users
from idstore.api.examples.values import POLICY_NAME, REQUEST_ID, STORE_NAME, Json
from idstore.services.errors import (
    CodeAlreadyUsed,
    CodeIncorrect,
    ExternalIdTaken,
    IdstoreError,
    InvalidField,
    ModalityLocked,
    PolicyInUse,
    PolicyNameTaken,
    PolicyNotFound,
    StoreNameTaken,
    StoreNotEmpty,
    StoreNotFound,
    TooManyRequests,
    UserDisabled,
    UserLocked,
    UserNotActive,
    UserNotFound,
)

# The messages the services write, where they are more telling than the class's default.
_MESSAGES: dict[type[IdstoreError], str] = {
    StoreNotFound: f"store {STORE_NAME!r} not found",
    StoreNameTaken: f"store {STORE_NAME!r} already exists",
    ExternalIdTaken: "a user with that external id exists in this store",
    PolicyNameTaken: f"TOTP policy {POLICY_NAME!r} already exists",
    StoreNotEmpty: f"store {STORE_NAME!r} still holds users; delete with ?force=true",
    PolicyNotFound: f"TOTP policy {POLICY_NAME!r} not found",
    PolicyInUse: f"TOTP policy {POLICY_NAME!r} has user TOTPs; delete with ?force=true",
    TooManyRequests: "too many requests from this API key",
}

# The user an attempt's refusal carries, in the state that refusal leaves it.
_ATTEMPT_USERS: dict[type[IdstoreError], Json] = {
    CodeIncorrect: users.USER_AFTER_FAILURE,
    CodeAlreadyUsed: users.USER_AFTER_FAILURE,
    ModalityLocked: users.USER_WITH_TOTP_LOCKED,
    UserLocked: users.USER_TEMP_LOCKED,
    UserDisabled: users.USER_DISABLED,
    UserNotActive: users.USER_PENDING_ACTIVE,
}
# Refused before the attempt begins: there is no user (yet) to show.
_BEFORE_ATTEMPT: tuple[type[IdstoreError], ...] = (StoreNotFound, UserNotFound)


def error_example(refusal: IdstoreError | type[IdstoreError], *, attempt: bool = False) -> Json:
    """The body answering `refusal`: a class speaks with its usual message, an instance with its
    own. In an authentication `attempt`, refusals of the attempt carry the updated user."""
    kind = refusal if isinstance(refusal, type) else type(refusal)
    message = _MESSAGES.get(kind, kind.default_message) if isinstance(refusal, type) else None
    error = refusal(message) if isinstance(refusal, type) else refusal
    body = error_body(error, REQUEST_ID)
    if attempt and error.code < 9000 and not issubclass(kind, _BEFORE_ATTEMPT):
        body["user"] = _ATTEMPT_USERS.get(kind, users.USER)
    return body


# 9002 examples naming the field as the client spells it, with the validator's message.
PAGE_TOO_LARGE = InvalidField.of("size", "Input should be less than or equal to 200")
NUL_IN_STORE_NAME = InvalidField.of("storeName", "Value error, must not contain the NUL character")
