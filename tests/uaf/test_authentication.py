"""Authentication responses: the signed assertion's values, the signature, and each refusal."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from idstore import uaf
from idstore.uaf import UafCode
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, Tamper
from tests.support.uaf_keys import KeyKind
from tests.uaf.conftest import (
    APP_ID,
    FACET_ID,
    Registered,
    authenticate,
    authentication_request,
    new_challenge,
    refusal,
    register,
)


@pytest.mark.parametrize("kind", list(KeyKind))
def test_an_authentication_answers_the_signed_assertion_and_verifies(kind: KeyKind) -> None:
    registered = register(SoftwareUafAuthenticator(aaid="ABCD#0002", kind=kind))
    challenge = new_challenge()

    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    assertion = authenticate(registered, response, challenge)

    assert assertion.aaid == "ABCD#0002"
    assert assertion.key_id == registered.key.key_id
    assert assertion.challenge == challenge
    assert assertion.facet_id == FACET_ID
    assert assertion.sign_counter == 1
    assert assertion.signature_algorithm_hint == kind.signature_algorithm
    assert assertion.transaction_content_hash == b""
    assert assertion.signed_data[:2] == b"\x04\x3e"  # TAG_UAFV1_SIGNED_DATA, little-endian


def test_sign_counters_go_up_with_each_authentication(registered: Registered) -> None:
    counters = []
    for _ in range(3):
        challenge = new_challenge()
        response = registered.authenticator.authenticate(
            authentication_request(challenge), FACET_ID
        )
        counters.append(authenticate(registered, response, challenge).sign_counter)

    assert counters == [1, 2, 3]


def test_an_authenticator_without_counters_reports_zero() -> None:
    registered = register(SoftwareUafAuthenticator(zero_counters=True))
    challenge = new_challenge()

    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)

    assert (registered.key.sign_counter, registered.key.registration_counter) == (0, 0)
    assert authenticate(registered, response, challenge).sign_counter == 0


def test_a_transaction_text_is_signed_as_its_hash(registered: Registered) -> None:
    challenge = new_challenge()
    request = uaf.authentication_request(
        app_id=APP_ID, challenge=challenge, accepted_aaids=[], transaction_text="Pay 10 EUR to Bob"
    )

    response = registered.authenticator.authenticate(request, FACET_ID)
    assertion = authenticate(registered, response, challenge)

    assert assertion.transaction_content_hash == hashlib.sha256(b"Pay 10 EUR to Bob").digest()


def test_a_single_shot_challenge_is_left_to_the_caller(registered: Registered) -> None:
    now = datetime(2026, 12, 4, 23, 5, 1, 123000, tzinfo=UTC)
    single_shot = uaf.b64url_encode(
        now.isoformat(timespec="milliseconds").replace("+00:00", "Z").encode()
    )

    response = registered.authenticator.authenticate(single_shot, FACET_ID, app_id=APP_ID)
    assertion = authenticate(registered, response, None)

    assert assertion.challenge == single_shot
    assert uaf.b64url_decode(
        single_shot, error_code=UafCode.MALFORMED_AUTHENTICATION, what="c"
    ) == (b"2026-12-04T23:05:01.123Z")


def test_the_response_may_come_as_a_json_string(registered: Registered) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)

    assert authenticate(registered, json.dumps(response), challenge).key_id == registered.key.key_id


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (Tamper(challenge="c29tZXRoaW5nIGVsc2U"), 1029),
        (Tamper(challenge="\ud800"), 1029),  # a lone surrogate, valid in JSON
        (Tamper(app_id="https://evil.example.com/facets"), 3717),
        (Tamper(op="Reg"), 1017),
        (Tamper(wrong_length=True), 1091),
        (Tamper(trailing_bytes=True), 1091),
        (Tamper(duplicate_tag=True), 1091),
        (Tamper(unknown_tag=True), 1091),
        (Tamper(extension=("com.example.unknown", b"x", True)), 1091),
        (Tamper(bad_signature=True), 3710),
        (Tamper(other_fc_params=True), 3718),
        (Tamper(assertions=0), 1092),
        (Tamper(assertions=2), 1093),
    ],
)
def test_each_tampered_authentication_is_refused_with_its_code(
    registered: Registered, tamper: Tamper, code: int
) -> None:
    challenge = new_challenge()
    request = authentication_request(challenge)

    response = registered.authenticator.authenticate(request, FACET_ID, tamper=tamper)

    assert refusal(lambda: authenticate(registered, response, challenge)) == code


def test_a_registration_response_sent_to_authentication_is_refused_with_1017(
    registered: Registered,
) -> None:
    challenge = new_challenge()
    request = uaf.registration_request(
        app_id=APP_ID, challenge=challenge, username="ada", accepted_aaids=[], key_types=[]
    )
    response = registered.authenticator.register(request, FACET_ID)

    assert refusal(lambda: uaf.read_authentication_response(response)) == 1017
    response[0]["header"]["op"] = "Auth"  # the registration assertion itself, under an Auth header
    assert refusal(lambda: uaf.read_authentication_response(response)) == 1017


def test_an_authentication_assertion_sent_to_registration_is_refused_with_3716(
    registered: Registered,
) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    response[0]["header"]["op"] = "Reg"

    assert refusal(lambda: uaf.read_registration_response(response)) == 3716


def test_a_facet_not_trusted_is_refused_with_1026(registered: Registered) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(
        authentication_request(challenge), "ios:bundle-id:com.evil.app"
    )

    assert refusal(lambda: authenticate(registered, response, challenge)) == 1026


def test_another_key_does_not_verify_the_assertion(registered: Registered) -> None:
    other = register(registered.authenticator)
    challenge = new_challenge()
    response = registered.authenticator.authenticate(
        authentication_request(challenge), FACET_ID, key_id=other.key.key_id
    )

    assert refusal(lambda: authenticate(registered, response, challenge)) == 3710
    assert authenticate(other, response, challenge).key_id == other.key.key_id


def test_an_assertion_naming_another_algorithm_than_the_key_is_refused_with_3710(
    registered: Registered,
) -> None:
    challenge = new_challenge()
    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    assertion = uaf.check_authentication(
        uaf.read_authentication_response(response),
        app_id=APP_ID,
        challenge=challenge,
        trusted_facets=[FACET_ID],
    )

    assert (
        refusal(
            lambda: uaf.verify_assertion(
                assertion,
                public_key=registered.key.public_key,
                signature_algorithm=uaf.SignatureAlgorithm.SECP256R1_ECDSA_SHA256_DER,
            )
        )
        == 3710
    )
    assert (
        refusal(
            lambda: uaf.verify_assertion(
                assertion, public_key=registered.key.public_key, signature_algorithm=0x0007
            )
        )
        == 3715
    )


def test_a_sign_counter_moved_back_is_reported_as_it_is(registered: Registered) -> None:
    for _ in range(3):
        challenge = new_challenge()
        registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)
    registered.authenticator.set_sign_counter(registered.key.key_id, 1)
    challenge = new_challenge()

    response = registered.authenticator.authenticate(authentication_request(challenge), FACET_ID)

    # The UAF layer reports the counter; refusing it (1061) is the service's rule.
    assert authenticate(registered, response, challenge).sign_counter == 2
