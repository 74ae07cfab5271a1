"""Telling database errors apart on both engines, without reading SQL text: which constraint a
statement broke, and whether the database itself is out of reach."""

from __future__ import annotations

from enum import Enum

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

_UNIQUE_SQLSTATE = "23505"
_FOREIGN_KEY_SQLSTATE = "23503"
# SQLSTATE prefixes of a connection the server would not take, whatever it was to run: class 08
# (connection exceptions), 53300 (too many connections), 57P03 (not accepting connections yet:
# starting, recovering). Each passes when the database is back; none says anything about a request.
REFUSED_CONNECTION_SQLSTATES = ("08", "53300", "57P03")
# On top, for work already under way: 57P01 and 57P02, the server is shutting down or crashed.
_UNAVAILABLE_SQLSTATES = (*REFUSED_CONNECTION_SQLSTATES, "57P01", "57P02")


class Violation(Enum):
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign key"
    OTHER = "other"


def sqlstate_of(error: DBAPIError) -> str:
    """The SQLSTATE the driver reported (PostgreSQL), or "" when it reported none (SQLite)."""
    return str(getattr(error.orig, "sqlstate", None) or "")


def violation_of(error: IntegrityError) -> Violation:
    """Which kind of constraint a failed statement broke (PostgreSQL SQLSTATE, SQLite message)."""
    sqlstate = sqlstate_of(error)
    if sqlstate == _UNIQUE_SQLSTATE:
        return Violation.UNIQUE
    if sqlstate == _FOREIGN_KEY_SQLSTATE:
        return Violation.FOREIGN_KEY
    message = str(error.orig)
    if message.startswith("UNIQUE constraint failed"):
        return Violation.UNIQUE
    if message.startswith("FOREIGN KEY constraint failed"):
        return Violation.FOREIGN_KEY
    return Violation.OTHER


def failed_to_connect(error: DBAPIError) -> DBAPIError:
    """Mark an error raised while a connection was being opened as the database's unavailability,
    whatever the database answered (55000, a database that takes no connections now, say): no
    statement of the request ran, so nothing the request sent was wrong. The mark is SQLAlchemy's
    own for a connection found unusable."""
    error.connection_invalidated = True
    return error


def is_unavailability(error: Exception) -> bool:
    """Whether the error means the database cannot be reached or refuses work for now (retry
    later), rather than that the statement was wrong: a lost or refused connection, a server
    shutting down or starting up, a connect that timed out."""
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return True
    return sqlstate_of(error).startswith(_UNAVAILABLE_SQLSTATES)
