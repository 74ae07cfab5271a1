"""Locking over HTTP (spec §6): modality and user counters, temporary and permanent locks, unlock,
and the refusals that are audited but never counted; completion is an attempt like any other."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.api import RFC_SECRET, Api, code_at
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder, TotpSpec
from tests.support.totp_users import TotpUser, totp_user

T0 = 1111111109  # the code is 081804
WRONG = "000000"


def dtm(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def assert_error(response: httpx.Response, http_status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (http_status, code), response.text


def totp_lock_of(response: httpx.Response) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["user"]["locks"]["modalities"]["TOTP"]
    return found


def code_now(person: TotpUser, clock: ManualClock) -> str:
    return code_at(person.secret_b32, clock.timestamp())


def modality_locking(threshold: int = 3, seconds: int = 300) -> dict[str, Any]:
    return {
        "modalityLockThreshold": threshold,
        "modalityLockSeconds": seconds,
        "userLockThreshold": 1000,
    }


def user_locking(threshold: int = 3, max_temp_locks: int = 3) -> dict[str, Any]:
    return {
        "modalityLockThreshold": 1000,
        "userLockThreshold": threshold,
        "userTempLockSeconds": 900,
        "maxTempLocks": max_temp_locks,
    }


# Modality locks.


def test_the_modality_locks_at_its_threshold_and_refuses_even_a_correct_code(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=3))
    clock.set(T0)

    counted = [person.authenticate(WRONG) for _ in range(3)]
    wrong_while_locked = person.authenticate(WRONG)
    right_while_locked = person.authenticate("081804")

    assert [totp_lock_of(response)["failedAttempts"] for response in counted] == [1, 2, 3]
    assert [response.json()["code"] for response in counted] == [3401, 3401, 3401]
    assert "lockedDtm" not in totp_lock_of(counted[1])
    locked = {"failedAttempts": 3, "lockedDtm": dtm(T0), "unlockDtm": dtm(T0 + 300)}
    assert totp_lock_of(counted[2]) == locked
    assert_error(wrong_while_locked, 400, 2101)
    assert_error(right_while_locked, 400, 2101)
    assert totp_lock_of(right_while_locked) == locked
    user = person.current()
    assert (user["status"], "user" in user["locks"]) == ("ACTIVE", False)
    assert [record["errorCode"] for record in person.audit()] == [3401, 3401, 3401, 2101, 2101]


def test_a_modality_lock_ends_at_its_unlock_time_and_a_success_resets_the_counter(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=3, seconds=300))
    clock.set(T0)
    for _ in range(3):
        person.authenticate(WRONG)

    clock.set(T0 + 299)
    still_locked = person.authenticate(code_now(person, clock))
    clock.set(T0 + 300)
    accepted = person.authenticate(code_now(person, clock))

    assert_error(still_locked, 400, 2101)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["locks"]["modalities"]["TOTP"] == {"failedAttempts": 0}
    assert person.totp_lock() == {"failedAttempts": 0}


def test_a_lapsed_modality_lock_counts_again_from_zero(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=3, seconds=300))
    clock.set(T0)
    for _ in range(3):
        person.authenticate(WRONG)

    clock.set(T0 + 300)
    response = person.authenticate(WRONG)

    assert_error(response, 400, 3401)
    assert totp_lock_of(response) == {"failedAttempts": 1}


def test_a_modality_lock_of_zero_seconds_lasts_until_unlocked(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=2, seconds=0))
    clock.set(T0)
    for _ in range(2):
        person.authenticate(WRONG)

    clock.set(T0 + 365 * 86400)
    response = person.authenticate(code_now(person, clock))

    assert_error(response, 400, 2101)
    assert totp_lock_of(response) == {"failedAttempts": 2, "lockedDtm": dtm(T0)}


def test_four_wrong_one_right_four_wrong_leaves_the_modality_unlocked(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=5))
    clock.set(T0)

    for _ in range(4):
        assert_error(person.authenticate(WRONG), 400, 3401)
    assert person.authenticate("081804").status_code == 200
    last = [person.authenticate(WRONG) for _ in range(4)]

    assert [response.json()["code"] for response in last] == [3401] * 4
    assert totp_lock_of(last[-1]) == {"failedAttempts": 4}
    clock.advance(30)
    assert person.authenticate(code_now(person, clock)).status_code == 200


def test_locking_disabled_never_locks(api: Api, seeder: Seeder, clock: ManualClock) -> None:
    locking = {"enabled": False, "modalityLockThreshold": 2, "userLockThreshold": 2}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)

    answers = [person.authenticate(WRONG).json()["code"] for _ in range(5)]

    assert answers == [3401] * 5
    assert person.authenticate("081804").status_code == 200
    assert person.current()["lockCount"] == 0


def test_a_stricter_threshold_applies_at_once(api: Api, seeder: Seeder, clock: ManualClock) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=5))
    clock.set(T0)
    for _ in range(2):
        person.authenticate(WRONG)

    person.update_store({"userLocking": {"modalityLockThreshold": 3}})
    third = person.authenticate(WRONG)

    assert totp_lock_of(third) == {
        "failedAttempts": 3,
        "lockedDtm": dtm(T0),
        "unlockDtm": dtm(T0 + 300),
    }


# User locks.


def test_the_user_is_temporarily_locked_at_the_user_threshold(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=user_locking(threshold=3))
    clock.set(T0)

    answers = [person.authenticate(WRONG) for _ in range(3)]
    refused = person.authenticate("081804")

    assert [response.json()["code"] for response in answers] == [3401] * 3
    assert answers[1].json()["user"]["status"] == "ACTIVE"
    locked = answers[2].json()["user"]
    assert (locked["status"], locked["lockCount"]) == ("TEMP_LOCKED", 1)
    assert locked["locks"]["user"] == {
        "status": "TEMP_LOCKED",
        "lockedDtm": dtm(T0),
        "unlockDtm": dtm(T0 + 900),
    }
    assert_error(refused, 400, 2100)
    assert refused.json()["user"]["locks"] == locked["locks"]
    assert person.current()["status"] == "TEMP_LOCKED"
    assert_error(person.api.start_registration(person.store_name, person.user, "otp"), 400, 2100)


def test_a_temporary_user_lock_ends_at_its_unlock_time(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=user_locking(threshold=3))
    clock.set(T0)
    for _ in range(3):
        person.authenticate(WRONG)

    clock.set(T0 + 899)
    still = person.authenticate(code_now(person, clock))
    clock.set(T0 + 900)
    user = person.current()
    accepted = person.authenticate(code_now(person, clock))

    assert_error(still, 400, 2100)
    assert (user["status"], "user" in user["locks"], user["lockCount"]) == ("ACTIVE", False, 1)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["locks"]["modalities"]["TOTP"] == {"failedAttempts": 0}


def lock_user_once(person: TotpUser, clock: ManualClock, threshold: int) -> dict[str, Any]:
    """Fail until the user locks; the user of the last answer."""
    responses = [person.authenticate(WRONG) for _ in range(threshold)]
    assert [response.json()["code"] for response in responses] == [3401] * threshold
    user: dict[str, Any] = responses[-1].json()["user"]
    return user


def test_after_max_temp_locks_in_a_row_the_user_is_locked_until_unlocked(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=user_locking(threshold=2, max_temp_locks=2))
    clock.set(T0)

    statuses = []
    for round_number in range(3):
        clock.set(T0 + round_number * 1000)
        user = lock_user_once(person, clock, 2)
        statuses.append((user["status"], user["lockCount"], "unlockDtm" in user["locks"]["user"]))

    assert statuses == [("TEMP_LOCKED", 1, True), ("TEMP_LOCKED", 2, True), ("LOCKED", 3, False)]
    assert person.current()["locks"]["user"] == {"status": "LOCKED", "lockedDtm": dtm(T0 + 2000)}
    clock.set(T0 + 10 * 365 * 86400)
    assert person.current()["status"] == "LOCKED"
    assert_error(person.authenticate(code_now(person, clock)), 400, 2100)


def test_a_success_between_temporary_locks_starts_the_run_again(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=user_locking(threshold=2, max_temp_locks=1))
    clock.set(T0)
    lock_user_once(person, clock, 2)

    clock.set(T0 + 1000)
    assert person.authenticate(code_now(person, clock)).status_code == 200
    user = lock_user_once(person, clock, 2)

    assert (user["status"], user["lockCount"]) == ("TEMP_LOCKED", 2)


# Unlocking.


def locked_both_ways(api: Api, seeder: Seeder, clock: ManualClock) -> TotpUser:
    locking = {"modalityLockThreshold": 2, "userLockThreshold": 2, "maxTempLocks": 0}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)
    user = lock_user_once(person, clock, 2)
    assert (user["status"], user["locks"]["modalities"]["TOTP"]["failedAttempts"]) == ("LOCKED", 2)
    return person


@pytest.mark.parametrize("ext", [False, True])
def test_status_active_unlocks_the_user_and_every_modality(
    api: Api, seeder: Seeder, clock: ManualClock, ext: bool
) -> None:
    person = locked_both_ways(api, seeder, clock)

    response = api.client.post(person.url(ext=ext), json={"status": "ACTIVE"})

    user = response.json()
    assert (user["status"], user["lockCount"]) == ("ACTIVE", 1)
    assert user["locks"] == {"modalities": {"TOTP": {"failedAttempts": 0}}}
    assert person.authenticate("081804").status_code == 200


@pytest.mark.parametrize("body", [None, {}])
def test_unlock_lifts_the_user_lock_and_every_modality_lock(
    api: Api, seeder: Seeder, clock: ManualClock, body: dict[str, Any] | None
) -> None:
    person = locked_both_ways(api, seeder, clock)

    response = api.client.post(person.url("unlock"), json=body)

    assert response.status_code == 200, response.text
    user = response.json()
    assert (user["id"], user["status"], user["lockCount"]) == (person.user["id"], "ACTIVE", 1)
    assert user["locks"] == {"modalities": {"TOTP": {"failedAttempts": 0}}}
    assert person.authenticate("081804").status_code == 200


def test_unlock_naming_totp_clears_only_the_totp_modality(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = locked_both_ways(api, seeder, clock)

    response = api.client.post(person.url("unlock", ext=True), json={"modalities": ["TOTP"]})

    user = response.json()
    assert user["status"] == "LOCKED"
    assert user["locks"]["modalities"] == {"TOTP": {"failedAttempts": 0}}
    assert user["locks"]["user"] == {"status": "LOCKED", "lockedDtm": dtm(T0)}
    assert_error(person.authenticate("081804"), 400, 2100)


def test_unlock_naming_a_modality_clears_a_modality_lock(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=2))
    clock.set(T0)
    for _ in range(2):
        person.authenticate(WRONG)

    response = api.client.post(person.url("unlock"), json={"modalities": ["TOTP"]})

    assert response.json()["locks"]["modalities"] == {"TOTP": {"failedAttempts": 0}}
    assert person.authenticate("081804").status_code == 200


def test_unlock_with_an_unknown_modality_is_a_validation_error(api: Api, seeder: Seeder) -> None:
    person = totp_user(api, seeder)

    response = api.client.post(person.url("unlock"), json={"modalities": ["SMS"]})

    assert_error(response, 400, 9002)


# What is audited but never counted.


def test_a_malformed_code_is_audited_and_not_counted(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=2))
    clock.set(T0)

    answers = [person.authenticate(code).json()["code"] for code in ("12345", "abcdef", "1234567")]

    assert answers == [3400, 3400, 3400]
    assert person.totp_lock() == {}
    assert [record["errorCode"] for record in person.audit()] == [3400, 3400, 3400]
    assert person.authenticate("081804").status_code == 200


def test_a_disabled_user_is_refused_with_2102_and_not_counted(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=modality_locking(threshold=2))
    api.client.post(person.url(), json={"status": "DISABLED"})
    clock.set(T0)

    answers = [person.authenticate(code) for code in (WRONG, WRONG, "081804")]
    completion = person.complete("081804")

    assert [response.json()["code"] for response in answers] == [2102, 2102, 2102]
    assert answers[-1].json()["user"]["status"] == "DISABLED"
    assert_error(completion, 400, 2102)
    assert_error(api.start_registration(person.store_name, person.user, "otp"), 400, 2102)
    assert person.totp_lock() == {}
    assert [record["errorCode"] for record in person.audit()] == [2102, 2102, 2102, 2102]
    api.client.post(person.url(), json={"status": "ACTIVE"})
    assert person.authenticate("081804").status_code == 200


def test_a_pending_active_user_cannot_authenticate_but_may_complete_a_registration(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    spec = TotpSpec(RFC_SECRET, status="PENDING")
    person = totp_user(api, seeder, spec=spec, status="PENDING_ACTIVE")
    clock.set(T0)

    completed = person.complete("081804")
    clock.advance(30)
    refused = person.authenticate(code_now(person, clock))

    assert completed.status_code == 200, completed.text
    assert_error(refused, 400, 502)
    assert refused.json()["user"]["status"] == "PENDING_ACTIVE"
    assert person.totp_lock() == {}
    assert [record.get("errorCode") for record in person.audit()] == [None, 502]


@pytest.mark.parametrize(
    ("spec", "code", "error_code"),
    [
        (TotpSpec(RFC_SECRET, status="DISABLED"), "081804", 2103),
        (TotpSpec(RFC_SECRET, status="PENDING"), "081804", 3304),
    ],
)
def test_refusals_for_the_totps_state_are_not_counted(
    api: Api, seeder: Seeder, clock: ManualClock, spec: TotpSpec, code: str, error_code: int
) -> None:
    person = totp_user(api, seeder, spec=spec, locking=modality_locking(threshold=1))
    clock.set(T0)

    answers = [person.authenticate(WRONG).json()["code"], person.authenticate(code).json()["code"]]

    assert answers == [error_code, error_code]
    assert person.totp_lock() == {}
    assert [record["errorCode"] for record in person.audit()] == [error_code, error_code]


# Registration completion is an attempt like authentication.


def test_wrong_codes_at_completion_count_and_lock_the_modality(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    spec = TotpSpec(RFC_SECRET, status="PENDING")
    person = totp_user(api, seeder, spec=spec, locking=modality_locking(threshold=3))
    clock.set(T0)

    answers = [person.complete(WRONG) for _ in range(3)]
    right = person.complete("081804")

    assert [totp_lock_of(response)["failedAttempts"] for response in answers] == [1, 2, 3]
    assert_error(right, 400, 2101)
    assert right.json()["user"]["summaryInfo"]["totps"][0]["status"] == "PENDING"
    clock.set(T0 + 300)
    assert person.complete(code_now(person, clock)).status_code == 200


def test_wrong_codes_at_completion_lock_the_user_who_then_cannot_complete(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    spec = TotpSpec(RFC_SECRET, status="PENDING")
    person = totp_user(api, seeder, spec=spec, locking=user_locking(threshold=2))
    clock.set(T0)

    answers = [person.complete(WRONG) for _ in range(2)]
    right = person.complete("081804")

    assert [response.json()["code"] for response in answers] == [3401, 3401]
    assert answers[-1].json()["user"]["status"] == "TEMP_LOCKED"
    assert_error(right, 400, 2100)
    assert right.json()["user"]["summaryInfo"]["totps"][0]["status"] == "PENDING"
    assert [record["errorCode"] for record in person.audit()] == [3401, 3401, 2100]
