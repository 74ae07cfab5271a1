"""One user handle names one user, held by the database (passkey_user_handles, migration 0014):
of two users' registrations started with the same handle, the first to complete keeps it and the
other is refused with 409, 3608, even when both complete at once in the server's workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, NamedTuple

import httpx
import pytest
from sqlalchemy import Table, select, update

from idstore.db import tables
from idstore.services import events
from tests.support.api import Api, segment
from tests.support.checks import json_of
from tests.support.parallel import Call, all_at_once, codes_of
from tests.support.passkeys import ORIGIN, RP_ID, Ceremony, PasskeyStore
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.webauthn_authenticator import SoftwareAuthenticator
from tests.support.webauthn_keys import b64url

SHARED = b64url(b"one handle, two users")


def _plant_shared_handle(seeder: Seeder, *users: dict[str, Any]) -> None:
    """What an older version or an import may have left: the same handle in two users'
    attributes, neither of them with a passkey yet, so both registrations start with it."""
    for user in users:
        seeder.execute(
            update(tables.users)
            .where(tables.users.c.id == user["id"])
            .values(attributes={"passkeyUsers": {RP_ID: {"USER_HANDLE": SHARED}}})
        )


class Started(NamedTuple):
    """A started registration, the authenticator answering it, and the body completing it."""

    ceremony: Ceremony
    authenticator: SoftwareAuthenticator
    body: dict[str, Any]


def _started(rp: PasskeyStore, user: dict[str, Any]) -> Started:
    ceremony = rp.ceremony(rp.start_registration(user))
    assert ceremony.options["user"]["id"] == SHARED
    authenticator = SoftwareAuthenticator(ORIGIN)
    return Started(ceremony, authenticator, ceremony.body(authenticator.register(ceremony.options)))


def _complete(rp: PasskeyStore, started: Started) -> httpx.Response:
    return rp.complete("registrations", started.ceremony, started.body)


class Rivals(NamedTuple):
    """Two users of a store given one handle, each with a registration started with it."""

    rp: PasskeyStore
    users: list[dict[str, Any]]
    started: list[Started]


def _rivals(api: Api, seeder: Seeder) -> Rivals:
    rp = PasskeyStore.create(api)
    users = [api.create_user(rp.store), api.create_user(rp.store)]
    _plant_shared_handle(seeder, *users)
    return Rivals(rp, users, [_started(rp, user) for user in users])


def _completion_url(rp: PasskeyStore, ceremony: Ceremony) -> str:
    assert ceremony.session_id is not None
    return f"{rp.base}/registrations/sessions/{segment(ceremony.session_id)}"


def _owners(seeder: Seeder, table: Table, users: list[dict[str, Any]]) -> list[str]:
    """Which of the users the rows of `table` with the shared handle belong to."""
    ids = [user["id"] for user in users]
    rows = seeder.rows(
        select(table.c.user_id).where(table.c.user_handle == SHARED, table.c.user_id.in_(ids))
    )
    return [row["user_id"] for row in rows]


def _handle_and_passkey_owners(
    seeder: Seeder, users: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    return (
        _owners(seeder, tables.passkey_user_handles, users),
        _owners(seeder, tables.user_passkeys, users),
    )


def test_the_second_user_to_complete_with_a_handle_is_refused_with_3608(
    api: Api, seeder: Seeder
) -> None:
    rp, (first, second), (first_started, second_started) = _rivals(api, seeder)

    kept = _complete(rp, first_started)
    refused = _complete(rp, second_started)

    assert json_of(kept, 200)["passkey"]["userHandle"] == SHARED
    body = json_of(refused, 409)
    assert (body["code"], body["user"]["id"]) == (3608, second["id"])
    record = rp.last_audit(second)
    assert (record["result"], record["errorCode"]) == ("FAILURE", 3608)
    assert (record["passkeyInfo"]["ceremony"], record["passkeyInfo"]["rpId"]) == (
        "REGISTRATION",
        RP_ID,
    )
    passkey_lock = body["user"]["locks"]["modalities"].get("Passkey", {})
    assert passkey_lock.get("failedAttempts", 0) == 0  # nothing wrong was proved: uncounted
    owners = _handle_and_passkey_owners(seeder, [first, second])
    assert owners == ([first["id"]], [first["id"]])


def test_the_refused_user_registers_again_with_a_new_handle_and_both_sign_in(
    api: Api, seeder: Seeder
) -> None:
    rp, (first, second), (first_started, second_started) = _rivals(api, seeder)
    json_of(_complete(rp, first_started), 200)
    json_of(_complete(rp, second_started), 409)
    second_authenticator = SoftwareAuthenticator(ORIGIN)

    again = rp.registered(second, second_authenticator)
    # Discoverable sign-ins: the handle alone names the user.
    first_signs_in = rp.sign_in(first_started.authenticator)
    second_signs_in = rp.sign_in(second_authenticator)

    assert again["userHandle"] != SHARED
    assert api.get_user(rp.store, second)["attributes"] == {
        "passkeyUsers": {RP_ID: {"USER_HANDLE": again["userHandle"]}}
    }
    assert json_of(first_signs_in, 200)["user"]["id"] == first["id"]
    assert json_of(second_signs_in, 200)["user"]["id"] == second["id"]


@pytest.fixture
def slow_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each registration holds its claim uncommitted a while (the admin event is written after
    it), so that the other completion's claim reaches the table meanwhile: the race is run, not
    just won by whoever came first."""
    real = events.record

    async def slow(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.3)
        await real(*args, **kwargs)

    monkeypatch.setattr(events, "record", slow)


@pytest.mark.usefixtures("slow_registrations")
def test_two_users_completing_with_one_handle_at_once_give_it_to_one(
    server: LiveServer, token: str, api: Api, seeder: Seeder
) -> None:
    rp, users, started = _rivals(api, seeder)
    calls = [Call(_completion_url(rp, each.ceremony), each.body) for each in started]

    responses = all_at_once(server, token, calls)

    assert codes_of(responses) == Counter({200: 1, 3608: 1})
    winner = next(r.json()["user"]["id"] for r in responses if r.status_code == 200)
    loser = next(r.json()["user"]["id"] for r in responses if r.status_code == 409)
    assert {winner, loser} == {user["id"] for user in users}
    assert _handle_and_passkey_owners(seeder, users) == ([winner], [winner])
