"""A constraint the database enforced, turned into the contract's error for it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from idstore.db.errors import Violation, violation_of
from idstore.services.errors import IdstoreError


def conflict(error: IntegrityError, *, unique: IdstoreError, missing: IdstoreError) -> IdstoreError:
    """`unique` for a duplicate, `missing` for a parent row deleted meanwhile (a concurrent
    delete won the race); anything else is not the client's doing and is raised as it is."""
    kind = violation_of(error)
    if kind is Violation.UNIQUE:
        return unique
    if kind is Violation.FOREIGN_KEY:
        return missing
    raise error
