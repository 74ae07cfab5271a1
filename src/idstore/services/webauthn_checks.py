"""Judging WebAuthn client responses (spec §9, issue 7 rules 1-7) on py_webauthn.

Every rule that has its own error code is checked here first, on the parsed client data and
authenticator data, so that each refusal names its cause; py_webauthn then verifies the
attestation or the signature. The sign counter is judged last, on a verified assertion only, so
that no unsigned data decides a 372 or a stored counter. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationFormat,
    AuthenticationCredential,
    AuthenticatorData,
    CollectedClientData,
    RegistrationCredential,
)

from idstore.services.models import PasskeyPolicy
from idstore.services.passkey_errors import (
    AlgorithmNotAllowed,
    AttestationRefused,
    ChallengeMismatch,
    FlagsRefused,
    NotAnAuthentication,
    OriginNotOfRelyingParty,
    SignatureInvalid,
    SignCountNotIncreased,
)
from idstore.services.passkey_origins import judge_origin
from idstore.services.webauthn_strict import (
    attestation_members,
    check_client_data,
    check_credential_id,
    credential_key_algorithm,
    known_transports,
)
from idstore.services.webauthn_terms import Expected, NewCredential, VerifiedAssertion

_CREATE, _GET = "webauthn.create", "webauthn.get"
# What py_webauthn raises for what it cannot parse or verify; none of it is a server fault.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, RecursionError)


@dataclass(frozen=True)
class Assertion:
    """A parsed assertion, before the passkey it names is known."""

    credential: AuthenticationCredential
    credential_id: str
    user_handle: str | None


def parse_registration(client_response: dict[str, Any]) -> RegistrationCredential:
    """Raises SignatureInvalid (3604) for a response that is not a credential's JSON form."""
    try:
        return parse_registration_credential_json(client_response)
    except _MALFORMED:
        raise SignatureInvalid("the client response is not a registration credential") from None


def parse_assertion(client_response: dict[str, Any]) -> Assertion:
    """Raises NotAnAuthentication (352) for a registration, SignatureInvalid (3604) otherwise."""
    response = client_response.get("response")
    if isinstance(response, dict) and "attestationObject" in response:
        raise NotAnAuthentication()
    try:
        credential = parse_authentication_credential_json(client_response)
    except _MALFORMED:
        raise SignatureInvalid("the client response is not an authentication credential") from None
    check_credential_id(credential.id, credential.raw_id)
    handle = credential.response.user_handle
    return Assertion(
        credential=credential,
        credential_id=bytes_to_base64url(credential.raw_id),
        user_handle=bytes_to_base64url(handle) if handle else None,
    )


def verify_registration(credential: RegistrationCredential, expected: Expected) -> NewCredential:
    """Judge a registration response. Raises 352, 353, 354, 382, 383, 3601 (flags), 3602
    (algorithm), 3603 (attestation) or 3604 (malformed)."""
    check_credential_id(credential.id, credential.raw_id)
    client_data = _client_data(credential.response.client_data_json, _CREATE, expected)
    origin = judge_origin(
        client_data.origin, rp_id=expected.rp_id, restricted_origins=expected.restricted_origins
    )
    fmt, statement, raw_auth_data = _attestation_parts(credential.response.attestation_object)
    auth_data = _authenticator_data(raw_auth_data, expected)
    attested = auth_data.attested_credential_data
    if attested is None or not hmac.compare_digest(attested.credential_id, credential.raw_id):
        raise SignatureInvalid("the response's id is not the attested credential's")
    algorithm = _algorithm(attested.credential_public_key, expected.policy)
    _check_attestation(fmt, statement, expected.policy)

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=expected.challenge,
            expected_rp_id=expected.rp_id,
            expected_origin=origin,
            require_user_verification=expected.policy.user_verification == "required",
            supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in expected.policy.algorithms],
        )
    except _MALFORMED:
        raise AttestationRefused("the attestation statement does not verify") from None

    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        algorithm=algorithm,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=known_transports(credential.response.transports),
        backup_eligible=auth_data.flags.be,
        backup_state=auth_data.flags.bs,
        user_verified=auth_data.flags.uv,
        attestation_format=fmt,
        origin=origin,
        flags=raw_auth_data[32],
    )


def verify_assertion(
    assertion: Assertion,
    expected: Expected,
    *,
    public_key: bytes,
    stored_sign_count: int,
    backup_eligible: bool,
) -> VerifiedAssertion:
    """Judge an assertion of a known passkey. Raises 352, 353, 354, 382, 383, 3601 (flags, or
    backup eligibility changed), 3604 (signature) or 372 (counter did not increase)."""
    response = assertion.credential.response
    client_data = _client_data(response.client_data_json, _GET, expected)
    origin = judge_origin(
        client_data.origin,
        rp_id=expected.rp_id,
        restricted_origins=expected.restricted_origins,
    )
    auth_data = _authenticator_data(response.authenticator_data, expected)
    if auth_data.flags.be != backup_eligible:
        raise FlagsRefused("backup eligibility differs from the one registered")

    try:
        # Counter 0 here: the counter rule is ours, judged below once the signature holds.
        verify_authentication_response(
            credential=assertion.credential,
            expected_challenge=expected.challenge,
            expected_rp_id=expected.rp_id,
            expected_origin=origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=expected.policy.user_verification == "required",
        )
    except _MALFORMED:
        raise SignatureInvalid("the assertion's signature does not verify") from None

    check_sign_count(stored_sign_count, auth_data.sign_count)
    return VerifiedAssertion(
        sign_count=auth_data.sign_count,
        backup_state=auth_data.flags.bs,
        user_verified=auth_data.flags.uv,
    )


def check_sign_count(stored: int, new: int) -> None:
    """Authenticators that always report 0 pass; otherwise the counter must increase (372)."""
    if stored == 0 and new == 0:
        return
    if new <= stored:
        raise SignCountNotIncreased()


def _client_data(raw: bytes, ceremony: str, expected: Expected) -> CollectedClientData:
    check_client_data(raw)
    try:
        client_data = parse_client_data_json(raw)
    except _MALFORMED:
        raise SignatureInvalid("clientDataJSON is malformed") from None
    if client_data.type != ceremony:
        raise NotAnAuthentication(f"client data type is not {ceremony}")
    if not hmac.compare_digest(client_data.challenge, expected.challenge):
        raise ChallengeMismatch()
    return client_data


def _authenticator_data(raw: bytes, expected: Expected) -> AuthenticatorData:
    try:
        auth_data = parse_authenticator_data(raw)
    except _MALFORMED:
        raise SignatureInvalid("authenticator data is malformed") from None
    rp_id_hash = hashlib.sha256(expected.rp_id.encode()).digest()
    if not hmac.compare_digest(auth_data.rp_id_hash, rp_id_hash):
        raise OriginNotOfRelyingParty("the authenticator data is for another relying party id")
    flags = auth_data.flags
    if not flags.up:
        raise FlagsRefused("user presence (UP) is not set")
    if expected.policy.user_verification == "required" and not flags.uv:
        raise FlagsRefused("user verification (UV) is required but not set")
    if flags.bs and not flags.be:
        raise FlagsRefused("backup state (BS) is set without backup eligibility (BE)")
    return auth_data


def _attestation_parts(raw: bytes) -> tuple[str, dict[Any, Any], bytes]:
    decoded = attestation_members(raw)
    fmt, statement, auth_data = decoded["fmt"], decoded["attStmt"], decoded["authData"]
    if not (isinstance(fmt, str) and isinstance(statement, dict) and isinstance(auth_data, bytes)):
        raise AttestationRefused("the attestation object is malformed")
    if len(auth_data) < 37:
        raise SignatureInvalid("authenticator data is malformed")
    return fmt, statement, auth_data


def _algorithm(public_key: bytes, policy: PasskeyPolicy) -> int:
    algorithm = credential_key_algorithm(public_key)
    if algorithm not in policy.algorithms:
        raise AlgorithmNotAllowed()
    return algorithm


def _check_attestation(fmt: str, statement: dict[Any, Any], policy: PasskeyPolicy) -> None:
    if fmt == AttestationFormat.NONE:
        if statement:
            raise AttestationRefused("attestation 'none' carries a statement")
        if policy.attestation != "none":
            raise AttestationRefused("the policy asks for an attestation, the response has none")
