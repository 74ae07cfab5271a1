"""What the commands share about their database: its options, whether it exists, why it failed."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from idstore.settings import Settings

# SQLSTATE classes of a refused connection, whose PostgreSQL message names the cause (a missing
# database or role, a wrong password, too many clients) and never holds a statement or a value.
CONNECTION_STATES = ("08", "28", "3D", "53", "57P03")


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


def refused_connection(failure: BaseException) -> bool:
    """Whether the database could not be used at all (the command's exit status is then 2)."""
    if isinstance(failure, DBAPIError):
        return str(getattr(failure.orig, "sqlstate", "") or "").startswith(CONNECTION_STATES)
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
