"""The authentication record of a passkey's or appkey's registration: the completion that kept
the key is an attempt (docs/decisions.md), audited as a SUCCESS of the key's modality, whose
details name the key (`passkeyInfo` / `appkeyInfo`: `id`, `ceremony` REGISTRATION). It is
written in the transaction that inserts the key, at the same instant (`ctx.now`), so the key's
`createdDtm` finds it through the audit index (store_id, user_id, created_dtm, id) without
reading the rest of the user's audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.services.audit import record_from_row
from idstore.services.ceremony_sessions import REGISTRATION
from idstore.services.models import AuditRecord, AuditResult, Modality

_INFO = {Modality.PASSKEY: "passkeyInfo", Modality.APPKEY: "appkeyInfo"}


async def registration_record(
    conn: AsyncConnection, modality: Modality, key_row: Row[Any]
) -> AuditRecord | None:
    """The record of the completion that registered the key, or None: a key imported, or
    registered before completions were audited, has none."""
    audit = tables.authentication_audit.c
    same_instant = await conn.execute(
        select(tables.authentication_audit)
        .where(
            audit.store_id == key_row.store_id,
            audit.user_id == key_row.user_id,
            audit.created_dtm == key_row.created_dtm,
            audit.type == str(modality),
            audit.result == str(AuditResult.SUCCESS),
        )
        .order_by(audit.id)
    )
    for row in same_instant:
        info = row.details.get(_INFO[modality])
        if _names_registration_of(info, key_row.id):
            return record_from_row(row)
    return None


def _names_registration_of(info: object, key_id: str) -> bool:
    return (
        isinstance(info, dict) and info.get("id") == key_id and info.get("ceremony") == REGISTRATION
    )
