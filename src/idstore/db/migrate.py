"""Bring a database to the newest schema with Alembic, one migrator at a time.

Two migrators on one database (two `idstore migrate`, or servers started together) must never
both apply a migration: the second would fail half-way, or apply it twice. So the upgrade runs
under a lock: on PostgreSQL a transaction-scoped advisory lock, on a SQLite file an exclusive
lock on a file beside it. The second migrator waits for the first and then finds nothing to do.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.db.engine import Database
from idstore.private_files import create_private_file

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: the PostgreSQL advisory lock that keeps two migrators from running at once.
MIGRATION_LOCK_KEY = 0x1D57_0001
MIGRATION_LOCK_SUFFIX = ".migration-lock"

Notify = Callable[[str], None]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _quiet(_message: str) -> None:
    return None


async def migrate(
    database: Database, *, on_wait: Notify = _quiet, on_apply: Notify = _quiet
) -> list[str]:
    """Apply every migration not yet applied, in one transaction; return their revisions.

    A concurrent migrator is waited for: `on_wait` is told once, with what is awaited, before
    waiting; `on_apply` hears each revision's id as it is applied.

    On SQLite, foreign keys are not enforced while migrations run, as SQLite's own procedure for
    changing a table asks: a migration that rebuilds a parent table (batch mode drops the old
    one) would otherwise delete every child row with it. Every foreign key is checked before the
    commit instead; a row that breaks one fails the migration, which changes nothing.
    """
    sqlite_file = _sqlite_file(database)
    if sqlite_file is not None:
        # Whoever migrates first makes the file: serve, migrate and import alike.
        create_private_file(sqlite_file)
    async with _sqlite_file_lock(sqlite_file, on_wait), database.engine.connect() as connection:
        is_sqlite = database.dialect == "sqlite"
        if is_sqlite:
            await connection.run_sync(_enforce_foreign_keys, False)
        try:
            async with connection.begin():
                if database.dialect == "postgresql":
                    await _advisory_lock(connection, on_wait)
                applied: list[str] = await connection.run_sync(_upgrade, on_apply)
                if is_sqlite and applied:
                    await connection.run_sync(_check_foreign_keys)
        finally:
            if is_sqlite:
                await connection.run_sync(_enforce_foreign_keys, True)
        return applied


def _enforce_foreign_keys(connection: Connection, enforce: bool) -> None:
    # On the driver's connection: a statement through SQLAlchemy would begin a transaction
    # first, inside which SQLite ignores this pragma.
    driver_connection = connection.connection.dbapi_connection
    if driver_connection is None:
        raise RuntimeError("the migration's connection is closed")
    cursor = driver_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce else 'OFF'}")
    finally:
        cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migrated rows break foreign keys (table, rowid, parent): {broken}")


async def _advisory_lock(connection: AsyncConnection, on_wait: Notify) -> None:
    key = {"key": MIGRATION_LOCK_KEY}
    if (await connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key)).scalar():
        return
    on_wait("another migrator holds this database's migration lock")
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


def _sqlite_file(database: Database) -> Path | None:
    """The SQLite database's file; None for PostgreSQL or an in-memory database."""
    path = make_url(database.url).database
    if database.dialect != "sqlite" or not path or path == ":memory:":
        return None
    return Path(path)


@asynccontextmanager
async def _sqlite_file_lock(sqlite_file: Path | None, on_wait: Notify) -> AsyncIterator[None]:
    """Hold an exclusive lock on `<database file>.migration-lock` (nothing without a file).
    The operating system drops it if the migrator dies."""
    if sqlite_file is None:
        yield
        return
    lock_path = Path(f"{sqlite_file}{MIGRATION_LOCK_SUFFIX}")
    descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"another migrator holds {lock_path}")
            await asyncio.to_thread(fcntl.flock, lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _upgrade(connection: Connection, on_apply: Notify) -> list[str]:
    applied: list[str] = []

    def record(**step: Any) -> None:
        revision = str(step["step"].up_revision_id)
        applied.append(revision)
        on_apply(revision)

    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["on_version_apply"] = record
    command.upgrade(config, "head")
    return applied
