"""Exporting 200,000 audit records: every query fetches one batch at most, so the export holds
one batch in memory whatever the size of the audit, and keyset paging neither skips nor repeats
a record where a batch ends among records created in the same millisecond."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert

from idstore.crypto.keyring import format_key_ring
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.services.models import AuditRecord
from idstore.transfer.audit_export import TimeWindow, export_audit
from tests.support.databases import async_url, drop_database, fresh_database_url
from tests.support.processes import run_idstore
from tests.support.server import TEST_KEYRING

RECORDS = 200_000
OTHER_STORE_RECORDS = 3_000
BATCH = 1000
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
SEED_CHUNK = 10_000


@dataclass(frozen=True)
class Volume:
    database_url: str
    store_id: str


@dataclass
class CountingWriter:
    """Keeps what identifies each record and how many came per batch, not the records."""

    batch_sizes: list[int] = field(default_factory=list)
    keys: list[tuple[datetime, str]] = field(default_factory=list)
    store_ids: set[str] = field(default_factory=set)

    def write(self, records: Sequence[AuditRecord]) -> None:
        self.batch_sizes.append(len(records))
        self.keys.extend((record.created_dtm, record.id) for record in records)
        self.store_ids.update(record.store_id for record in records)


def _record(store_id: str, number: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": "default",
        "store_id": store_id,
        "user_id": f"user-{number % 97}",
        "type": "TOTP",
        "result": "FAILURE" if number % 4 else "SUCCESS",
        "error_code": 3401 if number % 4 else None,
        # Three records a millisecond: batches of 1000 end inside a millisecond's records.
        "created_dtm": CREATED + timedelta(milliseconds=number // 3),
        "details": {"totpInfo": {"policyName": "otp"}},
    }


async def _seed(database_url: str) -> str:
    database = Database(async_url(database_url))
    store_id, other_store_id = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        await migrate(database)
        for start in range(0, RECORDS, SEED_CHUNK):
            rows = [_record(store_id, number) for number in range(start, start + SEED_CHUNK)]
            if start < OTHER_STORE_RECORDS:
                rows += [_record(other_store_id, start + n) for n in range(OTHER_STORE_RECORDS)]
            async with database.transaction() as conn:
                await conn.execute(insert(tables.authentication_audit), rows)
        return store_id
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Volume]:
    database_url = fresh_database_url(Path(tmp_path_factory.mktemp("volume")))
    try:
        yield Volume(database_url, asyncio.run(_seed(database_url)))
    finally:
        drop_database(database_url)


async def _export(
    volume: Volume, writer: CountingWriter, statements: list[str], progress: list[int]
) -> int:
    database = Database(async_url(volume.database_url))

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        return await export_audit(
            database,
            writer,
            tenant_id="default",
            store_id=volume.store_id,
            window=TimeWindow(None, datetime(2100, 1, 1, tzinfo=UTC)),
            batch_size=BATCH,
            progress=progress.append,
        )
    finally:
        await database.dispose()


def test_200000_records_come_one_batch_per_query_each_once_in_order(volume: Volume) -> None:
    writer, statements, progress = CountingWriter(), list[str](), list[int]()

    written = asyncio.run(_export(volume, writer, statements, progress))

    audit_queries = [s for s in statements if "FROM authentication_audit" in s]
    assert written == RECORDS
    # One query per batch, and one more that finds nothing and ends the export.
    assert len(audit_queries) == RECORDS // BATCH + 1
    assert all("LIMIT" in query for query in audit_queries)
    assert writer.batch_sizes == [BATCH] * (RECORDS // BATCH)
    assert len({record_id for _, record_id in writer.keys}) == RECORDS
    assert writer.keys == sorted(writer.keys)
    assert writer.store_ids == {volume.store_id}
    assert progress == list(range(10_000, RECORDS + 1, 10_000))


def test_verify_audit_shows_its_progress_on_standard_error(volume: Volume) -> None:
    environment = {
        "IDSTORE_DATABASE_URL": volume.database_url,
        "IDSTORE_SECRET_KEYS": format_key_ring(TEST_KEYRING),
    }

    done = run_idstore("verify-audit", "--store-id", volume.store_id, environment=environment)

    assert done.returncode == 0, done.stderr
    progress = [f"idstore: {count} records checked" for count in range(10_000, RECORDS + 1, 10_000)]
    assert done.stderr.splitlines() == progress
    # Records seeded without links count as written before chaining.
    assert done.stdout == (
        f"idstore: {RECORDS} records of 97 users checked, {RECORDS} written before chaining; "
        "0 broken chains\n"
    )
