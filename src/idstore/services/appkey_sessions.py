"""Appkey ceremony sessions (spec §10): the challenge and what the completion must check.

Kept, sealed and used up as services/ceremony_sessions.py keeps every kind's sessions, in the
`appkey_sessions` table, with the appkey codes for session data (1009, 1011, 1014). The state
names the relying party (1012 when it is missing), the policy (1056) and, for a registration,
the device the app named.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services.appkey_errors import (
    AppkeySessionDataMissing,
    AppkeySessionDataNotExpected,
    AppkeySessionDataUnreadable,
    AppkeySessionExpired,
    AppkeySessionPolicyNameMissing,
    AppkeySessionRelyingPartyGone,
)
from idstore.services.ceremony_sessions import (
    SessionKind,
    StartedSession,
    b64url,
    start_session,
    take_session,
)
from idstore.services.models import SessionManagement

# UAF 1.1 asks for a challenge of at least 8 bytes; 32 random bytes as passkeys use.
CHALLENGE_BYTES = 32

APPKEY_SESSIONS = SessionKind(
    name="appkey",
    table=tables.appkey_sessions,
    missing=AppkeySessionDataMissing,
    unreadable=AppkeySessionDataUnreadable,
    not_expected=AppkeySessionDataNotExpected,
)


@dataclass(frozen=True)
class AppkeySession:
    """What a ceremony's completion checks against. The challenge is base64url text, as the
    UAF request carried it; `transaction_hash` the base64url SHA-256 of the transaction text a
    sign-in asked the authenticator to show, which its assertion must sign (None: no text)."""

    session_id: str
    ceremony: str
    rp_id: str
    policy_name: str
    challenge: str
    user_id: str | None
    device_id: str | None
    device_name: str | None
    expiration_dtm: datetime
    transaction_hash: str | None = None

    def check_live(self, now: datetime) -> None:
        """Raises AppkeySessionExpired (3720) past the policy's `timeoutSeconds`."""
        if self.expiration_dtm <= now:
            raise AppkeySessionExpired()


@dataclass(frozen=True)
class SessionStart:
    """What a ceremony's start knows of its session."""

    store_id: str
    mode: SessionManagement
    ceremony: str
    rp_id: str
    policy_name: str
    user_id: str | None
    timeout_seconds: int
    device_id: str | None = None
    device_name: str | None = None
    transaction_hash: bytes | None = None


async def start(
    conn: AsyncConnection, keyring: KeyRing, begun: SessionStart, *, now: datetime
) -> StartedSession[AppkeySession]:
    """Insert a session with a fresh challenge; answer it as the configuration's mode asks."""
    state = AppkeySession(
        session_id=new_id(),
        ceremony=begun.ceremony,
        rp_id=begun.rp_id,
        policy_name=begun.policy_name,
        challenge=b64url(secrets.token_bytes(CHALLENGE_BYTES)),
        user_id=begun.user_id,
        device_id=begun.device_id,
        device_name=begun.device_name,
        expiration_dtm=now + timedelta(seconds=begun.timeout_seconds),
        transaction_hash=None if begun.transaction_hash is None else b64url(begun.transaction_hash),
    )
    return await start_session(
        conn, keyring, APPKEY_SESSIONS, state, store_id=begun.store_id, mode=begun.mode, now=now
    )


async def consume(
    conn: AsyncConnection,
    keyring: KeyRing,
    *,
    store_id: str,
    ceremony: str,
    session_id: str | None,
    session_data: str | None,
) -> AppkeySession:
    """Delete the session and answer its state, expired or not (the caller judges the expiry
    once it knows whom to audit). Session data missing, unreadable or not expected leaves the
    session as it was. The caller commits the delete with its outcome.

    Raises ResourceNotFound (9011: unknown, of another ceremony, or used already),
    AppkeySessionDataMissing (1009), AppkeySessionDataUnreadable (1011),
    AppkeySessionRelyingPartyGone (1012: a state without a relying party),
    AppkeySessionDataNotExpected (1014) and AppkeySessionPolicyNameMissing (1056).
    """
    if session_id is not None and session_data is not None:
        raise AppkeySessionDataNotExpected("sessionData given for a session completed by id")
    _, plain = await take_session(
        conn,
        keyring,
        APPKEY_SESSIONS,
        store_id=store_id,
        ceremony=ceremony,
        session_id=session_id,
        session_data=session_data,
    )
    return _decode(plain)


def _decode(plain: bytes) -> AppkeySession:
    # The seal vouches for the bytes; the names are checked because a state sealed by another
    # version of the service may lack one, and each missing one has its changelog code. Plain
    # json.loads, not strict_json: sealed bytes are the service's own json.dumps (encode_state),
    # which names each key once and holds no NaN; only JSON a client writes is read strictly.
    values = json.loads(plain)
    if not values.get("challenge"):
        raise AppkeySessionDataUnreadable()
    if not values.get("rp_id"):
        raise AppkeySessionRelyingPartyGone("session data is missing the relying party ID")
    if not values.get("policy_name"):
        raise AppkeySessionPolicyNameMissing()
    values["expiration_dtm"] = datetime.fromisoformat(values["expiration_dtm"])
    return AppkeySession(**values)
