"""Appkey rows read into the domain's dataclasses (spec §10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.services.appkey_policies import (
    authentication_policies_from_json,
    registration_policies_from_json,
)
from idstore.services.models import (
    AppkeyConfig,
    AppkeyStatus,
    AppkeyType,
    SessionManagement,
    UserAppkey,
)
from idstore.services.row_fields import from_row, oldest_first

_APPKEYS = tables.user_appkeys


def appkey_config_from_row(row: Row[Any]) -> AppkeyConfig:
    return from_row(
        AppkeyConfig,
        row,
        trusted_facets=tuple(row.trusted_facets),
        session_management=SessionManagement(row.session_management),
        registration_policies=registration_policies_from_json(row.registration_policies),
        authentication_policies=authentication_policies_from_json(row.authentication_policies),
    )


def appkey_from_row(row: Row[Any]) -> UserAppkey:
    return from_row(UserAppkey, row, type=AppkeyType(row.key_type), status=AppkeyStatus(row.status))


async def appkeys_of(
    conn: AsyncConnection, *, store_id: str, user_id: str
) -> tuple[UserAppkey, ...]:
    """The user's appkeys, oldest first."""
    query = select(_APPKEYS).where(_APPKEYS.c.store_id == store_id, _APPKEYS.c.user_id == user_id)
    return await oldest_first(conn, query, _APPKEYS, appkey_from_row)
