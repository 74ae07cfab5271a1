"""Appkeys registered over HTTP with the software UAF authenticator, then managed (spec §10):
what a deregistration, a deletion by key id, a status change and the preferred device do to
keys that really sign."""

from __future__ import annotations

from typing import Any, Literal

from idstore.uaf import deregistration_request
from tests.support.api import Api
from tests.support.appkey_ceremonies import APP_ID, FACET, AppkeyStore, refused
from tests.support.checks import json_of
from tests.support.uaf_authenticator import SoftwareUafAuthenticator


def _register(
    rp: AppkeyStore,
    user: dict[str, Any],
    authenticator: SoftwareUafAuthenticator,
    *,
    device: str,
    key_type: Literal["DEVICE", "BIOMETRIC"],
) -> dict[str, Any]:
    ceremony = rp.ceremony(rp.start_registration(user, deviceId=device, deviceName=device))
    response = authenticator.register(
        ceremony.request, FACET, key_type=key_type, attestation="BASIC_SURROGATE"
    )
    appkey: dict[str, Any] = json_of(
        rp.complete("registrations", ceremony, ceremony.body(response)), 200
    )["appkey"]
    assert (appkey["deviceId"], appkey["type"]) == (device, key_type)
    return appkey


def _phones(api: Api) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator, list[Any]]:
    """A user with a DEVICE and a BIOMETRIC key on phone-1 and a DEVICE key on phone-2, all
    made by one software authenticator."""
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator(aaid="ABCD#0001")
    keys = [
        _register(rp, user, authenticator, device="phone-1", key_type="DEVICE"),
        _register(rp, user, authenticator, device="phone-1", key_type="BIOMETRIC"),
        _register(rp, user, authenticator, device="phone-2", key_type="DEVICE"),
    ]
    return rp, user, authenticator, keys


def test_a_deregistered_key_no_longer_signs_in_and_the_others_still_do(api: Api) -> None:
    rp, user, authenticator, keys = _phones(api)
    url = api.user_url(rp.store, user, f"appkeys/relyingParties/{rp.rp_id}/deregistrations")

    answer = json_of(api.client.post(url, json={"type": "BIOMETRIC"}), 200)

    biometric = keys[1]
    assert answer["deregistrationRequest"] == deregistration_request(
        app_id=APP_ID, keys=[("ABCD#0001", biometric["keyId"])]
    )
    assert biometric["keyId"] in authenticator.keys  # the app has yet to apply the request
    refused(rp.sign_in(authenticator, user=user, key_id=biometric["keyId"]), 1058)
    signed_in = json_of(rp.sign_in(authenticator, user=user, key_id=keys[0]["keyId"]), 200)
    assert signed_in["appkey"]["id"] == keys[0]["id"]


def test_a_key_deleted_by_key_id_no_longer_signs_in(api: Api) -> None:
    rp, user, authenticator, keys = _phones(api)
    phone_2 = keys[2]
    suffix = f"appkeys/relyingParties/{rp.rp_id}/registrations/keyIds/{phone_2['keyId']}"

    answer = json_of(api.client.delete(api.user_url(rp.store, user, suffix, ext=True)), 200)

    assert answer["deregistrationRequest"][0]["authenticators"] == [
        {"aaid": "ABCD#0001", "keyID": phone_2["keyId"]}
    ]
    assert [k["id"] for k in answer["user"]["summaryInfo"]["appkeys"]] == [
        keys[0]["id"],
        keys[1]["id"],
    ]
    refused(rp.sign_in(authenticator, user=user, key_id=phone_2["keyId"]), 1058)


def test_a_disabled_key_is_refused_until_enabled_again(api: Api) -> None:
    rp, user, authenticator, keys = _phones(api)
    url = api.user_url(rp.store, user, f"appkeys/{keys[0]['id']}")

    json_of(api.client.post(url, json={"status": "DISABLED"}), 200)
    refused(rp.sign_in(authenticator, user=user, key_id=keys[0]["keyId"]), 1060)
    json_of(api.client.post(url, json={"status": "ACTIVE"}), 200)
    signed_in = json_of(rp.sign_in(authenticator, user=user, key_id=keys[0]["keyId"]), 200)

    assert signed_in["appkey"]["status"] == "ACTIVE"
    assert signed_in["appkey"]["signCount"] > 0


def test_the_preferred_device_survives_a_sign_in(api: Api) -> None:
    rp, user, authenticator, keys = _phones(api)
    url = api.user_url(rp.store, user, f"appkeys/relyingParties/{rp.rp_id}/preferredDevices")

    chosen = json_of(api.client.post(url, json={"deviceId": "phone-2"}), 200)
    signed_in = json_of(rp.sign_in(authenticator, user=user, key_id=keys[0]["keyId"]), 200)

    expected = {keys[0]["id"]: False, keys[1]["id"]: False, keys[2]["id"]: True}
    assert {k["id"]: k["preferred"] for k in chosen["summaryInfo"]["appkeys"]} == expected
    assert {k["id"]: k["preferred"] for k in signed_in["user"]["summaryInfo"]["appkeys"]} == (
        expected
    )
