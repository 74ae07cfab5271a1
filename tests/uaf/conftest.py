"""Fixtures for the UAF package: a relying party's settings and a registered software key."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest

from idstore import uaf
from tests.support.uaf_authenticator import SoftwareUafAuthenticator

APP_ID = "https://shop.example.com/uaf/trusted-facets"
FACET_ID = "https://shop.example.com"
ANDROID_FACET = "android:apk-key-hash:2jmj7l5rSw0yVb_vlWAYkK_YBwk"


def refusal(call: Callable[[], object]) -> int:
    """The code of the UafError `call` raises; fails the test when it raises nothing."""
    with pytest.raises(uaf.UafError) as caught:
        call()
    return int(caught.value.code)


def new_challenge() -> str:
    """32 random bytes, base64url: what the services make per ceremony."""
    return uaf.b64url_encode(secrets.token_bytes(32))


def registration_request(challenge: str) -> list[dict[str, object]]:
    return uaf.registration_request(
        app_id=APP_ID,
        challenge=challenge,
        username="ada",
        accepted_aaids=[],
        key_types=["DEVICE", "BIOMETRIC"],
    )


def authentication_request(challenge: str) -> list[dict[str, object]]:
    return uaf.authentication_request(app_id=APP_ID, challenge=challenge, accepted_aaids=[])


@dataclass
class Registered:
    """An authenticator with one key the server accepted."""

    authenticator: SoftwareUafAuthenticator
    key: uaf.NewKey


def check_registration(
    authenticator: SoftwareUafAuthenticator,
    response: object,
    challenge: str,
    *,
    trusted_facets: Sequence[str] = (FACET_ID, ANDROID_FACET),
    accepted_aaids: Sequence[str] = (),
    attestation: uaf.AttestationType | None = None,
    root_certificates: Sequence[bytes] | None = None,
    now: datetime | None = None,
) -> uaf.NewKey:
    """Read and check a registration response with the fixtures' relying party settings."""
    roots = [authenticator.root_der] if root_certificates is None else root_certificates
    return uaf.check_registration(
        uaf.read_registration_response(response),
        app_id=APP_ID,
        challenge=challenge,
        trusted_facets=trusted_facets,
        accepted_aaids=accepted_aaids,
        attestation=attestation,
        root_certificates=roots,
        now=now,
    )


def register(authenticator: SoftwareUafAuthenticator) -> Registered:
    challenge = new_challenge()
    response = authenticator.register(registration_request(challenge), FACET_ID)
    return Registered(authenticator, check_registration(authenticator, response, challenge))


def authenticate(
    registered: Registered, response: object, challenge: str | None
) -> uaf.SignedAssertion:
    """Read, check and verify an authentication response against the registered key."""
    assertion = uaf.check_authentication(
        uaf.read_authentication_response(response),
        app_id=APP_ID,
        challenge=challenge,
        trusted_facets=[FACET_ID],
    )
    uaf.verify_assertion(
        assertion,
        public_key=registered.key.public_key,
        signature_algorithm=registered.key.signature_algorithm,
    )
    return assertion


@pytest.fixture
def authenticator() -> SoftwareUafAuthenticator:
    return SoftwareUafAuthenticator(aaid="ABCD#0001")


@pytest.fixture
def registered(authenticator: SoftwareUafAuthenticator) -> Registered:
    return register(authenticator)
