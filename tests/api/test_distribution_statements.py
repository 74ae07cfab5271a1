"""Every statement of a TOTP attempt, read as Citus would route it (docs/scaling.md).

Distributed by `store_id`, a statement reaches one worker only when each distributed table in it
is pinned to one store. The statements the server really runs are captured, as
tests/api/test_statements.py does, and read by tests/support/routing.py: none may reach a
distributed table without naming its store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.api import RFC_SECRET, Api
from tests.support.clock import ManualClock
from tests.support.routing import reached, unrouted, unrouted_tables, verb
from tests.support.seeding import Seeder, TotpSpec
from tests.support.server import LiveServer
from tests.support.totp_users import TotpUser, totp_user

T0 = 1111111109  # the code is 081804


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [("081804", 200, None), ("000000", 400, 3401)],
    ids=["right-code", "wrong-code"],
)
def test_every_statement_of_a_totp_authentication_names_its_store(
    server: LiveServer,
    api: Api,
    seeder: Seeder,
    clock: ManualClock,
    code: str,
    status: int,
    error_code: int | None,
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.authenticate(code)

    assert response.status_code == status, response.text
    assert response.json().get("code") == error_code
    assert {"users", "user_totps", "authentication_audit"} <= reached(statements), statements
    assert unrouted(statements) == [], statements
    if status == 200:
        assert any(verb(s) == "UPDATE" and "user_totps" in s for s in statements), statements


def _pending(api: Api, seeder: Seeder, *, registered_at: float) -> TotpUser:
    spec = TotpSpec(RFC_SECRET, status="PENDING")
    return totp_user(api, seeder, spec=spec, now=datetime.fromtimestamp(registered_at, UTC))


def test_every_statement_of_a_registration_completion_names_its_store(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = _pending(api, seeder, registered_at=T0)
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.complete("081804")

    assert response.status_code == 200, response.text
    assert response.json()["totp"]["status"] == "ACTIVE"
    assert {"users", "user_totps", "authentication_audit"} <= reached(statements), statements
    assert unrouted(statements) == [], statements


def test_an_expired_registration_is_removed_by_a_statement_that_names_its_store(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = _pending(api, seeder, registered_at=T0 - 3600)  # ten minutes to complete
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.complete("081804")

    assert (response.status_code, response.json()["code"]) == (400, 3302), response.text
    assert any(verb(s) == "DELETE" and "user_totps" in s for s in statements), statements
    assert unrouted(statements) == [], statements
    assert seeder.totp_rows(person.user["id"]) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT users.id FROM users WHERE users.store_id = $1::VARCHAR AND users.id = $2", set()),
        ("SELECT users.id FROM users WHERE users.id = $1::VARCHAR", {"users"}),
        (
            "SELECT u.id FROM users JOIN user_totps ON user_totps.store_id = users.store_id "
            "WHERE users.store_id = ?",
            set(),
        ),
        (
            "SELECT users.id FROM stores JOIN users ON users.store_id = stores.id "
            "LEFT OUTER JOIN user_totps ON user_totps.user_id = users.id WHERE stores.name = $1",
            {"users", "user_totps"},
        ),
        ("UPDATE users SET failed_attempts=$1 WHERE users.id = $2", {"users"}),
        ("UPDATE users SET status=$1 WHERE store_id = $2 AND id = $3", set()),
        (
            "DELETE FROM user_totps WHERE user_totps.store_id = :store AND user_totps.id = :id",
            set(),
        ),
        ("INSERT INTO authentication_audit (id, store_id, user_id) VALUES ($1, $2, $3)", set()),
        ("INSERT INTO users (id, external_id) VALUES (?, ?)", {"users"}),
        ("SELECT stores.id FROM stores WHERE stores.name = $1", set()),
        (
            "WITH write_1 AS \n(UPDATE users SET failed_attempts=$3 WHERE users.store_id = $4 "
            "AND users.id = $5)\n INSERT INTO authentication_audit (id, store_id) VALUES ($1, $2)",
            set(),
        ),
        (
            "WITH write_1 AS (UPDATE users SET lock_count=(1) WHERE users.id = $3) "
            "INSERT INTO authentication_audit (id, store_id) VALUES ($1, $2)",
            {"users"},
        ),
        (
            "WITH write_1 AS (UPDATE users SET lock_count=$3 WHERE users.store_id = $4), "
            "write_2 AS (DELETE FROM user_totps WHERE user_totps.id = $5) "
            "INSERT INTO authentication_audit (id, user_id) VALUES ($1, $2)",
            {"user_totps", "authentication_audit"},
        ),
    ],
)
def test_the_reading_of_a_statement(statement: str, expected: set[str]) -> None:
    assert unrouted_tables(statement) == expected
