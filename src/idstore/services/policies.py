"""TOTP policies of a store (spec §5.1): defaults, create, read, update, delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.otp import Algorithm
from idstore.services import events
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import (
    InvalidField,
    PolicyInUse,
    PolicyNameTaken,
    PolicyNotFound,
    StoreNotFound,
)
from idstore.services.models import TotpPolicy
from idstore.services.rows import find_store, policy_from_row

# Defaults of spec §5.1; `issuer` (the store's name) and `secret_length` (by algorithm) are
# resolved when a registration starts, so a later change of either follows the policy.
POLICY_DEFAULTS: dict[str, object] = {
    "description": None,
    "algorithm": Algorithm.SHA1,
    "digits": 6,
    "period": 30,
    "issuer": None,
    "drift_steps": 1,
    "secret_length": None,
    "registration_timeout_seconds": 600,
    "allow_secret_retrieval": False,
}

SECRET_LENGTH_BY_ALGORITHM = {Algorithm.SHA1: 20, Algorithm.SHA256: 32, Algorithm.SHA512: 64}

# Every store answer carries all its policies and every TOTP authentication loads them: with no
# bound, one caller could grow a store to megabytes and slow its authentications several times.
MAX_POLICIES_PER_STORE = 100


@dataclass(frozen=True)
class PolicyChanges:
    """Policy fields a request gave, by snake_case name; absent fields are left alone."""

    values: dict[str, Any] = field(default_factory=dict)


def effective_secret_length(policy: TotpPolicy) -> int:
    return policy.secret_length or SECRET_LENGTH_BY_ALGORITHM[policy.algorithm]


def effective_issuer(policy: TotpPolicy, store_name: str) -> str:
    return policy.issuer or store_name


def _shown(policy: TotpPolicy, field: str, store_name: str) -> Any:
    """The value of a field as the policy shows it, defaults filled in."""
    if field == "issuer":
        return effective_issuer(policy, store_name)
    if field == "secret_length":
        return effective_secret_length(policy)
    return getattr(policy, field)


async def create_policy(
    database: Database, ctx: Context, *, store_name: str, name: str, changes: PolicyChanges
) -> TotpPolicy:
    """Create a policy; absent fields take their defaults. Raises 3000, 3201, 9002 (too many)."""
    async with database.transaction() as conn:
        # Locked, so that two creates cannot both take the last place.
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name, for_update=True)
        # A name the store has already stays 3201, full store or not: the insert says so.
        names = await policy_names(conn, store_id=store.id) | {name}
        check_policy_count(len(names), field="name")

        return await insert_policy(conn, ctx, store_id=store.id, name=name, changes=changes)


def check_policy_count(count: int, *, field: str) -> None:
    """Refuse, before anything is written, a store that would hold `count` TOTP policies when
    that is more than MAX_POLICIES_PER_STORE.

    Raises InvalidField (9002) on `field`.
    """
    if count > MAX_POLICIES_PER_STORE:
        raise InvalidField.of(
            field, f"a store holds at most {MAX_POLICIES_PER_STORE} TOTP policies"
        )


async def policy_names(conn: AsyncConnection, *, store_id: str) -> set[str]:
    """The names of the store's TOTP policies; lock the store row first to count on them."""
    names = await conn.scalars(
        select(tables.totp_policies.c.name).where(tables.totp_policies.c.store_id == store_id)
    )
    return set(names)


async def insert_policy(
    conn: AsyncConnection, ctx: Context, *, store_id: str, name: str, changes: PolicyChanges
) -> TotpPolicy:
    values: dict[str, Any] = {**POLICY_DEFAULTS, **changes.values}
    row = {
        "id": new_id(),
        "store_id": store_id,
        "name": name,
        "created_dtm": ctx.now,
        "last_updated_dtm": ctx.now,
        **values,
    }
    try:
        await conn.execute(insert(tables.totp_policies).values(row))
    except IntegrityError as exc:
        raise conflict(
            exc,
            unique=PolicyNameTaken(f"TOTP policy {name!r} already exists"),
            missing=StoreNotFound("store not found"),
        ) from exc
    await events.record(conn, ctx, "totpPolicy.created", store_id=store_id, subject_id=row["id"])
    return TotpPolicy(**row)


async def get_policy(database: Database, ctx: Context, *, store_name: str, name: str) -> TotpPolicy:
    """Raises 3000, 3200."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        return await find_policy(conn, store_id=store.id, name=name)


async def find_policy(
    conn: AsyncConnection, *, store_id: str, name: str, for_update: bool = False
) -> TotpPolicy:
    """Raises PolicyNotFound (3200)."""
    query = select(tables.totp_policies).where(
        tables.totp_policies.c.store_id == store_id, tables.totp_policies.c.name == name
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise PolicyNotFound(f"TOTP policy {name!r} not found")
    return policy_from_row(row)


async def update_policy(
    database: Database, ctx: Context, *, store_name: str, name: str, changes: PolicyChanges
) -> TotpPolicy:
    """Change the given fields. User TOTPs keep the parameters they were registered with."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        policy = await find_policy(conn, store_id=store.id, name=name)
        return await apply_policy_changes(conn, ctx, policy, changes, store_name=store_name)


async def apply_policy_changes(
    conn: AsyncConnection,
    ctx: Context,
    policy: TotpPolicy,
    changes: PolicyChanges,
    *,
    store_name: str,
) -> TotpPolicy:
    """Write the given fields, unless every one is what the policy shows already: a policy
    read back and written back changes nothing, and does not pin the defaults it shows (an
    issuer that follows the store's name, a secret length that follows the algorithm)."""
    if all(_shown(policy, field, store_name) == value for field, value in changes.values.items()):
        return policy
    values = {**changes.values, "last_updated_dtm": ctx.now}
    await conn.execute(
        update(tables.totp_policies).where(tables.totp_policies.c.id == policy.id).values(values)
    )
    await events.record(
        conn,
        ctx,
        "totpPolicy.updated",
        store_id=policy.store_id,
        subject_id=policy.id,
        details=events.changed(changes.values),
    )
    return TotpPolicy(**{**policy.__dict__, **values})


async def delete_policy(
    database: Database, ctx: Context, *, store_name: str, name: str, force: bool
) -> None:
    """Delete a policy. With user TOTPs it answers 3202 unless `force`, which removes them too."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        # Locked first: a registration starting meanwhile either finishes before this reads
        # the TOTPs (and is counted) or finds no policy once this commits.
        policy = await find_policy(conn, store_id=store.id, name=name, for_update=True)

        in_use = await conn.scalar(
            select(exists().where(tables.user_totps.c.policy_id == policy.id))
        )
        if in_use and not force:
            raise PolicyInUse(f"TOTP policy {name!r} has user TOTPs; delete with ?force=true")

        await conn.execute(
            delete(tables.user_totps).where(tables.user_totps.c.policy_id == policy.id)
        )
        await conn.execute(
            delete(tables.totp_policies).where(tables.totp_policies.c.id == policy.id)
        )
        await events.record(
            conn,
            ctx,
            "totpPolicy.deleted",
            store_id=store.id,
            subject_id=policy.id,
            details={"force": force},
        )
