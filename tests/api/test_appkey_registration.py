"""Appkey registration over HTTP (spec §10) with the software UAF authenticator: attestation
types, key encodings and algorithms, the key type decision, and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.appkey_ceremonies import FACET, RP_ID, AppkeyStore, refused, set_user_status
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.uaf_authenticator import HONEST, SoftwareUafAuthenticator, Tamper
from tests.support.uaf_keys import KeyKind


def _policy(**fields: Any) -> dict[str, Any]:
    return {"registrationPolicies": {"default": fields}}


def test_a_basic_full_registration_chains_to_the_configured_root(api: Api) -> None:
    authenticator = SoftwareUafAuthenticator(aaid="FFFF#0001")
    rp = AppkeyStore.create(
        api,
        **_policy(
            attestation="BASIC_FULL",
            attestationRootCertificates=AppkeyStore.roots(authenticator),
        ),
    )
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(
        rp.start_registration(user, deviceId="phone-1", deviceName="Alice's phone")
    )

    response = authenticator.register(ceremony.request, FACET, attestation="BASIC_FULL")
    body = json_of(rp.complete("registrations", ceremony, ceremony.body(response)), 200)

    appkey = body["appkey"]
    (key_id,) = authenticator.keys
    assert {k: appkey[k] for k in ("keyId", "aaid", "rpId", "type", "status", "signCount")} == {
        "keyId": key_id,
        "aaid": "FFFF#0001",
        "rpId": RP_ID,
        "type": "DEVICE",
        "status": "ACTIVE",
        "signCount": 0,
    }
    assert (appkey["attestationType"], appkey["deviceId"], appkey["deviceName"]) == (
        "BASIC_FULL",
        "phone-1",
        "Alice's phone",
    )
    assert body["user"]["summaryInfo"]["appkeys"] == [appkey]
    record = rp.last_audit(user)
    assert (record["id"], record["result"]) == (body["authenticationId"], "SUCCESS")
    assert record["appkeyInfo"] == {
        "rpId": RP_ID,
        "ceremony": "REGISTRATION",
        "policyName": "default",
        "id": appkey["id"],
        "keyId": key_id,
        "aaid": "FFFF#0001",
    }


def test_the_registration_audit_names_the_attestation_facet_and_device(api: Api) -> None:
    authenticator = SoftwareUafAuthenticator()
    rp = AppkeyStore.create(
        api, **_policy(attestationRootCertificates=AppkeyStore.roots(authenticator))
    )
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user, deviceId="phone-1"))
    response = authenticator.register(ceremony.request, FACET, attestation="BASIC_FULL")
    appkey = json_of(rp.complete("registrations", ceremony, ceremony.body(response)), 200)["appkey"]

    url = api.user_url(rp.store, user, f"appkeys/{appkey['id']}/registrationAudit")
    audit = json_of(api.client.get(url), 200)

    assert {k: audit[k] for k in ("aaid", "attestationType", "facetId", "deviceId")} == {
        "aaid": authenticator.aaid,
        "attestationType": "BASIC_FULL",
        "facetId": FACET,
        "deviceId": "phone-1",
    }
    assert "CN=" in audit["attestationSubject"]
    assert audit["authenticatorVersion"] == authenticator.version


def test_a_basic_full_chain_to_no_configured_root_is_3713_and_registers_nothing(
    api: Api,
) -> None:
    stranger = SoftwareUafAuthenticator()
    rp = AppkeyStore.create(
        api,
        **_policy(
            attestation="BASIC_FULL",
            attestationRootCertificates=AppkeyStore.roots(SoftwareUafAuthenticator()),
        ),
    )
    user = api.create_user(rp.store)

    refusal = refused(rp.register(user, stranger, attestation="BASIC_FULL"), 3713)

    assert refusal["user"]["summaryInfo"].get("appkeys", []) == []
    assert AppkeyStore.failed_attempts(refusal["user"]) == 1
    assert (rp.last_audit(user)["result"], rp.last_audit(user)["errorCode"]) == ("FAILURE", 3713)


def test_a_surrogate_attestation_where_the_policy_asks_basic_full_is_3713(api: Api) -> None:
    authenticator = SoftwareUafAuthenticator()
    rp = AppkeyStore.create(
        api,
        **_policy(
            attestation="BASIC_FULL",
            attestationRootCertificates=AppkeyStore.roots(authenticator),
        ),
    )
    user = api.create_user(rp.store)

    refused(rp.register(user, authenticator, attestation="BASIC_SURROGATE"), 3713)

    assert api.get_user(rp.store, user)["summaryInfo"].get("appkeys", []) == []


@pytest.mark.parametrize(
    "kind", [KeyKind.P256_RAW, KeyKind.P256_DER, KeyKind.P256_RAW_DER_KEY, KeyKind.ED25519]
)
def test_each_supported_algorithm_registers_and_signs_in(api: Api, kind: KeyKind) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator(kind=kind)

    appkey = rp.registered(user, authenticator, attestation="BASIC_SURROGATE")
    signed_in = json_of(rp.sign_in(authenticator, user=user), 200)

    assert appkey["attestationType"] == "BASIC_SURROGATE"
    assert (signed_in["appkey"]["id"], signed_in["appkey"]["signCount"]) == (appkey["id"], 1)


def test_an_external_session_registers_with_its_session_data(api: Api) -> None:
    rp = AppkeyStore.create(api, sessionManagement="EXTERNAL")
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user, ext=True))
    assert ceremony.session_id is None and ceremony.session_data is not None

    response = SoftwareUafAuthenticator().register(
        ceremony.request, FACET, attestation="BASIC_SURROGATE"
    )
    body = json_of(rp.complete("registrations", ceremony, ceremony.body(response)), 200)

    assert body["user"]["id"] == user["id"]
    assert [key["id"] for key in body["user"]["summaryInfo"]["appkeys"]] == [body["appkey"]["id"]]


@pytest.mark.parametrize(
    ("allowed", "signed", "registered"),
    [
        (["DEVICE", "BIOMETRIC"], "BIOMETRIC", "BIOMETRIC"),
        (["DEVICE", "BIOMETRIC"], None, "DEVICE"),
        (["BIOMETRIC"], None, "BIOMETRIC"),
        (["DEVICE"], "DEVICE", "DEVICE"),
    ],
)
def test_the_key_type_is_the_signed_one_else_the_policys_only_one_else_device(
    api: Api, allowed: list[str], signed: str | None, registered: str
) -> None:
    rp = AppkeyStore.create(api, **_policy(keyTypes=allowed))
    user = api.create_user(rp.store)

    appkey = rp.registered(user, SoftwareUafAuthenticator(), key_type=signed)

    assert appkey["type"] == registered


def test_a_signed_key_type_the_policy_refuses_is_1035_and_registers_nothing(api: Api) -> None:
    rp = AppkeyStore.create(api, **_policy(keyTypes=["DEVICE"]))
    user = api.create_user(rp.store)

    refusal = refused(rp.register(user, SoftwareUafAuthenticator(), key_type="BIOMETRIC"), 1035)

    assert refusal["user"]["summaryInfo"].get("appkeys", []) == []
    assert AppkeyStore.failed_attempts(refusal["user"]) == 0  # a policy refusal, not a wrong proof
    assert rp.last_audit(user)["errorCode"] == 1035


@pytest.mark.parametrize(
    ("tamper", "facet", "code", "counted"),
    [
        (HONEST, "https://evil.example.net", 1026, 1),
        (Tamper(challenge="d3Jvbmc"), FACET, 1029, 1),
        (Tamper(other_fc_params=True), FACET, 3718, 1),
        (Tamper(bad_signature=True), FACET, 3710, 1),
        (Tamper(trailing_bytes=True), FACET, 3711, 0),
        (Tamper(assertions=2), FACET, 3712, 0),
        (Tamper(op="Auth"), FACET, 3716, 0),
    ],
)
def test_a_refused_registration_response_answers_its_code_and_registers_nothing(
    api: Api, tamper: Tamper, facet: str, code: int, counted: int
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)

    authenticator = SoftwareUafAuthenticator()
    answer = rp.register(
        user, authenticator, facet=facet, attestation="BASIC_SURROGATE", tamper=tamper
    )

    refusal = refused(answer, code)
    assert refusal["user"]["summaryInfo"].get("appkeys", []) == []
    assert AppkeyStore.failed_attempts(refusal["user"]) == counted
    assert (rp.last_audit(user)["result"], rp.last_audit(user)["errorCode"]) == ("FAILURE", code)


def test_a_late_registration_is_3720_audited_and_not_counted(api: Api, clock: ManualClock) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    clock.set(clock.timestamp())
    ceremony = rp.ceremony(rp.start_registration(user))
    response = SoftwareUafAuthenticator().register(ceremony.request, FACET)
    clock.advance(301)

    late = refused(rp.complete("registrations", ceremony, ceremony.body(response)), 3720)

    assert late["user"]["summaryInfo"].get("appkeys", []) == []
    assert AppkeyStore.failed_attempts(late["user"]) == 0
    assert rp.last_audit(user)["errorCode"] == 3720


def test_a_disabled_user_neither_starts_nor_completes_a_registration(api: Api) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    response = SoftwareUafAuthenticator().register(ceremony.request, FACET)
    set_user_status(api, rp.store, user, "DISABLED")

    started = rp.start_registration(user)
    completed = rp.complete("registrations", ceremony, ceremony.body(response))

    error_of(started, 400, 2102)
    assert refused(completed, 2102)["user"]["summaryInfo"].get("appkeys", []) == []
    assert rp.last_audit(user)["errorCode"] == 2102


def test_an_unknown_policy_or_relying_party_is_9011(api: Api) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    other = AppkeyStore(api, rp.store, "other.example.org")

    error_of(rp.start_registration(user, "nope"), 404, 9011)
    error_of(other.start_registration(user), 404, 9011)
