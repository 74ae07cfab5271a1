"""Fixtures of the transfer tests: for import-totp a real database holding one store and the
CLI's settings; for export and import a store exported by the real writer, an empty database."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from idstore.crypto.keyring import KeyRing, parse_key_ring
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.services.context import Context
from idstore.services.policies import PolicyChanges
from idstore.services.stores import StoreChanges, create_store
from idstore.services.users import UserChanges, create_user
from idstore.transfer.recipient import Identity
from tests.e2e.conftest import fresh_database, launch  # noqa: F401  (fixtures used here too)
from tests.support.api import Api
from tests.support.databases import async_url, drop_database, fresh_database_url
from tests.support.exports import Exported, write_export
from tests.support.processes import idstore_command
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

STORE = "main"
POLICY = "default"


@dataclass(frozen=True)
class Target:
    """A database with store `main` (policy `default`), and the settings the CLI and the
    server share: the same database URL, data directory and key ring."""

    database_url: str
    data_dir: Path
    secret_keys: str

    @property
    def keyring(self) -> KeyRing:
        return parse_key_ring(self.secret_keys)

    @property
    def settings(self) -> dict[str, str]:
        return {
            "IDSTORE_DATABASE_URL": self.database_url,
            "IDSTORE_DATA_DIR": str(self.data_dir),
            "IDSTORE_SECRET_KEYS": self.secret_keys,
        }

    def import_totp(self, file: Path, *options: str) -> subprocess.CompletedProcess[str]:
        """Run the real `idstore import-totp` on the file, as an operator does."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("IDSTORE_")}
        return subprocess.run(
            [str(idstore_command()), "import-totp", "--store", STORE, str(file), *options],
            env={**environment, **self.settings},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def create_user(self, external_id: str) -> None:
        asyncio.run(self._create_user(external_id))

    def count(self, table: Any) -> int:
        """Rows of a table (users, user_totps, admin_events) in the database."""
        return asyncio.run(self._count(table))

    def sealed_secrets(self) -> dict[str, bytes]:
        """Each user's TOTP secret, opened with the key ring, by external id."""
        return asyncio.run(self._secrets())

    async def _create_user(self, external_id: str) -> None:
        database = Database(async_url(self.database_url))
        try:
            await create_user(
                database,
                _context(),
                store_name=STORE,
                changes=UserChanges({"external_id": external_id}),
            )
        finally:
            await database.dispose()

    async def _count(self, table: Any) -> int:
        database = Database(async_url(self.database_url))
        try:
            async with database.transaction(write=False) as conn:
                return int(await conn.scalar(select(func.count()).select_from(table)) or 0)
        finally:
            await database.dispose()

    async def _secrets(self) -> dict[str, bytes]:
        users, totps = tables.users, tables.user_totps
        query = select(users.c.external_id, totps.c.id, totps.c.secret_sealed).join(
            totps, totps.c.user_id == users.c.id
        )
        database = Database(async_url(self.database_url))
        try:
            async with database.transaction(write=False) as conn:
                rows = (await conn.execute(query)).all()
        finally:
            await database.dispose()
        ring = self.keyring
        return {row[0]: ring.open(row[2], context=row[1]) for row in rows}


def _context() -> Context:
    return Context(
        tenant_id="default", caller_id="tests", request_id="tests", now=datetime.now(UTC)
    )


async def _create_store(url: str) -> None:
    database = Database(async_url(url))
    try:
        await migrate(database)
        changes = StoreChanges(totp_policies={POLICY: PolicyChanges()})
        await create_store(database, _context(), name=STORE, changes=changes)
    finally:
        await database.dispose()


@pytest.fixture
def target(fresh_database: str, tmp_path: Path) -> Iterator[Target]:  # noqa: F811
    asyncio.run(_create_store(fresh_database))
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    key = base64.b64encode(os.urandom(32)).decode()
    yield Target(fresh_database, data_dir, f"kimport:{key}")


@pytest.fixture
def exported(api: Api, seeder: Seeder, server: LiveServer, database_url: str) -> Exported:
    """A store of the session's server with one user and TOTP, exported to a new identity."""
    owner = totp_user(api, seeder, firstName="Ada")
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, owner.store_name, identity)
    return Exported(written.splitlines(keepends=True), identity, owner)


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for an import, dropped afterwards."""
    url = fresh_database_url(tmp_path / "empty")

    async def prepare() -> None:
        database = Database(async_url(url))
        try:
            await migrate(database)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    yield url
    drop_database(url)
