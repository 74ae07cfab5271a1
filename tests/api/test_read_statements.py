"""Reads run the statements they need and no more, on both engines: the tables each one reads,
in order, from the SQL the server ran."""

from __future__ import annotations

import re

from tests.support.api import Api
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

_FIRST_TABLE = re.compile(r"\bFROM\s+\"?(\w+)", re.IGNORECASE)


def tables_read(statements: list[str]) -> list[str]:
    """The first table each statement reads from ("-" for one that reads none)."""
    return [(match.group(1) if (match := _FIRST_TABLE.search(s)) else "-") for s in statements]


def test_listing_totps_reads_the_store_the_user_and_the_totps_and_no_passkeys(
    server: LiveServer, api: Api, seeder: Seeder
) -> None:
    person = totp_user(api, seeder)

    with server.statements.capture() as statements:
        response = api.client.get(person.url("totps"))

    assert response.status_code == 200, response.text
    assert [totp["id"] for totp in response.json()["content"]] == [person.totp_id]
    # The page and its count read the TOTPs; the user's passkeys are no part of the answer.
    assert tables_read(statements) == ["stores", "users", "user_totps", "user_totps"]


def test_reading_the_user_still_reads_the_passkeys(
    server: LiveServer, api: Api, seeder: Seeder
) -> None:
    person = totp_user(api, seeder)

    with server.statements.capture() as statements:
        shown = person.current()

    assert shown["id"] == person.user["id"]
    assert "user_passkeys" in tables_read(statements)


def test_starting_a_totp_registration_reads_the_users_standing_not_their_authenticators(
    server: LiveServer, api: Api
) -> None:
    store = api.create_store()["name"]
    api.create_policy(store, name="otp")
    user = api.create_user(store)

    with server.statements.capture() as statements:
        response = api.start_registration(store, user, "otp")

    assert response.status_code == 201, response.text
    assert response.json()["totp"]["status"] == "PENDING"
    # The user row (locked), then the one TOTP of the policy it may replace; no passkeys.
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert tables_read(selects) == ["stores", "totp_policies", "users", "user_totps"]
