"""Passkey configurations over HTTP (spec §9, issue 7 rule 1): create, read, update, delete,
the store's configuration, and the relying party ids and origins a configuration accepts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import assert_invalid, error_of, json_of
from tests.support.config_answers import written_config

DEFAULT_POLICY = {
    "userVerification": "preferred",
    "residentKey": "preferred",
    "attestation": "none",
    "algorithms": [-7, -8, -257],
    "timeoutSeconds": 300,
}


def _configs_url(api: Api, store: str) -> str:
    return f"{api.store_url(store)}/passkeyConfig"


def _create(api: Api, store: str, **body: Any) -> dict[str, Any]:
    return written_config(api.client.post(_configs_url(api, store), json=body), 201)


def test_a_configuration_takes_defaults_and_shows_in_the_store_configuration(api: Api) -> None:
    store = api.create_store()["name"]

    created = _create(api, store, rpId="example.com", rpName="Example")
    shown = json_of(api.client.get(api.store_url(store)), 200)["configuration"]

    assert created["rpId"] == "example.com"
    assert created["rpName"] == "Example"
    assert created["restrictedOrigins"] == []
    assert created["sessionManagement"] == "INTERNAL"
    assert created["registrationPolicies"] == {"default": DEFAULT_POLICY}
    assert created["authenticationPolicies"] == {"default": DEFAULT_POLICY}
    assert shown["passkeyPolicies"] == {"example.com": created}


def test_update_merges_fields_and_policies_by_name(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com", rpName="Example")
    url = f"{_configs_url(api, store)}/example.com"

    updated = written_config(
        api.client.post(
            url,
            json={
                "sessionManagement": "EXTERNAL",
                "restrictedOrigins": ["https://login.example.com:8443"],
                "authenticationPolicies": {
                    "default": {"userVerification": "required"},
                    "strict": {"algorithms": [-7]},
                },
            },
        ),
        200,
    )
    read = json_of(api.client.get(url), 200)

    assert read == updated
    assert (read["rpName"], read["sessionManagement"]) == ("Example", "EXTERNAL")
    assert read["restrictedOrigins"] == ["https://login.example.com:8443"]
    assert read["authenticationPolicies"]["default"] == {
        **DEFAULT_POLICY,
        "userVerification": "required",
    }
    assert read["authenticationPolicies"]["strict"] == {**DEFAULT_POLICY, "algorithms": [-7]}
    assert read["registrationPolicies"] == {"default": DEFAULT_POLICY}


def test_a_second_configuration_for_one_relying_party_is_a_conflict(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com")

    again = api.client.post(_configs_url(api, store), json={"rpId": "example.com"})

    error_of(again, 409, 3600)


def test_delete_removes_the_configuration(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com")
    url = f"{_configs_url(api, store)}/example.com"

    deleted = api.client.delete(url)

    assert deleted.status_code == 204
    error_of(api.client.get(url), 404, 9011)
    error_of(api.client.delete(url), 404, 9011)
    assert (
        json_of(api.client.get(api.store_url(store)), 200)["configuration"]["passkeyPolicies"] == {}
    )


@pytest.mark.parametrize(
    "rp_id",
    [
        "com",
        "co.uk",
        "github.io",
        "Example.com",
        "10.0.0.1",
        "example.com\n",
        "login.example.com\n",
    ],
)
def test_a_public_suffix_or_non_domain_rp_id_is_refused(api: Api, rp_id: str) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(_configs_url(api, store), json={"rpId": rp_id})

    error_of(refused, 400, 3607)
    assert (
        json_of(api.client.get(api.store_url(store)), 200)["configuration"]["passkeyPolicies"] == {}
    )


@pytest.mark.parametrize("rp_id", ["example.com", "login.example.com", "localhost"])
def test_a_registrable_domain_or_localhost_is_accepted(api: Api, rp_id: str) -> None:
    store = api.create_store()["name"]

    assert _create(api, store, rpId=rp_id)["rpId"] == rp_id


@pytest.mark.parametrize(
    "origin",
    [
        "https://notexample.com",
        "https://login.example.com.evil.test",
        "http://login.example.com",
        "https://login.example.com/path",
        "login.example.com",
        "https://login.example.com\n",
        "https://login.\texample.com",
        " https://login.example.com",
    ],
)
def test_origins_outside_the_relying_party_or_not_https_are_refused(api: Api, origin: str) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(
        _configs_url(api, store), json={"rpId": "example.com", "restrictedOrigins": [origin]}
    )

    assert_invalid(refused, "restrictedOrigins[0]")


def test_an_http_localhost_origin_may_be_listed_for_development(api: Api) -> None:
    store = api.create_store()["name"]

    created = _create(api, store, rpId="localhost", restrictedOrigins=["http://localhost:8123"])

    assert created["restrictedOrigins"] == ["http://localhost:8123"]


def test_an_algorithm_outside_es256_eddsa_rs256_is_refused(api: Api) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(
        _configs_url(api, store),
        json={"rpId": "example.com", "registrationPolicies": {"p": {"algorithms": [-35]}}},
    )

    assert_invalid(refused, "registrationPolicies.p.algorithms.0")
