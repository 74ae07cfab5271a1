"""Fixtures of the transfer tests: a store exported by the real writer, a fresh database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.transfer.recipient import Identity
from tests.support.api import Api
from tests.support.databases import async_url, drop_database, fresh_database_url
from tests.support.exports import Exported, write_export
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user


@pytest.fixture
def exported(api: Api, seeder: Seeder, server: LiveServer, database_url: str) -> Exported:
    owner = totp_user(api, seeder, firstName="Ada")
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, owner.store_name, identity)
    return Exported(written.splitlines(keepends=True), identity, owner)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for the import, dropped afterwards."""
    url = fresh_database_url(tmp_path / "target")

    async def prepare() -> None:
        database = Database(async_url(url))
        try:
            await migrate(database)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    yield url
    drop_database(url)
