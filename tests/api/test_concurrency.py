"""Exact under concurrency (spec §5.2, §6): truly parallel requests, each on its own connection,
released together. Counting is exact by serialising per user, never by refusing."""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import delete, update

from idstore import otp
from idstore.db import tables
from tests.support.api import RFC_SECRET, Api, code_at
from tests.support.clock import ManualClock
from tests.support.databases import is_postgresql
from tests.support.parallel import Call, all_at_once, codes_of
from tests.support.seeding import Seeder, TotpSpec, b32
from tests.support.server import LiveServer
from tests.support.totp_users import POLICY, TotpUser, totp_user

T0 = 1111111109  # the code is 081804
HIGH = {"modalityLockThreshold": 1000, "userLockThreshold": 1000}


def authentication(person: TotpUser, code: str, policy: str = POLICY) -> Call:
    return Call(person.url(f"totps/authentications/{policy}"), {"code": code})


def test_twenty_parallel_uses_of_one_code_accept_exactly_one(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=HIGH)
    clock.set(T0)

    responses = all_at_once(server, token, [authentication(person, "081804")] * 20)

    assert codes_of(responses) == Counter({200: 1, 3402: 19})
    assert person.totp_lock() == {"failedAttempts": 19}
    results = Counter(record["result"] for record in person.audit())
    assert results == Counter({"SUCCESS": 1, "FAILURE": 19})


def test_twenty_parallel_wrong_codes_count_exactly_to_the_threshold(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    locking = {"modalityLockThreshold": 5, "modalityLockSeconds": 300, "userLockThreshold": 1000}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)

    wrong = [authentication(person, f"{number:06d}") for number in range(100000, 100020)]
    responses = all_at_once(server, token, wrong)

    assert codes_of(responses) == Counter({3401: 5, 2101: 15})
    lock = person.totp_lock()
    assert lock["failedAttempts"] == 5 and "lockedDtm" in lock
    records = person.audit()
    assert len(records) == 20
    assert Counter(record["errorCode"] for record in records) == Counter({3401: 5, 2101: 15})
    assert person.current()["status"] == "ACTIVE"


def test_twenty_parallel_wrong_codes_lock_the_user_exactly_once(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    locking = {"modalityLockThreshold": 1000, "userLockThreshold": 5, "maxTempLocks": 3}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)

    wrong = [authentication(person, f"{number:06d}") for number in range(200000, 200020)]
    responses = all_at_once(server, token, wrong)

    assert codes_of(responses) == Counter({3401: 5, 2100: 15})
    user = person.current()
    assert (user["status"], user["lockCount"]) == ("TEMP_LOCKED", 1)


def test_parallel_codes_of_ten_users_all_succeed(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    first = totp_user(api, seeder, spec=TotpSpec(os.urandom(20)))
    people = [first]
    for _ in range(9):
        user = api.create_user(first.store_name)
        secret = os.urandom(20)
        totp_id = seeder.totp(
            store=first.store, user=user, policy=first.policy, spec=TotpSpec(secret)
        )
        people.append(
            TotpUser(api, first.store, first.policy, user, totp_id=totp_id, secret=secret)
        )
    clock.set(T0)

    calls = [authentication(person, code_at(b32(person.secret), T0)) for person in people]
    responses = all_at_once(server, token, calls)

    assert codes_of(responses) == Counter({200: 10})
    assert {r.json()["user"]["id"] for r in responses} == {p.user["id"] for p in people}


def test_parallel_codes_of_two_policies_of_one_user_both_succeed(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    api.client.post(f"{api.store_url(person.store_name)}/totpPolicy", json={"name": "second"})
    second_policy = api.client.get(f"{api.store_url(person.store_name)}/totpPolicy/second").json()
    other_secret = os.urandom(20)
    seeder.totp(
        store=person.store, user=person.user, policy=second_policy, spec=TotpSpec(other_secret)
    )

    for round_number in range(5):
        now = T0 + 30 * round_number
        clock.set(now)
        calls = [
            authentication(person, code_at(person.secret_b32, now)),
            authentication(person, code_at(b32(other_secret), now), policy="second"),
        ]
        assert codes_of(all_at_once(server, token, calls)) == Counter({200: 2})

    assert Counter(record["result"] for record in person.audit()) == Counter({"SUCCESS": 10})


def test_twenty_parallel_completions_activate_exactly_once(
    server: LiveServer, token: str, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    clock.set(T0)
    spec = TotpSpec(RFC_SECRET, status="PENDING")
    person = totp_user(api, seeder, spec=spec, locking=HIGH, now=clock.now())

    completion = Call(person.url(f"totps/registrations/{POLICY}/complete"), {"code": "081804"})
    responses = all_at_once(server, token, [completion] * 20)

    # The losers find the registration no longer pending (3301, not counted) on both engines,
    # even on PostgreSQL where they first read the TOTP as it was before the winner's commit.
    assert codes_of(responses) == Counter({200: 1, 3301: 19})
    assert "TOTP" not in person.current()["locks"]["modalities"]
    assert len(person.audit()) == 20
    assert person.current()["summaryInfo"]["totps"][0]["status"] == "ACTIVE"


def write_from_another_connection(seeder: Seeder, statement: Any) -> None:
    """Commit one statement on a connection of its own, from a thread of its own, and wait."""
    worker = threading.Thread(target=seeder.execute, args=(statement,))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()


def while_checking_the_code(
    monkeypatch: pytest.MonkeyPatch, seeder: Seeder, statement: Any
) -> None:
    """Commit `statement` elsewhere after the attempt has read the TOTP and before it writes.

    The server runs in this process: its code check is where the statement is slipped in.
    """
    real = otp.matching_steps

    def hooked(*args: Any, **kwargs: Any) -> list[int]:
        monkeypatch.setattr(otp, "matching_steps", real)
        write_from_another_connection(seeder, statement)
        return real(*args, **kwargs)

    monkeypatch.setattr(otp, "matching_steps", hooked)


only_on_postgresql = pytest.mark.skipif(
    not is_postgresql(), reason="on SQLite an attempt holds the database's one write lock"
)


@only_on_postgresql
def test_a_totp_disabled_while_a_code_is_checked_stays_disabled(
    api: Api, seeder: Seeder, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)
    totps = tables.user_totps
    disable = update(totps).where(totps.c.id == person.totp_id).values(status="DISABLED")
    while_checking_the_code(monkeypatch, seeder, disable)

    response = person.authenticate("081804")

    found = api.client.get(person.url(f"totps/{person.totp_id}")).json()
    assert found["status"] == "DISABLED"
    assert (response.status_code, response.json()["code"]) == (400, 2103), response.text
    assert response.json()["user"]["summaryInfo"]["totps"][0]["status"] == "DISABLED"
    assert person.totp_lock() == {}


@only_on_postgresql
def test_a_code_accepted_elsewhere_while_it_is_checked_is_refused_as_used(
    api: Api, seeder: Seeder, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)
    totps = tables.user_totps
    used = update(totps).where(totps.c.id == person.totp_id).values(last_used_step=T0 // 30)
    while_checking_the_code(monkeypatch, seeder, used)

    response = person.authenticate("081804")

    assert (response.status_code, response.json()["code"]) == (400, 3402), response.text
    assert person.totp_lock() == {"failedAttempts": 1}


@only_on_postgresql
def test_a_totp_deleted_while_a_code_is_checked_is_not_found(
    api: Api, seeder: Seeder, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = totp_user(api, seeder)
    clock.set(T0)
    totps = tables.user_totps
    while_checking_the_code(monkeypatch, seeder, delete(totps).where(totps.c.id == person.totp_id))

    response = person.authenticate("081804")

    assert (response.status_code, response.json()["code"]) == (404, 3300), response.text
    assert response.json()["user"]["summaryInfo"]["totps"] == []
