"""Which database errors mean "the database is out of reach, retry later" (503, 9010)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from idstore.db.errors import is_unavailability


class DriverError(Exception):
    """What a driver raises: an error carrying PostgreSQL's SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def _failed(sqlstate: str | None, kind: type[DBAPIError] = DBAPIError) -> DBAPIError:
    return kind("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        "57P01",  # admin_shutdown: pg_ctl stop -m fast ends the session
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: shutting down, starting up, recovering
        "53300",  # too_many_connections
        "08006",  # connection_failure
        "08001",  # sqlclient_unable_to_establish_sqlconnection
    ],
)
def test_a_database_going_away_or_refusing_connections_is_unavailability(sqlstate: str) -> None:
    assert is_unavailability(_failed(sqlstate))


@pytest.mark.parametrize("sqlstate", ["42P01", "40001", "22001", None])
def test_an_error_of_the_statement_itself_is_not_unavailability(sqlstate: str | None) -> None:
    assert not is_unavailability(_failed(sqlstate))


def test_a_constraint_violation_is_not_unavailability() -> None:
    assert not is_unavailability(_failed("23505", IntegrityError))


def test_a_refused_or_timed_out_connect_and_a_dropped_connection_are_unavailability() -> None:
    dropped = DBAPIError("SELECT 1", None, DriverError(None), connection_invalidated=True)

    assert is_unavailability(ConnectionRefusedError())
    assert is_unavailability(TimeoutError())
    assert is_unavailability(dropped)
    assert not is_unavailability(ValueError("not a database error"))
