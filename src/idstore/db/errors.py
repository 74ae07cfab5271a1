"""Telling database constraint violations apart on both engines, without reading SQL text."""

from __future__ import annotations

from enum import Enum

from sqlalchemy.exc import IntegrityError

_UNIQUE_SQLSTATE = "23505"
_FOREIGN_KEY_SQLSTATE = "23503"


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
