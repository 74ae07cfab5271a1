"""Strict readings of the parts of a WebAuthn response that py_webauthn takes loosely (issue 7).

py_webauthn accepts a clientDataJSON of any size and nesting (deep nesting ends in a
RecursionError), coerces `crossOrigin` to a bool it never judges, decodes an attestation object
with trailing bytes or extra members, and keeps any public key the COSE map spells, even one no
signature can ever verify against. Each check here refuses such a response with the code the
contract gives its kind. Pure: no I/O.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicNumbers
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from webauthn.helpers import bytes_to_base64url, decode_credential_public_key
from webauthn.helpers.cose import COSECRV, COSEAlgorithmIdentifier
from webauthn.helpers.decode_credential_public_key import (
    DecodedEC2PublicKey,
    DecodedOKPPublicKey,
    DecodedRSAPublicKey,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticatorTransport

from idstore import strict_json
from idstore.services.passkey_errors import (
    AttestationRefused,
    OriginNotAllowed,
    SignatureInvalid,
    TokenBindingRefused,
)

# A browser's clientDataJSON is a few hundred bytes; 4 KiB leaves room for long origins.
MAX_CLIENT_DATA_BYTES = 4096
# WebAuthn level 3 §5.1 (credential id): at most 1023 bytes.
MAX_CREDENTIAL_ID_BYTES = 1023
_ATTESTATION_MEMBERS = frozenset({"fmt", "attStmt", "authData"})
_RSA_BITS = range(2048, 16385)
_KNOWN_TRANSPORTS = frozenset(str(t.value) for t in AuthenticatorTransport)


def check_client_data(raw: bytes) -> None:
    """Refuse clientDataJSON that is too large, not a JSON object or ambiguous: a member named
    twice, NaN or Infinity (3604); or that comes from a cross-origin frame: `crossOrigin` other
    than false, or a `topOrigin` (354); or that claims a Token Binding (356).

    py_webauthn parses the same bytes again with `json.loads`, which keeps the last of two
    members of one name: once this has refused the ambiguous, both read one document.
    """
    if len(raw) > MAX_CLIENT_DATA_BYTES:
        raise SignatureInvalid(f"clientDataJSON is longer than {MAX_CLIENT_DATA_BYTES} bytes")
    try:
        collected = strict_json.loads_utf8(raw)
    except strict_json.NotPlainUtf8:
        raise SignatureInvalid("clientDataJSON is not UTF-8 without a byte order mark") from None
    except strict_json.DuplicateKeys as repeated:
        raise SignatureInvalid(f"clientDataJSON names {repeated} more than once") from None
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        raise SignatureInvalid("clientDataJSON is malformed") from None
    if not isinstance(collected, dict):
        raise SignatureInvalid("clientDataJSON is not a JSON object")
    if collected.get("crossOrigin", False) is not False or "topOrigin" in collected:
        raise OriginNotAllowed("a ceremony in a cross-origin frame is not allowed")
    if "tokenBinding" in collected:
        _check_token_binding(collected["tokenBinding"])


def _check_token_binding(binding: Any) -> None:
    """Only `supported` (the browser could, the connection did not) agrees with a service that
    terminates no Token Binding: `present` claims a binding id no one here can compare."""
    if not isinstance(binding, dict) or "status" not in binding:
        raise TokenBindingRefused("tokenBinding has no status")
    if binding["status"] != "supported":
        raise TokenBindingRefused("a token binding is claimed that this connection does not have")


def check_credential_id(credential_id: str, raw_id: bytes) -> None:
    """Refuse a response whose `id` is not its `rawId` or whose id is too long (3604)."""
    if bytes_to_base64url(raw_id) != credential_id:
        raise SignatureInvalid("the response's id and rawId differ")
    if not raw_id or len(raw_id) > MAX_CREDENTIAL_ID_BYTES:
        raise SignatureInvalid(f"a credential id has 1 to {MAX_CREDENTIAL_ID_BYTES} bytes")


def attestation_members(raw: bytes) -> dict[str, Any]:
    """The attestation object's map: one CBOR item, nothing after it, only fmt, attStmt and
    authData. Raises AttestationRefused (3603)."""
    stream = io.BytesIO(raw)
    try:
        decoded = cbor2.load(stream)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        raise AttestationRefused("the attestation object is malformed") from None
    if stream.tell() != len(raw):
        raise AttestationRefused("the attestation object has bytes after its end")
    if not isinstance(decoded, dict) or set(decoded) != _ATTESTATION_MEMBERS:
        raise AttestationRefused("the attestation object has members other than its three")
    return decoded


def credential_key_algorithm(public_key: bytes) -> int:
    """The COSE algorithm of a public key that loads as a usable key: a P-256 point on the
    curve, a 32-byte Ed25519 key, an RSA key of 2048 to 16384 bits with an odd exponent.
    Raises SignatureInvalid (3604) for any other."""
    try:
        decoded = decode_credential_public_key(public_key)
        _load(decoded)
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError):
        raise SignatureInvalid("the credential public key is malformed or unusable") from None
    return int(decoded.alg)


def _load(decoded: object) -> None:
    """Raise ValueError unless the decoded key loads as a key a signature can verify against."""
    if isinstance(decoded, DecodedEC2PublicKey):
        _require(decoded.alg == COSEAlgorithmIdentifier.ECDSA_SHA_256, "ES256 only")
        _require(decoded.crv == COSECRV.P256, "P-256 only")
        x, y = _exact_int(decoded.x, 32), _exact_int(decoded.y, 32)
        EllipticCurvePublicNumbers(x, y, SECP256R1()).public_key()  # ValueError off the curve
    elif isinstance(decoded, DecodedOKPPublicKey):
        _require(decoded.alg == COSEAlgorithmIdentifier.EDDSA, "EdDSA only")
        _require(decoded.crv == COSECRV.ED25519, "Ed25519 only")
        Ed25519PublicKey.from_public_bytes(_exact(decoded.x, 32))
    elif isinstance(decoded, DecodedRSAPublicKey):
        n, e = _exact_int(decoded.n, None), _exact_int(decoded.e, None)
        _require(n.bit_length() in _RSA_BITS, "an RSA modulus of 2048 to 16384 bits")
        _require(e >= 3 and e % 2 == 1, "an odd RSA exponent")
    else:
        raise ValueError("unsupported key type")


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"expected {what}")


def _exact(value: object, size: int | None) -> bytes:
    """Byte strings only: a CBOR bignum or integer coordinate is no COSE key member."""
    if not isinstance(value, bytes) or (size is not None and len(value) != size):
        raise ValueError(f"expected {size or 'some'} bytes")
    return value


def _exact_int(value: object, size: int | None) -> int:
    return int.from_bytes(_exact(value, size), "big")


def known_transports(transports: list[Any] | None) -> tuple[str, ...]:
    """The WebAuthn transports named, each once, in the order given; unknown names dropped."""
    named = (str(getattr(t, "value", t)) for t in transports or ())
    return tuple(dict.fromkeys(name for name in named if name in _KNOWN_TRANSPORTS))
