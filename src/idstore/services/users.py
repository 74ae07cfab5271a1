"""Users of a store (spec §4): create, list, read, update, delete, unlock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import configuration, events, locking, passkey_user_handles
from idstore.services.conflicts import conflict
from idstore.services.context import Context, UserRef
from idstore.services.errors import ExternalIdTaken, InvalidField, StoreNotFound
from idstore.services.models import (
    JsonValue,
    LockKind,
    LockState,
    Modality,
    StoreConfiguration,
    User,
    UserStatus,
    replaced,
)
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import (
    find_store,
    find_user_row,
    load_user,
    lock_state_values,
    reload_user,
    user_from_rows,
)

SORTABLE = {
    "createdDtm": tables.users.c.created_dtm,
    "lastUpdatedDtm": tables.users.c.last_updated_dtm,
    "externalId": tables.users.c.external_id,
    "status": tables.users.c.status,
}


@dataclass(frozen=True)
class UserChanges:
    """Profile fields a request gave (snake_case column names) and the status, if given."""

    values: dict[str, Any] = field(default_factory=dict)
    status: UserStatus | None = None


@dataclass(frozen=True)
class UserFilter:
    external_id: str | None = None
    status: UserStatus | None = None

    @property
    def is_empty(self) -> bool:
        return self.external_id is None and self.status is None


async def create_user(
    database: Database, ctx: Context, *, store_name: str, changes: UserChanges
) -> User:
    """Create a user; status, locale and time zone default to the store's; attributes'
    passkeyUsers is ignored (the server writes it). Raises 3000, 3101, 9002."""
    _check_birth_date(changes, ctx)
    if "attributes" in changes.values:
        attributes = passkey_user_handles.clients_attributes(changes.values["attributes"])
        changes = replaced(changes, values={**changes.values, "attributes": attributes})
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        defaults = configuration.from_json(store.configuration)
        row = new_user_row(store.id, defaults, changes, ctx.now)
        try:
            await conn.execute(insert(tables.users).values(row))
        except IntegrityError as exc:
            raise conflict(
                exc,
                unique=ExternalIdTaken("a user with that external id exists in this store"),
                missing=StoreNotFound(f"store {store_name!r} not found"),
            ) from exc
        await events.record(conn, ctx, "user.created", store_id=store.id, subject_id=row["id"])
        return await load_user(conn, store_id=store.id, ref=UserRef.by_id(row["id"]), now=ctx.now)


def new_user_row(
    store_id: str, defaults: StoreConfiguration, changes: UserChanges, now: datetime
) -> dict[str, Any]:
    """The users row of a new user: the given fields over the store's defaults (status,
    locale, time zone). Raises InvalidField (9002) for a status of TEMP_LOCKED."""
    status = changes.status or defaults.default_user_status
    state = _administrator_lock(LockState(), status, now)
    return {
        "id": new_id(),
        "store_id": store_id,
        "locale": defaults.default_user_locale,
        "timezone": defaults.default_user_timezone,
        **changes.values,
        "status": UserStatus.ACTIVE if status is UserStatus.LOCKED else status,
        "created_dtm": now,
        "last_updated_dtm": now,
        **lock_state_values(state),
    }


def _check_birth_date(changes: UserChanges, ctx: Context) -> None:
    born = changes.values.get("date_of_birth")
    if born is not None and born > ctx.now.date():
        raise InvalidField.of("dateOfBirth", "lies in the future")


def _administrator_lock(state: LockState, status: UserStatus, now: datetime) -> LockState:
    """An administrator's LOCKED is a permanent lock; TEMP_LOCKED only comes from failures."""
    if status is UserStatus.TEMP_LOCKED:
        raise InvalidField.of("status", "TEMP_LOCKED is set by the service after failures")
    if status is UserStatus.LOCKED:
        return locking.locked_by_administrator(state, now)
    if status is UserStatus.ACTIVE:
        return locking.unlocked(state)
    return state


async def list_users(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    where: UserFilter,
    request: PageRequest,
) -> Page[User]:
    """One page of the store's users (without their authenticators). Raises 3000.

    Without a filter the total is the store's user counter, not a count of a million rows.
    """
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        query = select(tables.users).where(tables.users.c.store_id == store.id)
        if where.external_id is not None:
            query = query.where(tables.users.c.external_id == where.external_id)
        if where.status is not None:
            query = query.where(_status_condition(where.status, ctx.now))
        return await fetch_page(
            conn,
            query,
            request=request,
            sortable=SORTABLE,
            tiebreak=tables.users.c.id,
            convert=lambda row: user_from_rows(row, (), ctx.now),
            total=_counted_users(store.id) if where.is_empty else None,
        )


def _counted_users(store_id: str) -> Select[Any]:
    counts = tables.store_user_counts.c
    found = select(counts.user_count).where(counts.store_id == store_id).scalar_subquery()
    return select(func.coalesce(found, 0))


def _status_condition(status: UserStatus, now: datetime) -> ColumnElement[bool]:
    """The status a caller sees, in SQL: a lock in force shows over the administrator's status."""
    users = tables.users.c
    # An unlocked user's lock_kind is NULL; compared as is, NOT(NULL = 'x') is NULL and would
    # hide every unlocked user from a status filter (SQL's three-valued logic).
    kind = func.coalesce(users.lock_kind, "")
    temp_lock_holds = (kind == str(LockKind.TEMPORARY)) & (
        users.unlock_dtm.is_(None) | (users.unlock_dtm > now)
    )
    permanent = kind == str(LockKind.PERMANENT)
    if status is UserStatus.TEMP_LOCKED:
        return temp_lock_holds
    if status is UserStatus.LOCKED:
        return permanent
    return (users.status == str(status)) & ~temp_lock_holds & ~permanent


async def get_user(database: Database, ctx: Context, *, store_name: str, ref: UserRef) -> User:
    """Raises 3000, 3100."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        return await load_user(conn, store_id=store.id, ref=ref, now=ctx.now)


async def update_user(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, changes: UserChanges
) -> User:
    """Change the given fields. Status ACTIVE also lifts every lock; LOCKED locks permanently;
    the status the user shows already changes nothing.
    Attributes replace the stored ones but for passkeyUsers, which the server keeps (a client's
    is ignored). Raises 3000, 3100, 3101, 9002."""
    _check_birth_date(changes, ctx)
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        user = user_from_rows(row, (), ctx.now)
        status = _status_change(user, changes.status)
        if not changes.values and status is None:
            # Nothing given but the status the user shows: nothing changes (spec §1).
            return await reload_user(conn, row, ctx.now)

        values: dict[str, Any] = {**changes.values, "last_updated_dtm": ctx.now}
        if "attributes" in values:
            values["attributes"] = await passkey_user_handles.with_server_part(
                conn, row, values["attributes"]
            )
        if status is not None:
            state = _administrator_lock(user.lock_state, status, ctx.now)
            admin_status = user.admin_status if status is UserStatus.LOCKED else status
            values.update(status=str(admin_status), **lock_state_values(state))

        try:
            await conn.execute(update(tables.users).where(_the_user(row)).values(values))
        except IntegrityError as exc:
            raise conflict(
                exc,
                unique=ExternalIdTaken("a user with that external id exists in this store"),
                missing=StoreNotFound(f"store {store_name!r} not found"),
            ) from exc
        given = {**changes.values, **({"status": True} if status else {})}
        await events.record(
            conn,
            ctx,
            "user.updated",
            store_id=store.id,
            subject_id=row.id,
            details=events.changed(given),
        )
        return await load_user(conn, store_id=store.id, ref=UserRef.by_id(row.id), now=ctx.now)


def _status_change(user: User, status: UserStatus | None) -> UserStatus | None:
    """The status to set, if any. The status the user shows now is no change (spec §1: a user
    read back may be written back): a TEMP_LOCKED or LOCKED user sent back as such keeps its
    lock as it is, neither lifted nor locked again (lockCount stays), and ACTIVE sent for a user
    shown ACTIVE leaves its modality locks alone (POST …/unlock lifts those)."""
    return None if status is user.status else status


async def delete_user(database: Database, ctx: Context, *, store_name: str, ref: UserRef) -> None:
    """Delete a user and its authenticators; its authentication audit records stay."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        totps = tables.user_totps.c
        await conn.execute(
            delete(tables.user_totps).where(totps.store_id == store.id, totps.user_id == row.id)
        )
        await conn.execute(delete(tables.users).where(_the_user(row)))
        await events.record(conn, ctx, "user.deleted", store_id=store.id, subject_id=row.id)


async def unlock_user(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    modalities: list[Modality] | None,
) -> User:
    """Lift the user's lock and every modality lock, or only the named modalities' locks."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        row = await find_user_row(conn, store_id=store.id, ref=ref, for_update=True)
        user = user_from_rows(row, (), ctx.now)

        state = locking.unlocked(user.lock_state, modalities)
        await conn.execute(
            update(tables.users)
            .where(_the_user(row))
            .values(**lock_state_values(state), last_updated_dtm=ctx.now)
        )
        named: list[JsonValue] = [str(m) for m in modalities] if modalities is not None else []
        await events.record(
            conn,
            ctx,
            "user.unlocked",
            store_id=store.id,
            subject_id=row.id,
            details={"modalities": named} if modalities is not None else {},
        )
        refreshed = (await conn.execute(select(tables.users).where(_the_user(row)))).one()
        return await reload_user(conn, refreshed, ctx.now)


def with_lock_state(user: User, state: LockState, now: datetime, **changes: Any) -> User:
    """The user as it reads once `state` (and any other `changes` to its fields) is written,
    without reading it back: one copy of the user for all of them."""
    return replaced(
        user,
        lock_state=state,
        status=locking.effective_status(user.admin_status, state, now),
        **changes,
    )


def _the_user(row: Row[Any]) -> ColumnElement[bool]:
    """The user's row by its key, (store_id, id)."""
    users = tables.users.c
    key: ColumnElement[bool] = (users.store_id == row.store_id) & (users.id == row.id)
    return key
