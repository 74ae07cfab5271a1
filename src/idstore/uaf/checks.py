"""Deciding whether to trust a read UAF response: registration and authentication checks.

The order follows UAF Protocol 1.1, the server's rules for registration and authentication
responses: the message is about our app, from a trusted facet, answers our challenge; each
assertion signs exactly the fcParams that came with it; then keys, attestation and signature.
"""

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from idstore.uaf import keys
from idstore.uaf.assertions import (
    KEY_TYPE_EXTENSION,
    AttestationType,
    Extension,
    RegistrationAssertion,
)
from idstore.uaf.attestation import verify_chain
from idstore.uaf.encoding import b64url_encode
from idstore.uaf.errors import UafCode, UafError
from idstore.uaf.messages import KeyType
from idstore.uaf.responses import AuthenticationResponse, Header, RegistrationResponse


@dataclass(frozen=True)
class NewKey:
    """A registration that passed every check: what the store keeps of the new key."""

    aaid: str
    key_id: str
    public_key: bytes
    signature_algorithm: int
    sign_counter: int
    registration_counter: int
    authenticator_version: int
    attestation_type: AttestationType
    attestation_subject: str | None
    facet_id: str
    key_type: KeyType | None


@dataclass(frozen=True)
class SignedAssertion:
    """An authentication assertion bound to our app, facet and challenge; signature unchecked.

    The caller finds the key by (`aaid`, `key_id`) and calls `verify_assertion` with it.
    """

    aaid: str
    key_id: str
    sign_counter: int
    challenge: str
    facet_id: str
    signed_data: bytes
    signature: bytes
    signature_algorithm_hint: int
    transaction_content_hash: bytes


def check_registration(
    response: RegistrationResponse,
    *,
    app_id: str,
    challenge: str,
    trusted_facets: Collection[str],
    accepted_aaids: Collection[str],
    attestation: AttestationType | None,
    root_certificates: Sequence[bytes],
    now: datetime | None = None,
) -> NewKey:
    """Check a registration response and answer the key it registers.

    `accepted_aaids` empty accepts any authenticator; `attestation` None accepts either type;
    `root_certificates` are DER; certificates must be valid at `now` (default: the current
    time). Raises UafError 3717 (app id), 1026 (facet), 1029
    (challenge), 3718 (final challenge hash), 3714 (AAID), 3715 (algorithm or key
    encoding), 3711 (key bytes), 3713 (attestation), 3710 (attestation signature).
    """
    assertion = response.assertion
    _check_message(response, app_id=app_id, challenge=challenge, trusted_facets=trusted_facets)
    if accepted_aaids and assertion.aaid not in {aaid.upper() for aaid in accepted_aaids}:
        raise UafError(UafCode.AAID_NOT_ACCEPTED, "the authenticator's AAID is not accepted")

    algorithm = keys.signature_algorithm(assertion.signature_algorithm)
    public_key = keys.public_key_der(
        assertion.public_key_encoding,
        assertion.public_key,
        algorithm=algorithm,
        error_code=UafCode.MALFORMED_REGISTRATION,
    )

    signing_key, subject = _attestation_signer(
        assertion, public_key, attestation=attestation, roots=root_certificates, now=now
    )
    keys.verify_signature(
        public_key=signing_key,
        algorithm=algorithm,
        message=assertion.signed_data,
        signature=assertion.signature,
    )

    return NewKey(
        aaid=assertion.aaid,
        key_id=b64url_encode(assertion.key_id),
        public_key=public_key,
        signature_algorithm=int(algorithm),
        sign_counter=assertion.sign_counter,
        registration_counter=assertion.registration_counter,
        authenticator_version=assertion.authenticator_version,
        attestation_type=assertion.attestation_type,
        attestation_subject=subject,
        facet_id=_trusted_facet(response.final_challenge.facet_id, trusted_facets, app_id),
        key_type=key_type_of(assertion.extensions),
    )


def check_authentication(
    response: AuthenticationResponse,
    *,
    app_id: str,
    challenge: str | None,
    trusted_facets: Collection[str],
) -> SignedAssertion:
    """Check an authentication response is ours and answer its assertion, signature unchecked.

    `challenge` None leaves the challenge to the caller (single-shot authentication reads it
    from `SignedAssertion.challenge`). Raises UafError 3717 (app id), 1026 (facet), 1029
    (challenge), 3718 (final challenge hash).
    """
    assertion = response.assertion
    params = response.final_challenge
    _check_message(response, app_id=app_id, challenge=challenge, trusted_facets=trusted_facets)

    return SignedAssertion(
        aaid=assertion.aaid,
        key_id=b64url_encode(assertion.key_id),
        sign_counter=assertion.sign_counter,
        challenge=params.challenge,
        facet_id=_trusted_facet(params.facet_id, trusted_facets, app_id),
        signed_data=assertion.signed_data,
        signature=assertion.signature,
        signature_algorithm_hint=assertion.signature_algorithm,
        transaction_content_hash=assertion.transaction_content_hash,
    )


def verify_assertion(
    assertion: SignedAssertion, *, public_key: bytes, signature_algorithm: int
) -> None:
    """Verify the assertion's signature with the registered key (DER SPKI) and algorithm.

    Raises UafError 3710 when it does not verify or the assertion names another algorithm
    than the registered one, 3715 when the registered algorithm is not supported.
    """
    algorithm = keys.signature_algorithm(signature_algorithm)
    if assertion.signature_algorithm_hint != algorithm:
        raise UafError(
            UafCode.SIGNATURE_INVALID, "the assertion names another algorithm than the key's"
        )
    keys.verify_signature(
        public_key=public_key,
        algorithm=algorithm,
        message=assertion.signed_data,
        signature=assertion.signature,
    )


def key_type_of(extensions: Sequence[Extension]) -> KeyType | None:
    """The key type an authenticator signed into its registration, or None when it did not.

    UAF 1.1 has no field for it; idstore's authenticators sign an `idstore.keyType`
    extension holding DEVICE or BIOMETRIC. Raises UafError 3711 for another value.
    """
    for extension in extensions:
        if extension.extension_id != KEY_TYPE_EXTENSION:
            continue
        if extension.data == b"DEVICE":
            return "DEVICE"
        if extension.data == b"BIOMETRIC":
            return "BIOMETRIC"
        raise UafError(
            UafCode.MALFORMED_REGISTRATION, "idstore.keyType must be DEVICE or BIOMETRIC"
        )
    return None


def _attestation_signer(
    assertion: RegistrationAssertion,
    public_key: bytes,
    *,
    attestation: AttestationType | None,
    roots: Sequence[bytes],
    now: datetime | None,
) -> tuple[bytes, str | None]:
    """The key that must have signed the registration data, and its certificate subject."""
    if attestation is not None and assertion.attestation_type != attestation:
        raise UafError(
            UafCode.ATTESTATION_REFUSED, f"the policy asks for {attestation} attestation"
        )
    if assertion.attestation_type == "BASIC_SURROGATE":
        return public_key, None  # the new key signs its own registration
    leaf = verify_chain(
        assertion.certificates, roots=roots, aaid=assertion.aaid, now=now or datetime.now(UTC)
    )
    return leaf.public_key, leaf.subject


def _check_message(
    response: RegistrationResponse | AuthenticationResponse,
    *,
    app_id: str,
    challenge: str | None,
    trusted_facets: Collection[str],
) -> None:
    """The first server rules of either response: whose message, answering what."""
    params = response.final_challenge
    _check_bound(response.header, params.app_id, app_id)
    _trusted_facet(params.facet_id, trusted_facets, app_id)
    if challenge is not None:
        _check_challenge(params.challenge, challenge)
    _check_final_challenge_hash(response.fc_params, response.assertion.final_challenge_hash)


def _check_bound(header: Header, signed_app_id: str, app_id: str) -> None:
    # An empty header appID means "the facet's own app" (UAF Protocol 1.1, OperationHeader).
    if header.app_id not in (None, "", app_id) or signed_app_id != app_id:
        raise UafError(UafCode.APP_ID_MISMATCH, "the response is for another app id")


def _trusted_facet(facet_id: str, trusted_facets: Collection[str], app_id: str) -> str:
    """The facet id in the canonical form it is kept in. Raises UafError 1026 when it is not
    trusted."""
    if trusted_facets:
        if facet_id in trusted_facets:
            return facet_id
    elif facet_id == app_id:
        return app_id
    elif _is_origin_of(facet_id, app_id):
        # No list: UAF AppID and Facet 1.1 lets an https origin on the app id's host proceed
        # without a TrustedFacets document; it is kept as that origin, however spelled.
        return f"https://{urlsplit(app_id).netloc.lower()}"
    raise UafError(UafCode.FACET_NOT_TRUSTED, "the facet id is not a trusted facet")


def _is_origin_of(facet_id: str, app_id: str) -> bool:
    facet, app = urlsplit(facet_id), urlsplit(app_id)
    return (
        facet.scheme == app.scheme == "https"
        and bool(facet.netloc)
        and facet.netloc.lower() == app.netloc.lower()
        and facet.path in ("", "/")
        and not (facet.query or facet.fragment)
    )


def _check_challenge(received: str, expected: str) -> None:
    # JSON lets fcParams carry a lone surrogate, which strict UTF-8 cannot encode; passed
    # through, it makes bytes no base64url challenge has, so it is simply a mismatch.
    if not hmac.compare_digest(received.encode(errors="surrogatepass"), expected.encode()):
        raise UafError(UafCode.CHALLENGE_MISMATCH, "the challenge does not match")


def _check_final_challenge_hash(fc_params: str, signed_hash: bytes) -> None:
    # The client hashed fcParams exactly as it sent it: the base64url text, not its JSON.
    expected = hashlib.sha256(fc_params.encode("ascii")).digest()
    if not hmac.compare_digest(expected, signed_hash):
        raise UafError(
            UafCode.FINAL_CHALLENGE_HASH_MISMATCH, "the signed final challenge hash differs"
        )
