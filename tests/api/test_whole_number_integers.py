"""An integer field takes a JSON number whose fractional part is zero (`45.0`), as JSON Schema
counts it an integer, on every route that has one; it is kept and shown as the integer. A
fraction, a boolean or a string of digits is still 400 with 9002 naming the field, and changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, unique
from tests.support.checks import assert_invalid, error_of, json_of


def _exactly(value: Any, expected: Any) -> None:
    """Equal, and of the same JSON types all through: 45, never 45.0."""
    assert value == expected
    assert repr(value) == repr(expected)


@pytest.mark.parametrize(
    ("field", "sent", "kept"),
    [
        ("digits", 8.0, 8),
        ("period", 45.0, 45),
        ("driftSteps", 2.0, 2),
        ("secretLength", 32.0, 32),
        ("registrationTimeoutSeconds", 600.0, 600),
    ],
)
def test_a_totp_policy_takes_a_whole_number_as_its_integer(
    api: Api, field: str, sent: float, kept: int
) -> None:
    store, name = api.create_store()["name"], unique("policy")
    url = f"{api.store_url(store)}/totpPolicy"

    created = json_of(api.client.post(url, json={"name": name, field: sent}), 201)

    _exactly(created[field], kept)
    _exactly(json_of(api.client.get(f"{url}/{name}"), 200)[field], kept)


def test_a_stores_user_locking_takes_whole_numbers(api: Api) -> None:
    locking = {"modalityLockThreshold": 3.0, "userTempLockSeconds": 60.0, "maxTempLocks": 0.0}

    store = api.create_store(configuration={"userLocking": locking})

    shown = json_of(api.client.get(api.store_url(store["name"])), 200)
    for read in (store, shown):
        kept = read["configuration"]["userLocking"]
        _exactly(
            [kept["modalityLockThreshold"], kept["userTempLockSeconds"], kept["maxTempLocks"]],
            [3, 60, 0],
        )


def test_a_passkey_configuration_takes_whole_numbers(api: Api) -> None:
    store = api.create_store()["name"]
    policy = {"algorithms": [-7.0, -257.0], "timeoutSeconds": 120.0}
    body = {"rpId": "example.com", "registrationPolicies": {"default": policy}}

    created = json_of(api.client.post(f"{api.store_url(store)}/passkeyConfig", json=body), 201)

    kept = created["registrationPolicies"]["default"]
    _exactly([kept["algorithms"], kept["timeoutSeconds"]], [[-7, -257], 120])


def test_an_appkey_configuration_takes_whole_numbers(api: Api) -> None:
    store = api.create_store()["name"]
    body = {
        "rpId": "example.com",
        "trustedFacets": ["https://example.com"],
        "singleShotWindowSeconds": 60.0,
        "authenticationPolicies": {"default": {"keyTypes": ["DEVICE"], "timeoutSeconds": 30.0}},
    }

    created = json_of(api.client.post(f"{api.store_url(store)}/appkeyConfig", json=body), 201)

    kept = [created["singleShotWindowSeconds"], created["authenticationPolicies"]["default"]]
    _exactly(kept, [60, {"keyTypes": ["DEVICE"], "timeoutSeconds": 30}])


NOT_INTEGERS = [45.5, 45.000001, True, "45", [45], None]


@pytest.mark.parametrize("sent", NOT_INTEGERS)
def test_a_totp_policy_refuses_what_is_no_integer(api: Api, sent: Any) -> None:
    store, name = api.create_store()["name"], unique("policy")
    url = f"{api.store_url(store)}/totpPolicy"

    refused = api.client.post(url, json={"name": name, "period": sent})

    assert_invalid(refused, "period")
    error_of(api.client.get(f"{url}/{name}"), 404, 3200)


@pytest.mark.parametrize("sent", NOT_INTEGERS)
def test_a_passkey_configuration_refuses_what_is_no_integer(api: Api, sent: Any) -> None:
    store = api.create_store()["name"]
    url = f"{api.store_url(store)}/passkeyConfig"
    policy = {"algorithms": [-7], "timeoutSeconds": sent}
    body = {"rpId": "example.com", "registrationPolicies": {"p": policy}}

    refused = api.client.post(url, json=body)

    assert_invalid(refused, "registrationPolicies.p.timeoutSeconds")
    error_of(api.client.get(f"{url}/example.com"), 404, 9011)


@pytest.mark.parametrize("sent", [-7.5, True, "-7"])
def test_a_passkey_algorithm_refuses_what_is_no_integer(api: Api, sent: Any) -> None:
    store = api.create_store()["name"]
    body = {"rpId": "example.com", "registrationPolicies": {"p": {"algorithms": [sent]}}}

    refused = api.client.post(f"{api.store_url(store)}/passkeyConfig", json=body)

    assert_invalid(refused, "registrationPolicies.p.algorithms.0")
