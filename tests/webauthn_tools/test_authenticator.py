"""The software authenticator's responses, judged by py_webauthn, an independent verifier."""

from __future__ import annotations

import json

import pytest
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidBackupFlags,
)
from webauthn.helpers.structs import AttestationFormat

from tests.support.webauthn_authenticator import (
    HONEST,
    Flag,
    Forgery,
    SoftwareAuthenticator,
    rp_id_hash,
)
from tests.support.webauthn_keys import CoseAlgorithm, CredentialKey, b64url, b64url_decode
from tests.webauthn_tools.relying_party import (
    ORIGIN,
    RP_ID,
    authentication_options,
    registration_options,
)

ALGORITHMS = list(CoseAlgorithm)


def _registered(
    algorithm: CoseAlgorithm = CoseAlgorithm.ES256, *, is_backed_up: bool = False
) -> tuple[SoftwareAuthenticator, bytes]:
    authenticator = SoftwareAuthenticator(
        origin=ORIGIN,
        algorithm=algorithm,
        is_backup_eligible=is_backed_up,
        is_backed_up=is_backed_up,
    )
    credential_json = authenticator.register(registration_options())
    return authenticator, b64url_decode(credential_json["rawId"])


def _verify_assertion(
    authenticator: SoftwareAuthenticator,
    forgery: Forgery = HONEST,
    *,
    stored_sign_count: int = 0,
    user_verification: str = "preferred",
) -> int:
    options = authentication_options(user_verification=user_verification)
    assertion = authenticator.authenticate(options, forgery)
    credential = authenticator.credential(assertion["id"])
    verified = verify_authentication_response(
        credential=assertion,
        expected_challenge=b64url_decode(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=credential.key.cose_public_key(),
        credential_current_sign_count=stored_sign_count,
        require_user_verification=user_verification == "required",
    )
    return verified.new_sign_count


def test_rp_id_hashes_are_the_figures_of_issue_7() -> None:
    assert rp_id_hash("example.com").hex() == (
        "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947"
    )
    assert rp_id_hash("login.example.com").hex() == (
        "0c6ca0839c3a5683557833f618a2556665df2a088964787d53850b4ad4d3bedc"
    )


@pytest.mark.parametrize("attestation_format", ["none", "packed"])
@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda alg: alg.name)
def test_each_key_type_registers_with_each_format(
    algorithm: CoseAlgorithm, attestation_format: str
) -> None:
    authenticator = SoftwareAuthenticator(
        origin=ORIGIN, algorithm=algorithm, attestation_format=attestation_format
    )
    options = registration_options(user_verification="required")

    credential_json = authenticator.register(options)
    verified = verify_registration_response(
        credential=credential_json,
        expected_challenge=b64url_decode(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )

    credential = authenticator.credential(credential_json["id"])
    assert verified.fmt == AttestationFormat(attestation_format)
    assert verified.credential_id == credential.credential_id
    assert verified.credential_public_key == credential.key.cose_public_key()
    assert (verified.sign_count, verified.user_verified) == (0, True)
    assert verified.aaguid == "00000000-0000-0000-0000-000000000000"
    assert credential_json["response"]["publicKeyAlgorithm"] == int(algorithm)
    assert credential.user_handle == b"user-7"


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda alg: alg.name)
def test_each_key_type_signs_assertions_that_verify_and_count(algorithm: CoseAlgorithm) -> None:
    authenticator, _ = _registered(algorithm)

    first = _verify_assertion(authenticator, user_verification="required")
    second = _verify_assertion(authenticator, stored_sign_count=first)

    assert (first, second) == (1, 2)


def test_the_json_is_the_browsers_shape_in_unpadded_base64url() -> None:
    authenticator, credential_id = _registered()

    assertion = authenticator.authenticate(authentication_options(allow=[credential_id]))

    assert set(assertion) == {
        "id",
        "rawId",
        "type",
        "response",
        "clientExtensionResults",
        "authenticatorAttachment",
    }
    assert (assertion["id"], assertion["type"]) == (b64url(credential_id), "public-key")
    assert set(assertion["response"]) == {
        "clientDataJSON",
        "authenticatorData",
        "signature",
        "userHandle",
    }
    assert not any("=" in value for value in assertion["response"].values())
    client_data = json.loads(b64url_decode(assertion["response"]["clientDataJSON"]))
    assert list(client_data) == ["type", "challenge", "origin", "crossOrigin"]
    assert (client_data["type"], client_data["origin"]) == ("webauthn.get", ORIGIN)


def test_flags_say_up_uv_be_bs_as_the_issue_numbers_them() -> None:
    authenticator, _ = _registered(is_backed_up=True)

    options = authentication_options(user_verification="required")
    assertion = authenticator.authenticate(options)
    discouraged = authenticator.authenticate(
        authentication_options(user_verification="discouraged")
    )

    assert b64url_decode(assertion["response"]["authenticatorData"])[32] == 0x1D
    assert b64url_decode(discouraged["response"]["authenticatorData"])[32] == 0x19
    assert int(Flag.UP | Flag.UV | Flag.BE | Flag.BS) == 0x1D


def test_the_user_handle_can_be_left_out_or_emptied() -> None:
    authenticator, credential_id = _registered()
    options = authentication_options(allow=[credential_id])

    absent = authenticator.authenticate(options, Forgery(omits_user_handle=True))
    empty = authenticator.authenticate(options, Forgery(user_handle=b""))

    assert "userHandle" not in absent["response"]
    assert empty["response"]["userHandle"] == ""
    assert _verify_assertion(authenticator, Forgery(omits_user_handle=True), stored_sign_count=2)


def test_a_counter_less_authenticator_reports_zero_and_is_accepted_at_zero() -> None:
    authenticator, _ = _registered()
    authenticator.counter_step = 0

    assert _verify_assertion(authenticator) == 0
    assert _verify_assertion(authenticator) == 0


OTHER_KEY = CredentialKey.generate(CoseAlgorithm.ES256)

FORGED_ASSERTIONS = {
    "rpIdHash of login.example.com": (
        Forgery(rp_id_hash=rp_id_hash("login.example.com")),
        "RP ID hash",
    ),
    "wrong origin": (Forgery(origin="https://login.example.com.evil.test"), "origin"),
    "wrong challenge": (Forgery(challenge=b64url(bytes(32))), "challenge"),
    "create type": (Forgery(client_data_type="webauthn.create"), "type"),
    "no UP": (Forgery(flags=Flag.UV), "not present"),
    "signed by another key": (Forgery(signing_key=OTHER_KEY), "signature"),
    "signature bytes zeroed": (Forgery(signature=bytes(71)), "signature"),
}


@pytest.mark.parametrize(
    ("forgery", "reason"), FORGED_ASSERTIONS.values(), ids=FORGED_ASSERTIONS.keys()
)
def test_forged_assertions_are_refused(forgery: Forgery, reason: str) -> None:
    authenticator, _ = _registered()

    with pytest.raises(InvalidAuthenticationResponse, match=reason):
        _verify_assertion(authenticator, forgery)
    assert _verify_assertion(authenticator) == 2


@pytest.mark.parametrize(("stored", "sent"), [(7, 7), (7, 0), (2, 1)])
def test_a_counter_that_does_not_go_up_is_refused(stored: int, sent: int) -> None:
    authenticator, _ = _registered()

    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        _verify_assertion(authenticator, Forgery(sign_count=sent), stored_sign_count=stored)
    assert _verify_assertion(
        authenticator, Forgery(sign_count=stored + 1), stored_sign_count=stored
    )


def test_an_assertion_without_uv_is_refused_when_uv_is_required() -> None:
    authenticator, _ = _registered(is_backed_up=True)
    no_uv = Forgery(flags=Flag.UP | Flag.BE | Flag.BS)

    with pytest.raises(InvalidAuthenticationResponse, match="verification"):
        _verify_assertion(authenticator, no_uv, user_verification="required")


def test_an_assertion_with_bs_but_not_be_is_refused() -> None:
    authenticator, _ = _registered()

    with pytest.raises(InvalidBackupFlags):
        _verify_assertion(authenticator, Forgery(flags=Flag.UP | Flag.UV | Flag.BS))


def test_the_first_offered_algorithm_is_made_when_the_preferred_one_is_not_offered() -> None:
    authenticator = SoftwareAuthenticator(origin=ORIGIN, algorithm=CoseAlgorithm.EDDSA)
    options = registration_options()
    options["pubKeyCredParams"] = [{"type": "public-key", "alg": -257}]

    credential_json = authenticator.register(options)

    assert credential_json["response"]["publicKeyAlgorithm"] == -257


def test_a_browser_refusal_is_a_lookup_error() -> None:
    authenticator, credential_id = _registered()
    excluding = registration_options()
    excluding["excludeCredentials"] = [{"type": "public-key", "id": b64url(credential_id)}]

    with pytest.raises(LookupError, match="excluded"):
        authenticator.register(excluding)
    with pytest.raises(LookupError, match="no credential"):
        authenticator.authenticate(authentication_options(allow=[bytes(32)]))
