"""Public keys and signatures as the FIDO UAF registry numbers them.

An authenticator names its signature scheme (`signatureAlgAndEncoding`) and its public key
format (`publicKeyAlgAndEncoding`) with the numbers of the FIDO Registry of Predefined Values.
Keys are turned into DER SubjectPublicKeyInfo once, at registration, and every later signature
is checked against that form.
"""

import enum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from idstore.uaf.errors import UafCode, UafError

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class SignatureAlgorithm(enum.IntEnum):
    """The signature schemes this server verifies (ALG_SIGN_* of the FIDO registry)."""

    SECP256R1_ECDSA_SHA256_RAW = 0x0001
    SECP256R1_ECDSA_SHA256_DER = 0x0002
    RSASSA_PSS_SHA256_RAW = 0x0003
    RSA_EMSA_PKCSV15_SHA256_RAW = 0x0008
    RSASSA_PKCSV15_SHA256_RAW = 0x000C
    ED25519_EDDSA_SHA512_RAW = 0x0012


class KeyEncoding(enum.IntEnum):
    """The public key formats this server reads (ALG_KEY_* of the FIDO registry)."""

    ECC_X962_RAW = 0x0100
    ECC_X962_DER = 0x0101
    RSA_2048_RAW = 0x0102
    RSA_2048_DER = 0x0103
    COSE = 0x0104


_P256 = frozenset(
    {SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW, SignatureAlgorithm.SECP256R1_ECDSA_SHA256_DER}
)
_RSA = frozenset(
    {
        SignatureAlgorithm.RSASSA_PSS_SHA256_RAW,
        SignatureAlgorithm.RSA_EMSA_PKCSV15_SHA256_RAW,
        SignatureAlgorithm.RSASSA_PKCSV15_SHA256_RAW,
    }
)
_RSA_RAW_MODULUS = 256
_RSA_MIN_BITS = 2048
# Larger moduli and exponents only make verification slow: a cheap way to load the server.
_RSA_MAX_BITS = 4096
_RSA_MAX_EXPONENT = 2**32
_P256_RAW_SIGNATURE = 64
# COSE labels (RFC 9052/9053): key type, curve and coordinates.
_COSE_KTY, _COSE_OKP, _COSE_EC2, _COSE_RSA = 1, 1, 2, 3
_COSE_CRV_P256, _COSE_CRV_ED25519 = 1, 6


def signature_algorithm(number: int) -> SignatureAlgorithm:
    """The supported algorithm with registry `number`.

    Raises UafError 3715 when it is not one this server verifies.
    """
    try:
        return SignatureAlgorithm(number)
    except ValueError:
        raise UafError(
            UafCode.ALGORITHM_NOT_SUPPORTED, f"signature algorithm 0x{number:04X} is not supported"
        ) from None


def public_key_der(
    encoding: int, key_bytes: bytes, *, algorithm: SignatureAlgorithm, error_code: UafCode
) -> bytes:
    """Read a public key sent in registry format `encoding`; answer its DER SubjectPublicKeyInfo.

    Raises UafError 3715 for an unknown format or a key that does not suit `algorithm`, and
    UafError(error_code) for bytes that are not a key in the stated format.
    """
    try:
        key_format = KeyEncoding(encoding)
    except ValueError:
        raise UafError(
            UafCode.ALGORITHM_NOT_SUPPORTED,
            f"public key encoding 0x{encoding:04X} is not supported",
        ) from None

    try:
        key = _load(key_format, key_bytes)
    except UnsupportedAlgorithm:  # a well-formed SPKI naming a key type cryptography lacks
        raise UafError(
            UafCode.ALGORITHM_NOT_SUPPORTED, f"the {key_format.name} key's algorithm is unknown"
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise UafError(error_code, f"the public key is not valid {key_format.name}") from exc
    if key is None:
        raise UafError(error_code, f"the public key is not valid {key_format.name}")

    _check_suits(key, algorithm)
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _cbor_of(key_bytes: bytes) -> object:
    """The CBOR item of a COSE key. cbor2 is imported here, on first use, so that a server
    process that never meets a COSE key does not hold it (tests/test_startup_imports.py)."""
    import cbor2

    try:
        return cbor2.loads(key_bytes)
    except cbor2.CBORError as exc:
        raise ValueError("the key is not one CBOR item") from exc


def _load(key_format: KeyEncoding, key_bytes: bytes) -> PublicKey | None:
    if key_format is KeyEncoding.ECC_X962_RAW:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
    if key_format is KeyEncoding.RSA_2048_RAW:
        if len(key_bytes) != _RSA_RAW_MODULUS + 4:
            return None
        modulus = int.from_bytes(key_bytes[:_RSA_RAW_MODULUS], "big")
        exponent = int.from_bytes(key_bytes[_RSA_RAW_MODULUS:], "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    if key_format is KeyEncoding.COSE:
        return _load_cose(_cbor_of(key_bytes))
    # ECC_X962_DER is a SubjectPublicKeyInfo; RSA_2048_DER a PKCS#1 RSAPublicKey: the loader
    # takes both.
    key = serialization.load_der_public_key(key_bytes)
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    return None


def _load_cose(cose: Any) -> PublicKey | None:
    if not isinstance(cose, dict):
        return None
    kty = cose.get(_COSE_KTY)
    if kty == _COSE_EC2 and cose.get(-1) == _COSE_CRV_P256:
        x, y = cose[-2], cose[-3]
        if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) == 32):
            return None
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    if kty == _COSE_OKP and cose.get(-1) == _COSE_CRV_ED25519 and isinstance(cose[-2], bytes):
        return ed25519.Ed25519PublicKey.from_public_bytes(cose[-2])
    if kty == _COSE_RSA and isinstance(cose[-1], bytes) and isinstance(cose[-2], bytes):
        modulus, exponent = (int.from_bytes(cose[label], "big") for label in (-1, -2))
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    return None


def _check_suits(key: PublicKey, algorithm: SignatureAlgorithm) -> None:
    if algorithm in _P256:
        suits = isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    elif algorithm in _RSA:
        suits = (
            isinstance(key, rsa.RSAPublicKey)
            and _RSA_MIN_BITS <= key.key_size <= _RSA_MAX_BITS
            and key.public_numbers().e < _RSA_MAX_EXPONENT
        )
    else:
        suits = isinstance(key, ed25519.Ed25519PublicKey)
    if not suits:
        raise UafError(
            UafCode.ALGORITHM_NOT_SUPPORTED, f"the public key does not suit {algorithm.name}"
        )


def verify_signature(
    *, public_key: bytes, algorithm: SignatureAlgorithm, message: bytes, signature: bytes
) -> None:
    """Check `signature` over `message` with a DER SubjectPublicKeyInfo key.

    Raises UafError 3710 when it does not verify (a malformed signature does not either), and
    3715 when the key does not suit `algorithm`.
    """
    try:
        key = serialization.load_der_public_key(public_key)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UafError(UafCode.SIGNATURE_INVALID, "the public key cannot be read") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise UafError(UafCode.ALGORITHM_NOT_SUPPORTED, "the public key type is not supported")
    _check_suits(key, algorithm)

    try:
        _verify(key, algorithm, message, signature)
    except (InvalidSignature, ValueError) as exc:
        raise UafError(UafCode.SIGNATURE_INVALID, "the signature does not verify") from exc


def _verify(
    key: PublicKey, algorithm: SignatureAlgorithm, message: bytes, signature: bytes
) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, message)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if algorithm is SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW:
            signature = _raw_to_der(signature)
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    elif algorithm is SignatureAlgorithm.RSASSA_PSS_SHA256_RAW:
        # The registry fixes MGF1 with SHA-256 and a 32-byte salt for this scheme.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(signature, message, pss, hashes.SHA256())
    else:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def _raw_to_der(signature: bytes) -> bytes:
    """ECDSA r||s (32 bytes each, big-endian) as the DER SEQUENCE cryptography verifies."""
    if len(signature) != _P256_RAW_SIGNATURE:
        raise ValueError("a raw P-256 signature is 64 bytes")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    return utils.encode_dss_signature(r, s)
