"""Callers (spec §2): API keys, the first one made at start, and bearer tokens issued for them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto import apikeys, tokens
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services.errors import PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)

DEFAULT_TENANT = "default"
PERMISSION_PREFIX = "TNT#{tenant}#IdentityStore:"


class ApiKeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"


@dataclass(frozen=True)
class Caller:
    """A verified bearer: which API key, which tenant, which permissions."""

    api_key_id: str
    tenant_id: str
    permissions: tuple[str, ...]

    def require(self, operation: str) -> None:
        """Raises PermissionDenied (9004) unless the caller may run `operation` in its tenant."""
        prefix = PERMISSION_PREFIX.format(tenant=self.tenant_id)
        if prefix + operation not in self.permissions and prefix + "*" not in self.permissions:
            raise PermissionDenied(f"missing permission {prefix}{operation}")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    ttl_seconds: int


async def create_api_key(
    conn: AsyncConnection,
    keyring: KeyRing,
    *,
    tenant_id: str,
    permissions: tuple[str, ...],
    now: datetime,
    api_key: str | None = None,
    is_bootstrap: bool = False,
) -> tuple[str, str]:
    """Store a new key (only its keyed hash) and return (its id, the key itself, shown once)."""
    api_key = api_key or apikeys.generate_api_key()
    hash_key_id, key_hash = apikeys.hash_api_key(keyring, api_key)
    key_id = new_id()
    await conn.execute(
        insert(tables.api_keys).values(
            id=key_id,
            lookup_id=apikeys.lookup_id(api_key),
            tenant_id=tenant_id,
            name="bootstrap" if is_bootstrap else None,
            permissions=list(permissions),
            status=str(ApiKeyStatus.ACTIVE),
            hash_key_id=hash_key_id,
            key_hash=key_hash,
            is_bootstrap=is_bootstrap,
            created_dtm=now,
            last_updated_dtm=now,
        )
    )
    return key_id, api_key


async def bootstrap(
    database: Database, keyring: KeyRing, *, now: datetime, api_key: str | None
) -> str | None:
    """On an empty database, create the first key for tenant `default` with every permission.

    Uses `api_key` when given (at least 32 characters); returns the key when this call made one,
    so that it can be shown once, and None when the database already has keys.
    """
    if api_key is not None and len(api_key) < apikeys.MIN_API_KEY_LENGTH:
        raise ValueError(
            f"the bootstrap API key must be at least {apikeys.MIN_API_KEY_LENGTH} characters"
        )
    async with database.transaction() as conn:
        if (await conn.execute(select(tables.api_keys.c.id).limit(1))).first() is not None:
            return None
        permission = PERMISSION_PREFIX.format(tenant=DEFAULT_TENANT) + "*"
        _, key = await create_api_key(
            conn,
            keyring,
            tenant_id=DEFAULT_TENANT,
            permissions=(permission,),
            now=now,
            api_key=api_key,
            is_bootstrap=True,
        )
    log.info("api_key.bootstrapped", extra={"tenant_id": DEFAULT_TENANT})
    return key


async def issue_token(
    database: Database, keyring: KeyRing, *, api_key: str, now: datetime, ttl_seconds: int
) -> IssuedToken:
    """Exchange an API key for a bearer token. Raises Unauthenticated (9003)."""
    async with database.transaction(write=False) as conn:
        row = (
            await conn.execute(
                select(tables.api_keys).where(
                    tables.api_keys.c.lookup_id == apikeys.lookup_id(api_key)
                )
            )
        ).first()

    known = row is not None and apikeys.api_key_matches(
        keyring, api_key, key_id=row.hash_key_id, stored_hash=row.key_hash
    )
    if row is None or not known or row.status != ApiKeyStatus.ACTIVE:
        raise Unauthenticated("the API key is not valid")

    token = tokens.issue_token(
        keyring,
        api_key_id=row.id,
        tenant_id=row.tenant_id,
        permissions=tuple(row.permissions),
        now=now,
        ttl_seconds=ttl_seconds,
    )
    return IssuedToken(token=token, ttl_seconds=ttl_seconds)


def caller_from_token(keyring: KeyRing, token: str, *, now: datetime) -> Caller:
    """Verify a bearer token. Raises Unauthenticated (9003)."""
    try:
        claims = tokens.read_token(keyring, token, now=now)
    except tokens.InvalidToken as exc:
        raise Unauthenticated("the bearer token is not valid") from exc
    return Caller(
        api_key_id=claims.api_key_id, tenant_id=claims.tenant_id, permissions=claims.permissions
    )
