"""A user read back and written back keeps its locks (spec §1, §4, §6): TEMP_LOCKED and LOCKED are
statuses the server shows, so sending the status the user shows now changes nothing: no unlock, no
new lock, no lockCount; an administrator still never sets TEMP_LOCKED on a user not shown so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Api
from tests.support.checks import assert_invalid, json_of
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder
from tests.support.totp_users import TotpUser, totp_user

T0 = 1111111109  # the code is 081804
WRONG = "000000"


def _locked(api: Api, seeder: Seeder, clock: ManualClock, max_temp_locks: int) -> TotpUser:
    """A user locked by two wrong codes: TEMP_LOCKED, or LOCKED with max_temp_locks 0."""
    locking = {"modalityLockThreshold": 1000, "userLockThreshold": 2}
    person = totp_user(api, seeder, locking={**locking, "maxTempLocks": max_temp_locks})
    clock.set(T0)
    for _ in range(2):
        assert _refusal(person.authenticate(WRONG)) == (400, 3401)
    return person


def _refusal(response: httpx.Response) -> tuple[int, int]:
    """An authentication's refusal: its HTTP status and error code (the body carries the user)."""
    return response.status_code, response.json()["code"]


def _written_back(person: TotpUser, read: dict[str, Any], **change: Any) -> dict[str, Any]:
    return json_of(person.api.client.post(person.url(), json={**read, **change}), 200)


@pytest.mark.parametrize(("max_temp_locks", "shown"), [(3, "TEMP_LOCKED"), (0, "LOCKED")])
def test_a_locked_user_written_back_keeps_its_lock_and_lock_count(
    api: Api, seeder: Seeder, clock: ManualClock, max_temp_locks: int, shown: str
) -> None:
    person = _locked(api, seeder, clock, max_temp_locks)
    read = person.current()
    assert (read["status"], read["lockCount"]) == (shown, 1)

    written = _written_back(person, read, firstName="Ada")

    assert written["firstName"] == "Ada"
    assert (written["status"], written["lockCount"]) == (shown, 1)
    assert written["locks"] == read["locks"]
    assert person.current()["locks"] == read["locks"]
    assert _refusal(person.authenticate("081804")) == (400, 2100)


def test_a_locked_user_sent_only_its_status_changes_nothing(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = _locked(api, seeder, clock, 3)
    read = person.current()

    answer = json_of(api.client.post(person.url(), json={"status": "TEMP_LOCKED"}), 200)

    assert answer == read
    assert person.current() == read


def test_a_user_shown_active_written_back_keeps_its_modality_lock(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    locking = {"modalityLockThreshold": 2, "userLockThreshold": 1000}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)
    for _ in range(2):
        person.authenticate(WRONG)
    read = person.current()
    assert read["status"] == "ACTIVE"

    written = _written_back(person, read, firstName="Ada")

    assert written["locks"] == read["locks"]
    assert written["locks"]["modalities"]["TOTP"]["failedAttempts"] == 2
    assert _refusal(person.authenticate("081804")) == (400, 2101)


def test_temp_locked_on_a_user_not_shown_so_is_still_refused(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = _locked(api, seeder, clock, 0)  # shown LOCKED
    read = person.current()

    refused = api.client.post(person.url(), json={**read, "status": "TEMP_LOCKED"})

    assert_invalid(refused, "status")
    assert person.current() == read


def test_a_temporarily_locked_user_set_to_active_is_unlocked(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = _locked(api, seeder, clock, 3)

    written = _written_back(person, person.current(), status="ACTIVE")

    assert (written["status"], "user" in written["locks"], written["lockCount"]) == (
        "ACTIVE",
        False,
        1,
    )
    assert person.authenticate("081804").status_code == 200
