"""Reading and writing the user_biometrics table: a user's faces as domain objects, and the
sealed template of one, which never leaves the services that match it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.services.face_models import (
    BiometricStatus,
    BiometricSubtype,
    BiometricType,
    UserBiometric,
)

BIOMETRICS = tables.user_biometrics
# Every column but the sealed ones: what a user's summary needs.
_SUMMARY_COLUMNS = [
    column for column in BIOMETRICS.c if column.name not in ("template_sealed", "image_sealed")
]


async def biometrics_of(
    conn: AsyncConnection, *, store_id: str, user_id: str
) -> tuple[UserBiometric, ...]:
    """The user's enrolled biometrics, oldest first, without their sealed template or image."""
    rows = await conn.execute(
        select(*_SUMMARY_COLUMNS)
        .where(BIOMETRICS.c.store_id == store_id, BIOMETRICS.c.user_id == user_id)
        .order_by(BIOMETRICS.c.created_dtm, BIOMETRICS.c.id)
    )
    return tuple(biometric_from_row(row) for row in rows)


async def face_row(
    conn: AsyncConnection, *, store_id: str, user_id: str, subtype: BiometricSubtype
) -> Row[Any] | None:
    """The user's face of that subtype with its sealed template, or None."""
    return (
        await conn.execute(
            select(BIOMETRICS).where(
                BIOMETRICS.c.store_id == store_id,  # routes the read to the store's shard
                BIOMETRICS.c.user_id == user_id,
                BIOMETRICS.c.type == str(BiometricType.FACE),
                BIOMETRICS.c.subtype == str(subtype),
            )
        )
    ).first()


def biometric_from_row(row: Row[Any]) -> UserBiometric:
    return UserBiometric(
        id=row.id,
        user_id=row.user_id,
        type=BiometricType(row.type),
        subtype=BiometricSubtype(row.subtype),
        status=BiometricStatus(row.status),
        quality=row.quality,
        model=row.model,
        model_version=row.model_version,
        created_dtm=row.created_dtm,
        last_updated_dtm=row.last_updated_dtm,
    )
