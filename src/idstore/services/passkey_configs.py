"""Passkey configurations of a store, one per relying party (spec §9): create, read, update,
delete. Updates merge field by field; the policy maps merge by name, and a policy given merges
into the one of that name."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import passkey_sessions
from idstore.services.context import Context
from idstore.services.errors import ResourceNotFound
from idstore.services.models import (
    JsonObject,
    JsonValue,
    PasskeyConfig,
    PasskeyPolicy,
    SessionManagement,
)
from idstore.services.passkey_errors import PasskeyConfigExists
from idstore.services.passkey_origins import check_origins, check_rp_id
from idstore.services.passkey_sessions import Completion, SessionState
from idstore.services.relying_party_configs import (
    ConfigChanges,
    ConfigKind,
    delete_row,
    find_row,
    insert_row,
    update_row,
)
from idstore.services.rows import config_from_row, find_store
from idstore.services.webauthn_terms import Expected

DEFAULT_POLICIES = {"default": PasskeyPolicy()}
PASSKEY_CONFIGS = ConfigKind(tables.passkey_configs, "passkey configuration", "passkeyConfig")


async def create_config(
    database: Database, ctx: Context, *, store_name: str, rp_id: str, changes: ConfigChanges
) -> PasskeyConfig:
    """Create the relying party's configuration. Raises 3000, 3600, 3607, 9002."""
    check_rp_id(rp_id)
    blank = PasskeyConfig(
        id=new_id(),
        store_id="",
        rp_id=rp_id,
        rp_name=rp_id,
        restricted_origins=(),
        session_management=SessionManagement.INTERNAL,
        registration_policies={},
        authentication_policies={},
        created_dtm=ctx.now,
        last_updated_dtm=ctx.now,
    )
    config = _merged(blank, changes)
    config = replace(
        config,
        registration_policies=config.registration_policies or DEFAULT_POLICIES,
        authentication_policies=config.authentication_policies or DEFAULT_POLICIES,
    )
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        config = replace(config, store_id=store.id)
        exists = PasskeyConfigExists(f"a passkey configuration for {rp_id!r} exists")
        await insert_row(conn, ctx, PASSKEY_CONFIGS, _row_values(config), exists=exists)
    return config


async def get_config(
    database: Database, ctx: Context, *, store_name: str, rp_id: str
) -> PasskeyConfig:
    """Raises StoreNotFound (3000), ResourceNotFound (9011)."""
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        return await find_config(conn, store_id=store.id, rp_id=rp_id)


async def update_config(
    database: Database, ctx: Context, *, store_name: str, rp_id: str, changes: ConfigChanges
) -> PasskeyConfig:
    """Merge the given fields into the configuration. Raises 3000, 9011, 9002."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        current = await find_config(conn, store_id=store.id, rp_id=rp_id, for_update=True)
        config = replace(_merged(current, changes), last_updated_dtm=ctx.now)
        await update_row(conn, ctx, PASSKEY_CONFIGS, _row_values(config))
        return config


async def delete_config(database: Database, ctx: Context, *, store_name: str, rp_id: str) -> None:
    """Delete the configuration; the users' passkeys of that relying party stay (and cannot be
    used until a configuration exists again). Raises 3000, 9011."""
    async with database.transaction() as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        await delete_row(conn, ctx, PASSKEY_CONFIGS, store_id=store.id, rp_id=rp_id)


async def find_config(
    conn: AsyncConnection, *, store_id: str, rp_id: str, for_update: bool = False
) -> PasskeyConfig:
    """Raises ResourceNotFound (9011) naming the passkey configuration."""
    row = await find_row(
        conn, PASSKEY_CONFIGS, store_id=store_id, rp_id=rp_id, for_update=for_update
    )
    return config_from_row(row)


def _merged(current: PasskeyConfig, changes: ConfigChanges) -> PasskeyConfig:
    values = dict(changes.values)
    if "restricted_origins" in values:
        values["restricted_origins"] = check_origins(current.rp_id, values["restricted_origins"])
    if "session_management" in values:
        values["session_management"] = SessionManagement(values["session_management"])
    config = replace(current, **values)
    if changes.registration_policies is not None:
        policies = _merged_policies(current.registration_policies, changes.registration_policies)
        config = replace(config, registration_policies=policies)
    if changes.authentication_policies is not None:
        policies = _merged_policies(
            current.authentication_policies, changes.authentication_policies
        )
        config = replace(config, authentication_policies=policies)
    return config


def _merged_policies(
    current: dict[str, PasskeyPolicy] | Any, given: dict[str, dict[str, Any]]
) -> dict[str, PasskeyPolicy]:
    merged = dict(current)
    for name, values in given.items():
        if "algorithms" in values:
            values = {**values, "algorithms": tuple(dict.fromkeys(values["algorithms"]))}
        merged[name] = replace(merged.get(name, PasskeyPolicy()), **values)
    return merged


def _row_values(config: PasskeyConfig) -> dict[str, Any]:
    return {
        "id": config.id,
        "store_id": config.store_id,
        "rp_id": config.rp_id,
        "rp_name": config.rp_name,
        "restricted_origins": list(config.restricted_origins),
        "session_management": str(config.session_management),
        "registration_policies": _policies_to_json(config.registration_policies),
        "authentication_policies": _policies_to_json(config.authentication_policies),
        "created_dtm": config.created_dtm,
        "last_updated_dtm": config.last_updated_dtm,
    }


def _policies_to_json(policies: Any) -> JsonObject:
    stored: JsonObject = {}
    for name, policy in policies.items():
        values: dict[str, JsonValue] = {**asdict(policy), "algorithms": list(policy.algorithms)}
        stored[name] = values
    return stored


def registration_policy(config: PasskeyConfig, name: str) -> PasskeyPolicy:
    """Raises ResourceNotFound (9011) naming the registration policy."""
    policy = config.registration_policies.get(name)
    if policy is None:
        raise ResourceNotFound(f"passkey registration policy {name!r} not found")
    return policy


def authentication_policy(config: PasskeyConfig, name: str) -> PasskeyPolicy:
    """Raises ResourceNotFound (9011) naming the authentication policy."""
    policy = config.authentication_policies.get(name)
    if policy is None:
        raise ResourceNotFound(f"passkey authentication policy {name!r} not found")
    return policy


async def open_session(
    conn: AsyncConnection,
    keyring: KeyRing,
    *,
    store_id: str,
    ceremony: str,
    completion: Completion,
) -> tuple[SessionState, Expected]:
    """Use the session up (passkey_sessions.consume) and say what its response must match:
    the relying party, challenge, origins and policy as configured now. Raises as `consume`
    does, and ResourceNotFound (9011) when the configuration or policy is gone."""
    state = await passkey_sessions.consume(
        conn, keyring, store_id=store_id, ceremony=ceremony, completion=completion
    )
    config = await find_config(conn, store_id=store_id, rp_id=state.rp_id)
    if ceremony == passkey_sessions.REGISTRATION:
        policy = registration_policy(config, state.policy_name)
    else:
        policy = authentication_policy(config, state.policy_name)
    expected = Expected(
        rp_id=config.rp_id,
        challenge=state.challenge_bytes(),
        restricted_origins=config.restricted_origins,
        policy=policy,
    )
    return state, expected
