"""Appkey configurations of a store, one per relying party (spec §10): create, read, update,
delete, and the TrustedFacets document. Updates merge field by field; the policy maps merge by
name, and a policy given merges into the one of that name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services.appkey_facets import check_facets, check_rp_id, trusted_facets_document
from idstore.services.appkey_management_errors import AppkeyConfigExists
from idstore.services.appkey_policies import (
    authentication_policies_to_json,
    merged_authentication_policies,
    merged_registration_policies,
    registration_policies_to_json,
)
from idstore.services.appkey_rows import appkey_config_from_row
from idstore.services.context import Context
from idstore.services.errors import ResourceNotFound
from idstore.services.models import (
    AppkeyAuthenticationPolicy,
    AppkeyConfig,
    AppkeyRegistrationPolicy,
    JsonObject,
    SessionManagement,
)
from idstore.services.relying_party_configs import (
    ConfigChanges,
    ConfigKind,
    delete_row,
    find_row,
    insert_row,
    update_row,
)
from idstore.services.rows import find_store

DEFAULT_SINGLE_SHOT_WINDOW_SECONDS = 120
APPKEY_CONFIGS = ConfigKind(tables.appkey_configs, "appkey configuration", "appkeyConfig")


async def create_config(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    rp_id: str,
    changes: ConfigChanges,
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
        exists = AppkeyConfigExists(f"an appkey configuration for {rp_id!r} exists")
        await insert_row(conn, ctx, APPKEY_CONFIGS, _row_values(config), exists=exists)
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
    changes: ConfigChanges,
) -> AppkeyConfig:
    """Merge the given fields into the configuration. Raises 3000, 9011, 9002."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        current = await find_config(conn, store_id=store.id, rp_id=rp_id, for_update=True)
        config = replace(_merged(current, changes), last_updated_dtm=ctx.now)
        await update_row(conn, ctx, APPKEY_CONFIGS, _row_values(config))
        return config


async def delete_config(database: Database, ctx: Context, *, store_name: str, rp_id: str) -> None:
    """Delete the configuration; the users' appkeys of that relying party stay (and cannot be
    used until a configuration exists again). Raises 3000, 9011."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        await delete_row(conn, ctx, APPKEY_CONFIGS, store_id=store.id, rp_id=rp_id)


async def find_config(
    conn: AsyncConnection, *, store_id: str, rp_id: str, for_update: bool = False
) -> AppkeyConfig:
    """Raises ResourceNotFound (9011) naming the appkey configuration."""
    row = await find_row(
        conn, APPKEY_CONFIGS, store_id=store_id, rp_id=rp_id, for_update=for_update
    )
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


def _merged(current: AppkeyConfig, changes: ConfigChanges) -> AppkeyConfig:
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
