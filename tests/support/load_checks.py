"""What the database must hold after a load that faults interrupted: every answer given is
written, counters equal the audit that explains them, and nothing is written half.

Read straight from the database, not through the service, so that the checks do not depend on
the service under test reading back what it wrote.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from idstore.db import tables
from tests.support.databases import async_url
from tests.support.load import USER_LOCK_THRESHOLD, Load, Outcome


@dataclass(frozen=True)
class Stored:
    """One user's state as the database holds it."""

    last_used_step: int
    failed_attempts: int  # across modalities, since the last user lock
    lock_count: int  # user locks, ever
    totp_failed_attempts: int  # the TOTP modality's counter
    audit_chain_length: int | None
    audit_records: int
    successes: frozenset[str]  # ids of the SUCCESS audit records
    refusals: int  # FAILURE audit records with 3401


def stored_users(database_url: str, user_ids: list[str]) -> dict[str, Stored]:
    return asyncio.run(_read(database_url, user_ids))


async def _read(database_url: str, user_ids: list[str]) -> dict[str, Stored]:
    users, totps, audit = tables.users, tables.user_totps, tables.authentication_audit
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            user_rows = await conn.execute(
                select(users, totps.c.last_used_step)
                .join(totps, totps.c.user_id == users.c.id)
                .where(users.c.id.in_(user_ids))
            )
            audit_rows = await conn.execute(
                select(audit.c.user_id, audit.c.id, audit.c.result, audit.c.error_code).where(
                    audit.c.user_id.in_(user_ids)
                )
            )
            by_user: dict[str, list[Any]] = {user_id: [] for user_id in user_ids}
            for record in audit_rows:
                by_user[record.user_id].append(record)
            return {row.id: _stored(row, by_user[row.id]) for row in user_rows}
    finally:
        await engine.dispose()


def _stored(row: Any, records: list[Any]) -> Stored:
    return Stored(
        last_used_step=row.last_used_step,
        failed_attempts=row.failed_attempts,
        lock_count=row.lock_count,
        totp_failed_attempts=row.modality_locks.get("TOTP", {}).get("failedAttempts", 0),
        audit_chain_length=row.audit_chain_length,
        audit_records=len(records),
        successes=frozenset(r.id for r in records if r.result == "SUCCESS"),
        refusals=sum(1 for r in records if r.result == "FAILURE" and r.error_code == 3401),
    )


def assert_consistent(load: Load, database_url: str) -> None:
    """Every 200 has its SUCCESS record and raised last_used_step; every counter equals the
    3401 records that explain it; each user's chain length equals its records. Requests in
    doubt (no answer, or 503) may have committed or not, and are allowed for either way."""
    right_ids = [account.user_id for accounts in load.right for account in accounts]
    wrong_ids = [account.user_id for account in load.wrong]
    stored = stored_users(database_url, right_ids + wrong_ids)
    outcomes = load.answered()
    for user_id in right_ids:
        _assert_successes_stored(stored[user_id], [o for o in outcomes if o.user_id == user_id])
    for user_id in wrong_ids:
        _assert_failures_counted(stored[user_id], [o for o in outcomes if o.user_id == user_id])
    for user_id, user in stored.items():
        assert user.audit_chain_length == user.audit_records, user_id


def refusal_codes(load: Load, database_url: str) -> dict[str, set[int]]:
    """The error codes a 400 of each user may carry: 3401 for a wrong code, and 2100 once the
    load has locked the user (a long load on a fast machine reaches the threshold; its lock
    count says so), as the answer to every attempt while the lock lasts."""
    users = [account.user_id for accounts in load.right for account in accounts]
    users += [account.user_id for account in load.wrong]
    stored = stored_users(database_url, users)
    return {
        user_id: {3401} | ({2100} if user.lock_count else set()) for user_id, user in stored.items()
    }


def is_in_doubt(outcome: Outcome) -> bool:
    """No answer, or 503: the database went away, perhaps after it committed but before it said
    so; the effect may be there or not (the client retries, and a retried code may be 3402)."""
    return outcome.status in (None, 503)


def _assert_successes_stored(user: Stored, outcomes: list[Outcome]) -> None:
    accepted = [o for o in outcomes if o.status == 200]
    in_doubt = [o for o in outcomes if is_in_doubt(o)]
    assert accepted, "the load accepted no code of this user: it proves nothing"

    assert {o.authentication_id for o in accepted} <= user.successes
    # The registration's completion is one SUCCESS record more.
    assert len(accepted) + 1 <= len(user.successes) <= len(accepted) + 1 + len(in_doubt)

    highest = max(o.step for o in accepted if o.step is not None)
    later_in_doubt = {o.step for o in in_doubt if o.step is not None and o.step > highest}
    assert user.last_used_step in {highest} | later_in_doubt


def _assert_failures_counted(user: Stored, outcomes: list[Outcome]) -> None:
    refused = sum(1 for o in outcomes if o.error_code == 3401)
    in_doubt = sum(1 for o in outcomes if is_in_doubt(o))
    assert refused > 0, "the load sent this user no wrong code that was answered"

    # Reaching the user's threshold locks the user and starts its counter again; the modality's
    # counter stops at its own threshold, where the modality locks and no more codes are counted.
    assert user.totp_failed_attempts == user.refusals
    assert user.failed_attempts + USER_LOCK_THRESHOLD * user.lock_count == user.refusals
    assert refused <= user.refusals <= refused + in_doubt
