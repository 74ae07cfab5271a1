"""Appkey configurations of a store, one per relying party (spec §10): create, read, update,
delete, and the TrustedFacets document. Updates merge field by field; the policy maps merge by
name, and a policy given merges into the one of that name."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import events
from idstore.services.appkey_facets import check_facets, check_rp_id, trusted_facets_document
from idstore.services.appkey_management_errors import AppkeyConfigExists
from idstore.services.appkey_policies import (
    authentication_policies_to_json,
    merged_authentication_policies,
    merged_registration_policies,
    registration_policies_to_json,
)
from idstore.services.appkey_rows import appkey_config_from_row
from idstore.services.conflicts import conflict
from idstore.services.context import Context
from idstore.services.errors import ResourceNotFound, StoreNotFound
from idstore.services.models import (
    AppkeyAuthenticationPolicy,
    AppkeyConfig,
    AppkeyRegistrationPolicy,
    JsonObject,
    SessionManagement,
)
from idstore.services.rows import find_store

DEFAULT_SINGLE_SHOT_WINDOW_SECONDS = 120
_CONFIGS = tables.appkey_configs


@dataclass(frozen=True)
class AppkeyConfigChanges:
    """The fields a request gave, by snake_case name; policies as maps of their given fields."""

    values: dict[str, Any] = field(default_factory=dict)
    registration_policies: dict[str, dict[str, Any]] | None = None
    authentication_policies: dict[str, dict[str, Any]] | None = None


async def create_config(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    rp_id: str,
    changes: AppkeyConfigChanges,
) -> AppkeyConfig:
    """Create the relying party's configuration, with a policy `default` of each kind when none
    is given. Raises 3000, 3700, 9002."""
    blank = AppkeyConfig(
        id=new_id(),
        store_id="",
        rp_id=check_rp_id(rp_id),
        trusted_facets=(),
        session_management=SessionManagement.INTERNAL,
        single_shot_window_seconds=DEFAULT_SINGLE_SHOT_WINDOW_SECONDS,
        registration_policies={},
        authentication_policies={},
        created_dtm=ctx.now,
        last_updated_dtm=ctx.now,
    )
    config = _merged(blank, changes)
    config = replace(
        config,
        registration_policies=config.registration_policies
        or {"default": AppkeyRegistrationPolicy()},
        authentication_policies=config.authentication_policies
        or {"default": AppkeyAuthenticationPolicy()},
    )
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = replace(config, store_id=store.id)
        try:
            await conn.execute(insert(_CONFIGS).values(_row_values(config)))
        except IntegrityError as exc:
            raise conflict(
                exc,
                unique=AppkeyConfigExists(f"an appkey configuration for {rp_id!r} exists"),
                missing=StoreNotFound("store not found"),
            ) from exc
        await events.record(
            conn, ctx, "appkeyConfig.created", store_id=store.id, subject_id=config.id
        )
    return config


async def get_config(
    database: Database, ctx: Context, *, store_name: str, rp_id: str
) -> AppkeyConfig:
    """Raises StoreNotFound (3000), ResourceNotFound (9011)."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        return await find_config(conn, store_id=store.id, rp_id=rp_id)


async def trusted_facets(
    database: Database, ctx: Context, *, store_name: str, rp_id: str
) -> JsonObject:
    """The UAF TrustedFacets document of the relying party. Raises 3000, 9011."""
    config = await get_config(database, ctx, store_name=store_name, rp_id=rp_id)
    return trusted_facets_document(config.trusted_facets)


async def update_config(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    rp_id: str,
    changes: AppkeyConfigChanges,
) -> AppkeyConfig:
    """Merge the given fields into the configuration. Raises 3000, 9011, 9002."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        current = await find_config(conn, store_id=store.id, rp_id=rp_id, for_update=True)
        config = replace(_merged(current, changes), last_updated_dtm=ctx.now)
        await conn.execute(
            update(_CONFIGS).where(_CONFIGS.c.id == config.id).values(_row_values(config))
        )
        await events.record(
            conn, ctx, "appkeyConfig.updated", store_id=store.id, subject_id=config.id
        )
        return config


async def delete_config(database: Database, ctx: Context, *, store_name: str, rp_id: str) -> None:
    """Delete the configuration; the users' appkeys of that relying party stay (and cannot be
    used until a configuration exists again). Raises 3000, 9011."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = await find_config(conn, store_id=store.id, rp_id=rp_id, for_update=True)
        await conn.execute(delete(_CONFIGS).where(_CONFIGS.c.id == config.id))
        await events.record(
            conn, ctx, "appkeyConfig.deleted", store_id=store.id, subject_id=config.id
        )


async def find_config(
    conn: AsyncConnection, *, store_id: str, rp_id: str, for_update: bool = False
) -> AppkeyConfig:
    """Raises ResourceNotFound (9011) naming the appkey configuration."""
    query = select(_CONFIGS).where(_CONFIGS.c.store_id == store_id, _CONFIGS.c.rp_id == rp_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise ResourceNotFound(f"appkey configuration for {rp_id!r} not found")
    return appkey_config_from_row(row)


def registration_policy(config: AppkeyConfig, name: str) -> AppkeyRegistrationPolicy:
    """Raises ResourceNotFound (9011) naming the registration policy."""
    policy = config.registration_policies.get(name)
    if policy is None:
        raise ResourceNotFound(f"appkey registration policy {name!r} not found")
    return policy


def authentication_policy(config: AppkeyConfig, name: str) -> AppkeyAuthenticationPolicy:
    """Raises ResourceNotFound (9011) naming the authentication policy."""
    policy = config.authentication_policies.get(name)
    if policy is None:
        raise ResourceNotFound(f"appkey authentication policy {name!r} not found")
    return policy


def _merged(current: AppkeyConfig, changes: AppkeyConfigChanges) -> AppkeyConfig:
    values = dict(changes.values)
    if "trusted_facets" in values:
        values["trusted_facets"] = check_facets(values["trusted_facets"])
    if "session_management" in values:
        values["session_management"] = SessionManagement(values["session_management"])
    config = replace(current, **values)
    if changes.registration_policies is not None:
        policies = merged_registration_policies(
            current.registration_policies, changes.registration_policies
        )
        config = replace(config, registration_policies=policies)
    if changes.authentication_policies is not None:
        authentication = merged_authentication_policies(
            current.authentication_policies, changes.authentication_policies
        )
        config = replace(config, authentication_policies=authentication)
    return config


def _row_values(config: AppkeyConfig) -> dict[str, Any]:
    return {
        "id": config.id,
        "store_id": config.store_id,
        "rp_id": config.rp_id,
        "trusted_facets": list(config.trusted_facets),
        "session_management": str(config.session_management),
        "single_shot_window_seconds": config.single_shot_window_seconds,
        "registration_policies": registration_policies_to_json(config.registration_policies),
        "authentication_policies": authentication_policies_to_json(config.authentication_policies),
        "created_dtm": config.created_dtm,
        "last_updated_dtm": config.last_updated_dtm,
    }
