"""What the commands share about their database: its options, whether it exists, opening it,
why it failed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from idstore.db.engine import Database
from idstore.db.errors import REFUSED_CONNECTION_SQLSTATES, sqlstate_of
from idstore.db.migrate import migrate
from idstore.settings import Settings

# A command connects before it runs anything, so on top of the server's refusals, class 28 (a
# wrong role or password), 3D (no such database) and all of class 53 (the server short of
# resources) refuse it too. PostgreSQL's message for each names the cause, never a statement.
_REFUSED_STATES = (*REFUSED_CONNECTION_SQLSTATES, "28", "3D", "53")


class NoDatabase(Exception):
    """A command that must not create a database found no SQLite file where it looked (exit 2)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path} (set IDSTORE_DATA_DIR or IDSTORE_DATABASE_URL)")


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """Where the command finds its database: the same options, with their twins, as serve's."""
    parser.add_argument("--database-url", help="database URL (IDSTORE_DATABASE_URL)")
    parser.add_argument(
        "--data-dir", type=Path, help="data directory: key ring, SQLite file (IDSTORE_DATA_DIR)"
    )


def require_database(settings: Settings) -> None:
    """Raise NoDatabase when the settings name a SQLite file that is not there, so that a
    command run from the wrong directory creates nothing; other databases are checked by
    connecting to them."""
    try:
        url = make_url(settings.resolved_database_url)
    except ArgumentError:
        return
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_file():
            raise NoDatabase(path)


@asynccontextmanager
async def opened(settings: Settings, *, migrated: bool = False) -> AsyncIterator[Database]:
    """The settings' database, brought up to date first when `migrated`, disposed of on leaving
    whatever happens inside."""
    database = Database(settings.resolved_database_url)
    try:
        if migrated:
            await migrate(database)
        yield database
    finally:
        await database.dispose()


def refused_connection(failure: BaseException) -> bool:
    """Whether the database could not be used at all (the command's exit status is then 2)."""
    if isinstance(failure, DBAPIError):
        return sqlstate_of(failure).startswith(_REFUSED_STATES)
    return isinstance(failure, (ConnectionError, TimeoutError))


def database_failure(failure: BaseException) -> str:
    """One line saying why the database failed, without a password, a statement or a value."""
    if isinstance(failure, DBAPIError):
        if refused_connection(failure):
            return str(failure.orig).splitlines()[0]
        return f"database error {type(failure.orig).__name__}"
    if isinstance(failure, OSError):
        return failure.strerror or type(failure).__name__
    return type(failure).__name__


def report_database_failure(
    failure: BaseException, doing: str, *, status: int | None = None
) -> int:
    """Say on standard error, in one line, that the database failed while `doing` and why; return
    `status`, or by default the exit status of the failure: 2 when the database refused the
    connection (nothing was done), 1 when it failed once reached."""
    print(f"idstore: {doing}: {database_failure(failure)}", file=sys.stderr)
    if status is not None:
        return status
    return 2 if refused_connection(failure) else 1
