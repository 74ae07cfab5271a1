"""Ceremony sessions kept by any authenticator kind (passkeys, appkeys): single use, sealed.

A session's state is sealed with the key ring in both modes. INTERNAL sessions keep it in their
row and answer a `sessionId`; EXTERNAL ones hand it to the caller as `sessionData`
(`{sessionId}.{sealed, base64url}`) and keep a row without it, so that a session is single use
in both: completing one deletes its row, and the delete's row count decides (two completions at
once: one deletes, the other finds nothing). Each kind has its own table of the same shape and
its own error codes for session data that is missing, unreadable or not expected.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.services.errors import IdstoreError, ResourceNotFound
from idstore.services.models import SessionManagement
from idstore.timestamps import format_dtm

log = logging.getLogger(__name__)

# A session's `ceremony`, as its row and the audit records name it, for every kind.
REGISTRATION = "REGISTRATION"
AUTHENTICATION = "AUTHENTICATION"

# Sessions never completed are swept by later starts of the store, this long after they expire;
# until then a late completion still answers "expired" rather than 9011.
SWEEP_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class SessionKind:
    """Where one authenticator kind keeps its sessions, and the codes it answers for their faults.

    `missing`: an EXTERNAL session completed without `sessionData`; `unreadable`: `sessionData`
    that does not open (altered, or sealed by another service); `not_expected`: `sessionData`
    sent for an INTERNAL session.
    """

    name: str
    table: Table
    missing: type[IdstoreError]
    unreadable: type[IdstoreError]
    not_expected: type[IdstoreError]

    def context(self, session_id: str) -> str:
        return f"{self.name}-session:{session_id}"


class CeremonyState(Protocol):
    """What every kind's session state (a frozen dataclass) holds for its row."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def session_id(self) -> str: ...
    @property
    def ceremony(self) -> str: ...
    @property
    def rp_id(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def expiration_dtm(self) -> datetime: ...


State = TypeVar("State", bound=CeremonyState)


@dataclass(frozen=True)
class StartedSession(Generic[State]):
    """A session as the caller receives it: one of `session_id` and `session_data`."""

    state: State
    session_id: str | None
    session_data: str | None


@dataclass(frozen=True)
class NewSession:
    """A session's row values other than the sealed state."""

    session_id: str
    store_id: str
    user_id: str | None
    rp_id: str
    ceremony: str
    now: datetime
    expiration_dtm: datetime


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raises ValueError for text that is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


async def start_session(
    conn: AsyncConnection,
    keyring: KeyRing,
    kind: SessionKind,
    state: State,
    *,
    store_id: str,
    mode: SessionManagement,
    now: datetime,
) -> StartedSession[State]:
    """Keep a new session of the store with its `state` (insert_session), and answer it as the
    configuration's `mode` asks: INTERNAL by its `sessionId`, EXTERNAL by its `sessionData`."""
    row = NewSession(
        session_id=state.session_id,
        store_id=store_id,
        user_id=state.user_id,
        rp_id=state.rp_id,
        ceremony=state.ceremony,
        now=now,
        expiration_dtm=state.expiration_dtm,
    )
    is_internal = mode is SessionManagement.INTERNAL
    session_data = await insert_session(
        conn, keyring, kind, row, state=encode_state(state), is_internal=is_internal
    )
    session_id = state.session_id if is_internal else None
    return StartedSession(state, session_id=session_id, session_data=session_data)


def encode_state(state: CeremonyState) -> bytes:
    """The state as compact JSON, its fields in their order, `expiration_dtm` as the contract
    writes instants; each kind decodes its own (the names it checks differ)."""
    values = asdict(state)
    values["expiration_dtm"] = format_dtm(state.expiration_dtm)
    return json.dumps(values, separators=(",", ":")).encode()


async def insert_session(
    conn: AsyncConnection,
    keyring: KeyRing,
    kind: SessionKind,
    session: NewSession,
    *,
    state: bytes,
    is_internal: bool,
) -> str | None:
    """Keep the session, its state sealed in the row (INTERNAL) or for the caller (EXTERNAL:
    answers the `sessionData`). Sweeps the store's sessions expired more than SWEEP_AFTER ago."""
    table = kind.table
    await conn.execute(
        delete(table).where(
            table.c.store_id == session.store_id,
            table.c.expiration_dtm < session.now - SWEEP_AFTER,
        )
    )
    sealed = keyring.seal(state, context=kind.context(session.session_id))
    await conn.execute(
        insert(table).values(
            id=session.session_id,
            store_id=session.store_id,
            user_id=session.user_id,
            rp_id=session.rp_id,
            ceremony=session.ceremony,
            state_sealed=sealed if is_internal else None,
            created_dtm=session.now,
            expiration_dtm=session.expiration_dtm,
        )
    )
    return None if is_internal else f"{session.session_id}.{b64url(sealed)}"


async def take_session(
    conn: AsyncConnection,
    keyring: KeyRing,
    kind: SessionKind,
    *,
    store_id: str,
    ceremony: str,
    session_id: str | None,
    session_data: str | None,
) -> tuple[str, bytes]:
    """Open the session, then delete it, and answer its id and opened state, expired or not:
    once taken, it is used up whatever happens next. A request whose session data is missing,
    not expected or cannot be opened takes nothing: it proves no hold on the session, and must
    not let whoever knows a session id use it up. The caller commits the delete with its outcome.

    Raises ResourceNotFound (9011: unknown, of another ceremony, or used already), and the
    kind's `missing`, `unreadable` and `not_expected` errors.
    """
    sealed_given, session_id = _split_session_data(kind, session_data, session_id)
    table = kind.table
    this_session = (
        table.c.id == session_id,
        table.c.store_id == store_id,
        table.c.ceremony == ceremony,
    )
    row = (await conn.execute(select(table.c.state_sealed).where(*this_session))).first()
    if row is None:
        raise ResourceNotFound(f"{kind.name} session not found, or already used")
    if row.state_sealed is not None and sealed_given is not None:
        raise kind.not_expected()
    if row.state_sealed is None and sealed_given is None:
        raise kind.missing()
    plain = _open(keyring, kind, sealed_given or row.state_sealed, session_id)

    # The DELETE's row count decides: of two completions at once, only one takes the session.
    taken = await conn.execute(delete(table).where(*this_session))
    if taken.rowcount != 1:
        raise ResourceNotFound(f"{kind.name} session not found, or already used")
    return session_id, plain


def _split_session_data(
    kind: SessionKind, session_data: str | None, session_id: str | None
) -> tuple[bytes | None, str]:
    if session_data is None:
        if session_id is None:
            raise kind.missing()
        return None, session_id
    given_id, _, sealed_text = session_data.partition(".")
    try:
        sealed = b64url_decode(sealed_text)
    except ValueError:
        raise kind.unreadable() from None
    if not given_id or not sealed or (session_id is not None and session_id != given_id):
        raise kind.unreadable()
    return sealed, given_id


def _open(keyring: KeyRing, kind: SessionKind, sealed: bytes, session_id: str) -> bytes:
    try:
        return keyring.open(sealed, context=kind.context(session_id))
    except (SealBroken, ValueError):
        log.warning(f"{kind.name}.session_unreadable", extra={"session_id": session_id})
        raise kind.unreadable() from None
