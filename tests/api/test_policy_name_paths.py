"""A policy name in a path follows the rule policies are created under, or nothing happens.

Policies are named with 1 to 64 characters of `A-Za-z0-9._-` (spec §5.1). A path naming a
policy outside that rule is refused 400 9002 before the user is counted, audited or logged, so
no caller can append arbitrary text to the permanent audit by choosing a policy name.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from idstore.logs import JsonFormatter
from tests.api.test_hot_path import INSTANT, _both
from tests.support.api import Api, segment
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder
from tests.support.totp_users import TotpUser, totp_user

LONG = "b" * 60_000
BAD_NAMES = [LONG, "b" * 65, "\n=1+1", "\u202e", "x/y", "a b", "é"]
# (method, path below the user, body) of every user route naming a TOTP policy.
USER_ROUTES = [
    ("POST", "totps/authentications/{}", {"code": "123456"}),
    ("POST", "totps/registrations/{}", None),
    ("GET", "totps/registrations/{}", None),
    ("POST", "totps/registrations/{}/complete", {"code": "123456"}),
    ("POST", "totps/deregistrations/{}", None),
]


def _call(person: TotpUser, method: str, path: str, body: Any, *, ext: bool) -> Any:
    return person.api.client.request(method, person.url(path, ext=ext), json=body)


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES)
def test_a_user_route_naming_an_impossible_policy_is_400_9002_and_counts_nothing(
    api: Api,
    seeder: Seeder,
    clock: ManualClock,
    method: str,
    path: str,
    body: Any,
    ext: bool,
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)

    answers = [
        _call(person, method, path.format(segment(name)), body, ext=ext) for name in BAD_NAMES
    ]

    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [
        (400, 9002)
    ] * len(BAD_NAMES)
    assert person.audit() == []
    assert person.totp_lock() == {}


def test_a_refused_policy_name_reaches_no_log_line(
    api: Api, seeder: Seeder, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)

    with caplog.at_level(logging.DEBUG):
        answer = person.authenticate("123456", policy=LONG)

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    assert LONG not in answer.text
    lines = [
        JsonFormatter().format(record)
        for record in caplog.records
        if record.name.startswith("idstore")
    ]
    assert lines
    assert all("b" * 65 not in line for line in lines)


@pytest.mark.parametrize("name", [LONG, "\n=1+1", "x/y"])
def test_both_authentication_paths_refuse_an_impossible_policy_name_alike(
    api: Api, seeder: Seeder, clock: ManualClock, name: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    url = person.url(f"totps/authentications/{segment(name)}")

    direct, via_fastapi = _both(person, api.client, url, {"code": "123456"})

    assert (direct[0], direct[2]["code"]) == (400, 9002)
    assert direct == via_fastapi
    assert person.audit() == []


def test_a_possible_but_unknown_policy_name_is_still_404_3200_and_audited(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    name = "A.z_0-" + "9" * 58

    answer = person.authenticate("123456", policy=name)

    assert (answer.status_code, answer.json()["code"]) == (404, 3200)
    assert [record["totpInfo"]["policyName"] for record in person.audit()] == [name]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_store_policy_route_naming_an_impossible_policy_is_400_9002(
    api: Api, method: str
) -> None:
    store = api.create_store()
    url = f"{api.store_url(store['name'])}/totpPolicy/{segment(LONG)}"

    answer = api.client.request(method, url, json={"digits": 8} if method == "POST" else None)

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    assert LONG not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "{user}/passkeys/registrations/relyingParties/{rp}", {"policyName": "p"}),
        ("POST", "{store}/passkeys/authentications/relyingParties/{rp}", {"policyName": "p"}),
        ("POST", "{user}/appkeys/registrations/relyingParties/{rp}", {"policyName": "p"}),
        ("POST", "{store}/appkeys/authentications/relyingParties/{rp}", {"policyName": "p"}),
        ("POST", "{user}/appkeys/relyingParties/{rp}/preferredDevices", {"deviceId": "d"}),
        ("GET", "{store}/passkeyConfig/{rp}", None),
        ("DELETE", "{store}/appkeyConfig/{rp}", None),
    ],
)
def test_a_relying_party_id_longer_than_a_domain_name_is_400_9002_and_not_echoed(
    api: Api, method: str, path: str, body: Any
) -> None:
    store = api.create_store()
    user = api.create_user(store["name"])
    rp_id = "b" * 254
    url = path.format(
        store=api.store_url(store["name"]),
        user=api.user_url(store["name"], user),
        rp=rp_id,
    )

    answer = api.client.request(method, url, json=body)

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    assert rp_id not in answer.text
