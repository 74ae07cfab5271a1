"""Appkey configurations of a store, one per relying party (spec §10): what the kind builds and
checks itself (relying_party_configs does the rest), and the TrustedFacets document."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Row

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
from idstore.services.models import (
    AppkeyAuthenticationPolicy,
    AppkeyConfig,
    AppkeyRegistrationPolicy,
    JsonObject,
    SessionManagement,
)
from idstore.services.relying_party_configs import ConfigKind, policy_named

DEFAULT_SINGLE_SHOT_WINDOW_SECONDS = 120


class AppkeyConfigs(ConfigKind[AppkeyConfig]):
    """Appkey configurations: TrustedFacets, the single-shot window, and a registration and an
    authentication policy map of their own kinds."""

    def blank(self, ctx: Context, rp_id: str) -> AppkeyConfig:
        """Raises InvalidField (9002) when the rp_id is no lower-case domain name."""
        return AppkeyConfig(
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

    def with_default_policies(self, config: AppkeyConfig) -> AppkeyConfig:
        return replace(
            config,
            registration_policies=config.registration_policies
            or {"default": AppkeyRegistrationPolicy()},
            authentication_policies=config.authentication_policies
            or {"default": AppkeyAuthenticationPolicy()},
        )

    def exists(self, rp_id: str) -> AppkeyConfigExists:
        return AppkeyConfigExists(f"an appkey configuration for {rp_id!r} exists")

    def checked_values(self, current: AppkeyConfig, values: dict[str, Any]) -> dict[str, Any]:
        if "trusted_facets" in values:
            values["trusted_facets"] = check_facets(values["trusted_facets"])
        return values

    def merged_registration_policies(
        self, current: AppkeyConfig, given: dict[str, dict[str, Any]]
    ) -> dict[str, AppkeyRegistrationPolicy]:
        return merged_registration_policies(current.registration_policies, given)

    def merged_authentication_policies(
        self, current: AppkeyConfig, given: dict[str, dict[str, Any]]
    ) -> dict[str, AppkeyAuthenticationPolicy]:
        return merged_authentication_policies(current.authentication_policies, given)

    def from_row(self, row: Row[Any]) -> AppkeyConfig:
        return appkey_config_from_row(row)

    def row_values(self, config: AppkeyConfig) -> dict[str, Any]:
        return {
            "id": config.id,
            "store_id": config.store_id,
            "rp_id": config.rp_id,
            "trusted_facets": list(config.trusted_facets),
            "session_management": str(config.session_management),
            "single_shot_window_seconds": config.single_shot_window_seconds,
            "registration_policies": registration_policies_to_json(config.registration_policies),
            "authentication_policies": authentication_policies_to_json(
                config.authentication_policies
            ),
            "created_dtm": config.created_dtm,
            "last_updated_dtm": config.last_updated_dtm,
        }


APPKEY_CONFIGS = AppkeyConfigs(
    tables.appkey_configs, noun="appkey configuration", event="appkeyConfig"
)
# The ceremonies look the configuration up in their own transaction.
find_config = APPKEY_CONFIGS.find


async def trusted_facets(
    database: Database, ctx: Context, *, store_name: str, rp_id: str
) -> JsonObject:
    """The UAF TrustedFacets document of the relying party. Raises 3000, 9011."""
    config = await APPKEY_CONFIGS.get(database, ctx, store_name=store_name, rp_id=rp_id)
    return trusted_facets_document(config.trusted_facets)


def registration_policy(config: AppkeyConfig, name: str) -> AppkeyRegistrationPolicy:
    """Raises ResourceNotFound (9011) naming the registration policy."""
    return policy_named(config.registration_policies, name, noun="appkey registration policy")


def authentication_policy(config: AppkeyConfig, name: str) -> AppkeyAuthenticationPolicy:
    """Raises ResourceNotFound (9011) naming the authentication policy."""
    return policy_named(config.authentication_policies, name, noun="appkey authentication policy")
