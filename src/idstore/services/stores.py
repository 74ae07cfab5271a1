"""Stores (spec §3): a tenant's namespaces of users, with their configuration and policies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import configuration, events
from idstore.services.configuration import ConfigurationChanges
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import PolicyNotFound, StoreNameTaken, StoreNotEmpty
from idstore.services.models import Store, StoreConfiguration, TotpPolicy
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.policies import (
    PolicyChanges,
    apply_policy_changes,
    check_policy_count,
    find_policy,
    insert_policy,
    policy_names,
)
from idstore.services.rows import (
    find_store,
    load_store,
    policy_from_row,
    store_from_row,
    with_relying_parties,
)
from idstore.services.store_relying_parties import RelyingPartyChanges, apply_relying_parties


@dataclass(frozen=True)
class StoreChanges:
    """What a create or update request gave: `values` holds the description when given;
    the configuration merges field by field, policies merge by name and relying parties by
    rpId."""

    values: dict[str, Any] = field(default_factory=dict)
    configuration: ConfigurationChanges = field(default_factory=ConfigurationChanges)
    totp_policies: dict[str, PolicyChanges] = field(default_factory=dict)
    relying_parties: RelyingPartyChanges = field(default_factory=RelyingPartyChanges)

    @property
    def is_empty(self) -> bool:
        """Whether the request gave nothing to change (`{}`, or only fields the server emits)."""
        configuration_given = self.configuration.values or self.configuration.user_locking
        relying_parties = self.relying_parties.passkey or self.relying_parties.appkey
        return not (self.values or configuration_given or self.totp_policies or relying_parties)


POLICIES_FIELD = "configuration.totpPolicies"

SORTABLE = {
    "createdDtm": tables.stores.c.created_dtm,
    "lastUpdatedDtm": tables.stores.c.last_updated_dtm,
    "name": tables.stores.c.name,
}


async def create_store(
    database: Database, ctx: Context, *, name: str, changes: StoreChanges
) -> Store:
    """Create a store with its configuration, TOTP policies and relying parties. Raises 3001,
    9002 (too many policies), and what the relying parties' configuration routes raise."""
    check_policy_count(len(changes.totp_policies), field=POLICIES_FIELD)
    store_id = new_id()
    config = configuration.merged(StoreConfiguration(), changes.configuration)
    async with database.transaction() as conn:
        try:
            await conn.execute(
                insert(tables.stores).values(
                    id=store_id,
                    tenant_id=ctx.tenant_id,
                    name=name,
                    description=changes.values.get("description"),
                    configuration=configuration.to_json(config),
                    created_dtm=ctx.now,
                    last_updated_dtm=ctx.now,
                )
            )
        except IntegrityError as exc:
            taken = StoreNameTaken(f"store {name!r} already exists")
            raise conflict(exc, unique=taken, missing=taken) from exc
        await events.record(conn, ctx, "store.created", store_id=store_id, subject_id=store_id)

        for policy_name, policy_changes in changes.totp_policies.items():
            await insert_policy(
                conn, ctx, store_id=store_id, name=policy_name, changes=policy_changes
            )
        await apply_relying_parties(conn, ctx, store_id=store_id, changes=changes.relying_parties)
        return await load_store(conn, tenant_id=ctx.tenant_id, name=name)


async def list_stores(database: Database, ctx: Context, request: PageRequest) -> Page[Store]:
    """The caller's tenant's stores, one page."""
    async with database.transaction(write=False) as conn:
        query = select(tables.stores).where(tables.stores.c.tenant_id == ctx.tenant_id)
        page = await fetch_page(
            conn,
            query,
            request=request,
            sortable=SORTABLE,
            tiebreak=tables.stores.c.id,
            convert=lambda row: row,
        )
        policies = await _policies_of(conn, [row.id for row in page.items])
        stores = await with_relying_parties(
            conn, [store_from_row(row, policies[row.id]) for row in page.items]
        )
        return Page(stores, page.number, page.size, page.total_elements)


async def _policies_of(conn: AsyncConnection, store_ids: list[str]) -> dict[str, list[TotpPolicy]]:
    by_store: dict[str, list[TotpPolicy]] = defaultdict(list)
    if store_ids:
        rows = await conn.execute(
            select(tables.totp_policies)
            .where(tables.totp_policies.c.store_id.in_(store_ids))
            .order_by(tables.totp_policies.c.name)
        )
        for row in rows:
            by_store[row.store_id].append(policy_from_row(row))
    return by_store


async def get_store(database: Database, ctx: Context, *, name: str) -> Store:
    """Raises StoreNotFound (3000)."""
    async with database.transaction(write=False) as conn:
        return await load_store(conn, tenant_id=ctx.tenant_id, name=name)


async def update_store(
    database: Database, ctx: Context, *, name: str, changes: StoreChanges
) -> Store:
    """Merge the given fields into the store; a policy given is created or updated by name, a
    relying party by rpId.

    Raises 3000, 9002 (too many policies), and what the relying parties' configuration routes
    raise (nothing is written then).
    """
    async with database.transaction() as conn:
        row = await find_store(conn, tenant_id=ctx.tenant_id, name=name, keeping_key=True)
        if changes.is_empty:
            # An update that gives nothing changes nothing, lastUpdatedDtm included (spec §1).
            return await load_store(conn, tenant_id=ctx.tenant_id, name=name)
        held = await policy_names(conn, store_id=row.id)
        if not held.issuperset(changes.totp_policies):
            # Only an update that adds a policy can go past the limit: a store that holds more
            # (from before the limit) still takes every other change.
            check_policy_count(len(held.union(changes.totp_policies)), field=POLICIES_FIELD)

        current = configuration.from_json(row.configuration)
        merged = configuration.merged(current, changes.configuration)
        description = changes.values.get("description", row.description)

        await conn.execute(
            update(tables.stores)
            .where(tables.stores.c.id == row.id)
            .values(
                description=description,
                configuration=configuration.to_json(merged),
                last_updated_dtm=ctx.now,
            )
        )
        given = {**changes.values, **changes.configuration.values}
        if changes.configuration.user_locking is not None:
            given["user_locking"] = True
        await events.record(
            conn,
            ctx,
            "store.updated",
            store_id=row.id,
            subject_id=row.id,
            details=events.changed(given),
        )
        for policy_name, policy_changes in changes.totp_policies.items():
            await _upsert_policy(
                conn,
                ctx,
                store_id=row.id,
                store_name=name,
                name=policy_name,
                changes=policy_changes,
            )
        await apply_relying_parties(conn, ctx, store_id=row.id, changes=changes.relying_parties)
        return await load_store(conn, tenant_id=ctx.tenant_id, name=name)


async def _upsert_policy(
    conn: AsyncConnection,
    ctx: Context,
    *,
    store_id: str,
    store_name: str,
    name: str,
    changes: PolicyChanges,
) -> None:
    """Create the policy, or change it (a change equal to what it shows writes nothing)."""
    try:
        policy = await find_policy(conn, store_id=store_id, name=name)
    except PolicyNotFound:
        await insert_policy(conn, ctx, store_id=store_id, name=name, changes=changes)
        return
    await apply_policy_changes(conn, ctx, policy, changes, store_name=store_name)


async def delete_store(database: Database, ctx: Context, *, name: str, force: bool) -> None:
    """Delete a store. While it holds users this answers 3002 unless `force`.

    With `force` its users, their authenticators and its policies go with it; authentication audit
    records stay, as they do when a user is deleted.
    """
    async with database.transaction() as conn:
        row = await find_store(conn, tenant_id=ctx.tenant_id, name=name, for_update=True)
        has_users = await conn.scalar(select(exists().where(tables.users.c.store_id == row.id)))
        if has_users and not force:
            raise StoreNotEmpty(f"store {name!r} still holds users; delete with ?force=true")

        # Children first: the same order works with or without cascading foreign keys.
        for table in (tables.user_totps, tables.users, tables.totp_policies):
            await conn.execute(delete(table).where(table.c.store_id == row.id))
        await conn.execute(delete(tables.stores).where(tables.stores.c.id == row.id))
        await events.record(
            conn, ctx, "store.deleted", store_id=row.id, subject_id=row.id, details={"force": force}
        )
