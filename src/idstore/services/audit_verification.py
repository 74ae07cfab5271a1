"""Walking a store's authentication audit chains (`idstore verify-audit`).

Records stream from the database ordered by user, so memory holds one user's chain at a time
whatever the size of the store. The first broken link of each user is named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, String, exists, select, type_coerce

from idstore import strict_json
from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.audit_chain import GENESIS, AuditContent, Link, head_holds, holds
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
    store_name: str | None = None,
    store_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check every user's chain in the store, named or (once deleted) by id.

    Raises StoreNotFound (3000) for a store name the tenant does not have.
    """
    report = ChainReport()
    async with database.transaction(write=False) as conn:
        if store_name is not None:
            store_id = (await find_store(conn, tenant_id=tenant_id, name=store_name)).id
        chain: list[Row[Any]] = []
        async for row in await conn.stream(_records_of(tenant_id, str(store_id))):
            if chain and row.user_id != chain[0].user_id:
                _check(keyring, chain, report)
                chain = []
            chain.append(row)
            report.records += 1
            if progress is not None and report.records % _REPORT_EVERY == 0:
                progress(report.records)
        if chain:
            _check(keyring, chain, report)
        for user_id in await conn.scalars(_heads_without_records(str(store_id))):
            report.users += 1
            report.breaks.append(Break(user_id, None, "every record of the user is gone"))
    return report


def _records_of(tenant_id: str, store_id: str) -> Any:
    audit, users = tables.authentication_audit, tables.users
    # Read as stored, not converted: a value edited into nonsense is a finding, not a crash.
    raw = [type_coerce(audit.c[name], String).label(name) for name in _RAW_COLUMNS]
    kept = [column for column in audit.c if column.name not in _RAW_COLUMNS]
    return (
        select(
            *kept,
            *raw,
            users.c.audit_chain_head,
            users.c.audit_chain_length,
            users.c.audit_chain_seal,
            users.c.id.label("living_user_id"),
        )
        .select_from(
            audit.outerjoin(
                users, (users.c.store_id == audit.c.store_id) & (users.c.id == audit.c.user_id)
            )
        )
        .where(audit.c.tenant_id == tenant_id, audit.c.store_id == store_id)
        .order_by(audit.c.user_id, audit.c.created_dtm, audit.c.id)
        .execution_options(yield_per=1000)
    )


def _heads_without_records(store_id: str) -> Any:
    audit, users = tables.authentication_audit, tables.users
    return select(users.c.id).where(
        users.c.store_id == store_id,
        users.c.audit_chain_head.is_not(None),
        ~exists().where(audit.c.store_id == users.c.store_id, audit.c.user_id == users.c.id),
    )


def _check(keyring: KeyRing, rows: Sequence[Row[Any]], report: ChainReport) -> None:
    report.users += 1
    found = _unchained_break(rows, report) or _first_break(keyring, rows)
    if found is not None:
        report.breaks.append(found)


def _unchained_break(rows: Sequence[Row[Any]], report: ChainReport) -> Break | None:
    """Records without a link are those written before chaining began: never after a linked
    one, and never for a user whose row holds a chain head."""
    chained_seen = False
    for row in rows:
        if row.chain_hash is not None:
            chained_seen = True
        elif chained_seen or row.audit_chain_head is not None:
            return Break(
                row.user_id, row.id, "has no link among linked records: inserted, or stripped"
            )
        else:
            report.unchained += 1
    return None


def _first_break(keyring: KeyRing, rows: Sequence[Row[Any]]) -> Break | None:
    chained = [row for row in rows if row.chain_hash is not None]
    if not chained:
        return None
    user_id = chained[0].user_id
    following: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in chained:
        problem = _link_problem(keyring, row)
        if problem is not None:
            return Break(user_id, row.id, problem)
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
    missing = next((row for row in chained if row.id not in reached), None)
    if missing is not None:
        return Break(user_id, missing.id, "follows a record that is gone: one was deleted")
    if last is not None and chained[0].living_user_id is not None:
        return _head_break(keyring, chained, last)
    return None


def _link_problem(keyring: KeyRing, row: Row[Any]) -> str | None:
    if row.chain_key_id not in {key_id for key_id, _ in keyring.keys}:
        return f"was linked under key {row.chain_key_id}, which is no longer in the key ring"
    try:
        content = _content(row)
    except strict_json.DuplicateKeys as repeated:
        return f"cannot be read: its details name {repeated} more than once"
    except (TypeError, ValueError):
        return "cannot be read: a stored value is not of its type"
    if not holds(keyring, content, Link(row.chain_key_id, row.chain_previous, row.chain_hash)):
        return "altered: its hash does not vouch for its content"
    return None


def _head_break(keyring: KeyRing, chained: Sequence[Row[Any]], last: Row[Any]) -> Break | None:
    """The user row's head must name the newest record, count them all, and be sealed so."""
    first = chained[0]
    if first.audit_chain_head != last.chain_hash or first.audit_chain_length != len(chained):
        return Break(
            last.user_id, last.id, "is not the user's newest: records after it were deleted"
        )
    sealed = head_holds(
        keyring,
        last.chain_key_id,
        user_id=last.user_id,
        length=len(chained),
        head=last.chain_hash,
        seal=first.audit_chain_seal or "",
    )
    if not sealed:
        return Break(last.user_id, last.id, "the user's chain head was rewritten")
    return None


_RAW_COLUMNS = ("created_dtm", "details")


def _content(row: Row[Any]) -> AuditContent:
    """The record as the chain saw it. Raises ValueError for a value not of its type,
    DuplicateKeys for details that name a key twice."""
    created, details = row.created_dtm, row.details
    if isinstance(created, str):  # SQLite keeps text: naive UTC
        created = datetime.fromisoformat(created).replace(tzinfo=UTC)
    if isinstance(details, str):
        # Strictly: text (SQLite keeps details as text) naming a key twice reads as linked to a
        # parser keeping the last member and as edited to one keeping the first.
        details = strict_json.loads(details)
    if not isinstance(created, datetime) or not isinstance(details, dict):
        raise ValueError("record fields of the wrong type")
    return AuditContent(
        id=row.id,
        tenant_id=row.tenant_id,
        store_id=row.store_id,
        user_id=row.user_id,
        type=row.type,
        result=row.result,
        error_code=row.error_code,
        created_dtm=created,
        details=details,
        request_id=row.request_id,
    )
