"""Rate limits over HTTP: per user on attempts (before anything is counted), per API key."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api, issue_token
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder
from tests.support.server import LiveServer, running_server
from tests.support.totp_users import totp_user

T0 = 1111111109
HIGH = {"modalityLockThreshold": 1000, "userLockThreshold": 1000}


def test_a_flood_of_guesses_at_one_user_is_refused_with_429_and_counts_nothing(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking=HIGH)
    clock.set(T0)

    answers = [person.authenticate("000000") for _ in range(42)]
    throttled = answers[-1]

    assert [a.json()["code"] for a in answers] == [3401] * 40 + [9005] * 2
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"  # 60 attempts a minute come back
    assert throttled.json()["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 40
    assert [r.get("errorCode") for r in person.audit()][-2:] == [9005, 9005]

    clock.advance(1)
    assert person.authenticate("081804").status_code == 200


def test_the_limit_is_spent_by_any_attempt_but_never_by_a_locked_out_one(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking={"modalityLockThreshold": 2, "userLockThreshold": 99})
    clock.set(T0)

    answers = [person.authenticate(code).json()["code"] for code in ["12"] + ["000000"] * 30]

    # 3400 takes an attempt without counting a failure; after the lock, nothing is taken.
    assert answers == [3400, 3401, 3401] + [2101] * 28


@pytest.fixture
def strict_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path, caller_requests_per_second=1) as live:
        yield live


def test_an_api_key_over_its_rate_is_refused_with_429_9005_and_retry_after(
    strict_server: LiveServer,
) -> None:
    token = issue_token(strict_server.base_url, strict_server.api_key)
    answers: list[httpx.Response] = []
    with httpx.Client(
        base_url=strict_server.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        started = time.monotonic()
        while not answers or answers[-1].status_code == 200:
            assert len(answers) < 50, "no request was refused"
            answers.append(client.get("/api/identity-store/stores"))
        elapsed = time.monotonic() - started

    # The bucket refills in real time, one token a second: a slow machine earns more than the
    # burst of twice the rate (two) before its refusal, never more than what the time refilled.
    accepted = len(answers) - 1
    assert 2 <= accepted <= 2 + math.floor(elapsed), (accepted, elapsed)
    assert (answers[-1].status_code, answers[-1].json()["code"]) == (429, 9005)
    assert answers[-1].headers["Retry-After"] == "1"
