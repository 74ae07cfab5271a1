"""`idstore migrate` upgrades a database an older schema revision made, data and all, and two
migrators at once never both apply a migration.

The old database is made the way it was then: Alembic to revision 0003, then the rows of
tests/db/fixtures/revision_0003.sql. The commands run as real processes, as an operator runs them.
"""

from __future__ import annotations

import asyncio
import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyotp
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db.engine import Database
from idstore.db.migrate import MIGRATION_LOCK_KEY, MIGRATION_LOCK_SUFFIX, alembic_config
from idstore.db.tables import metadata
from tests.support.databases import async_url, is_postgresql
from tests.support.old_schemas import database_at
from tests.support.processes import Launcher, idstore_process

FIXTURE = Path(__file__).parent / "fixtures" / "revision_0003.sql"
# A key made for this fixture alone, protecting nothing else: it sealed alice's TOTP secret.
FIXTURE_KEY_RING = "legacy:g0M6ZPLng1UsWa/tBNMaq8cs/X2XN7leE9B6KZOmS8o="
ALICE_TOTP_SECRET = "BIPPWVUFCSHMD6LZUEXJZ5BXSMNGUQUA"
ALICE = "/api/identity-store/stores/legacy/users/01a242c3-a094-731d-8cfd-d3b93f76dc2c"
# Every revision after 0003, oldest first: the ones `idstore migrate` must apply.
NEWER_REVISIONS = [
    script.revision
    for script in reversed(
        list(ScriptDirectory.from_config(alembic_config()).iterate_revisions("head", "0003"))
    )
]
COMMAND_TIMEOUT_SECONDS = 180


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    """A database at revision 0003 holding the fixture's rows; its plain URL."""
    with database_at("0003", _load_fixture, tmp_path / "database") as url:
        yield url


async def _load_fixture(conn: AsyncConnection, dialect: str) -> None:
    for statement in _fixture_statements(dialect):
        await conn.exec_driver_sql(statement)


def _fixture_statements(dialect: str) -> list[str]:
    script = "\n".join(
        line for line in FIXTURE.read_text().splitlines() if not line.startswith("--")
    )
    statements = [part.strip() for part in script.split(";\n") if part.strip()]
    if dialect != "postgresql":
        return statements
    # PostgreSQL reads X'..' as a bit string; the bytes are a bytea literal there.
    as_bytea = [re.sub(r"X'([0-9a-f]*)'", r"'\\x\1'::bytea", part) for part in statements]
    return ["SET LOCAL TIME ZONE 'UTC'", *as_bytea]


def _schema_differences(url: str) -> list[object]:
    async def compare() -> list[object]:
        database = Database(async_url(url))
        try:
            async with database.engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await database.dispose()

    return asyncio.run(compare())


def test_migrate_upgrades_a_revision_0003_database_and_its_totp_still_authenticates(
    old_database: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    migrator = idstore_process("migrate", data_dir=data_dir, database_url=old_database)
    output, progress = migrator.communicate(timeout=COMMAND_TIMEOUT_SECONDS)

    assert migrator.returncode == 0, progress
    assert re.findall(r"applying migration (\w+)", progress) == NEWER_REVISIONS
    assert f"applied {len(NEWER_REVISIONS)} migrations" in output
    assert _schema_differences(old_database) == []

    launcher = Launcher(tmp_path)
    key = "upgrade-test-bootstrap-key-0123456789abcdef"
    settings = {"IDSTORE_SECRET_KEYS": FIXTURE_KEY_RING}
    try:
        server = launcher(
            data_dir=data_dir, database_url=old_database, bootstrap_api_key=key, settings=settings
        )
        _check_the_old_data_works(server.base_url, key)
    finally:
        launcher.stop_all()


def _check_the_old_data_works(base_url: str, key: str) -> None:
    token = httpx.post(f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": key})
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        before = client.get(ALICE).json()
        code = pyotp.TOTP(ALICE_TOTP_SECRET).now()
        accepted = client.post(f"{ALICE}/totps/authentications/default", json={"code": code})
        replayed = client.post(f"{ALICE}/totps/authentications/default", json={"code": code})
        audit = client.get(f"{ALICE}/authentications?sort=createdDtm,asc").json()
        bob = client.get("/api/identity-store/stores/legacy/users/bob/ext").json()

    assert (before["externalId"], before["attributes"]) == ("alice@example.com", {"team": "blue"})
    assert before["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1
    assert before["lastSuccessfulAuthenticationDtm"] == "2026-12-04T20:34:06.712Z"
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 0
    assert (replayed.status_code, replayed.json()["code"]) == (400, 3402)
    results = [item["authAuditRecord"]["result"] for item in audit["content"]]
    assert results == ["SUCCESS", "FAILURE", "SUCCESS", "FAILURE"]
    assert audit["content"][2]["authAuditRecord"]["id"] == accepted.json()["authenticationId"]
    assert bob["status"] == "DISABLED"


@contextmanager
def migration_lock_held(url: str) -> Iterator[None]:
    """Hold the lock a migrator takes, as a migrator that is still busy would."""
    if not is_postgresql():
        database_file = make_url(url).database
        assert database_file is not None
        with Path(database_file + MIGRATION_LOCK_SUFFIX).open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield
        return
    loop = asyncio.new_event_loop()
    database = Database(async_url(url))
    connection = loop.run_until_complete(database.engine.connect())
    try:
        lock = text("SELECT pg_advisory_lock(:key)")
        loop.run_until_complete(connection.execute(lock, {"key": MIGRATION_LOCK_KEY}))
        yield
    finally:
        loop.run_until_complete(connection.close())
        loop.run_until_complete(database.dispose())
        loop.close()


def _wait_until_waiting(stderr_path: Path) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT_SECONDS
    while "waiting for it" not in stderr_path.read_text():
        assert time.monotonic() < deadline, stderr_path.read_text()
        time.sleep(0.1)  # polling the migrator's progress, not waiting on a time-based rule


def test_two_migrators_at_once_apply_each_migration_once(old_database: str, tmp_path: Path) -> None:
    progress_paths = [tmp_path / "first.stderr", tmp_path / "second.stderr"]
    with migration_lock_held(old_database):
        migrators = [
            idstore_process(
                "migrate",
                data_dir=tmp_path / "data",
                database_url=old_database,
                stderr_path=path,
            )
            for path in progress_paths
        ]
        for path in progress_paths:
            _wait_until_waiting(path)
    outputs = [migrator.communicate(timeout=COMMAND_TIMEOUT_SECONDS)[0] for migrator in migrators]

    assert [migrator.returncode for migrator in migrators] == [0, 0]
    applied = sorted(re.findall(r"applying migration (\w+)", p.read_text()) for p in progress_paths)
    assert applied == [[], NEWER_REVISIONS]
    assert sorted("nothing to apply" in output for output in outputs) == [False, True]
    assert _schema_differences(old_database) == []
