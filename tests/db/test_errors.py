"""Which database errors mean "the database is out of reach, retry later" (503, 9010)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from idstore.cli_database import refused_connection, report_database_failure
from idstore.db.errors import is_unavailability, sqlstate_of


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


def test_sqlstate_of_reads_the_drivers_code_or_nothing() -> None:
    assert (sqlstate_of(_failed("08006")), sqlstate_of(_failed(None))) == ("08006", "")


@pytest.mark.parametrize(
    ("sqlstate", "server_retries", "command_refused"),
    [
        ("08006", True, True),  # both: the connection failed
        ("53300", True, True),  # both: too many connections
        ("57P03", True, True),  # both: not accepting connections yet
        ("57P01", True, False),  # the server shut down under work under way
        ("28P01", False, True),  # a command's wrong password
        ("3D000", False, True),  # a command's missing database
        ("53100", False, True),  # the server's disk is full as a command connects
        ("42P01", False, False),  # the statement's own error
    ],
)
def test_the_server_and_the_commands_read_one_table_of_refused_connections(
    sqlstate: str, server_retries: bool, command_refused: bool
) -> None:
    assert is_unavailability(_failed(sqlstate)) is server_retries
    assert refused_connection(_failed(sqlstate)) is command_refused


def test_a_database_failure_is_one_line_and_its_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = report_database_failure(_failed("3D000"), "nothing exported: the database failed")
    failed = report_database_failure(_failed("42P01"), "the export failed")
    forced = report_database_failure(_failed("42P01"), "cannot use the database", status=2)

    assert (refused, failed, forced) == (2, 1, 2)
    assert capsys.readouterr().err.splitlines() == [
        "idstore: nothing exported: the database failed: driver error",
        "idstore: the export failed: database error DriverError",
        "idstore: cannot use the database: database error DriverError",
    ]
