"""The hot path's SQL on PostgreSQL: how many statements one attempt runs (printed with -s)."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.clock import ManualClock
from tests.support.databases import is_postgresql
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

pytestmark = pytest.mark.skipif(
    not is_postgresql(),
    reason="statement budgets are PostgreSQL's; SQLite serialises with BEGIN IMMEDIATE instead",
)

T0 = 1111111109  # the code is 081804


def show(title: str, statements: list[str]) -> None:
    print(f"\n{title}: {len(statements)} statements")
    for number, statement in enumerate(statements, start=1):
        print(f"--- {number}\n{statement}")


def test_a_successful_authentication_runs_at_most_three_statements(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.authenticate("081804")

    show("success", statements)
    assert response.status_code == 200, response.text
    assert len(statements) <= 3
    assert "FOR UPDATE" in statements[0]


def test_a_wrong_code_runs_at_most_two_statements(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)

    with server.statements.capture() as statements:
        response = person.authenticate("000000")

    show("wrong code", statements)
    assert response.json()["code"] == 3401, response.text
    assert len(statements) <= 2
    assert "FOR UPDATE" in statements[0]
