"""Single-shot appkey sign-in over HTTP (spec §10): no start call; the challenge is the client's
UTC time, accepted within `singleShotWindowSeconds` either side and once per key (1090)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.appkey_ceremonies import (
    APP_ID,
    FACET,
    AppkeyStore,
    refused,
    single_shot_challenge,
)
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, Tamper, b64url

NOW = datetime(2026, 12, 4, 15, 2, 11, 123000, tzinfo=UTC)


@pytest.fixture
def enrolled(
    api: Api, clock: ManualClock
) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator, dict[str, Any]]:
    clock.set(NOW.timestamp())
    rp = AppkeyStore.create(api, singleShotWindowSeconds=60)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator()
    return rp, user, authenticator, rp.registered(user, authenticator)


Enrolled = tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator, dict[str, Any]]


@pytest.mark.parametrize("offset", [-60, -1, 0, 59, 60])
def test_a_time_within_the_window_either_side_signs_in(enrolled: Enrolled, offset: int) -> None:
    rp, user, authenticator, appkey = enrolled

    body = json_of(rp.single_shot(authenticator, NOW + timedelta(seconds=offset)), 200)

    assert (body["user"]["id"], body["appkey"]["id"], body["appkey"]["signCount"]) == (
        user["id"],
        appkey["id"],
        1,
    )
    record = rp.last_audit(user)
    assert (record["id"], record["appkeyInfo"]["ceremony"]) == (
        body["authenticationId"],
        "SINGLE_SHOT",
    )
    assert "policyName" not in record["appkeyInfo"]


@pytest.mark.parametrize("offset", [-61, 61, -3600])
def test_a_time_outside_the_window_is_1090_and_counted(enrolled: Enrolled, offset: int) -> None:
    rp, user, authenticator, appkey = enrolled

    refusal = refused(rp.single_shot(authenticator, NOW + timedelta(seconds=offset)), 1090)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 1
    assert rp.appkey(user, appkey["id"])["signCount"] == 0
    assert rp.last_audit(user)["errorCode"] == 1090


def test_a_replayed_single_shot_challenge_is_1090(enrolled: Enrolled) -> None:
    rp, user, authenticator, _ = enrolled
    first = json_of(rp.single_shot(authenticator, NOW), 200)

    again = refused(rp.single_shot(authenticator, NOW), 1090)  # a fresh signature, same time
    later = json_of(rp.single_shot(authenticator, NOW + timedelta(milliseconds=1)), 200)

    assert first["appkey"]["signCount"] == 1
    assert AppkeyStore.failed_attempts(again["user"]) == 1
    assert later["appkey"]["signCount"] == 3  # the refusal's counter was not kept
    assert [r.get("errorCode") for r in rp.audits(user)][-3:] == [None, 1090, None]


def test_a_replay_of_the_same_response_is_refused_too(api: Api, enrolled: Enrolled) -> None:
    rp, _, authenticator, _ = enrolled
    response = authenticator.authenticate(single_shot_challenge(NOW), FACET, app_id=APP_ID)
    url = f"{rp.base}/authentications"

    first = api.client.post(url, json={"clientResponse": response})
    replayed = api.client.post(url, json={"clientResponse": response})

    json_of(first, 200)
    refused(replayed, 1090)


@pytest.mark.parametrize(
    "challenge",
    [
        b64url(b"2026-12-04T15:02:11Z"),  # no milliseconds
        b64url(b"2026-12-04T15:02:11.123+00:00"),  # no Z
        b64url(b"2026-02-31T15:02:11.123Z"),  # no such day
        b64url(b"not a time at all"),
        "not base64url!",
    ],
)
def test_a_challenge_that_is_not_a_utc_time_is_1091_and_not_counted(
    api: Api, enrolled: Enrolled, challenge: str
) -> None:
    rp, user, authenticator, _ = enrolled
    response = authenticator.authenticate(challenge, FACET, app_id=APP_ID)

    answer = api.client.post(f"{rp.base}/authentications", json={"clientResponse": response})

    assert AppkeyStore.failed_attempts(refused(answer, 1091)["user"]) == 0
    assert rp.last_audit(user)["errorCode"] == 1091


def test_another_spelling_of_an_accepted_time_is_1090(api: Api, enrolled: Enrolled) -> None:
    rp, _, authenticator, _ = enrolled
    json_of(rp.single_shot(authenticator, NOW), 200)
    padded = single_shot_challenge(NOW) + "="  # base64url with padding: the same time
    response = authenticator.authenticate(padded, FACET, app_id=APP_ID)

    answer = api.client.post(f"{rp.base}/authentications", json={"clientResponse": response})

    refused(answer, 1090)


def test_a_single_shot_with_a_bad_signature_is_3710_and_keeps_the_time_usable(
    enrolled: Enrolled,
) -> None:
    rp, _, authenticator, _ = enrolled

    forged = refused(rp.single_shot(authenticator, NOW, tamper=Tamper(bad_signature=True)), 3710)
    honest = rp.single_shot(authenticator, NOW)

    assert AppkeyStore.failed_attempts(forged["user"]) == 1
    json_of(honest, 200)


def test_a_single_shot_refused_for_its_counter_is_1061_and_keeps_the_time_usable(
    enrolled: Enrolled,
) -> None:
    rp, user, authenticator, appkey = enrolled
    json_of(rp.single_shot(authenticator, NOW - timedelta(seconds=5)), 200)  # counter 1
    json_of(rp.single_shot(authenticator, NOW - timedelta(seconds=4)), 200)  # counter 2
    authenticator.set_sign_counter(appkey["keyId"], 0)  # signs 1, under the stored 2

    cloned = refused(rp.single_shot(authenticator, NOW), 1061)
    authenticator.set_sign_counter(appkey["keyId"], 10)
    honest = json_of(rp.single_shot(authenticator, NOW), 200)

    assert AppkeyStore.failed_attempts(cloned["user"]) == 1
    assert honest["appkey"]["signCount"] == 11
    assert rp.last_audit(user)["id"] == honest["authenticationId"]


def test_a_single_shot_from_an_unknown_key_is_1058_unaudited(api: Api, enrolled: Enrolled) -> None:
    rp, user, _, _ = enrolled
    stranger = SoftwareUafAuthenticator(aaid="FFFF#0003")
    stranger.register(rp.ceremony(rp.start_registration(user)).request, FACET)

    answer = rp.single_shot(stranger, NOW)

    error_of(answer, 400, 1058)
    assert rp.last_audit(user)["appkeyInfo"]["ceremony"] == "REGISTRATION"
