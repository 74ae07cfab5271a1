"""Reading the tables into domain objects, and the lookups every use case starts with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    exists,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.hot import HotStatement
from idstore.db.ids import is_id
from idstore.otp import Algorithm
from idstore.services import configuration, locking, store_ids
from idstore.services.appkey_rows import appkey_config_from_row, appkeys_of
from idstore.services.context import Context, UserRef
from idstore.services.errors import StoreNotFound, UserNotFound
from idstore.services.face_rows import biometrics_of
from idstore.services.models import (
    LockKind,
    LockState,
    PasskeyConfig,
    PasskeyPolicy,
    PasskeyStatus,
    SessionManagement,
    Store,
    TotpPolicy,
    TotpStatus,
    User,
    UserPasskey,
    UserStatus,
    UserTotp,
)
from idstore.services.row_fields import from_row, oldest_first

StoreRow = Row[Any]
T = TypeVar("T")
# Prefix of the user_totps columns in the attempt query, which also selects the users columns.
TOTP_COLUMNS = "totp_"


async def find_store(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    name: str,
    for_update: bool = False,
    keeping_key: bool = False,
) -> StoreRow:
    """The tenant's store of that name. Another tenant's store is as missing as no store (3000).

    Locked `for_update`; `keeping_key` takes the weaker lock of a change that keeps the row's
    key (PostgreSQL's FOR NO KEY UPDATE), which lets rows referring to the store be written
    meanwhile: a store update that creates a relying party while its configuration route
    creates the same one then meets a unique violation (409) rather than a deadlock.

    The id read is remembered for the hot path (services/store_ids.py).
    """
    query = select(tables.stores).where(
        tables.stores.c.tenant_id == tenant_id, tables.stores.c.name == name
    )
    if for_update or keeping_key:
        query = query.with_for_update(key_share=keeping_key)
    row = (await conn.execute(query)).first()
    if row is None:
        store_ids.forget(conn, tenant_id=tenant_id, name=name)
        raise StoreNotFound(f"store {name!r} not found")
    store_ids.remember(conn, tenant_id=tenant_id, name=name, store_id=row.id)
    return row


async def load_store(conn: AsyncConnection, *, tenant_id: str, name: str) -> Store:
    """A store with its TOTP policies and relying parties. Raises StoreNotFound (3000)."""
    row = await find_store(conn, tenant_id=tenant_id, name=name)
    policy_rows = await conn.execute(
        select(tables.totp_policies)
        .where(tables.totp_policies.c.store_id == row.id)
        .order_by(tables.totp_policies.c.name)
    )
    store = store_from_row(row, [policy_from_row(policy) for policy in policy_rows])
    (with_configs,) = await with_relying_parties(conn, [store])
    return with_configs


def store_from_row(row: StoreRow, policies: Iterable[TotpPolicy]) -> Store:
    return Store(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        configuration=configuration.from_json(row.configuration),
        totp_policies={policy.name: policy for policy in policies},
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
    )


async def with_relying_parties(conn: AsyncConnection, stores: list[Store]) -> list[Store]:
    """The stores with their passkey and appkey configurations, by relying party id."""
    ids = [store.id for store in stores]
    passkey = await _configs_of_stores(conn, tables.passkey_configs, ids, config_from_row)
    appkey = await _configs_of_stores(conn, tables.appkey_configs, ids, appkey_config_from_row)
    return [
        replace(store, passkey_configs=passkey[store.id], appkey_configs=appkey[store.id])
        for store in stores
    ]


async def _configs_of_stores(
    conn: AsyncConnection, table: Table, store_ids: list[str], convert: Callable[[Row[Any]], T]
) -> dict[str, dict[str, T]]:
    found: dict[str, dict[str, T]] = {store_id: {} for store_id in store_ids}
    if not store_ids:
        return found
    rows = await conn.execute(
        select(table).where(table.c.store_id.in_(store_ids)).order_by(table.c.rp_id)
    )
    for row in rows:
        found[row.store_id][row.rp_id] = convert(row)
    return found


def config_from_row(row: Row[Any]) -> PasskeyConfig:
    """A passkey configuration; policy fields unknown to this version are left out."""
    return from_row(
        PasskeyConfig,
        row,
        restricted_origins=tuple(row.restricted_origins),
        session_management=SessionManagement(row.session_management),
        registration_policies=_passkey_policies(row.registration_policies),
        authentication_policies=_passkey_policies(row.authentication_policies),
    )


def _passkey_policies(stored: dict[str, dict[str, Any]]) -> dict[str, PasskeyPolicy]:
    known_fields = {item.name for item in fields(PasskeyPolicy)}
    policies = {}
    for name, values in stored.items():
        known = {key: value for key, value in values.items() if key in known_fields}
        known["algorithms"] = tuple(known.get("algorithms", PasskeyPolicy().algorithms))
        policies[name] = PasskeyPolicy(**known)
    return policies


def policy_from_row(row: Row[Any]) -> TotpPolicy:
    return from_row(TotpPolicy, row, algorithm=Algorithm(row.algorithm))


def user_key_condition(ref: UserRef) -> ColumnElement[bool]:
    """The WHERE clause naming a user by either id (pair it with the store's id)."""
    column = tables.users.c.external_id if ref.is_external else tables.users.c.id
    return column == ref.value


def user_condition(store_id: str, ref: UserRef) -> ColumnElement[bool]:
    """The WHERE clause naming one user of a store by either id."""
    return (tables.users.c.store_id == store_id) & user_key_condition(ref)


async def find_user_row(
    conn: AsyncConnection, *, store_id: str, ref: UserRef, for_update: bool = False
) -> Row[Any]:
    """The user's row. Raises UserNotFound (3100)."""
    query = select(tables.users).where(user_condition(store_id, ref))
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise UserNotFound(_not_found(ref))
    return row


def _not_found(ref: UserRef) -> str:
    if ref.is_external or is_id(ref.value):
        return "user not found"
    # No id the service makes: most likely an external id sent to the route keyed by id. The
    # value is not repeated: an external id may be personal data, and answers are logged.
    return "user not found: that is not a user id; for an external id use the route ending in /ext"


async def load_user(
    conn: AsyncConnection, *, store_id: str, ref: UserRef, now: datetime, for_update: bool = False
) -> User:
    """The user with its authenticators, as of `now`. Raises UserNotFound (3100)."""
    row = await find_user_row(conn, store_id=store_id, ref=ref, for_update=for_update)
    return await reload_user(conn, row, now)


async def reload_user(conn: AsyncConnection, row: Row[Any], now: datetime) -> User:
    """Complete a user row with its TOTPs, passkeys, appkeys and biometrics."""
    owner = {"store_id": row.store_id, "user_id": row.id}
    user = user_with_totps(row, await totps_of(conn, **owner), now)
    return replace(
        user,
        passkeys=await passkeys_of(conn, **owner),
        appkeys=await appkeys_of(conn, **owner),
        biometrics=await biometrics_of(conn, **owner),
    )


async def totps_of(conn: AsyncConnection, *, store_id: str, user_id: str) -> tuple[UserTotp, ...]:
    """The user's TOTPs, oldest first, pending registrations past their deadline included."""
    totps = tables.user_totps
    query = select(totps).where(totps.c.store_id == store_id, totps.c.user_id == user_id)
    return await oldest_first(conn, query, totps, totp_from_row)


async def passkeys_of(
    conn: AsyncConnection, *, store_id: str, user_id: str
) -> tuple[UserPasskey, ...]:
    """The user's passkeys, oldest first."""
    passkeys = tables.user_passkeys
    query = select(passkeys).where(passkeys.c.store_id == store_id, passkeys.c.user_id == user_id)
    return await oldest_first(conn, query, passkeys, passkey_from_row)


def passkey_from_row(row: Row[Any]) -> UserPasskey:
    return from_row(
        UserPasskey, row, status=PasskeyStatus(row.status), transports=tuple(row.transports)
    )


def user_from_rows(row: Row[Any], totp_rows: Sequence[Row[Any]], now: datetime) -> User:
    """Build the user as of `now`; pending registrations past their deadline are left out."""
    return user_with_totps(row, [totp_from_row(totp_row) for totp_row in totp_rows], now)


def user_with_totps(row: Row[Any], totps: Sequence[UserTotp], now: datetime) -> User:
    state = lock_state_from_row(row)
    admin_status = UserStatus(row.status)
    return User(
        id=row.id,
        store_id=row.store_id,
        external_id=row.external_id,
        status=locking.effective_status(admin_status, state, now),
        admin_status=admin_status,
        type=row.type,
        locale=row.locale,
        timezone=row.timezone,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        date_of_birth=row.date_of_birth,
        nationalities=row.nationalities,
        attributes=row.attributes,
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
        last_successful_authentication_dtm=row.last_successful_authentication_dtm,
        lock_state=locking.settle(state, now),
        as_of=now,
        totps=tuple(totp for totp in totps if not totp.is_expired(now)),
        audit_chain_head=row.audit_chain_head,
        audit_chain_length=row.audit_chain_length or 0,
    )


def lock_state_from_row(row: Row[Any]) -> LockState:
    return LockState(
        failed_attempts=row.failed_attempts,
        lock_count=row.lock_count,
        temp_lock_streak=row.temp_lock_streak,
        lock_kind=LockKind(row.lock_kind) if row.lock_kind else None,
        locked_dtm=row.locked_dtm,
        unlock_dtm=row.unlock_dtm,
        modalities=locking.modality_locks_from_json(row.modality_locks),
        attempt_tokens=row.attempt_tokens,
        attempt_tokens_dtm=row.attempt_tokens_dtm,
    )


# The users-row columns that hold a LockState, as lock_state_values names them.
LOCK_STATE_COLUMNS = (
    "failed_attempts",
    "lock_count",
    "temp_lock_streak",
    "lock_kind",
    "locked_dtm",
    "unlock_dtm",
    "modality_locks",
    "attempt_tokens",
    "attempt_tokens_dtm",
)


def lock_state_values(state: LockState) -> dict[str, object]:
    """The users-row columns that hold a LockState."""
    return {
        "failed_attempts": state.failed_attempts,
        "lock_count": state.lock_count,
        "temp_lock_streak": state.temp_lock_streak,
        "lock_kind": str(state.lock_kind) if state.lock_kind else None,
        "locked_dtm": state.locked_dtm,
        "unlock_dtm": state.unlock_dtm,
        "modality_locks": locking.modality_locks_to_json(dict(state.modalities)),
        "attempt_tokens": state.attempt_tokens,
        "attempt_tokens_dtm": state.attempt_tokens_dtm,
    }


def totp_from_row(row: Row[Any], prefix: str = "") -> UserTotp:
    """Build a user TOTP from its columns, named with `prefix` when a join labelled them."""
    column = row._mapping
    return from_row(
        UserTotp,
        row,
        prefix=prefix,
        status=TotpStatus(column[prefix + "status"]),
        algorithm=Algorithm(column[prefix + "algorithm"]),
    )


def _totp_attempt_query(user_key: ColumnElement[Any]) -> Select[Any]:
    stores, users, policies, totps = (
        tables.stores,
        tables.users,
        tables.totp_policies,
        tables.user_totps,
    )
    # Each distributed table is compared with the store's id, a value: Citus routes the
    # statement to that store's worker (docs/scaling.md). The store is still found by tenant and
    # name too, so that an id remembered from a store since deleted finds no row.
    store_id: BindParameter[str] = bindparam("store_id")
    joined = (
        stores.join(users, users.c.store_id == stores.c.id)
        .outerjoin(
            policies,
            (policies.c.store_id == stores.c.id) & (policies.c.name == bindparam("policy_name")),
        )
        .outerjoin(totps, (totps.c.store_id == store_id) & (totps.c.user_id == users.c.id))
    )

    def owned_by_user(table: Table) -> ColumnElement[bool]:
        return exists().where(table.c.store_id == store_id, table.c.user_id == users.c.id)

    return (
        select(
            users,
            # As text: the parsed configuration is cached by it (configuration.from_text),
            # so a JSON document is not decoded on every attempt.
            cast(stores.c.configuration, Text).label("store_configuration"),
            policies.c.id.label("policy_id"),
            policies.c.drift_steps.label("policy_drift_steps"),
            # Whether the user's passkeys and faces need a read of their own: most TOTP users
            # have none, and their attempts keep to the hot path's statement budget.
            owned_by_user(tables.user_passkeys).label("has_passkeys"),
            owned_by_user(tables.user_biometrics).label("has_biometrics"),
            owned_by_user(tables.user_appkeys).label("has_appkeys"),
            *[column.label(TOTP_COLUMNS + column.name) for column in totps.c],
        )
        .select_from(joined)
        .where(
            stores.c.tenant_id == bindparam("tenant_id"),
            stores.c.name == bindparam("store_name"),
            stores.c.id == store_id,
            users.c.store_id == store_id,
            user_key == bindparam("user_key"),
        )
        .with_for_update(of=users)
    )


# Built once: building a statement costs more than running it (the hot path runs this one).
_ATTEMPT_BY_ID = HotStatement(_totp_attempt_query(tables.users.c.id))
_ATTEMPT_BY_EXTERNAL_ID = HotStatement(_totp_attempt_query(tables.users.c.external_id))


def totp_attempt_query(
    ctx: Context, store_name: str, ref: UserRef, policy_name: str
) -> tuple[HotStatement, dict[str, str]]:
    """The one statement an attempt starts with, and its parameters but `store_id` (the
    store's id, which the caller adds): the store's locking policy, the policy's drift, the
    user and all of the user's TOTPs, the user row locked (FOR UPDATE OF users). No row when
    the store, the user, or the store under that id is missing."""
    query = _ATTEMPT_BY_EXTERNAL_ID if ref.is_external else _ATTEMPT_BY_ID
    return query, {
        "tenant_id": ctx.tenant_id,
        "store_name": store_name,
        "user_key": ref.value,
        "policy_name": policy_name,
    }
