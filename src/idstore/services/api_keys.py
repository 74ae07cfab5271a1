"""API keys (spec §2): created and shown once, stored as a keyed hash, blocked, deleted; the
first one made at start; bearer tokens issued for them."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto import apikeys, tokens
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import events
from idstore.services.callers import ANY_OPERATION, Caller, Revocations, permission
from idstore.services.context import Context
from idstore.services.errors import (
    InvalidField,
    PermissionDenied,
    ResourceNotFound,
    Unauthenticated,
)
from idstore.services.paging import Page, PageRequest, fetch_page

log = logging.getLogger(__name__)

DEFAULT_TENANT = "default"
SORTABLE = {
    "createdDtm": tables.api_keys.c.created_dtm,
    "lastUpdatedDtm": tables.api_keys.c.last_updated_dtm,
    "name": tables.api_keys.c.name,
}


class ApiKeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    # Deleted keys keep their row, so that every process learns their tokens are void.
    DELETED = "DELETED"


_STATUS_EVENTS = {
    ApiKeyStatus.ACTIVE: "apiKey.unblocked",
    ApiKeyStatus.BLOCKED: "apiKey.blocked",
    ApiKeyStatus.DELETED: "apiKey.deleted",
}


@dataclass(frozen=True)
class ApiKey:
    """An API key as callers see it: never the key itself, which is shown once at creation."""

    id: str
    tenant_id: str
    name: str | None
    permissions: tuple[str, ...]
    status: ApiKeyStatus
    created_dtm: datetime
    last_updated_dtm: datetime


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
    name: str | None = None,
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
            name=name,
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


async def create_for_caller(
    database: Database,
    keyring: KeyRing,
    caller: Caller,
    ctx: Context,
    *,
    name: str | None,
    permissions: tuple[str, ...],
) -> tuple[ApiKey, str]:
    """A new key in the caller's tenant, with permissions the caller holds itself.

    Raises InvalidField (9002) naming `permissions` for anything outside that.
    """
    refused = [granted for granted in permissions if not caller.can_grant(granted)]
    if refused:
        raise InvalidField.of(
            "permissions", f"not within what this caller holds in its tenant: {refused[0]}"
        )
    async with database.transaction() as conn:
        key_id, key = await create_api_key(
            conn,
            keyring,
            tenant_id=caller.tenant_id,
            permissions=permissions,
            now=ctx.now,
            name=name,
        )
        created = await _find(conn, caller, key_id)
        await events.record(conn, ctx, "apiKey.created", store_id=None, subject_id=key_id)
    log.info("api_key.created", extra={"api_key_id": key_id, "caller": caller.api_key_id})
    return created, key


async def list_api_keys(database: Database, caller: Caller, request: PageRequest) -> Page[ApiKey]:
    """The caller's tenant's keys (deleted ones left out)."""
    keys = tables.api_keys.c
    query = select(tables.api_keys).where(
        keys.tenant_id == caller.tenant_id, keys.status != str(ApiKeyStatus.DELETED)
    )
    async with database.transaction(write=False) as conn:
        return await fetch_page(
            conn, query, request=request, sortable=SORTABLE, tiebreak=keys.id, convert=_from_row
        )


async def get_api_key(database: Database, caller: Caller, key_id: str) -> ApiKey:
    """Raises ResourceNotFound (9011) for a key that is deleted or of another tenant."""
    async with database.transaction(write=False) as conn:
        return await _find(conn, caller, key_id)


async def set_status(
    database: Database,
    caller: Caller,
    ctx: Context,
    key_id: str,
    *,
    status: ApiKeyStatus | None,
    revocations: Revocations,
) -> ApiKey:
    """Block, unblock or delete a key of the caller's tenant. Unblocking voids the tokens issued
    before, so that tokens stolen with a leaked key stay dead.

    Blocking a blocked key or unblocking an active one changes nothing: no event, and above
    all no tokens voided, so that a retried or idempotent-looking call logs no client out. No
    status (an update of `{}`) changes nothing either, after the same checks.

    Raises 9011, and 9004 when the key holds permissions the caller does not hold itself: a
    caller may not shut out, or bring back, a key more powerful than itself.
    """
    async with database.transaction() as conn:
        # Locked: a delete and an unblock at once must not undo each other (DELETED is final).
        key = await _find(conn, caller, key_id, for_update=True)
        if not all(map(caller.can_grant, key.permissions)):
            raise PermissionDenied("the key holds permissions this caller does not hold")
        if status is None or key.status is status:
            return key

        now = ctx.now
        changes: dict[str, Any] = {"status": str(status), "last_updated_dtm": now}
        if status is ApiKeyStatus.ACTIVE:
            changes["tokens_not_before"] = now
        await conn.execute(
            update(tables.api_keys).where(tables.api_keys.c.id == key.id).values(changes)
        )
        await events.record(conn, ctx, _STATUS_EVENTS[status], store_id=None, subject_id=key.id)
    if status is ApiKeyStatus.ACTIVE:
        revocations.restore(key.id, not_before=now)
    else:
        revocations.add(key.id)
    log.info("api_key.status_changed", extra={"api_key_id": key.id, "status": str(status)})
    return dataclasses.replace(key, status=status, last_updated_dtm=now)


async def _rehash(database: Database, keyring: KeyRing, *, key_id: str, api_key: str) -> None:
    """After a key rotation, a key's hash moves to the current ring key when it is next used,
    so that older ring keys can eventually be retired."""
    hash_key_id, key_hash = apikeys.hash_api_key(keyring, api_key)
    async with database.transaction() as conn:
        await conn.execute(
            update(tables.api_keys)
            .where(tables.api_keys.c.id == key_id)
            .values(hash_key_id=hash_key_id, key_hash=key_hash)
        )


async def _find(
    conn: AsyncConnection, caller: Caller, key_id: str, *, for_update: bool = False
) -> ApiKey:
    keys = tables.api_keys.c
    query = select(tables.api_keys).where(
        keys.id == key_id,
        keys.tenant_id == caller.tenant_id,
        keys.status != str(ApiKeyStatus.DELETED),
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise ResourceNotFound("API key not found")
    return _from_row(row)


def _from_row(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        permissions=tuple(row.permissions),
        status=ApiKeyStatus(row.status),
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
    )


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
        _, key = await create_api_key(
            conn,
            keyring,
            tenant_id=DEFAULT_TENANT,
            permissions=(permission(DEFAULT_TENANT, ANY_OPERATION),),
            now=now,
            name="bootstrap",
            api_key=api_key,
            is_bootstrap=True,
        )
    log.info("api_key.bootstrapped", extra={"tenant_id": DEFAULT_TENANT})
    return key


async def issue_token(
    database: Database, keyring: KeyRing, *, api_key: str, now: datetime, ttl_seconds: int
) -> IssuedToken:
    """Exchange an active API key for a bearer token. Raises Unauthenticated (9003)."""
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
    if row.hash_key_id != keyring.current_key_id:
        await _rehash(database, keyring, key_id=row.id, api_key=api_key)

    token = tokens.issue_token(
        keyring,
        api_key_id=row.id,
        tenant_id=row.tenant_id,
        permissions=tuple(row.permissions),
        now=now,
        ttl_seconds=ttl_seconds,
    )
    return IssuedToken(token=token, ttl_seconds=ttl_seconds)
