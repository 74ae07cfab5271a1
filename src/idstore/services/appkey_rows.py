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

_APPKEYS = tables.user_appkeys


def appkey_config_from_row(row: Row[Any]) -> AppkeyConfig:
    return AppkeyConfig(
        id=row.id,
        store_id=row.store_id,
        rp_id=row.rp_id,
        trusted_facets=tuple(row.trusted_facets),
        session_management=SessionManagement(row.session_management),
        single_shot_window_seconds=row.single_shot_window_seconds,
        registration_policies=registration_policies_from_json(row.registration_policies),
        authentication_policies=authentication_policies_from_json(row.authentication_policies),
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
    )


def appkey_from_row(row: Row[Any]) -> UserAppkey:
    return UserAppkey(
        id=row.id,
        user_id=row.user_id,
        rp_id=row.rp_id,
        aaid=row.aaid,
        key_id=row.key_id,
        type=AppkeyType(row.key_type),
        device_id=row.device_id,
        device_name=row.device_name,
        status=AppkeyStatus(row.status),
        sign_count=row.sign_count,
        attestation_type=row.attestation_type,
        preferred=row.preferred,
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
        last_authenticated_with_dtm=row.last_authenticated_with_dtm,
    )


async def appkeys_of(
    conn: AsyncConnection, *, store_id: str, user_id: str
) -> tuple[UserAppkey, ...]:
    """The user's appkeys, oldest first."""
    rows = await conn.execute(
        select(_APPKEYS)
        .where(_APPKEYS.c.store_id == store_id, _APPKEYS.c.user_id == user_id)
        .order_by(_APPKEYS.c.created_dtm, _APPKEYS.c.id)
    )
    return tuple(appkey_from_row(row) for row in rows)
