"""Who may call (spec §2): a verified bearer token, its permissions, and revoked API keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select

from idstore.crypto import tokens
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.errors import PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)

PERMISSION_PREFIX = "TNT#{tenant}#IdentityStore:"
ANY_OPERATION = "*"
ACTIVE = "ACTIVE"

# How often each process re-reads the keys blocked or deleted: tokens issued from such a key stop
# working on every process within this period plus one request's time.
REVOCATION_REFRESH_SECONDS = 2.0


def permission(tenant_id: str, operation: str) -> str:
    return PERMISSION_PREFIX.format(tenant=tenant_id) + operation


@dataclass(frozen=True)
class Caller:
    """A verified bearer: which API key, which tenant, which permissions."""

    api_key_id: str
    tenant_id: str
    permissions: tuple[str, ...]

    def may(self, operation: str) -> bool:
        granted = set(self.permissions)
        return bool(
            {permission(self.tenant_id, operation), permission(self.tenant_id, ANY_OPERATION)}
            & granted
        )

    def require(self, operation: str) -> None:
        """Raises PermissionDenied (9004) unless the caller may run `operation` in its tenant."""
        if not self.may(operation):
            raise PermissionDenied(f"missing permission {permission(self.tenant_id, operation)}")

    def can_grant(self, granted: str) -> bool:
        """A caller hands on only what it holds itself, and only within its own tenant."""
        prefix = PERMISSION_PREFIX.format(tenant=self.tenant_id)
        if not granted.startswith(prefix):
            return False
        return self.may(granted.removeprefix(prefix))


class Revocations:
    """The API keys blocked or deleted, and since when the others' tokens count, as this process
    last read them from the database."""

    def __init__(self) -> None:
        self._revoked: frozenset[str] = frozenset()
        self._not_before: dict[str, int] = {}
        # The changes this process made while a refresh was reading: the refresh's rows may
        # predate them, so they are applied again on top of what it read.
        self._made_while_reading: list[Callable[[], None]] | None = None

    def void(self, api_key_id: str, issued_at_ms: int) -> bool:
        """Whether a token of this key, issued at `issued_at_ms` (Unix ms), no longer counts."""
        return api_key_id in self._revoked or issued_at_ms < self._not_before.get(api_key_id, 0)

    def add(self, api_key_id: str) -> None:
        """A key this process itself blocked or deleted stops at once here."""
        self._apply(partial(self._revoke, api_key_id))

    def restore(self, api_key_id: str, *, not_before: datetime) -> None:
        """A key this process unblocked: only tokens issued from now on count."""
        self._apply(partial(self._reinstate, api_key_id, _milliseconds(not_before)))

    def _apply(self, change: Callable[[], None]) -> None:
        change()
        if self._made_while_reading is not None:
            self._made_while_reading.append(change)

    def _revoke(self, api_key_id: str) -> None:
        self._revoked = self._revoked | {api_key_id}

    def _reinstate(self, api_key_id: str, not_before_ms: int) -> None:
        self._revoked = self._revoked - {api_key_id}
        self._not_before = {**self._not_before, api_key_id: not_before_ms}

    async def refresh(self, database: Database, *, changed_since: datetime) -> None:
        """Read the keys changed since `changed_since`: a key blocked or deleted before that
        has no token left to void, for no token outlives its TTL and none is issued to it."""
        keys = tables.api_keys.c
        made_while_reading = self._made_while_reading = []
        try:
            async with database.transaction(write=False, housekeeping=True) as conn:
                rows = (
                    await conn.execute(
                        select(keys.id, keys.status, keys.tokens_not_before).where(
                            keys.last_updated_dtm >= changed_since,
                            (keys.status != ACTIVE) | keys.tokens_not_before.is_not(None),
                        )
                    )
                ).all()
        finally:
            self._made_while_reading = None

        self._revoked = frozenset(row.id for row in rows if row.status != ACTIVE)
        self._not_before = {
            row.id: _milliseconds(row.tokens_not_before)
            for row in rows
            if row.tokens_not_before is not None
        }
        # A key blocked here while the rows were on their way must not come back to life until
        # the next refresh: the block is committed, but the read may have begun before it.
        for change in made_while_reading:
            change()

    async def keep_fresh(self, database: Database, *, window: Callable[[], datetime]) -> None:
        """Refresh for as long as the process serves; a failed read keeps the last list.
        `window` tells the instant before which changes no longer matter."""
        while True:
            await asyncio.sleep(REVOCATION_REFRESH_SECONDS)
            try:
                await self.refresh(database, changed_since=window())
            except Exception:  # the next round tries again; requests go on meanwhile
                log.warning("api_key.revocations_unavailable", exc_info=True)


def _milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class VerifiedTokens:
    """Callers of the tokens this process has verified, so that a caller's every request does
    not check the same signature again. Expiry and revocation are still checked on every use;
    a changed key ring empties it (a token signed with a removed key must fail at once)."""

    MAX_TOKENS = 10_000

    def __init__(self) -> None:
        self._ring: KeyRing | None = None
        self._claims: dict[str, tokens.TokenClaims] = {}

    def claims(self, keyring: KeyRing, token: str, *, now: datetime) -> tokens.TokenClaims:
        if keyring is not self._ring:
            self._ring, self._claims = keyring, {}
        known = self._claims.get(token)
        if known is not None and known.expires_at > now.timestamp():
            return known
        claims = tokens.read_token(keyring, token, now=now)
        if len(self._claims) >= self.MAX_TOKENS:
            self._claims.clear()  # simple and bounded: a burst of new tokens refills it
        self._claims[token] = claims
        return claims


def caller_from_token(
    keyring: KeyRing,
    token: str,
    *,
    now: datetime,
    revocations: Revocations,
    verified: VerifiedTokens | None = None,
) -> Caller:
    """Verify a bearer token and that its API key still stands. Raises Unauthenticated (9003)."""
    try:
        if verified is None:
            claims = tokens.read_token(keyring, token, now=now)
        else:
            claims = verified.claims(keyring, token, now=now)
    except tokens.ExpiredToken as exc:
        raise Unauthenticated("the bearer token expired: issue a new one") from exc
    except tokens.InvalidToken as exc:
        raise Unauthenticated("the bearer token is not valid") from exc
    if revocations.void(claims.api_key_id, claims.issued_at_ms):
        raise Unauthenticated("the API key of this token is blocked, deleted or was unblocked")
    return Caller(
        api_key_id=claims.api_key_id, tenant_id=claims.tenant_id, permissions=claims.permissions
    )
