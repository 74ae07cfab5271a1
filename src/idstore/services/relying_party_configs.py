"""What passkey and appkey configurations share (spec §9, §10): one row per store and relying
party in a table of their own, created, read, updated and deleted alike, each change with its
admin event in the same transaction. Updates merge field by field; the policy maps merge by name,
and a policy given merges into the one of that name. Each kind builds and checks its own values
(`ConfigKind`'s abstract methods)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db.engine import Database
from idstore.services import events
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import IdstoreError, ResourceNotFound, StoreNotFound
from idstore.services.models import AppkeyConfig, PasskeyConfig, SessionManagement, Store
from idstore.services.rows import find_store, load_store

Config = TypeVar("Config", PasskeyConfig, AppkeyConfig)
Policy = TypeVar("Policy")


@dataclass(frozen=True)
class ConfigChanges:
    """The fields a request gave, by snake_case name; policies as maps of their given fields."""

    values: dict[str, Any] = field(default_factory=dict)
    registration_policies: dict[str, dict[str, Any]] | None = None
    authentication_policies: dict[str, dict[str, Any]] | None = None

    @property
    def is_empty(self) -> bool:
        """Whether the request gave nothing to change (`{}`, or only fields the server emits)."""
        policies = (self.registration_policies, self.authentication_policies)
        return not self.values and all(given is None for given in policies)


@dataclass(frozen=True)
class Written(Generic[Config]):
    """A configuration as a create or update left it, and its store as `GET …/{storeName}`
    shows it, read in the same transaction after the write (the changelog of 2025-12-01 has
    these answers carry the store's configuration; docs/decisions.md)."""

    config: Config
    store: Store


class ConfigKind(ABC, Generic[Config]):
    """A kind of relying party configuration: where it is kept (`table`), the noun its 404 uses
    and its events' prefix; the kind's module says how its values are built and checked."""

    def __init__(self, table: Table, *, noun: str, event: str) -> None:
        self.table = table
        self.noun = noun
        self.event = event
        # The permissions its routes check: createPasskeyConfig, updatePasskeyConfig…
        kind = event[0].upper() + event[1:]
        self.create_operation, self.update_operation = f"create{kind}", f"update{kind}"

    @abstractmethod
    def blank(self, ctx: Context, rp_id: str) -> Config:
        """A configuration of no store yet with no field given. Raises the kind's refusal of
        `rp_id`."""

    @abstractmethod
    def with_default_policies(self, config: Config) -> Config:
        """The configuration with a policy `default` in each policy map left empty."""

    @abstractmethod
    def exists(self, rp_id: str) -> IdstoreError:
        """The kind's refusal of a second configuration for `rp_id`."""

    @abstractmethod
    def checked_values(self, current: Config, values: dict[str, Any]) -> dict[str, Any]:
        """The given fields, those particular to the kind checked and converted."""

    @abstractmethod
    def merged_registration_policies(
        self, current: Config, given: dict[str, dict[str, Any]]
    ) -> Mapping[str, Any]:
        """The registration policies with the given ones merged in by name."""

    @abstractmethod
    def merged_authentication_policies(
        self, current: Config, given: dict[str, dict[str, Any]]
    ) -> Mapping[str, Any]:
        """The authentication policies with the given ones merged in by name."""

    @abstractmethod
    def from_row(self, row: Row[Any]) -> Config:
        """The configuration a row of `table` holds."""

    @abstractmethod
    def row_values(self, config: Config) -> dict[str, Any]:
        """The row of `table` that holds the configuration."""

    async def create(
        self,
        database: Database,
        ctx: Context,
        *,
        store_name: str,
        rp_id: str,
        changes: ConfigChanges,
    ) -> Written[Config]:
        """Create the relying party's configuration, with a policy `default` of each kind when
        none is given. Raises StoreNotFound (3000), the kind's refusal of the rp_id or of a
        second configuration, InvalidField (9002)."""
        config = self._new(ctx, rp_id, changes)
        async with database.transaction() as conn:
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            created = await self._create_in(conn, ctx, replace(config, store_id=store.id))
            return Written(
                created, await load_store(conn, tenant_id=ctx.tenant_id, name=store.name)
            )

    async def get(self, database: Database, ctx: Context, *, store_name: str, rp_id: str) -> Config:
        """Raises StoreNotFound (3000), ResourceNotFound (9011)."""
        async with database.transaction(write=False) as conn:
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            return await self.find(conn, store_id=store.id, rp_id=rp_id)

    async def update(
        self,
        database: Database,
        ctx: Context,
        *,
        store_name: str,
        rp_id: str,
        changes: ConfigChanges,
    ) -> Written[Config]:
        """Merge the given fields into the configuration. Raises 3000, 9011, 9002."""
        async with database.transaction() as conn:
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            config = await self.find(conn, store_id=store.id, rp_id=rp_id, for_update=True)
            # Nothing given changes nothing, lastUpdatedDtm included.
            if not changes.is_empty:
                config = await self._update_to(conn, ctx, self.merged(config, changes))
            return Written(config, await load_store(conn, tenant_id=ctx.tenant_id, name=store.name))

    async def put(
        self,
        conn: AsyncConnection,
        ctx: Context,
        *,
        store_id: str,
        rp_id: str,
        changes: ConfigChanges,
        authorize: Callable[[str], None],
    ) -> None:
        """In the caller's transaction, create the relying party's configuration as `create`
        does or merge the changes into the one there as `update` does, each once `authorize`
        allowed the operation its route checks (it raises PermissionDenied, 9004, otherwise).
        Changes that leave it as stored write nothing and need no permission (no event,
        `lastUpdatedDtm` kept): a store read back and written back unchanged leaves its relying
        parties as they were. Raises what `create` and `update` raise, bar 3000."""
        try:
            current = await self.find(conn, store_id=store_id, rp_id=rp_id, for_update=True)
        except ResourceNotFound:
            authorize(self.create_operation)
            config = replace(self._new(ctx, rp_id, changes), store_id=store_id)
            await self._create_in(conn, ctx, config)
            return
        merged = self.merged(current, changes)
        if merged != current:
            authorize(self.update_operation)
            await self._update_to(conn, ctx, merged)

    async def delete(
        self, database: Database, ctx: Context, *, store_name: str, rp_id: str
    ) -> None:
        """Delete the configuration; the users' keys of that relying party stay (and cannot be
        used until a configuration exists again). Raises 3000, 9011."""
        async with database.transaction() as conn:
            store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
            await self._delete(conn, ctx, store_id=store.id, rp_id=rp_id)

    async def find(
        self, conn: AsyncConnection, *, store_id: str, rp_id: str, for_update: bool = False
    ) -> Config:
        """Raises ResourceNotFound (9011) naming the kind of configuration."""
        row = await self._find_row(conn, store_id=store_id, rp_id=rp_id, for_update=for_update)
        return self.from_row(row)

    def merged(self, current: Config, changes: ConfigChanges) -> Config:
        """`current` with the changes merged in. Raises the kind's refusals of its fields."""
        values = self.checked_values(current, dict(changes.values))
        if "session_management" in values:
            values["session_management"] = SessionManagement(values["session_management"])
        config = replace(current, **values)
        if changes.registration_policies is not None:
            registration = self.merged_registration_policies(current, changes.registration_policies)
            config = replace(config, registration_policies=registration)
        if changes.authentication_policies is not None:
            authentication = self.merged_authentication_policies(
                current, changes.authentication_policies
            )
            config = replace(config, authentication_policies=authentication)
        return config

    def _new(self, ctx: Context, rp_id: str, changes: ConfigChanges) -> Config:
        """A configuration of no store yet holding the changes and, for each policy map left
        empty, a policy `default`. Raises the kind's refusals of the rp_id and of its fields."""
        return self.with_default_policies(self.merged(self.blank(ctx, rp_id), changes))

    async def _create_in(self, conn: AsyncConnection, ctx: Context, config: Config) -> Config:
        await self._insert(conn, ctx, self.row_values(config), exists=self.exists(config.rp_id))
        return config

    async def _update_to(self, conn: AsyncConnection, ctx: Context, merged: Config) -> Config:
        config = replace(merged, last_updated_dtm=ctx.now)
        await self._update(conn, ctx, self.row_values(config))
        return config

    async def _insert(
        self, conn: AsyncConnection, ctx: Context, values: dict[str, Any], *, exists: IdstoreError
    ) -> None:
        """Raises `exists` when the store has one for that relying party, StoreNotFound (3000)
        when the store went meanwhile."""
        try:
            await conn.execute(insert(self.table).values(values))
        except IntegrityError as exc:
            raise conflict(exc, unique=exists, missing=StoreNotFound("store not found")) from exc
        await self._event(conn, ctx, "created", values)

    async def _find_row(
        self, conn: AsyncConnection, *, store_id: str, rp_id: str, for_update: bool = False
    ) -> Row[Any]:
        columns = self.table.c
        query = select(self.table).where(columns.store_id == store_id, columns.rp_id == rp_id)
        if for_update:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise ResourceNotFound(f"{self.noun} for {rp_id!r} not found")
        return row

    async def _update(self, conn: AsyncConnection, ctx: Context, values: dict[str, Any]) -> None:
        columns = self.table.c
        await conn.execute(
            update(self.table)
            .where(columns.store_id == values["store_id"], columns.id == values["id"])
            .values(values)
        )
        await self._event(conn, ctx, "updated", values)

    async def _delete(
        self, conn: AsyncConnection, ctx: Context, *, store_id: str, rp_id: str
    ) -> None:
        row = await self._find_row(conn, store_id=store_id, rp_id=rp_id, for_update=True)
        columns = self.table.c
        await conn.execute(
            delete(self.table).where(columns.store_id == store_id, columns.id == row.id)
        )
        await self._event(conn, ctx, "deleted", {"store_id": store_id, "id": row.id})

    async def _event(
        self, conn: AsyncConnection, ctx: Context, what: str, values: dict[str, Any]
    ) -> None:
        await events.record(
            conn, ctx, f"{self.event}.{what}", store_id=values["store_id"], subject_id=values["id"]
        )


def policy_named(policies: Mapping[str, Policy], name: str, *, noun: str) -> Policy:
    """The policy of that name. Raises ResourceNotFound (9011) naming the `noun` (e.g. `passkey
    registration policy`)."""
    policy = policies.get(name)
    if policy is None:
        raise ResourceNotFound(f"{noun} {name!r} not found")
    return policy
