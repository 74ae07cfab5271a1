"""Walking a store's authentication audit chains (`idstore verify-audit`).

Records stream from the database ordered by user, so memory holds one user's chain at a time
whatever the size of the store. The first broken link of each user is named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.audit_chain import GENESIS, AuditContent, Link, holds
from idstore.services.rows import find_store

_REPORT_EVERY = 10_000


@dataclass(frozen=True)
class Break:
    user_id: str
    record_id: str | None
    problem: str


@dataclass
class ChainReport:
    records: int = 0
    users: int = 0
    unchained: int = 0
    breaks: list[Break] = field(default_factory=list)


async def verify_store(
    database: Database,
    keyring: KeyRing,
    *,
    tenant_id: str,
    store_name: str,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check every user's chain in the store. Raises StoreNotFound (3000)."""
    audit, users = tables.authentication_audit, tables.users
    report = ChainReport()
    async with database.transaction(write=False) as conn:
        store = await find_store(conn, tenant_id=tenant_id, name=store_name)
        query = (
            select(audit, users.c.audit_chain_head, users.c.id.label("living_user_id"))
            .select_from(audit.outerjoin(users, users.c.id == audit.c.user_id))
            .where(audit.c.store_id == store.id)
            .order_by(audit.c.user_id, audit.c.created_dtm, audit.c.id)
        )
        chain: list[Row[Any]] = []
        async for row in await conn.stream(query.execution_options(yield_per=1000)):
            if chain and row.user_id != chain[0].user_id:
                _check(keyring, chain, report)
                chain = []
            chain.append(row)
            report.records += 1
            if progress is not None and report.records % _REPORT_EVERY == 0:
                progress(report.records)
        if chain:
            _check(keyring, chain, report)
    return report


def _check(keyring: KeyRing, rows: Sequence[Row[Any]], report: ChainReport) -> None:
    report.users += 1
    chained = [row for row in rows if row.chain_hash is not None]
    report.unchained += len(rows) - len(chained)
    found = _first_break(keyring, chained)
    if found is not None:
        report.breaks.append(found)


def _first_break(keyring: KeyRing, rows: Sequence[Row[Any]]) -> Break | None:
    if not rows:
        return None
    user_id = rows[0].user_id
    following: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        if not holds(
            keyring, _content(row), Link(row.chain_key_id, row.chain_previous, row.chain_hash)
        ):
            return Break(user_id, row.id, "altered: its hash does not vouch for its content")
        following[row.chain_previous].append(row)
    for group in following.values():
        if len(group) > 1:
            return Break(
                user_id, group[1].id, "shares its predecessor with another: one was inserted"
            )

    reached, last, current = set(), None, GENESIS
    while current in following:
        last = following[current][0]
        reached.add(last.id)
        current = last.chain_hash
    missing = next((row for row in rows if row.id not in reached), None)
    if missing is not None:
        return Break(user_id, missing.id, "follows a record that is gone: one was deleted")
    head = rows[0].audit_chain_head
    if rows[0].living_user_id is not None and last is not None and head != last.chain_hash:
        return Break(user_id, last.id, "is not the user's newest: records after it were deleted")
    return None


def _content(row: Row[Any]) -> AuditContent:
    return AuditContent(
        id=row.id,
        tenant_id=row.tenant_id,
        store_id=row.store_id,
        user_id=row.user_id,
        type=row.type,
        result=row.result,
        error_code=row.error_code,
        created_dtm=row.created_dtm,
        details=row.details,
        request_id=row.request_id,
    )
