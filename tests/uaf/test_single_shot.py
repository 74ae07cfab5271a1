"""Single-shot challenges: the signing time, accepted within the window either side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idstore import uaf
from tests.support.uaf_authenticator import b64url
from tests.uaf.conftest import APP_ID, FACET_ID, Registered, authenticate, refusal

NOW = datetime(2026, 12, 4, 23, 5, 1, 123000, tzinfo=UTC)


def test_the_challenge_is_the_base64url_of_the_utc_time_with_milliseconds() -> None:
    at = datetime.fromisoformat("2026-12-05T00:05:01.123999+01:00")

    assert uaf.single_shot_challenge(at) == b64url(b"2026-12-04T23:05:01.123Z")


@pytest.mark.parametrize("offset", [-120, -1, 0, 1, 120])
def test_a_time_within_the_window_either_side_is_accepted(offset: int) -> None:
    challenge = uaf.single_shot_challenge(NOW + timedelta(seconds=offset))

    signed_at = uaf.single_shot_time(challenge, now=NOW, window_seconds=120)

    assert signed_at == NOW + timedelta(seconds=offset)


@pytest.mark.parametrize("offset", [-121, 121, 86400])
def test_a_time_outside_the_window_is_refused_with_1090(offset: int) -> None:
    challenge = uaf.single_shot_challenge(NOW + timedelta(seconds=offset))

    assert refusal(lambda: uaf.single_shot_time(challenge, now=NOW, window_seconds=120)) == 1090


@pytest.mark.parametrize(
    "text",
    [
        b"2026-12-04T23:05:01Z",
        b"2026-12-04T23:05:01.123+00:00",
        b"2026-12-04 23:05:01.123Z",
        b"2026-02-30T23:05:01.123Z",
        b"2026-12-04T25:05:01.123Z",
        b"\xff\xfe",
        b"",
    ],
)
def test_anything_but_an_iso_utc_time_with_milliseconds_is_refused_with_1091(text: bytes) -> None:
    challenge = b64url(text)

    assert refusal(lambda: uaf.single_shot_time(challenge, now=NOW, window_seconds=120)) == 1091


def test_a_single_shot_authentication_signs_the_time(registered: Registered) -> None:
    now = datetime.now(UTC)
    challenge = uaf.single_shot_challenge(now)
    response = registered.authenticator.authenticate(challenge, FACET_ID, app_id=APP_ID)

    assertion = authenticate(registered, response, None)

    signed_at = uaf.single_shot_time(assertion.challenge, now=now, window_seconds=120)
    assert signed_at == now.replace(microsecond=now.microsecond // 1000 * 1000)
