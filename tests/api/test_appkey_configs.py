"""Appkey configurations over HTTP (spec §10): create, read, update, delete, the TrustedFacets
document, and every rule a configuration's fields must keep."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import assert_invalid, error_of, json_of
from tests.support.config_answers import written_config
from tests.support.uaf_keys import AttestationCa, KeyKind

BOTH = ["DEVICE", "BIOMETRIC"]
DEFAULT_REGISTRATION = {"keyTypes": BOTH, "aaids": [], "attestationRootCertificates": []}
DEFAULT_AUTHENTICATION = {"keyTypes": BOTH, "timeoutSeconds": 300}
# base64 of 20 and 32 bytes: a SHA-1 and a SHA-256 hash of an APK signing certificate.
APK_SHA1 = base64.b64encode(bytes(range(20))).decode().rstrip("=")
APK_SHA256 = base64.urlsafe_b64encode(bytes(range(32))).decode()
FACETS = [
    "https://login.example.com",
    f"android:apk-key-hash:{APK_SHA1}",
    f"android:apk-key-hash:{APK_SHA256}",
    "ios:bundle-id:com.example.wallet",
]


def _configs_url(api: Api, store: str) -> str:
    return f"{api.store_url(store)}/appkeyConfig"


def _create(api: Api, store: str, **body: Any) -> dict[str, Any]:
    return written_config(api.client.post(_configs_url(api, store), json=body), 201)


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")


def test_a_configuration_takes_defaults(api: Api) -> None:
    store = api.create_store()["name"]

    created = _create(api, store, rpId="example.com")
    read = json_of(api.client.get(f"{_configs_url(api, store)}/example.com"), 200)

    assert read == created
    assert created["rpId"] == "example.com"
    assert created["trustedFacets"] == []
    assert created["sessionManagement"] == "INTERNAL"
    assert created["singleShotWindowSeconds"] == 120
    assert created["registrationPolicies"] == {"default": DEFAULT_REGISTRATION}
    assert created["authenticationPolicies"] == {"default": DEFAULT_AUTHENTICATION}
    assert created["createdDtm"] == created["lastUpdatedDtm"]


def test_the_store_configuration_shows_its_appkey_configurations(api: Api) -> None:
    store = api.create_store()["name"]
    first = _create(api, store, rpId="example.com", trustedFacets=FACETS[:1])
    second = _create(api, store, rpId="a.example.com")

    shown = json_of(api.client.get(api.store_url(store)), 200)["configuration"]
    newest_first = {"size": "20", "sort": "createdDtm,desc"}
    listed = json_of(api.client.get("/api/identity-store/stores", params=newest_first), 200)
    api.client.delete(f"{_configs_url(api, store)}/example.com")
    after = json_of(api.client.get(api.store_url(store)), 200)["configuration"]

    assert shown["appkeyPolicies"] == {"a.example.com": second, "example.com": first}
    (in_list,) = [item for item in listed["content"] if item["name"] == store]
    assert in_list["configuration"]["appkeyPolicies"] == shown["appkeyPolicies"]
    assert after["appkeyPolicies"] == {"a.example.com": second}
    assert after["passkeyPolicies"] == {}


def test_a_configuration_keeps_every_field_given(api: Api) -> None:
    store = api.create_store()["name"]
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")

    created = _create(
        api,
        store,
        rpId="example.com",
        trustedFacets=FACETS,
        sessionManagement="EXTERNAL",
        singleShotWindowSeconds=30,
        registrationPolicies={
            "vendor": {
                "keyTypes": ["BIOMETRIC"],
                "aaids": ["ABCD#0001", "abcd#00ff"],
                "attestation": "BASIC_FULL",
                "attestationRootCertificates": [_b64(ca.root_der)],
            }
        },
        authenticationPolicies={"payments": {"keyTypes": ["BIOMETRIC"], "timeoutSeconds": 60}},
    )

    assert created["trustedFacets"] == FACETS
    assert (created["sessionManagement"], created["singleShotWindowSeconds"]) == ("EXTERNAL", 30)
    assert created["registrationPolicies"] == {
        "vendor": {
            "keyTypes": ["BIOMETRIC"],
            "aaids": ["ABCD#0001", "abcd#00ff"],
            "attestation": "BASIC_FULL",
            "attestationRootCertificates": [_b64(ca.root_der)],
        }
    }
    assert created["authenticationPolicies"] == {
        "payments": {"keyTypes": ["BIOMETRIC"], "timeoutSeconds": 60}
    }


def test_update_merges_fields_and_policies_by_name(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com", trustedFacets=FACETS[:1])
    url = f"{_configs_url(api, store)}/example.com"

    updated = written_config(
        api.client.post(
            url,
            json={
                "rpId": "example.com",
                "singleShotWindowSeconds": 3600,
                "registrationPolicies": {"default": {"attestation": "BASIC_SURROGATE"}},
                "authenticationPolicies": {"biometric": {"keyTypes": ["BIOMETRIC"]}},
            },
        ),
        200,
    )
    read = json_of(api.client.get(url), 200)

    assert read == updated
    assert read["trustedFacets"] == FACETS[:1]
    assert read["sessionManagement"] == "INTERNAL"
    assert read["singleShotWindowSeconds"] == 3600
    assert read["registrationPolicies"] == {
        "default": {**DEFAULT_REGISTRATION, "attestation": "BASIC_SURROGATE"}
    }
    assert read["authenticationPolicies"] == {
        "default": DEFAULT_AUTHENTICATION,
        "biometric": {"keyTypes": ["BIOMETRIC"], "timeoutSeconds": 300},
    }


def test_an_attestation_set_to_null_accepts_either_type_again(api: Api) -> None:
    store = api.create_store()["name"]
    _create(
        api,
        store,
        rpId="example.com",
        registrationPolicies={"default": {"attestation": "BASIC_SURROGATE"}},
    )
    url = f"{_configs_url(api, store)}/example.com"

    cleared = json_of(
        api.client.post(url, json={"registrationPolicies": {"default": {"attestation": None}}}),
        200,
    )

    assert cleared["registrationPolicies"] == {"default": DEFAULT_REGISTRATION}


def test_the_trusted_facets_document_is_the_uaf_one(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com", trustedFacets=FACETS)

    answer = api.client.get(f"{_configs_url(api, store)}/example.com/trustedFacets")

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/fido.trusted-apps+json"
    assert answer.json() == {
        "trustedFacets": [{"version": {"major": 1, "minor": 1}, "ids": FACETS}]
    }


def test_the_trusted_facets_of_an_unknown_relying_party_are_not_found(api: Api) -> None:
    store = api.create_store()["name"]

    missing = api.client.get(f"{_configs_url(api, store)}/example.com/trustedFacets")

    assert "appkey configuration" in error_of(missing, 404, 9011)["message"]


def test_web_facets_are_kept_as_origins_serialize_and_duplicates_dropped(api: Api) -> None:
    store = api.create_store()["name"]

    created = _create(
        api,
        store,
        rpId="example.com",
        trustedFacets=[
            "https://Login.Example.COM",
            "https://login.example.com:443",
            "https://login.example.com:8443",
        ],
    )

    assert created["trustedFacets"] == [
        "https://login.example.com",
        "https://login.example.com:8443",
    ]


def test_a_second_configuration_for_one_relying_party_is_a_conflict(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com", singleShotWindowSeconds=60)

    again = api.client.post(_configs_url(api, store), json={"rpId": "example.com"})

    error_of(again, 409, 3700)
    read = json_of(api.client.get(f"{_configs_url(api, store)}/example.com"), 200)
    assert read["singleShotWindowSeconds"] == 60


def test_the_same_relying_party_may_be_configured_in_two_stores(api: Api) -> None:
    first, second = api.create_store()["name"], api.create_store()["name"]

    one = _create(api, first, rpId="example.com")
    other = _create(api, second, rpId="example.com")

    assert one["id"] != other["id"]


def test_delete_removes_the_configuration(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com")
    url = f"{_configs_url(api, store)}/example.com"

    deleted = api.client.delete(url)

    assert deleted.status_code == 204
    assert "appkey configuration" in error_of(api.client.get(url), 404, 9011)["message"]
    error_of(api.client.delete(url), 404, 9011)
    error_of(api.client.post(url, json={"singleShotWindowSeconds": 5}), 404, 9011)


def test_an_unknown_store_is_3000(api: Api) -> None:
    missing = api.client.post(_configs_url(api, "no-such-store"), json={"rpId": "example.com"})

    error_of(missing, 404, 3000)


def test_an_rp_id_in_the_body_must_match_the_path(api: Api) -> None:
    store = api.create_store()["name"]
    _create(api, store, rpId="example.com")

    refused = api.client.post(
        f"{_configs_url(api, store)}/example.com", json={"rpId": "other.example.com"}
    )

    assert_invalid(refused, "rpId")


@pytest.mark.parametrize(
    "rp_id", ["", "Example.com", "example..com", "-example.com", "example.com\n", "a/b"]
)
def test_an_rp_id_that_is_not_a_lower_case_domain_is_refused(api: Api, rp_id: str) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(_configs_url(api, store), json={"rpId": rp_id})

    assert_invalid(refused, "rpId")


@pytest.mark.parametrize(
    "facet",
    [
        "http://login.example.com",
        "https://login.example.com/",
        "https://login.example.com/app",
        "https://login.example.com?x=1",
        "https://user@login.example.com",
        "https://login.example.com\n",
        "login.example.com",
        "android:apk-key-hash:",
        "android:apk-key-hash:not base64!",
        f"android:apk-key-hash:{base64.b64encode(bytes(16)).decode()}",
        "ios:bundle-id:",
        "ios:bundle-id:com..example",
        "ios:bundle-id:com.example/app",
        "ftp://example.com",
        "https://login.example.com:0",
        "https://a..b",
        "https://bücher.example",  # an IDN host is written in its xn-- form
    ],
)
def test_a_malformed_facet_id_is_refused(api: Api, facet: str) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(
        _configs_url(api, store),
        json={"rpId": "example.com", "trustedFacets": ["https://example.com", facet]},
    )

    assert_invalid(refused, "trustedFacets[1]")
    error_of(api.client.get(f"{_configs_url(api, store)}/example.com"), 404, 9011)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sessionManagement": "SOMETIMES"}, "sessionManagement"),
        ({"singleShotWindowSeconds": 0}, "singleShotWindowSeconds"),
        ({"singleShotWindowSeconds": 3601}, "singleShotWindowSeconds"),
        ({"singleShotWindowSeconds": "120"}, "singleShotWindowSeconds"),
        ({"trustedFacets": None}, "trustedFacets"),
        ({"registrationPolicies": {"p": {"keyTypes": []}}}, "registrationPolicies.p.keyTypes"),
        (
            {"registrationPolicies": {"p": {"keyTypes": ["FACE"]}}},
            "registrationPolicies.p.keyTypes.0",
        ),
        (
            {"registrationPolicies": {"p": {"attestation": "NONE"}}},
            "registrationPolicies.p.attestation",
        ),
        (
            {"registrationPolicies": {"p": {"aaids": ["ABCD-0001"]}}},
            "registrationPolicies.p.aaids[0]",
        ),
        (
            {"registrationPolicies": {"p": {"aaids": ["ABCD#00G1"]}}},
            "registrationPolicies.p.aaids[0]",
        ),
        (
            {"registrationPolicies": {"p": {"attestation": "BASIC_FULL"}}},
            "registrationPolicies.p.attestationRootCertificates",
        ),
        (
            {"registrationPolicies": {"p": {"attestationRootCertificates": ["not base64!"]}}},
            "registrationPolicies.p.attestationRootCertificates[0]",
        ),
        (
            {"registrationPolicies": {"p": {"attestationRootCertificates": ["AAAA"]}}},
            "registrationPolicies.p.attestationRootCertificates[0]",
        ),
        ({"registrationPolicies": {"p": {"unknown": 1}}}, "registrationPolicies.p.unknown"),
        (
            {"authenticationPolicies": {"p": {"keyTypes": ["DEVICE", "PIN"]}}},
            "authenticationPolicies.p.keyTypes.1",
        ),
        (
            {"authenticationPolicies": {"p": {"timeoutSeconds": 5}}},
            "authenticationPolicies.p.timeoutSeconds",
        ),
        ({"registrationPolicies": {"ext ra": {}}}, "registrationPolicies.ext ra"),
        ({"appId": "https://example.com"}, "appId"),
    ],
)
def test_an_invalid_field_is_9002_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    store = api.create_store()["name"]
    before = _create(api, store, rpId="example.com", trustedFacets=FACETS[:1])
    url = f"{_configs_url(api, store)}/example.com"

    refused_update = api.client.post(url, json=body)
    refused_create = api.client.post(
        _configs_url(api, store), json={"rpId": "other.example.com", **body}
    )

    assert_invalid(refused_update, field)
    assert_invalid(refused_create, field)
    assert json_of(api.client.get(url), 200) == before
    error_of(api.client.get(f"{_configs_url(api, store)}/other.example.com"), 404, 9011)


def test_a_root_certificate_that_is_not_a_ca_is_refused(api: Api) -> None:
    store = api.create_store()["name"]
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")

    refused = api.client.post(
        _configs_url(api, store),
        json={
            "rpId": "example.com",
            "registrationPolicies": {
                "default": {
                    "attestationRootCertificates": [_b64(ca.root_der), _b64(ca.attestation_der)]
                }
            },
        },
    )

    assert_invalid(refused, "registrationPolicies.default.attestationRootCertificates[1]")


def test_a_root_certificate_whose_key_cannot_be_read_is_refused(api: Api) -> None:
    store = api.create_store()["name"]
    root_der = AttestationCa(KeyKind.P256_RAW, "ABCD#0001").root_der
    # id-ecPublicKey (1.2.840.10045.2.1) turned into the unassigned 1.2.840.10045.2.9
    odd = root_der.replace(bytes.fromhex("2a8648ce3d0201"), bytes.fromhex("2a8648ce3d0209"), 1)
    assert odd != root_der

    refused = api.client.post(
        _configs_url(api, store),
        json={
            "rpId": "example.com",
            "registrationPolicies": {"default": {"attestationRootCertificates": [_b64(odd)]}},
        },
    )

    assert_invalid(refused, "registrationPolicies.default.attestationRootCertificates[0]")
    error_of(api.client.get(f"{_configs_url(api, store)}/example.com"), 404, 9011)


def test_a_partial_update_cannot_leave_basic_full_without_a_root(api: Api) -> None:
    store = api.create_store()["name"]
    ca = AttestationCa(KeyKind.ED25519, "ABCD#0001")
    _create(
        api,
        store,
        rpId="example.com",
        registrationPolicies={
            "default": {
                "attestation": "BASIC_FULL",
                "attestationRootCertificates": [_b64(ca.root_der)],
            }
        },
    )
    url = f"{_configs_url(api, store)}/example.com"

    refused = api.client.post(
        url, json={"registrationPolicies": {"default": {"attestationRootCertificates": []}}}
    )

    assert_invalid(refused, "registrationPolicies.default.attestationRootCertificates")
    policy = json_of(api.client.get(url), 200)["registrationPolicies"]["default"]
    assert policy["attestationRootCertificates"] == [_b64(ca.root_der)]
