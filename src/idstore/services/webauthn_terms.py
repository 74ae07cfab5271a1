"""What judging a WebAuthn response expects and yields, apart from py_webauthn (issue 5).

The sessions, the passkey rows and the attempts speak of these at every request; py_webauthn,
cbor2 and the public suffix list are needed only to judge a response or to draw up a
ceremony's options. Keeping these terms free of them lets a worker start without those
libraries (about 7 MB of its memory) and load them on the first passkey request
(webauthn_checks; docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idstore.services.errors import IdstoreError
from idstore.services.models import PasskeyPolicy
from idstore.services.passkey_errors import (
    ClientCancelled,
    ClientFailed,
    ClientResponseMissing,
    ClientTimedOut,
)


@dataclass(frozen=True)
class Expected:
    """What the session and configuration expect of a response."""

    rp_id: str
    challenge: bytes
    restricted_origins: tuple[str, ...]
    policy: PasskeyPolicy


@dataclass(frozen=True)
class NewCredential:
    """A verified registration: what the passkey row and its registration audit keep."""

    credential_id: str
    public_key: bytes
    algorithm: int
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backup_state: bool
    user_verified: bool
    attestation_format: str
    origin: str
    flags: int


@dataclass(frozen=True)
class VerifiedAssertion:
    sign_count: int
    backup_state: bool
    user_verified: bool


_CLIENT_FAILURES: dict[str, type[IdstoreError]] = {
    "FAILED": ClientFailed,
    "CANCELLED": ClientCancelled,
    "TIMED_OUT": ClientTimedOut,
}


def client_response_of(
    client_response: dict[str, Any] | None, client_failure: str | None
) -> dict[str, Any]:
    """The credential the browser answered. Raises 397, 398 or 403 for the failure the client
    reported instead, and ClientResponseMissing (395) when the request carries neither."""
    if client_failure is not None:
        raise _CLIENT_FAILURES[client_failure]()
    if client_response is None:
        raise ClientResponseMissing()
    return client_response
