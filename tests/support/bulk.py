"""Many rows at once, straight into PostgreSQL with COPY: users and audit records in bulk.

The rows are what the service writes, minus what these tests do not read (profiles, audit
chains); a statement's plan depends on how many rows match, not on those columns.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no type information published
from sqlalchemy.engine import make_url

# A new user as the API writes it, profile left empty.
_NEW_USER = {
    "status": "ACTIVE",
    "failed_attempts": 0,
    "lock_count": 0,
    "temp_lock_streak": 0,
    "modality_locks": "{}",
}
USER_COLUMNS = ("id", "store_id", "external_id", "created_dtm", "last_updated_dtm", *_NEW_USER)
AUDIT_COLUMNS = (
    "id",
    "tenant_id",
    "store_id",
    "user_id",
    "type",
    "result",
    "error_code",
    "created_dtm",
    "details",
)


@dataclass(frozen=True)
class AuditSpread:
    """`records` audit records for a user, one every `every`, from `start`; every `success_every`
    one a success, the others 3401; types taking turns from `types`."""

    user_id: str
    store_id: str
    records: int
    start: datetime
    every: timedelta
    types: Sequence[str] = ("TOTP",)
    success_every: int = 5


def user_rows(store_id: str, count: int, *, prefix: str, now: datetime) -> list[tuple[Any, ...]]:
    fixed = tuple(_NEW_USER.values())
    return [
        (str(uuid.uuid4()), store_id, f"{prefix}-{n:07d}", now, now, *fixed) for n in range(count)
    ]


def audit_rows(spread: AuditSpread, *, tenant_id: str = "default") -> list[tuple[Any, ...]]:
    rows = []
    for n in range(spread.records):
        is_success = n % spread.success_every == 0
        rows.append(
            (
                str(uuid.uuid4()),
                tenant_id,
                spread.store_id,
                spread.user_id,
                spread.types[n % len(spread.types)],
                "SUCCESS" if is_success else "FAILURE",
                None if is_success else 3401,
                spread.start + n * spread.every,
                '{"totpInfo": {"policyName": "default"}}',
            )
        )
    return rows


def copy_rows(
    database_url: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """COPY the rows into the table, then ANALYZE it so that the planner knows its size."""
    asyncio.run(_copy(database_url, table, columns, rows))


async def _copy(
    database_url: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(table, records=rows, columns=list(columns))
        await connection.execute(f"ANALYZE {table}")
    finally:
        await connection.close()
