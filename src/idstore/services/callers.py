"""Who may call (spec §2): a verified bearer token, its permissions, and revoked API keys."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

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
    """The API keys blocked or deleted, as this process last read them from the database."""

    def __init__(self) -> None:
        self._revoked: frozenset[str] = frozenset()

    def holds(self, api_key_id: str) -> bool:
        return api_key_id in self._revoked

    def add(self, api_key_id: str) -> None:
        """A key this process itself blocked or deleted stops at once here."""
        self._revoked = self._revoked | {api_key_id}

    async def refresh(self, database: Database) -> None:
        async with database.transaction(write=False, housekeeping=True) as conn:
            rows = await conn.execute(
                select(tables.api_keys.c.id).where(tables.api_keys.c.status != ACTIVE)
            )
            self._revoked = frozenset(row.id for row in rows)

    async def keep_fresh(self, database: Database) -> None:
        """Refresh for as long as the process serves; a failed read keeps the last list."""
        while True:
            await asyncio.sleep(REVOCATION_REFRESH_SECONDS)
            try:
                await self.refresh(database)
            except Exception:  # the next round tries again; requests go on meanwhile
                log.warning("api_key.revocations_unavailable", exc_info=True)


def caller_from_token(
    keyring: KeyRing, token: str, *, now: datetime, revocations: Revocations
) -> Caller:
    """Verify a bearer token and that its API key still stands. Raises Unauthenticated (9003)."""
    try:
        claims = tokens.read_token(keyring, token, now=now)
    except tokens.InvalidToken as exc:
        raise Unauthenticated("the bearer token is not valid") from exc
    if revocations.holds(claims.api_key_id):
        raise Unauthenticated("the API key of this token is blocked or deleted")
    return Caller(
        api_key_id=claims.api_key_id, tenant_id=claims.tenant_id, permissions=claims.permissions
    )
