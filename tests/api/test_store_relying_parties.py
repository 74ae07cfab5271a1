"""Passkey and appkey configurations given in a store's body (spec §3): `passkeyPolicies` and
`appkeyPolicies` entries create or update their relying party's configuration as the
configuration routes do, in the store's transaction; a store read back can be written back."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.api import Api, unique
from tests.support.checks import assert_invalid, error_of, json_of
from tests.support.uaf_keys import AttestationCa, KeyKind

STORES = "/api/identity-store/stores"
EVENTS = "/api/identity-store/events"
PASSKEY = {
    "rpId": "example.com",
    "rpName": "Example",
    "restrictedOrigins": ["https://login.example.com", "https://id.example.com:8443"],
    "sessionManagement": "EXTERNAL",
    "registrationPolicies": {"platform": {"authenticatorAttachment": "platform"}},
    "authenticationPolicies": {"strict": {"userVerification": "required", "algorithms": [-7]}},
}
CA = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")
APPKEY = {
    "rpId": "example.com",
    "trustedFacets": ["https://login.example.com", "ios:bundle-id:com.example.wallet"],
    "singleShotWindowSeconds": 60,
    "registrationPolicies": {
        "vendor": {
            "keyTypes": ["BIOMETRIC"],
            "aaids": ["ABCD#0001"],
            "attestation": "BASIC_FULL",
            "attestationRootCertificates": [base64.b64encode(CA.root_der).decode("ascii")],
        }
    },
    "authenticationPolicies": {"payments": {"keyTypes": ["BIOMETRIC"], "timeoutSeconds": 60}},
}


def _store_with_both(api: Api) -> str:
    """A store holding a passkey and an appkey configuration of example.com, made by their
    own routes."""
    store = str(api.create_store(description="before")["name"])
    json_of(api.client.post(f"{api.store_url(store)}/passkeyConfig", json=PASSKEY), 201)
    json_of(api.client.post(f"{api.store_url(store)}/appkeyConfig", json=APPKEY), 201)
    return store


def _read(api: Api, store: str) -> dict[str, Any]:
    return json_of(api.client.get(api.store_url(store)), 200)


def _events(api: Api, store: str) -> list[dict[str, Any]]:
    page = json_of(api.client.get(EVENTS, params={"storeName": store, "size": 200}), 200)
    events: list[dict[str, Any]] = page["content"]
    return events


def _configure(api: Api, store: str, **configuration: Any) -> Any:
    return api.client.post(api.store_url(store), json={"configuration": configuration})


def test_a_store_with_both_configurations_written_back_unchanged_changes_nothing(
    api: Api,
) -> None:
    store = _store_with_both(api)
    read = _read(api, store)
    events_before = _events(api, store)

    written = json_of(api.client.post(api.store_url(store), json=read), 200)
    again = _read(api, store)

    assert written == again
    assert again["configuration"] == read["configuration"]
    assert {key: value for key, value in again.items() if key != "lastUpdatedDtm"} == {
        key: value for key, value in read.items() if key != "lastUpdatedDtm"
    }
    assert again["configuration"]["passkeyPolicies"]["example.com"]["rpName"] == "Example"
    assert again["configuration"]["appkeyPolicies"]["example.com"]["singleShotWindowSeconds"] == 60
    # Only the store's own update is recorded: an entry as stored is no change of the rp.
    added = _events(api, store)[len(events_before) :]
    assert [event["kind"] for event in added] == ["store.updated"]


def test_an_rp_name_changed_through_the_store_keeps_the_rest(api: Api) -> None:
    store = _store_with_both(api)
    read = _read(api, store)["configuration"]
    old = read["passkeyPolicies"]["example.com"]

    answer = _configure(api, store, passkeyPolicies={"example.com": {"rpName": "Renamed"}})

    shown = json_of(answer, 200)["configuration"]
    config = json_of(api.client.get(f"{api.store_url(store)}/passkeyConfig/example.com"), 200)
    assert shown["passkeyPolicies"]["example.com"] == config
    assert config["rpName"] == "Renamed"
    unchanged = {key for key in old if key not in ("rpName", "lastUpdatedDtm")}
    assert {key: config[key] for key in unchanged} == {key: old[key] for key in unchanged}
    assert config["lastUpdatedDtm"] >= old["lastUpdatedDtm"]
    assert shown["appkeyPolicies"] == read["appkeyPolicies"]
    latest = _events(api, store)[-2:]
    assert [(event["kind"], event["subjectId"]) for event in latest] == [
        ("store.updated", _read(api, store)["id"]),
        ("passkeyConfig.updated", config["id"]),
    ]


def test_an_entry_merges_policies_by_name_and_creates_a_new_relying_party(api: Api) -> None:
    store = _store_with_both(api)
    read = _read(api, store)["configuration"]

    answer = _configure(
        api,
        store,
        passkeyPolicies={
            "example.com": {"authenticationPolicies": {"strict": {"timeoutSeconds": 60}}},
            "login.example.com": {"rpName": "Login"},
        },
    )

    shown = json_of(answer, 200)["configuration"]["passkeyPolicies"]
    strict = shown["example.com"]["authenticationPolicies"]["strict"]
    assert strict == {
        **read["passkeyPolicies"]["example.com"]["authenticationPolicies"]["strict"],
        "timeoutSeconds": 60,
    }
    created = shown["login.example.com"]
    assert (created["rpId"], created["rpName"], created["restrictedOrigins"]) == (
        "login.example.com",
        "Login",
        [],
    )
    assert (
        set(created["registrationPolicies"])
        == set(created["authenticationPolicies"])
        == {"default"}
    )
    assert created["createdDtm"] == created["lastUpdatedDtm"]


def test_a_store_created_with_both_maps_creates_the_configurations(api: Api) -> None:
    name = unique("rps")
    configuration = {
        "passkeyPolicies": {"example.com": PASSKEY},
        "appkeyPolicies": {"example.com": APPKEY},
    }
    body = {"name": name, "configuration": configuration}

    created = json_of(api.client.post(STORES, json=body), 201)

    passkey = json_of(api.client.get(f"{api.store_url(name)}/passkeyConfig/example.com"), 200)
    appkey = json_of(api.client.get(f"{api.store_url(name)}/appkeyConfig/example.com"), 200)
    assert created["configuration"]["passkeyPolicies"] == {"example.com": passkey}
    assert created["configuration"]["appkeyPolicies"] == {"example.com": appkey}
    assert passkey["restrictedOrigins"] == PASSKEY["restrictedOrigins"]
    assert set(passkey["authenticationPolicies"]) == {"strict"}
    assert set(passkey["registrationPolicies"]) == {"platform"}
    assert appkey["trustedFacets"] == APPKEY["trustedFacets"]
    assert [event["kind"] for event in _events(api, name)] == [
        "store.created",
        "passkeyConfig.created",
        "appkeyConfig.created",
    ]


# Each bad entry, beside the configuration route's answer to the same body.
BAD_ENTRIES = [
    pytest.param("passkey", "co.uk", {}, 3607, None, id="public-suffix-rp-id"),
    pytest.param(
        "passkey",
        "example.com",
        {"restrictedOrigins": ["http://login.example.com"]},
        9002,
        "restrictedOrigins[0]",
        id="http-origin",
    ),
    pytest.param(
        "appkey",
        "example.com",
        {"trustedFacets": ["http://login.example.com"]},
        9002,
        "trustedFacets[0]",
        id="http-facet",
    ),
    pytest.param("appkey", "Example.com", {}, 9002, "rpId", id="appkey-upper-case-rp-id"),
]


@pytest.mark.parametrize(("kind", "rp_id", "entry", "code", "field"), BAD_ENTRIES)
def test_a_bad_entry_is_refused_as_its_route_refuses_it_and_writes_nothing(
    api: Api, kind: str, rp_id: str, entry: dict[str, Any], code: int, field: str | None
) -> None:
    store = _store_with_both(api)
    read = _read(api, store)
    events_before = _events(api, store)
    # Good entries come first (a change and a creation): the refusal must undo them too.
    configuration: dict[str, dict[str, Any]] = {
        "passkeyPolicies": {"example.com": {"rpName": "Renamed"}, "a.example.com": {}},
        "appkeyPolicies": {"a.example.com": {}},
    }
    entries = configuration[f"{kind}Policies"]
    entries[rp_id] = {**entries.get(rp_id, {}), **entry}

    refused = api.client.post(
        api.store_url(store), json={"description": "after", "configuration": configuration}
    )
    by_route = api.client.post(
        f"{api.store_url(store)}/{kind}Config", json={**entry, "rpId": rp_id}
    )

    body = error_of(refused, 400, code)
    error_of(by_route, 400, code)
    if field is not None:
        assert_invalid(refused, f"configuration.{kind}Policies.{rp_id}.{field}")
        assert_invalid(by_route, field)
    else:
        assert rp_id in body["message"]
    assert _read(api, store) == read
    assert _events(api, store) == events_before


def test_an_entry_naming_another_rp_id_than_its_key_is_refused(api: Api) -> None:
    store = _store_with_both(api)
    read = _read(api, store)

    refused = _configure(api, store, passkeyPolicies={"example.com": {"rpId": "other.example"}})

    assert_invalid(refused, "configuration.passkeyPolicies.example.com.rpId")
    assert _read(api, store) == read


def test_a_null_relying_party_map_is_refused(api: Api) -> None:
    store = _store_with_both(api)

    refused = _configure(api, store, appkeyPolicies=None)

    assert_invalid(refused, "configuration.appkeyPolicies")
