"""Registration responses from the software authenticator: accepted values and each refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from idstore import uaf
from idstore.uaf import UafCode
from idstore.uaf.attestation import verify_chain
from tests.support.uaf_authenticator import Attestation, KeyType, SoftwareUafAuthenticator, Tamper
from tests.support.uaf_keys import AttestationCa, KeyKind, spki
from tests.uaf.conftest import (
    ANDROID_FACET,
    APP_ID,
    FACET_ID,
    check_registration,
    new_challenge,
    refusal,
    registration_request,
)


@pytest.mark.parametrize("kind", list(KeyKind))
@pytest.mark.parametrize("attestation", ["BASIC_FULL", "BASIC_SURROGATE"])
def test_a_registration_answers_the_new_key_with_its_values(
    kind: KeyKind, attestation: Attestation
) -> None:
    authenticator = SoftwareUafAuthenticator(aaid="abcd#00F1", kind=kind)
    challenge = new_challenge()
    response = authenticator.register(
        registration_request(challenge),
        ANDROID_FACET,
        key_type="BIOMETRIC",
        attestation=attestation,
    )

    key = check_registration(authenticator, response, challenge, accepted_aaids=["ABCD#00F1"])

    registered = authenticator.key(key.key_id)
    assert key.aaid == "ABCD#00F1"
    assert key.public_key == spki(registered.private_key)
    assert (
        uaf.b64url_decode(key.key_id, error_code=UafCode.MALFORMED_REGISTRATION, what="key")
        == registered.key_id
    )
    assert key.signature_algorithm == kind.signature_algorithm
    assert (key.sign_counter, key.registration_counter) == (0, 1)
    assert key.authenticator_version == 1
    assert key.attestation_type == attestation
    assert key.facet_id == ANDROID_FACET
    assert key.key_type == "BIOMETRIC"
    if attestation == "BASIC_FULL":
        assert key.attestation_subject == "CN=idstore test authenticator abcd#00F1"
    else:
        assert key.attestation_subject is None


def test_a_registration_without_the_key_type_extension_has_no_key_type(
    authenticator: SoftwareUafAuthenticator,
) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID, key_type=None)

    assert check_registration(authenticator, response, challenge).key_type is None


def test_the_client_response_may_come_as_a_json_string(
    authenticator: SoftwareUafAuthenticator,
) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID, key_type="DEVICE")

    key = check_registration(authenticator, json.dumps(response), challenge)

    assert (key.key_type, key.facet_id) == ("DEVICE", FACET_ID)


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (Tamper(challenge="c29tZXRoaW5nIGVsc2U"), 1029),
        (Tamper(challenge="\ud800"), 1029),  # a lone surrogate, valid in JSON
        (Tamper(app_id="https://evil.example.com/facets"), 3717),
        (Tamper(op="Auth"), 3716),
        (Tamper(wrong_length=True), 3711),
        (Tamper(trailing_bytes=True), 3711),
        (Tamper(duplicate_tag=True), 3711),
        (Tamper(unknown_tag=True), 3711),
        (Tamper(bad_signature=True), 3710),
        (Tamper(other_fc_params=True), 3718),
        (Tamper(assertions=0), 3712),
        (Tamper(assertions=2), 3712),
    ],
)
def test_each_tampered_registration_is_refused_with_its_code(
    authenticator: SoftwareUafAuthenticator, tamper: Tamper, code: int
) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID, tamper=tamper)

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == code


def test_a_surrogate_signature_that_does_not_verify_is_refused_with_3710(
    authenticator: SoftwareUafAuthenticator,
) -> None:
    challenge = new_challenge()
    response = authenticator.register(
        registration_request(challenge),
        FACET_ID,
        attestation="BASIC_SURROGATE",
        tamper=Tamper(bad_signature=True),
    )

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == 3710


def test_a_facet_not_trusted_is_refused_with_1026(authenticator: SoftwareUafAuthenticator) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), "https://evil.example.com")

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == 1026


@pytest.mark.parametrize(
    ("facet_id", "kept"),
    [
        (APP_ID, APP_ID),
        (FACET_ID, FACET_ID),
        ("https://SHOP.example.com/", FACET_ID),  # kept as the origin serializes
        ("https://shop.example.com:8443", None),
        ("http://shop.example.com", None),
        ("https://evil.example.com", None),
        ("https://shop.example.com/other", None),
        (ANDROID_FACET, None),
    ],
)
def test_with_no_trusted_facet_the_app_id_and_its_origin_may_register(
    authenticator: SoftwareUafAuthenticator, facet_id: str, kept: str | None
) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), facet_id)

    def check() -> uaf.NewKey:
        return check_registration(authenticator, response, challenge, trusted_facets=[])

    if kept is not None:
        assert check().facet_id == kept
    else:
        assert refusal(check) == 1026


def test_an_aaid_not_accepted_is_refused_with_3714(authenticator: SoftwareUafAuthenticator) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    assert (
        refusal(
            lambda: check_registration(
                authenticator, response, challenge, accepted_aaids=["FFFF#0002"]
            )
        )
        == 3714
    )


@pytest.mark.parametrize(
    ("sent", "required"), [("BASIC_FULL", "BASIC_SURROGATE"), ("BASIC_SURROGATE", "BASIC_FULL")]
)
def test_an_attestation_type_the_policy_does_not_ask_for_is_refused_with_3713(
    authenticator: SoftwareUafAuthenticator, sent: Attestation, required: Attestation
) -> None:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID, attestation=sent)

    assert (
        refusal(
            lambda: check_registration(authenticator, response, challenge, attestation=required)
        )
        == 3713
    )


def test_a_full_attestation_from_another_root_is_refused_with_3713(
    authenticator: SoftwareUafAuthenticator,
) -> None:
    other_root = AttestationCa(KeyKind.P256_RAW, "ABCD#0001").root_der
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    assert (
        refusal(
            lambda: check_registration(
                authenticator, response, challenge, root_certificates=[other_root]
            )
        )
        == 3713
    )
    assert (
        refusal(
            lambda: check_registration(authenticator, response, challenge, root_certificates=[])
        )
        == 3713
    )


def test_an_expired_attestation_certificate_is_refused_with_3713() -> None:
    long_ago = datetime.now(UTC) - timedelta(days=400)
    ca = AttestationCa(
        KeyKind.P256_RAW,
        "ABCD#0001",
        valid_from=long_ago,
        valid_until=long_ago + timedelta(days=30),
    )
    authenticator = SoftwareUafAuthenticator(aaid="ABCD#0001", ca=ca)
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == 3713
    then = long_ago + timedelta(days=1)
    assert check_registration(authenticator, response, challenge, now=then).aaid == "ABCD#0001"


def test_an_attestation_certificate_naming_another_aaid_is_refused_with_3713() -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001", names_aaid="ABCD#0002")
    authenticator = SoftwareUafAuthenticator(aaid="ABCD#0001", ca=ca)
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == 3713


def test_a_chain_through_an_intermediate_ca_is_accepted() -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001", intermediate_is_ca=True)
    authenticator = SoftwareUafAuthenticator(aaid="ABCD#0001", ca=ca)
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    key = check_registration(authenticator, response, challenge, attestation="BASIC_FULL")

    assert key.attestation_subject == "CN=idstore test authenticator ABCD#0001"


def test_a_chain_through_an_issuer_that_is_no_ca_is_refused_with_3713() -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001", intermediate_is_ca=False)
    authenticator = SoftwareUafAuthenticator(aaid="ABCD#0001", ca=ca)
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)

    assert refusal(lambda: check_registration(authenticator, response, challenge)) == 3713


def _unknown_extensions(count: int) -> Tamper:
    return Tamper(extensions=tuple((f"com.example.e{index}", b"", False) for index in range(count)))


@pytest.mark.parametrize(
    ("tamper", "key_type", "outcome"),
    [
        (Tamper(extension=("idstore.keyType", b"BIOMETRIC", True)), None, "BIOMETRIC"),
        (Tamper(extension=("idstore.keyType", b"PHONE", False)), None, 3711),
        (Tamper(extension=("idstore.keyType", b"DEVICE", False)), "DEVICE", 3711),
        (Tamper(extension=("com.example.unknown", b"x", True)), "DEVICE", 3711),
        (Tamper(extension=("com.example.unknown", b"x", False)), "DEVICE", "DEVICE"),
        (_unknown_extensions(15), "DEVICE", "DEVICE"),  # 16 with the key type: the most read
        (_unknown_extensions(16), "DEVICE", 3711),
    ],
)
def test_extensions_in_the_registration_data(
    authenticator: SoftwareUafAuthenticator,
    tamper: Tamper,
    key_type: KeyType | None,
    outcome: str | int,
) -> None:
    challenge = new_challenge()
    response = authenticator.register(
        registration_request(challenge), FACET_ID, key_type=key_type, tamper=tamper
    )

    def check() -> str | None:
        return check_registration(authenticator, response, challenge).key_type

    if isinstance(outcome, int):
        assert refusal(check) == outcome
    else:
        assert check() == outcome


@pytest.mark.parametrize(
    ("found", "replacement"),
    [
        (
            b"\xa0\x03\x02\x01\x02",
            b"\xa0\x03\x02\x01\x01",
        ),  # X.509 version 2: cryptography's own error
        (b"\x30\x82", b"\x31\x82"),  # not a SEQUENCE
    ],
)
def test_an_attestation_certificate_that_cannot_be_read_is_refused_with_3713(
    found: bytes, replacement: bytes
) -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")
    assert found in ca.attestation_der
    broken = ca.attestation_der.replace(found, replacement, 1)

    def verify() -> object:
        return verify_chain([broken], roots=[ca.root_der], aaid="ABCD#0001", now=datetime.now(UTC))

    assert (
        verify_chain(
            [ca.attestation_der], roots=[ca.root_der], aaid="ABCD#0001", now=datetime.now(UTC)
        ).subject
        == "CN=idstore test authenticator ABCD#0001"
    )
    assert refusal(verify) == 3713


def test_a_ca_certificate_as_the_attestation_certificate_is_refused_with_3713() -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")

    def verify() -> object:
        return verify_chain(
            [ca.root_der], roots=[ca.root_der], aaid="ABCD#0001", now=datetime.now(UTC)
        )

    assert refusal(verify) == 3713


def test_a_root_whose_key_cannot_be_read_refuses_the_chain_with_3713() -> None:
    ca = AttestationCa(KeyKind.P256_RAW, "ABCD#0001")
    # id-ecPublicKey (1.2.840.10045.2.1) turned into the unassigned 1.2.840.10045.2.9
    odd_root = ca.root_der.replace(
        bytes.fromhex("2a8648ce3d0201"), bytes.fromhex("2a8648ce3d0209"), 1
    )

    def verify() -> object:
        return verify_chain(
            [ca.attestation_der], roots=[odd_root], aaid="ABCD#0001", now=datetime.now(UTC)
        )

    assert odd_root != ca.root_der
    assert refusal(verify) == 3713


def test_a_key_id_longer_than_the_store_keeps_is_refused_with_3711(
    authenticator: SoftwareUafAuthenticator,
) -> None:
    def registered(length: int) -> Callable[[], uaf.NewKey]:
        challenge = new_challenge()
        response = authenticator.register(
            registration_request(challenge), FACET_ID, tamper=Tamper(key_id_length=length)
        )
        return lambda: check_registration(authenticator, response, challenge)

    # 384 bytes are the 512 base64url characters of user_appkeys.key_id.
    assert len(registered(384)().key_id) == 512
    assert refusal(registered(385)) == 3711
    assert refusal(registered(2048)) == 3711
