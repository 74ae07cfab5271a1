"""Migration 0014 fills `passkey_user_handles` from the passkeys there are, on the engine under
test: one row per handle, a user's several passkeys of a relying party sharing it; a handle two
users' passkeys carry (left by the race 0014 closes) goes to the user whose passkey came first.
Afterwards the table's key refuses a second user for a handle, and a user's deletion takes its
handles with it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from tests.support.databases import async_url
from tests.support.old_schemas import database_at

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
STORE = "0000000a-0000-4000-8000-000000000014"
EARLY, LATE, ALONE = (f"00000001-0000-4000-8000-00000000001{n}" for n in range(3))
# (passkey id, user, rp id, handle, minutes after NOW): LATE's passkey with the shared handle is
# older by id order but younger by creation, which decides.
PASSKEYS = [
    ("passkey-a", LATE, "example.com", "shared", 5),
    ("passkey-b", EARLY, "example.com", "shared", 1),
    ("passkey-c", EARLY, "example.com", "shared", 2),
    ("passkey-d", ALONE, "example.com", "alone", 0),
    ("passkey-e", ALONE, "other.example.com", "shared", 9),
]


@pytest.fixture
def database_at_0013() -> Iterator[str]:
    with database_at("0013", _insert_rows) as url:
        yield url


def _stamped(at: datetime = NOW, **columns: Any) -> dict[str, Any]:
    return {"created_dtm": at, "last_updated_dtm": at, **columns}


async def _insert_rows(conn: AsyncConnection, _dialect: str) -> None:
    await conn.execute(
        insert(tables.stores).values(
            _stamped(id=STORE, tenant_id="default", name="handles", configuration={})
        )
    )
    for number, user_id in enumerate((EARLY, LATE, ALONE)):
        user = _stamped(
            id=user_id,
            store_id=STORE,
            external_id=f"user-{number}",
            status="ACTIVE",
            failed_attempts=0,
            lock_count=0,
            temp_lock_streak=0,
            modality_locks={},
        )
        await conn.execute(insert(tables.users).values(user))
    for passkey_id, user_id, rp_id, handle, minutes in PASSKEYS:
        await conn.execute(
            insert(tables.user_passkeys).values(
                _passkey(passkey_id, user_id, rp_id, handle, minutes)
            )
        )


def _passkey(
    passkey_id: str, user_id: str, rp_id: str, handle: str, minutes: int
) -> dict[str, Any]:
    return _stamped(
        NOW + timedelta(minutes=minutes),
        id=passkey_id,
        store_id=STORE,
        user_id=user_id,
        rp_id=rp_id,
        credential_id=f"credential-{passkey_id}",
        public_key=b"key",
        algorithm=-7,
        status="ACTIVE",
        sign_count=0,
        aaguid="00000000-0000-0000-0000-000000000000",
        transports=[],
        backup_eligible=False,
        backup_state=False,
        user_handle=handle,
        registration_audit={},
    )


async def _handles(conn: AsyncConnection) -> set[tuple[str, str, str]]:
    handles = tables.passkey_user_handles.c
    rows = await conn.execute(select(handles.rp_id, handles.user_handle, handles.user_id))
    return {(row.rp_id, row.user_handle, row.user_id) for row in rows}


async def _migrate_then_check_the_key(url: str) -> dict[str, Any]:
    database = Database(async_url(url))
    try:
        applied = await migrate(database)
        async with database.transaction() as conn:
            filled = await _handles(conn)
        second_owner = {"store_id": STORE, "rp_id": "example.com", "user_handle": "alone"}
        try:
            async with database.transaction() as conn:
                await conn.execute(
                    insert(tables.passkey_user_handles).values(**second_owner, user_id=EARLY)
                )
            refused = False
        except IntegrityError:
            refused = True
        async with database.transaction() as conn:
            await conn.execute(delete(tables.users).where(tables.users.c.id == ALONE))
        async with database.transaction() as conn:
            after_delete = await _handles(conn)
        return {"applied": applied, "filled": filled, "refused": refused, "left": after_delete}
    finally:
        await database.dispose()


def test_the_handles_table_is_filled_from_the_passkeys_and_then_holds(
    database_at_0013: str,
) -> None:
    outcome = asyncio.run(_migrate_then_check_the_key(database_at_0013))

    assert outcome["applied"] == ["0014"]
    assert outcome["filled"] == {
        ("example.com", "shared", EARLY),
        ("example.com", "alone", ALONE),
        ("other.example.com", "shared", ALONE),
    }
    assert outcome["refused"] is True
    assert outcome["left"] == {("example.com", "shared", EARLY)}
