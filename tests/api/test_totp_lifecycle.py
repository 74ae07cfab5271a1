"""A user TOTP after registration (spec §5.1, §5.2): status changes, what a disabled or pending
TOTP answers, deregistration, the by-id routes, and which policy changes reach existing TOTPs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import RFC_SECRET, Api, code_at
from tests.support.checks import content_of
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder, TotpSpec
from tests.support.totp_users import POLICY, TotpUser, totp_user


def assert_error(response: httpx.Response, http_status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (http_status, code), response.text


def set_status(person: TotpUser, status: str, *, ext: bool = False) -> httpx.Response:
    return person.api.client.post(
        person.url(f"totps/{person.totp_id}", ext=ext), json={"status": status}
    )


# Status changes.


def test_an_active_totp_can_be_disabled_and_enabled_again(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    disabled = set_status(person, "DISABLED")
    refused = person.authenticate("081804")
    enabled = set_status(person, "ACTIVE", ext=True)

    assert (disabled.status_code, disabled.json()["status"]) == (200, "DISABLED")
    assert disabled.json()["lastUpdatedDtm"] == "2005-03-18T01:58:29.000Z"
    assert_error(refused, 400, 2103)
    assert refused.json()["user"]["summaryInfo"]["totps"][0]["status"] == "DISABLED"
    assert refused.json()["user"]["locks"]["modalities"] == {}
    assert (enabled.status_code, enabled.json()["status"]) == (200, "ACTIVE")
    assert person.authenticate("081804").status_code == 200


@pytest.mark.parametrize("status", ["ACTIVE", "DISABLED"])
def test_setting_an_unchanged_status_answers_the_totp_as_it_is(
    api: Api, seeder: Seeder, status: str
) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status=status))

    response = set_status(person, status)

    assert (response.status_code, response.json()["status"]) == (200, status)


@pytest.mark.parametrize("status", ["ACTIVE", "DISABLED"])
def test_pending_as_a_target_status_is_not_allowed(api: Api, seeder: Seeder, status: str) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status=status))

    assert_error(set_status(person, "PENDING"), 400, 3305)
    found = api.client.get(person.url(f"totps/{person.totp_id}")).json()
    assert found["status"] == status


@pytest.mark.parametrize("status", ["ACTIVE", "DISABLED"])
def test_a_pending_totp_cannot_change_status(api: Api, seeder: Seeder, status: str) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status="PENDING"))

    assert_error(set_status(person, status), 400, 3305)
    found = api.client.get(person.url(f"totps/{person.totp_id}")).json()
    assert found["status"] == "PENDING"


@pytest.mark.parametrize("as_read", [False, True])
def test_a_pending_totp_written_back_or_sent_nothing_stays_as_it_is(
    api: Api, seeder: Seeder, as_read: bool
) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status="PENDING"))
    url = person.url(f"totps/{person.totp_id}")
    read = api.client.get(url).json()

    written = api.client.post(url, json=read if as_read else {})

    assert (written.status_code, written.json()) == (200, read)
    assert api.client.get(url).json() == read


def test_an_unknown_status_is_a_validation_error(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder)

    response = set_status(person, "LOCKED")

    assert_error(response, 400, 9002)
    assert response.json()["fieldErrors"][0]["field"] == "status"


def test_authenticating_with_a_pending_totp_is_refused_and_not_counted(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status="PENDING"))
    clock.set(1111111109)

    response = person.authenticate("081804")

    assert_error(response, 400, 3304)
    assert response.json()["user"]["locks"]["modalities"] == {}
    assert person.complete("081804").status_code == 200


# Deregistration.


@pytest.mark.parametrize("ext", [False, True])
def test_deregistration_removes_the_totp_and_answers_the_updated_user(
    api: Api, seeder: Seeder, clock: ManualClock, ext: bool
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    response = api.client.post(person.url(f"totps/deregistrations/{POLICY}", ext=ext))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["summaryInfo"]["totps"]) == (person.user["id"], [])
    assert_error(api.client.get(person.url(f"totps/registrations/{POLICY}")), 404, 3300)
    assert_error(person.authenticate("081804"), 404, 3300)
    again = api.client.post(person.url(f"totps/deregistrations/{POLICY}"))
    assert_error(again, 404, 3300)


def test_deregistration_removes_a_pending_registration_too(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status="PENDING"))

    response = api.client.post(person.url(f"totps/deregistrations/{POLICY}"))

    assert response.status_code == 200
    assert response.json()["summaryInfo"]["totps"] == []


def test_deregistration_under_an_unknown_policy_is_3200(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder)

    assert_error(api.client.post(person.url("totps/deregistrations/nope")), 404, 3200)
    assert len(person.current()["summaryInfo"]["totps"]) == 1


# List, get and delete by id, in both id forms.


@pytest.mark.parametrize("ext", [False, True])
def test_a_users_totps_are_listed_and_read_by_id(
    api: Api, seeder: Seeder, clock: ManualClock, ext: bool
) -> None:
    clock.set(1111111109)
    person = totp_user(api, seeder, now=clock.now())

    listed = api.client.get(person.url("totps", ext=ext))
    found = api.client.get(person.url(f"totps/{person.totp_id}", ext=ext))

    assert found.status_code == 200
    assert content_of(listed) == [found.json()]
    assert found.json() == {
        "id": person.totp_id,
        "createdDtm": "2005-03-18T01:58:29.000Z",
        "lastUpdatedDtm": "2005-03-18T01:58:29.000Z",
        "status": "ACTIVE",
        "issuer": person.store_name,
        "username": person.user["externalId"],
        "policyName": POLICY,
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
        "activatedDtm": "2005-03-18T01:58:29.000Z",
    }
    assert person.current()["summaryInfo"]["totps"] == [found.json()]


@pytest.mark.parametrize("ext", [False, True])
def test_a_totp_deleted_by_id_is_gone(api: Api, seeder: Seeder, ext: bool) -> None:
    person = totp_user(api, seeder)

    deleted = api.client.delete(person.url(f"totps/{person.totp_id}", ext=ext))

    assert deleted.status_code == 204
    assert content_of(api.client.get(person.url("totps"))) == []
    assert_error(api.client.get(person.url(f"totps/{person.totp_id}")), 404, 3303)
    assert_error(api.client.delete(person.url(f"totps/{person.totp_id}", ext=ext)), 404, 3303)


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_totp_id_is_3303(api: Api, seeder: Seeder, method: str, ext: bool) -> None:
    person = totp_user(api, seeder)
    body: dict[str, Any] | None = {"status": "DISABLED"} if method == "POST" else None

    response = api.client.request(method, person.url("totps/no-such-totp", ext=ext), json=body)

    assert_error(response, 404, 3303)


def test_another_users_totp_id_is_3303(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder)
    other = api.create_user(person.store_name)

    url = api.user_url(person.store_name, other, f"totps/{person.totp_id}")

    assert_error(api.client.get(url), 404, 3303)
    assert_error(api.client.post(url, json={"status": "DISABLED"}), 404, 3303)
    assert_error(api.client.delete(url), 404, 3303)
    assert api.client.get(person.url(f"totps/{person.totp_id}")).json()["status"] == "ACTIVE"


def test_the_user_totp_routes_answer_3100_for_an_unknown_user(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder)
    ghost = {"id": "no-such-user", "externalId": "no-such-user"}

    for ext in (False, True):
        url = api.user_url(person.store_name, ghost, "totps", ext=ext)
        assert_error(api.client.get(url), 404, 3100)
        assert_error(api.authenticate(person.store_name, ghost, POLICY, "123456"), 404, 3100)


# Policy changes.


def test_a_registered_totp_keeps_its_parameters_when_the_policy_changes(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = str(api.create_store(configuration={"totpPolicies": {POLICY: {}}})["name"])
    user = api.create_user(store)
    secret = api.start_registration(store, user, POLICY).json()["secret"]
    api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))

    changed = api.client.post(
        f"{api.store_url(store)}/totpPolicy/{POLICY}",
        json={"algorithm": "SHA512", "digits": 8, "period": 60},
    )
    clock.advance(30)
    response = api.authenticate(store, user, POLICY, code_at(secret, clock.timestamp()))

    assert changed.status_code == 200, changed.text
    assert response.status_code == 200, response.text
    totp = response.json()["totp"]
    assert (totp["algorithm"], totp["digits"], totp["period"]) == ("SHA1", 6, 30)
    newcomer = api.create_user(store)
    fresh = api.start_registration(store, newcomer, POLICY).json()["totp"]
    assert (fresh["algorithm"], fresh["digits"], fresh["period"]) == ("SHA512", 8, 60)


@pytest.mark.parametrize(
    ("drift_steps", "code", "expected"),
    [(0, "050471", 3401), (0, "731029", 3401), (2, "266759", 200), (2, "150727", 200)],
)
def test_drift_steps_apply_at_once_to_registered_totps(
    api: Api, seeder: Seeder, clock: ManualClock, drift_steps: int, code: str, expected: int
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 1})
    clock.set(1111111095)

    changed = api.client.post(
        f"{api.store_url(person.store_name)}/totpPolicy/{POLICY}", json={"driftSteps": drift_steps}
    )
    response = person.authenticate(code)

    assert changed.status_code == 200, changed.text
    if expected == 200:
        assert response.status_code == 200, response.text
    else:
        assert_error(response, 400, expected)
