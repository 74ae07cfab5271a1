"""Passkey configurations of a store, one per relying party (spec §9): what the kind builds and
checks itself (relying_party_configs does the rest), and what a ceremony's session must match."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.ids import new_id
from idstore.services import passkey_sessions
from idstore.services.ceremony_sessions import REGISTRATION
from idstore.services.context import Context
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
from idstore.services.relying_party_configs import ConfigKind, policy_named
from idstore.services.rows import config_from_row
from idstore.services.webauthn_terms import Expected

DEFAULT_POLICIES = {"default": PasskeyPolicy()}


class PasskeyConfigs(ConfigKind[PasskeyConfig]):
    """Passkey configurations: the relying party's name, its restricted origins, and WebAuthn
    policies for registration and authentication."""

    def blank(self, ctx: Context, rp_id: str) -> PasskeyConfig:
        """Raises RelyingPartyIdRefused (3607) when the rp_id is no registrable domain."""
        check_rp_id(rp_id)
        return PasskeyConfig(
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

    def with_default_policies(self, config: PasskeyConfig) -> PasskeyConfig:
        return replace(
            config,
            registration_policies=config.registration_policies or DEFAULT_POLICIES,
            authentication_policies=config.authentication_policies or DEFAULT_POLICIES,
        )

    def exists(self, rp_id: str) -> PasskeyConfigExists:
        return PasskeyConfigExists(f"a passkey configuration for {rp_id!r} exists")

    def checked_values(self, current: PasskeyConfig, values: dict[str, Any]) -> dict[str, Any]:
        if "restricted_origins" in values:
            values["restricted_origins"] = check_origins(
                current.rp_id, values["restricted_origins"]
            )
        return values

    def merged_registration_policies(
        self, current: PasskeyConfig, given: dict[str, dict[str, Any]]
    ) -> dict[str, PasskeyPolicy]:
        return _merged_policies(current.registration_policies, given)

    def merged_authentication_policies(
        self, current: PasskeyConfig, given: dict[str, dict[str, Any]]
    ) -> dict[str, PasskeyPolicy]:
        return _merged_policies(current.authentication_policies, given)

    def from_row(self, row: Row[Any]) -> PasskeyConfig:
        return config_from_row(row)

    def row_values(self, config: PasskeyConfig) -> dict[str, Any]:
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


PASSKEY_CONFIGS = PasskeyConfigs(
    tables.passkey_configs, noun="passkey configuration", event="passkeyConfig"
)
# The ceremonies look the configuration up in their own transaction.
find_config = PASSKEY_CONFIGS.find


def _merged_policies(
    current: Mapping[str, PasskeyPolicy], given: dict[str, dict[str, Any]]
) -> dict[str, PasskeyPolicy]:
    merged = dict(current)
    for name, values in given.items():
        if "algorithms" in values:
            values = {**values, "algorithms": tuple(dict.fromkeys(values["algorithms"]))}
        merged[name] = replace(merged.get(name, PasskeyPolicy()), **values)
    return merged


def _policies_to_json(policies: Mapping[str, PasskeyPolicy]) -> JsonObject:
    stored: JsonObject = {}
    for name, policy in policies.items():
        values: dict[str, JsonValue] = {**asdict(policy), "algorithms": list(policy.algorithms)}
        stored[name] = values
    return stored


def registration_policy(config: PasskeyConfig, name: str) -> PasskeyPolicy:
    """Raises ResourceNotFound (9011) naming the registration policy."""
    return policy_named(config.registration_policies, name, noun="passkey registration policy")


def authentication_policy(config: PasskeyConfig, name: str) -> PasskeyPolicy:
    """Raises ResourceNotFound (9011) naming the authentication policy."""
    return policy_named(config.authentication_policies, name, noun="passkey authentication policy")


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
    if ceremony == REGISTRATION:
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
