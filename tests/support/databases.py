"""Which database the suite runs on, and fresh databases beside it for tests that need one.

`IDSTORE_TEST_DATABASE_URL` selects PostgreSQL (`postgresql://user@host:port/db`); without it the
suite runs on SQLite files under a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from idstore.db import tables
from idstore.settings import Settings

TEST_DATABASE_URL = os.environ.get("IDSTORE_TEST_DATABASE_URL", "")


def is_postgresql() -> bool:
    return TEST_DATABASE_URL.startswith(("postgresql", "postgres"))


def engine_name() -> str:
    return "postgresql" if is_postgresql() else "sqlite"


def async_url(url: str) -> str:
    """The URL with its async driver, as the service resolves it."""
    return Settings(database_url=url).resolved_database_url


def fresh_database_url(directory: Path | None = None) -> str:
    """A new, empty database of the engine under test (plain URL, no driver)."""
    if not is_postgresql():
        folder = directory or Path(tempfile.mkdtemp(prefix="idstore-test-"))
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'idstore.db'}"
    name = f"idstore_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_administer(f'CREATE DATABASE "{name}"'))
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    name = make_url(url).database
    asyncio.run(_administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _administer(statement: str) -> None:
    admin_url = make_url(async_url(TEST_DATABASE_URL)).set(database="postgres")
    engine = create_async_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def sealing_key_ids(database_url: str) -> set[str]:
    """The ids of the key ring keys that sealed the TOTP secrets, face templates and kept face
    images in the database."""
    columns = (
        tables.user_totps.c.secret_sealed,
        tables.user_biometrics.c.template_sealed,
        tables.user_biometrics.c.image_sealed,
    )

    async def read() -> set[str]:
        engine = create_async_engine(async_url(database_url), poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                found = set()
                for column in columns:
                    sealed = await conn.scalars(select(column).where(column.is_not(None)))
                    # A sealed value starts with its format byte, the key id's length, the key id.
                    found |= {bytes(value[2 : 2 + value[1]]).decode() for value in sealed}
                return found
        finally:
            await engine.dispose()

    return asyncio.run(read())
