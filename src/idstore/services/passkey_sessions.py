"""Passkey ceremony sessions (spec §9): the challenge and what the completion must check.

Kept, sealed and used up as services/ceremony_sessions.py keeps every kind's sessions, in the
`passkey_sessions` table, with the passkey codes for session data (384, 386, 387, 388, 394).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services.ceremony_sessions import (
    SessionKind,
    StartedSession,
    b64url,
    b64url_decode,
    start_session,
    take_session,
)
from idstore.services.models import SessionManagement
from idstore.services.passkey_errors import (
    SessionDataMissing,
    SessionDataNotExpected,
    SessionDataUnreadable,
    SessionExpired,
    SessionPolicyNameMissing,
    SessionRelyingPartyMissing,
)

# WebAuthn asks for at least 16 random bytes; 32 leave a wide margin.
CHALLENGE_BYTES = 32
__all__ = ["b64url", "b64url_decode"]  # imported from here by the passkey modules

PASSKEY_SESSIONS = SessionKind(
    name="passkey",
    table=tables.passkey_sessions,
    missing=SessionDataMissing,
    unreadable=SessionDataUnreadable,
    not_expected=SessionDataNotExpected,
)


@dataclass(frozen=True)
class SessionState:
    """What a ceremony's completion checks against. Byte values are base64url text."""

    session_id: str
    ceremony: str
    rp_id: str
    policy_name: str
    challenge: str
    user_id: str | None
    user_handle: str | None
    allowed_credentials: tuple[str, ...]
    expiration_dtm: datetime

    def challenge_bytes(self) -> bytes:
        return b64url_decode(self.challenge)

    def check_live(self, now: datetime) -> None:
        """Raises SessionExpired (3606) past the policy's `timeoutSeconds`."""
        if self.expiration_dtm <= now:
            raise SessionExpired()


@dataclass(frozen=True)
class Completion:
    """What a completion request carries: the session and the browser's answer."""

    session_id: str | None
    session_data: str | None
    client_response: dict[str, Any] | None
    client_failure: str | None


async def start(
    conn: AsyncConnection,
    keyring: KeyRing,
    *,
    store_id: str,
    mode: SessionManagement,
    ceremony: str,
    rp_id: str,
    policy_name: str,
    user_id: str | None,
    user_handle: str | None,
    allowed_credentials: tuple[str, ...],
    now: datetime,
    timeout_seconds: int,
) -> StartedSession[SessionState]:
    """Insert a session with a fresh challenge; answer it as the configuration's mode asks.
    Sweeps the store's sessions long expired (ceremony_sessions.SWEEP_AFTER)."""
    state = SessionState(
        session_id=new_id(),
        ceremony=ceremony,
        rp_id=rp_id,
        policy_name=policy_name,
        challenge=b64url(secrets.token_bytes(CHALLENGE_BYTES)),
        user_id=user_id,
        user_handle=user_handle,
        allowed_credentials=allowed_credentials,
        expiration_dtm=now + timedelta(seconds=timeout_seconds),
    )
    return await start_session(
        conn, keyring, PASSKEY_SESSIONS, state, store_id=store_id, mode=mode, now=now
    )


async def consume(
    conn: AsyncConnection,
    keyring: KeyRing,
    *,
    store_id: str,
    ceremony: str,
    completion: Completion,
) -> SessionState:
    """Delete the session and answer its state, expired or not: whatever happens next, it is
    used up. The caller judges the expiry (SessionState.check_live) once it knows whom to audit.

    Raises ResourceNotFound (9011: unknown, of another ceremony, or used already),
    SessionDataMissing (384), SessionDataUnreadable (386: also a state without a challenge),
    SessionRelyingPartyMissing (387), SessionDataNotExpected (388: also any `sessionData` sent
    with a session id, as appkeys answer 1014) and SessionPolicyNameMissing (394).
    The caller commits the delete with its outcome.
    """
    if completion.session_id is not None and completion.session_data is not None:
        raise SessionDataNotExpected(
            "sessionData given, but a session completed by its id is internal"
        )
    _, plain = await take_session(
        conn,
        keyring,
        PASSKEY_SESSIONS,
        store_id=store_id,
        ceremony=ceremony,
        session_id=completion.session_id,
        session_data=completion.session_data,
    )
    return _decode(plain)


def _decode(plain: bytes) -> SessionState:
    # Plain json.loads, not strict_json: the seal proves the service wrote these bytes, with
    # json.dumps of strings and a time (encode_state), which names each key once and holds no
    # NaN, so no two parsers read them differently. JSON a client writes is read strictly.
    # The names are checked because a state sealed by another version of the service may lack
    # one, and each missing one has its changelog code.
    values = json.loads(plain)
    if not values.get("challenge"):
        raise SessionDataUnreadable("session data is missing the challenge")
    if not values.get("rp_id"):
        raise SessionRelyingPartyMissing()
    if not values.get("policy_name"):
        raise SessionPolicyNameMissing()
    values["allowed_credentials"] = tuple(values["allowed_credentials"])
    values["expiration_dtm"] = datetime.fromisoformat(values["expiration_dtm"])
    return SessionState(**values)
