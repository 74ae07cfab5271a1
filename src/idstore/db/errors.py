"""Telling database errors apart on both engines, without reading SQL text: which constraint a
statement broke, and whether the database itself is out of reach."""

from __future__ import annotations

from enum import Enum

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

_UNIQUE_SQLSTATE = "23505"
_FOREIGN_KEY_SQLSTATE = "23503"
# Class 08: connection exceptions. 57P01-57P03: the server is shutting down, crashed, or is not
# accepting connections yet (starting, recovering). 53300: too many connections. Each passes
# when the database is back; none says anything about the request.
_CONNECTION_SQLSTATE_CLASS = "08"
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


class Violation(Enum):
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign key"
    OTHER = "other"


def violation_of(error: IntegrityError) -> Violation:
    """Which kind of constraint a failed statement broke (PostgreSQL SQLSTATE, SQLite message)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
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
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
    return sqlstate.startswith(_CONNECTION_SQLSTATE_CLASS) or sqlstate in _UNAVAILABLE_SQLSTATES
