"""Every statement of one TOTP authentication, read as Citus would route it (docs/scaling.md).

Distributed by `store_id`, a statement reaches one worker only when each distributed table in it
is pinned to one store. The statements the server really runs are captured, as
tests/api/test_statements.py does, and read by tests/support/routing.py; what cannot be routed
today is listed in KNOWN_UNROUTED_TOTP_AUTHENTICATION.
"""

from __future__ import annotations

import pytest

from idstore.db.distribution import KNOWN_UNROUTED_TOTP_AUTHENTICATION
from tests.support.api import Api
from tests.support.clock import ManualClock
from tests.support.routing import referenced_tables, unrouted_tables, verb
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

T0 = 1111111109  # the code is 081804


def unrouted(statements: list[str]) -> set[str]:
    return {f"{verb(s)} {table}" for s in statements for table in unrouted_tables(s)}


# A wrong code leaves the TOTP row as it is: no UPDATE of user_totps.
WRONG_CODE_UNROUTED = KNOWN_UNROUTED_TOTP_AUTHENTICATION - {"UPDATE user_totps"}


@pytest.mark.parametrize(
    ("code", "status", "known"),
    [("081804", 200, KNOWN_UNROUTED_TOTP_AUTHENTICATION), ("000000", 400, WRONG_CODE_UNROUTED)],
    ids=["right-code", "wrong-code"],
)
def test_the_statements_of_a_totp_authentication_name_their_store_except_where_known(
    server: LiveServer,
    api: Api,
    seeder: Seeder,
    clock: ManualClock,
    code: str,
    status: int,
    known: frozenset[str],
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.authenticate(code)

    assert response.status_code == status, response.text
    # Seen at all: statements run past SQLAlchemy's events would make this check empty.
    reached = set().union(*(referenced_tables(s) for s in statements))
    assert {"users", "user_totps", "authentication_audit"} <= reached, statements
    found = unrouted(statements)
    new = sorted(found - known)
    assert new == [], f"statements that reach a store's shards without its store_id: {new}"
    routed = sorted(known - found)
    assert routed == [], f"now routed: remove {routed} from KNOWN_UNROUTED_TOTP_AUTHENTICATION"


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
    ],
)
def test_the_reading_of_a_statement(statement: str, expected: set[str]) -> None:
    assert unrouted_tables(statement) == expected
