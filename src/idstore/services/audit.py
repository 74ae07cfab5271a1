"""The authentication audit (spec §7): one record per attempt, in the attempt's transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services import audit_chain
from idstore.services.audit_chain import AuditContent
from idstore.services.context import Context, UserRef
from idstore.services.errors import IdstoreError, ResourceNotFound
from idstore.services.models import (
    AuditRecord,
    AuditResult,
    AuditType,
    JsonObject,
    Modality,
    UserTotp,
)
from idstore.services.paging import Page, PageRequest, fetch_page
from idstore.services.rows import find_store, find_user_row
from idstore.timestamps import format_dtm

SORTABLE = {"createdDtm": tables.authentication_audit.c.created_dtm}
_RECORD_COLUMNS = (
    *(field.name for field in fields(AuditContent)),
    "chain_key_id",
    "chain_previous",
    "chain_hash",
)
# Every column an attempt's record fills, bound by its own name: the attempt writes it together
# with the user's new chain head (attempts.py).
RECORD_INSERT = insert(tables.authentication_audit).values(
    {name: bindparam(name) for name in _RECORD_COLUMNS}
)


@dataclass(frozen=True)
class AuditFilter:
    type: AuditType | None = None
    result: AuditResult | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def new_record(
    ctx: Context,
    keyring: KeyRing,
    *,
    store_id: str,
    user_id: str,
    modality: Modality,
    error: IdstoreError | None,
    details: JsonObject,
    previous: str | None,
) -> tuple[AuditRecord, dict[str, Any]]:
    """The record of one attempt (a success when `error` is None, else its failure code), linked
    after `previous`, the user's chain head; and the values RECORD_INSERT writes it with. The
    caller writes it and stores the new head in the attempt's transaction."""
    content = AuditContent(
        id=new_id(),
        tenant_id=ctx.tenant_id,
        store_id=store_id,
        user_id=user_id,
        type=str(modality),
        result=str(AuditResult.SUCCESS if error is None else AuditResult.FAILURE),
        error_code=None if error is None else error.code,
        created_dtm=ctx.now,
        details=details,
        request_id=ctx.request_id,
    )
    chained = audit_chain.link(keyring, content, previous or audit_chain.GENESIS)
    values = {
        **content.__dict__,
        "chain_key_id": chained.key_id,
        "chain_previous": chained.previous,
        "chain_hash": chained.hash,
    }
    record = AuditRecord(
        id=content.id,
        tenant_id=content.tenant_id,
        store_id=store_id,
        user_id=user_id,
        type=modality,
        result=AuditResult(content.result),
        error_code=content.error_code,
        created_dtm=content.created_dtm,
        details=details,
        chain_hash=chained.hash,
    )
    return record, values


def totp_details(totp: UserTotp | None, *, policy_name: str) -> JsonObject:
    """`totpInfo` of a TOTP attempt: which TOTP, never its secret or the code tried."""
    info: JsonObject = {"policyName": policy_name}
    if totp is not None:
        info.update(
            id=totp.id,
            algorithm=str(totp.algorithm),
            registrationCreatedDtm=format_dtm(totp.created_dtm),
        )
        if totp.activated_dtm is not None:
            info["registrationActivatedDtm"] = format_dtm(totp.activated_dtm)
    return {"totpInfo": info}


async def list_records(
    database: Database,
    ctx: Context,
    *,
    store_name: str,
    ref: UserRef,
    where: AuditFilter,
    request: PageRequest,
) -> Page[AuditRecord]:
    """One page of a user's authentication records. Raises 3000, 3100."""
    audit = tables.authentication_audit.c
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)

        query = select(tables.authentication_audit).where(
            audit.store_id == store.id, audit.user_id == user.id
        )
        if where.type is not None:
            query = query.where(audit.type == str(where.type))
        if where.result is not None:
            query = query.where(audit.result == str(where.result))
        if where.created_from is not None:
            query = query.where(audit.created_dtm >= where.created_from)
        if where.created_to is not None:
            query = query.where(audit.created_dtm <= where.created_to)
        return await fetch_page(
            conn,
            query,
            request=request,
            sortable=SORTABLE,
            tiebreak=audit.id,
            convert=record_from_row,
        )


async def get_record(
    database: Database, ctx: Context, *, store_name: str, ref: UserRef, record_id: str
) -> AuditRecord:
    """One of the user's records. Raises 3000, 3100, and 9011 for a record that is not theirs."""
    audit = tables.authentication_audit.c
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=ctx.tenant_id, name=store_name)
        user = await find_user_row(conn, store_id=store.id, ref=ref)
        row = (
            await conn.execute(
                select(tables.authentication_audit).where(
                    audit.id == record_id, audit.store_id == store.id, audit.user_id == user.id
                )
            )
        ).first()
        if row is None:
            raise ResourceNotFound("authentication audit record not found")
        return record_from_row(row)


def record_from_row(row: Row[Any]) -> AuditRecord:
    """An audit record from its row of `authentication_audit`."""
    return AuditRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        store_id=row.store_id,
        user_id=row.user_id,
        type=Modality(row.type),
        result=AuditResult(row.result),
        error_code=row.error_code,
        created_dtm=row.created_dtm,
        details=row.details,
    )
