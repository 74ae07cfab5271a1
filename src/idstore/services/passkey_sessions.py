"""Passkey ceremony sessions (spec §9): the challenge and what the completion must check.

The state is sealed with the key ring in both modes. INTERNAL sessions keep it in their row and
answer a `sessionId`; EXTERNAL ones hand it to the caller as `sessionData` and keep a row without
it, so that a session is single use in both: completing one deletes its row, and the delete's row
count decides (two completions at once: one deletes, the other finds nothing).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services.errors import ResourceNotFound
from idstore.services.models import SessionManagement
from idstore.services.passkey_errors import (
    SessionDataMissing,
    SessionDataNotExpected,
    SessionDataUnreadable,
    SessionExpired,
)
from idstore.timestamps import format_dtm

log = logging.getLogger(__name__)

# WebAuthn asks for at least 16 random bytes; 32 leave a wide margin.
CHALLENGE_BYTES = 32
# Sessions never completed are swept by later starts of the store, this long after they expire;
# until then a late completion still answers 3606 rather than 9011.
SWEEP_AFTER = timedelta(hours=1)
REGISTRATION = "REGISTRATION"
AUTHENTICATION = "AUTHENTICATION"


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


@dataclass(frozen=True)
class StartedSession:
    """A session as the caller receives it: one of `session_id` and `session_data`."""

    state: SessionState
    session_id: str | None
    session_data: str | None


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raises ValueError for text that is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def _context(session_id: str) -> str:
    return f"passkey-session:{session_id}"


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
) -> StartedSession:
    """Insert a session with a fresh challenge; answer it as the configuration's mode asks.
    Sweeps the store's sessions that expired more than SWEEP_AFTER ago."""
    sessions = tables.passkey_sessions
    await conn.execute(
        delete(sessions).where(
            sessions.c.store_id == store_id, sessions.c.expiration_dtm < now - SWEEP_AFTER
        )
    )
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
    sealed = keyring.seal(_encode(state), context=_context(state.session_id))
    is_internal = mode is SessionManagement.INTERNAL
    await conn.execute(
        insert(tables.passkey_sessions).values(
            id=state.session_id,
            store_id=store_id,
            user_id=user_id,
            rp_id=rp_id,
            ceremony=ceremony,
            state_sealed=sealed if is_internal else None,
            created_dtm=now,
            expiration_dtm=state.expiration_dtm,
        )
    )
    if is_internal:
        return StartedSession(state, session_id=state.session_id, session_data=None)
    return StartedSession(
        state, session_id=None, session_data=f"{state.session_id}.{b64url(sealed)}"
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
    SessionDataMissing (384), SessionDataUnreadable (386) and SessionDataNotExpected (388).
    The caller commits the delete with its outcome.
    """
    sealed_given, session_id = _split_session_data(completion.session_data, completion.session_id)
    sessions = tables.passkey_sessions
    # One DELETE … RETURNING reads and removes: of two completions at once, one gets the row.
    row = (
        await conn.execute(
            delete(sessions)
            .where(
                sessions.c.id == session_id,
                sessions.c.store_id == store_id,
                sessions.c.ceremony == ceremony,
            )
            .returning(sessions.c.state_sealed)
        )
    ).first()
    if row is None:
        raise ResourceNotFound("passkey session not found, or already used")

    if row.state_sealed is not None and sealed_given is not None:
        raise SessionDataNotExpected()
    if row.state_sealed is None and sealed_given is None:
        raise SessionDataMissing()
    return _open(keyring, sealed_given or row.state_sealed, session_id)


def _split_session_data(
    session_data: str | None, session_id: str | None
) -> tuple[bytes | None, str]:
    if session_data is None:
        if session_id is None:
            raise SessionDataMissing()
        return None, session_id
    given_id, _, sealed_text = session_data.partition(".")
    try:
        sealed = b64url_decode(sealed_text)
    except ValueError:
        raise SessionDataUnreadable() from None
    if not given_id or not sealed or (session_id is not None and session_id != given_id):
        raise SessionDataUnreadable()
    return sealed, given_id


def _open(keyring: KeyRing, sealed: bytes, session_id: str) -> SessionState:
    try:
        plain = keyring.open(sealed, context=_context(session_id))
    except (SealBroken, ValueError):
        log.warning("passkey.session_unreadable", extra={"session_id": session_id})
        raise SessionDataUnreadable() from None
    return _decode(plain)


def _encode(state: SessionState) -> bytes:
    values = asdict(state)
    values["allowed_credentials"] = list(state.allowed_credentials)
    values["expiration_dtm"] = format_dtm(state.expiration_dtm)
    return json.dumps(values, separators=(",", ":")).encode()


def _decode(plain: bytes) -> SessionState:
    values = json.loads(plain)
    values["allowed_credentials"] = tuple(values["allowed_credentials"])
    values["expiration_dtm"] = datetime.fromisoformat(values["expiration_dtm"])
    return SessionState(**values)
