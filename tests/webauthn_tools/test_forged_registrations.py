"""Forged registrations from the software authenticator, each refused by py_webauthn."""

from __future__ import annotations

from typing import Any

import pytest
from webauthn import verify_registration_response
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidBackupFlags, InvalidRegistrationResponse

from tests.support.webauthn_authenticator import Flag, Forgery, SoftwareAuthenticator, rp_id_hash
from tests.support.webauthn_keys import CoseAlgorithm, CredentialKey, b64url, b64url_decode
from tests.webauthn_tools.relying_party import ORIGIN, RP_ID, registration_options


def _verify(
    forgery: Forgery,
    *,
    attestation_format: str = "none",
    algorithms: list[COSEAlgorithmIdentifier] | None = None,
) -> Any:
    authenticator = SoftwareAuthenticator(origin=ORIGIN, attestation_format=attestation_format)
    options = registration_options()
    return verify_registration_response(
        credential=authenticator.register(options, forgery),
        expected_challenge=b64url_decode(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        supported_pub_key_algs=algorithms or list(COSEAlgorithmIdentifier),
    )


FORGED_REGISTRATIONS = {
    "rpIdHash of login.example.com": (
        Forgery(rp_id_hash=rp_id_hash("login.example.com")),
        "RP ID hash",
    ),
    "origin with a port": (Forgery(origin="https://login.example.com:8443"), "origin"),
    "http origin": (Forgery(origin="http://login.example.com"), "origin"),
    "wrong challenge": (Forgery(challenge=b64url(bytes(16))), "challenge"),
    "get type": (Forgery(client_data_type="webauthn.get"), "type"),
    "no UP": (Forgery(flags=Flag.UV), "presence"),
    "fmt none with an attStmt": (
        Forgery(att_stmt={"alg": -7, "sig": b"\x01"}),
        "unexpected attestation statement",
    ),
}


@pytest.mark.parametrize(
    ("forgery", "reason"), FORGED_REGISTRATIONS.values(), ids=FORGED_REGISTRATIONS.keys()
)
def test_forged_registrations_are_refused(forgery: Forgery, reason: str) -> None:
    with pytest.raises(InvalidRegistrationResponse, match=reason):
        _verify(forgery)


def test_packed_self_attestation_signed_by_another_key_is_refused() -> None:
    other_key = CredentialKey.generate(CoseAlgorithm.ES256)

    with pytest.raises(InvalidRegistrationResponse, match="verify"):
        _verify(Forgery(signing_key=other_key), attestation_format="packed")


def test_a_registration_with_bs_but_not_be_is_refused() -> None:
    with pytest.raises(InvalidBackupFlags):
        _verify(Forgery(flags=Flag.UP | Flag.BS))


def test_an_algorithm_the_options_did_not_offer_is_refused() -> None:
    forgery = Forgery(algorithm=CoseAlgorithm.RS256)

    with pytest.raises(InvalidRegistrationResponse, match="alg"):
        _verify(forgery, algorithms=[COSEAlgorithmIdentifier.ECDSA_SHA_256])


def test_the_honest_registration_passes_the_same_checks() -> None:
    verified = _verify(Forgery(), attestation_format="packed")

    assert verified.credential_backed_up is False
