"""Rules a security review of the running service asked for: each input it sent, now pinned."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import update

from idstore.db import tables
from tests.support.api import BASE, Api, code_at, unique
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder, TotpSpec
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

T0 = 1111111109  # SHA1 code 081804 for the RFC secret


def _error(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ' + b"1" * 4301 + b"}",  # beyond Python's integer digit limit
        b"{\x00\x00\x00\x00",  # a NUL makes the parser guess UTF-32
        b"{\x00}\x00 ",  # ... or UTF-16
        '["\u2200",'.encode("utf-16-le") + b"[" * 3000 + b"]" * 3000 + b"]",
    ],
)
def test_bodies_the_json_parser_cannot_read_are_400_9001(api: Api, body: bytes) -> None:
    answer = api.client.post(BASE, content=body, headers={"Content-Type": "application/json"})
    assert _error(answer) == (400, 9001)


@pytest.mark.parametrize(
    ("field", "value"), [("from", "9999-12-31T23:59:59-01:00"), ("to", "0001-01-01T00:00:00+01:00")]
)
def test_audit_bounds_beyond_the_calendar_are_400_9002(api: Api, field: str, value: str) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    answer = api.client.get(api.user_url(store, user, "authentications"), params={field: value})

    assert _error(answer) == (400, 9002)
    assert answer.json()["fieldErrors"][0]["field"] == field


def test_completing_a_disabled_totp_is_2103_and_counts_nothing(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(b"12345678901234567890", status="DISABLED"))

    answer = person.complete("081804")

    assert _error(answer) == (400, 2103)
    assert answer.json()["user"]["locks"]["modalities"] == {}


def test_unlocking_modalities_that_never_failed_lists_none(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    before = api.get_user(store, user)["lastUpdatedDtm"]

    answer = api.client.post(
        api.user_url(store, user, "unlock"), json={"modalities": ["Face", "Passkey"]}
    )

    assert answer.status_code == 200
    assert answer.json()["locks"] == {"modalities": {}}
    assert answer.json()["lastUpdatedDtm"] >= before


def test_an_altered_secret_fails_closed_and_is_audited(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    tampered = bytearray(seeder.totp_rows(person.user["id"])[0]["secret_sealed"])
    tampered[-1] ^= 1
    seeder.execute(
        update(tables.user_totps)
        .where(tables.user_totps.c.id == person.totp_id)
        .values(secret_sealed=bytes(tampered))
    )
    clock.set(T0)

    answer = person.authenticate("081804")

    assert _error(answer) == (500, 9099)
    assert [(r["result"], r.get("errorCode")) for r in person.audit()] == [("FAILURE", 9099)]
    assert person.totp_lock() == {}  # not a wrong code: nothing counted


def test_a_policy_deleted_during_registrations_never_loses_one_that_was_answered(
    api: Api, server: LiveServer, token: str
) -> None:
    store = api.create_store()["name"]
    users = [api.create_user(store) for _ in range(12)]
    headers = {"Authorization": f"Bearer {token}"}

    # The delete leaves a little later each round, to land inside the registrations' window.
    for round_number, delay in enumerate((0.0, 0.001, 0.002, 0.003, 0.005, 0.008)):
        policy = f"p{round_number}"
        api.create_policy(store, name=policy)
        calls = [
            ("POST", api.user_url(store, u, f"totps/registrations/{policy}"), 0.0) for u in users
        ]
        calls.append(("DELETE", f"{api.store_url(store)}/totpPolicy/{policy}", delay))
        *starts, deletion = _all_at_once(server, headers, calls)

        started = [s for s in starts if s.status_code == 201]
        assert all(s.status_code in (201, 404) for s in starts), [s.text for s in starts]
        assert all(s.json()["code"] == 3200 for s in starts if s.status_code == 404)
        totps = sum(
            totp["policyName"] == policy
            for user in users
            for totp in api.get_user(store, user)["summaryInfo"]["totps"]
        )
        if deletion.status_code == 204:
            assert (len(started), totps) == (0, 0), "an answered registration was deleted"
        else:
            assert _error(deletion) == (409, 3202)
            assert totps == len(started)
            api.client.delete(f"{api.store_url(store)}/totpPolicy/{policy}", params={"force": True})


def _all_at_once(
    server: LiveServer, headers: dict[str, str], calls: list[tuple[str, str, float]]
) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))

    def send(method: str, url: str, delay: float) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            client.get("/health/live")
            barrier.wait(timeout=30)
            time.sleep(delay)  # staggering the racers, not waiting on a time-based rule
            return client.request(method, url)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: send(*call), calls))


def test_a_registration_code_is_never_echoed_in_an_error(api: Api, clock: ManualClock) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})["name"]
    user = api.create_user(store, unique("user"))
    clock.set(T0)
    secret = api.start_registration(store, user, "p").json()["secret"]
    code = code_at(secret, T0)

    wrong = api.complete(store, user, "p", code[::-1] + "9")

    assert code[::-1] + "9" not in wrong.text and secret not in wrong.text
