"""The authentication routes' direct path (src/idstore/api/hot_path.py) answers as FastAPI does.

The direct path takes a body sent as `application/json`; the same request sent as
`application/vnd.idstore+json` is left to FastAPI's route, which takes any `+json` type. Each
pair below must get the same status, headers and body (the request id aside) and the same
audit records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import Api
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder
from tests.support.totp_users import TotpUser, totp_user
from tests.support.wrong_codes import wrong_code

DIRECT = {"Content-Type": "application/json"}
VIA_FASTAPI = {"Content-Type": "application/vnd.idstore+json"}
# 2009-02-13T23:31:30Z, where the RFC secret's code is 005924.
INSTANT = 1234567890
RIGHT_CODE = "005924"


def _post(client: httpx.Client, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return client.post(url, content=json.dumps(body).encode(), headers=headers)


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and body of an answer, without what differs by request."""
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in ("x-request-id", "date")
    }
    body: dict[str, Any] = response.json()
    body.pop("requestId", None)
    return response.status_code, headers, body


def _url(person: TotpUser, policy: str = "otp", *, ext: bool = False) -> str:
    return person.url(f"totps/authentications/{policy}", ext=ext)


def _both(
    person: TotpUser, client: httpx.Client, url: str, body: Any
) -> tuple[tuple[int, dict[str, str], dict[str, Any]], ...]:
    return tuple(_answer(_post(client, url, body, headers)) for headers in (DIRECT, VIA_FASTAPI))


@pytest.mark.parametrize(
    ("case", "expected_code"),
    [
        (lambda p: (_url(p), {"code": "12345"}), 3400),
        (lambda p: (_url(p, "missing"), {"code": "123456"}), 3200),
        (lambda p: (_url(p).replace(p.store_name, "no-such-store"), {"code": "1"}), 3000),
        (lambda p: (_url(p).replace(p.user["id"], "no-such-user"), {"code": "1"}), 3100),
        (lambda p: (_url(p, "missing", ext=True), {"code": "123456"}), 3200),
    ],
)
def test_a_refusal_that_counts_nothing_is_the_same_on_both_paths(
    api: Api,
    seeder: Seeder,
    clock: ManualClock,
    case: Callable[[TotpUser], tuple[str, Any]],
    expected_code: int,
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    url, body = case(person)

    direct, via_fastapi = _both(person, api.client, url, body)

    assert direct[2]["code"] == expected_code
    assert direct == via_fastapi


def test_a_request_without_a_token_is_refused_alike(
    api: Api, seeder: Seeder, anonymous: httpx.Client
) -> None:
    person = totp_user(api, seeder)

    direct, via_fastapi = _both(person, anonymous, _url(person), {"code": "123456"})

    assert (direct[0], direct[2]["code"]) == (401, 9003)
    assert direct == via_fastapi


@pytest.mark.parametrize("ext", [False, True])
def test_a_wrong_code_counts_once_on_each_path(
    api: Api, seeder: Seeder, clock: ManualClock, ext: bool
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)

    direct, via_fastapi = _both(person, api.client, _url(person, ext=ext), {"code": "000000"})

    failed = [
        answer[2]["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"]
        for answer in (direct, via_fastapi)
    ]
    assert failed == [1, 2]
    for answer in (direct, via_fastapi):
        answer[2]["user"].pop("locks")
        answer[2]["user"].pop("lastUpdatedDtm", None)
    assert direct[2]["code"] == 3401
    assert direct == via_fastapi
    assert [record["errorCode"] for record in person.audit()] == [3401, 3401]


def test_a_right_code_is_accepted_on_either_path_once(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    code = pyotp.TOTP(person.secret_b32).at(INSTANT)

    accepted = _answer(_post(api.client, _url(person), {"code": code}, DIRECT))
    replayed = _answer(_post(api.client, _url(person), {"code": code}, VIA_FASTAPI))
    clock.set(INSTANT + 30)
    later = pyotp.TOTP(person.secret_b32).at(INSTANT + 30)
    accepted_by_fastapi = _answer(_post(api.client, _url(person), {"code": later}, VIA_FASTAPI))

    assert code == RIGHT_CODE
    assert (accepted[0], replayed[0], accepted_by_fastapi[0]) == (200, 400, 200)
    assert replayed[2]["code"] == 3402
    # The second success's body is longer by what the first one wrote (last step, last use).
    accepted[1].pop("content-length")
    accepted_by_fastapi[1].pop("content-length")
    assert accepted[1] == accepted_by_fastapi[1]
    assert accepted[2].keys() == accepted_by_fastapi[2].keys()


def test_a_policy_named_ext_is_left_to_the_route_the_router_picks(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    # `…/totps/authentications/ext` is also `…/totps/{id}/ext` (a TOTP by external id), which
    # the router tries first.
    person = totp_user(api, seeder)
    clock.set(INSTANT)

    direct, via_fastapi = _both(person, api.client, _url(person, "ext"), {"code": RIGHT_CODE})

    assert direct == via_fastapi
    assert direct[2]["code"] != 3200


def test_a_refusal_carries_the_user_exactly_as_the_user_route_shows_it(
    api: Api, seeder: Seeder
) -> None:
    # The refusal's user is written straight to JSON (api/errors.py error_json), the user route's
    # through FastAPI: every kind of field must come out the same, absent ones absent.
    person = totp_user(
        api,
        seeder,
        locking={"enabled": True},
        firstName="Zoë",
        lastName="Ødegård 山田",
        email="zoe@example.org",
        dateOfBirth="1990-02-28",
        nationalities=["NO", "JP"],
        attributes={"tier": "gold", "score": 1.5, "nested": {"on": True, "list": [1, "二"]}},
        locale="nb-NO",
    )

    # The server's clock follows real time here: a fixed "000000" would be right now and then.
    wrong = wrong_code(pyotp.TOTP(person.secret_b32), steps=2)
    refused = _post(api.client, _url(person), {"code": wrong}, DIRECT)

    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == 3401
    assert body["user"] == person.current()
    assert body["user"]["firstName"] == "Zoë"
    assert body["user"]["attributes"]["nested"] == {"on": True, "list": [1, "二"]}
    assert body["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1
    assert "timezone" not in body["user"]
    assert refused.headers["content-type"] == "application/json"
    assert int(refused.headers["content-length"]) == len(refused.content)
