"""Migration 0013 (keys that include store_id) keeps every row, on the engine under test.

A database at revision 0012 gets rows in every table whose keys change, two users' worth, with
children of each kind (TOTP, passkey, appkey with a single-shot challenge, face, ceremony
sessions with and without a user). `migrate` then rebuilds the keys; the rows, the store's user
count and the cascades must come through unchanged. On SQLite the tables are rebuilt, which
with foreign keys enforced would have deleted every child row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from tests.support.databases import async_url
from tests.support.old_schemas import database_at

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
STORE = "0000000a-0000-4000-8000-000000000001"
POLICY = "0000000b-0000-4000-8000-000000000001"
USERS = ("00000001-0000-4000-8000-000000000001", "00000001-0000-4000-8000-000000000002")
# The tables whose keys 0013 changes, children of users or user_appkeys, and the audit.
CHANGED = (
    "users",
    "user_totps",
    "user_passkeys",
    "user_appkeys",
    "appkey_single_shot_challenges",
    "user_biometrics",
    "passkey_sessions",
    "appkey_sessions",
    "authentication_audit",
)


@pytest.fixture
def database_at_0012() -> Iterator[str]:
    with database_at("0012", _insert_rows) as url:
        yield url


def _stamped(**columns: Any) -> dict[str, Any]:
    return {"created_dtm": NOW, "last_updated_dtm": NOW, **columns}


async def _insert_rows(conn: AsyncConnection, _dialect: str) -> None:
    await conn.execute(
        insert(tables.stores).values(
            _stamped(id=STORE, tenant_id="default", name="kept", configuration={})
        )
    )
    await conn.execute(
        insert(tables.totp_policies).values(
            _stamped(
                id=POLICY,
                store_id=STORE,
                name="default",
                algorithm="SHA1",
                digits=6,
                period=30,
                drift_steps=1,
                registration_timeout_seconds=600,
                allow_secret_retrieval=False,
            )
        )
    )
    for number, user_id in enumerate(USERS):
        await _insert_user_with_children(conn, user_id, number)
    await conn.execute(insert(tables.passkey_sessions).values(_session("no-user", None)))


async def _insert_user_with_children(conn: AsyncConnection, user_id: str, number: int) -> None:
    owned = {"store_id": STORE, "user_id": user_id}
    appkey_id = f"appkey-{number}"
    rows: list[tuple[Table, dict[str, Any]]] = [
        (
            tables.users,
            _stamped(
                id=user_id,
                store_id=STORE,
                external_id=f"user-{number}",
                status="ACTIVE",
                failed_attempts=number,
                lock_count=0,
                temp_lock_streak=0,
                modality_locks={},
            ),
        ),
        (
            tables.user_totps,
            _stamped(
                **owned,
                id=f"totp-{number}",
                policy_id=POLICY,
                policy_name="default",
                status="ACTIVE",
                issuer="kept",
                username=f"user-{number}",
                algorithm="SHA1",
                digits=6,
                period=30,
                secret_sealed=b"sealed",
                last_used_step=number,
            ),
        ),
        (
            tables.user_passkeys,
            _stamped(
                **owned,
                id=f"passkey-{number}",
                rp_id="example.com",
                credential_id=f"credential-{number}",
                public_key=b"key",
                algorithm=-7,
                status="ACTIVE",
                sign_count=number,
                aaguid="00000000-0000-0000-0000-000000000000",
                transports=[],
                backup_eligible=False,
                backup_state=False,
                user_handle=f"handle-{number}",
                registration_audit={},
            ),
        ),
        (
            tables.user_appkeys,
            _stamped(
                **owned,
                id=appkey_id,
                rp_id="example.com",
                aaid="ABCD#0001",
                key_id=f"key-{number}",
                key_type="DEVICE",
                status="ACTIVE",
                sign_count=number,
                public_key=b"key",
                signature_algorithm=1,
                attestation_type="BASIC_FULL",
                registration_audit={},
                preferred=True,
            ),
        ),
        (
            tables.appkey_single_shot_challenges,
            {
                "appkey_id": appkey_id,
                "challenge": f"challenge-{number}",
                "store_id": STORE,
                "accepted_dtm": NOW,
            },
        ),
        (
            tables.user_biometrics,
            _stamped(
                **owned,
                id=f"face-{number}",
                type="FACE",
                subtype="PORTRAIT",
                status="ACTIVE",
                template_sealed=b"template",
                quality=0.9,
                model="model",
                model_version="1",
            ),
        ),
        (tables.passkey_sessions, _session(f"passkey-session-{number}", user_id)),
        (tables.appkey_sessions, _session(f"appkey-session-{number}", user_id)),
        (
            tables.authentication_audit,
            {
                **owned,
                "id": f"audit-{number}",
                "tenant_id": "default",
                "type": "TOTP",
                "result": "SUCCESS",
                "created_dtm": NOW,
                "details": {},
            },
        ),
    ]
    for table, row in rows:
        await conn.execute(insert(table).values(row))


def _session(session_id: str, user_id: str | None) -> dict[str, Any]:
    return {
        "id": session_id,
        "store_id": STORE,
        "user_id": user_id,
        "rp_id": "example.com",
        "ceremony": "AUTHENTICATION",
        "created_dtm": NOW,
        "expiration_dtm": NOW,
    }


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    found = {}
    for name in CHANGED:
        found[name] = int(
            (await conn.scalar(select(func.count()).select_from(tables.metadata.tables[name]))) or 0
        )
    return found


async def _migrate_then_delete_the_first_user(url: str) -> dict[str, Any]:
    database = Database(async_url(url))
    try:
        applied = await migrate(database)
        async with database.transaction() as conn:
            migrated = await _counts(conn)
            user_count = await conn.scalar(select(tables.store_user_counts.c.user_count))
            steps = await conn.scalar(
                select(tables.user_totps.c.last_used_step).where(tables.user_totps.c.id == "totp-1")
            )
        async with database.transaction() as conn:
            await conn.execute(delete(tables.users).where(tables.users.c.id == USERS[0]))
        async with database.transaction() as conn:
            after_delete = await _counts(conn)
            user_count_after = await conn.scalar(select(tables.store_user_counts.c.user_count))
        return {
            "applied": applied,
            "migrated": migrated,
            "user_count": user_count,
            "steps": steps,
            "after_delete": after_delete,
            "user_count_after": user_count_after,
        }
    finally:
        await database.dispose()


def test_the_keys_migration_keeps_every_row_and_the_cascades(database_at_0012: str) -> None:
    outcome = asyncio.run(_migrate_then_delete_the_first_user(database_at_0012))

    assert outcome["applied"] == ["0013", "0014"]
    sessions = {"passkey_sessions": 3}  # one without a user
    assert outcome["migrated"] == {name: sessions.get(name, 2) for name in CHANGED}
    assert (outcome["user_count"], outcome["steps"]) == (2, 1)
    # The first user's children go with it through the new (store_id, user_id) foreign keys;
    # the audit stays, as it has no foreign keys.
    kept = {"passkey_sessions": 2, "authentication_audit": 2}
    assert outcome["after_delete"] == {name: kept.get(name, 1) for name in CHANGED}
    assert outcome["user_count_after"] == 1
