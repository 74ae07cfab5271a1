"""Malformed and hostile WebAuthn responses over HTTP (issue 7 findings F3, F4, F8, F9): each is
a clean 4xx with its code, never a 500, and registers nothing; at sign-in it is audited."""

from __future__ import annotations

import json
from typing import Any

import cbor2
import pytest

from tests.support.api import Api
from tests.support.checks import json_of
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator
from tests.support.webauthn_keys import b64url, b64url_decode

P256_X = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
NOT_ON_CURVE = bytes(31) + b"\x01"
RSA_E = b"\x01\x00\x01"


def _registration(api: Api, **config: Any) -> tuple[PasskeyStore, dict[str, Any]]:
    rp = PasskeyStore.create(api, **config)
    return rp, api.create_user(rp.store)


def _register_altered(rp: PasskeyStore, user: dict[str, Any], alter: Any) -> Any:
    """Register with the credential JSON changed by `alter` (which returns the new JSON)."""
    ceremony = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(ceremony.options)
    return rp.complete("registrations", ceremony, ceremony.body(alter(credential)))


def _with_response(credential: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {**credential, "response": {**credential["response"], **members}}


def _client_data_with(credential: dict[str, Any], **members: Any) -> dict[str, Any]:
    collected = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
    encoded = json.dumps(collected | members).encode()
    return _with_response(credential, clientDataJSON=b64url(encoded))


def _refused_with(response: Any, code: int) -> dict[str, Any]:
    """400 with the code; a registration refusal carries the user, as a sign-in's does."""
    body = json_of(response, 400)
    assert body["code"] == code, body
    return body


def _nothing_registered(rp: PasskeyStore, user: dict[str, Any]) -> None:
    assert rp.api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []


@pytest.mark.parametrize(
    "client_data",
    [b"[" * 20000, b'{"a":' + b"[" * 3000, b"x" * 5000, b"[1]"],
    ids=["nested-20000", "nested-3000", "too-large", "not-an-object"],
)
def test_malformed_client_data_is_refused_at_registration(api: Api, client_data: bytes) -> None:
    rp, user = _registration(api)

    refused = _register_altered(
        rp, user, lambda c: _with_response(c, clientDataJSON=b64url(client_data))
    )

    _refused_with(refused, 3604)
    _nothing_registered(rp, user)


@pytest.mark.parametrize(
    "members",
    [{"crossOrigin": True}, {"crossOrigin": "yes"}, {"topOrigin": "https://evil.test"}],
)
def test_a_cross_origin_registration_is_refused(api: Api, members: dict[str, Any]) -> None:
    rp, user = _registration(api)

    refused = _register_altered(rp, user, lambda c: _client_data_with(c, **members))

    _refused_with(refused, 354)
    _nothing_registered(rp, user)


def test_a_credential_id_over_1023_bytes_is_refused_and_1023_registers(api: Api) -> None:
    rp, user = _registration(api)

    refused = rp.register(user, SoftwareAuthenticator(ORIGIN, credential_id_length=1024))
    _nothing_registered(rp, user)
    accepted = rp.register(user, SoftwareAuthenticator(ORIGIN, credential_id_length=1023))

    _refused_with(refused, 3604)
    assert len(b64url_decode(json_of(accepted, 200)["passkey"]["credentialId"])) == 1023


def test_an_id_that_is_not_the_raw_id_is_named_as_such(api: Api) -> None:
    rp, user = _registration(api)

    refused = _register_altered(rp, user, lambda c: {**c, "rawId": b64url(b"other")})

    assert "rawId" in _refused_with(refused, 3604)["message"]


def _ec2(x: Any, y: Any) -> bytes:
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})


@pytest.mark.parametrize(
    "cose_key",
    [
        _ec2(NOT_ON_CURVE, NOT_ON_CURVE),
        _ec2(cbor2.CBORTag(2, P256_X), cbor2.CBORTag(2, NOT_ON_CURVE)),
        _ec2(P256_X[:31], NOT_ON_CURVE),
        cbor2.dumps({1: 3, 3: -257, -1: (2**63 + 1).to_bytes(8, "big"), -2: RSA_E}),
        cbor2.dumps({1: 1, 3: -8, -1: 6, -2: b""}),
        cbor2.dumps({1: 1, 3: -8, -1: 6, -2: b"\x01" * 5}),
    ],
    ids=["ec-off-curve", "ec-bignums", "ec-short-x", "rsa-8-bytes", "ed25519-empty", "ed25519-5"],
)
def test_a_public_key_that_can_never_verify_is_refused(api: Api, cose_key: bytes) -> None:
    rp, user = _registration(api)

    refused = rp.register(user, SoftwareAuthenticator(ORIGIN), Forgery(cose_key=cose_key))

    _refused_with(refused, 3604)
    _nothing_registered(rp, user)


def _attestation_altered(credential: dict[str, Any], change: Any) -> dict[str, Any]:
    raw = b64url_decode(credential["response"]["attestationObject"])
    return _with_response(credential, attestationObject=b64url(change(raw)))


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: raw + b"\x00",
        lambda raw: cbor2.dumps(cbor2.loads(raw) | {"extra": 1}),
    ],
    ids=["trailing-byte", "extra-member"],
)
def test_an_attestation_object_with_more_than_its_three_members_is_refused(
    api: Api, change: Any
) -> None:
    rp, user = _registration(api)

    refused = _register_altered(rp, user, lambda c: _attestation_altered(c, change))

    _refused_with(refused, 3603)
    _nothing_registered(rp, user)


def test_transports_are_kept_once_each_and_only_known_ones(api: Api) -> None:
    rp, user = _registration(api)
    transports = ["usb"] * 5000 + ["nfc", "carrier-pigeon", "usb", "hybrid"]

    registered = _register_altered(rp, user, lambda c: _with_response(c, transports=transports))
    offered = rp.ceremony(rp.start_authentication(userId=user["id"])).options["allowCredentials"]

    assert json_of(registered, 200)["passkey"]["transports"] == ["usb", "nfc", "hybrid"]
    assert [credential["transports"] for credential in offered] == [["usb", "nfc", "hybrid"]]


def _sign_in_altered(
    rp: PasskeyStore, user: dict[str, Any], authenticator: SoftwareAuthenticator, alter: Any
) -> Any:
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assertion = authenticator.authenticate(ceremony.options)
    return rp.complete("authentications", ceremony, ceremony.body(alter(assertion)))


def _refused_and_counted(rp: PasskeyStore, user: dict[str, Any], response: Any, code: int) -> None:
    body = json_of(response, 400)
    assert (body["code"], body["user"]["id"]) == (code, user["id"])
    assert body["user"]["locks"]["modalities"]["Passkey"]["failedAttempts"] == 1
    record = rp.last_audit(user)
    assert (record["type"], record["result"], record["errorCode"]) == ("Passkey", "FAILURE", code)


@pytest.mark.parametrize(
    "client_data", [b"[" * 20000, b'{"a":' + b"[" * 3000], ids=["nested-20000", "nested-3000"]
)
def test_malformed_client_data_at_sign_in_is_refused_audited_and_counted(
    api: Api, client_data: bytes
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = _sign_in_altered(
        rp, user, authenticator, lambda a: _with_response(a, clientDataJSON=b64url(client_data))
    )

    _refused_and_counted(rp, user, refused, 3604)


def test_a_cross_origin_sign_in_is_refused_audited_and_counted(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(is_cross_origin=True), user=user)

    _refused_and_counted(rp, user, refused, 354)


def test_a_sign_in_with_a_top_origin_is_refused(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()

    refused = _sign_in_altered(
        rp, user, authenticator, lambda a: _client_data_with(a, topOrigin="https://evil.test")
    )

    _refused_and_counted(rp, user, refused, 354)
