"""Credential key pairs for the software authenticator: ES256, EdDSA and RS256 with COSE encoding.

A credential's public key travels as a COSE_Key (RFC 9052 §7, RFC 9053) inside the attested
credential data; its signatures are the ones WebAuthn §6.5.6 asks of each COSE algorithm: ECDSA
over SHA-256 in DER form, Ed25519 over the message itself, RSASSA-PKCS1-v1_5 with SHA-256.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import IntEnum

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# COSE_Key labels (RFC 9052 §7.1) and key-type parameters (RFC 9053 §7.1, §7.2, RFC 8230 §4).
_KTY, _ALG = 1, 3
_KTY_OKP, _KTY_EC2, _KTY_RSA = 1, 2, 3
_CRV, _X, _Y = -1, -2, -3
_RSA_N, _RSA_E = -1, -2
_CRV_P256, _CRV_ED25519 = 1, 6

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class CoseAlgorithm(IntEnum):
    """The COSE algorithm identifiers a credential can be made with."""

    ES256 = -7
    EDDSA = -8
    RS256 = -257


def b64url(raw: bytes) -> str:
    """base64url without padding, the encoding of every binary field in WebAuthn JSON."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Bytes of a base64url text with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class CredentialKey:
    """One credential's private key and what the authenticator derives from it."""

    algorithm: CoseAlgorithm
    private_key: PrivateKey

    @classmethod
    def generate(cls, algorithm: CoseAlgorithm) -> CredentialKey:
        """A fresh key pair: P-256 for ES256, Ed25519 for EdDSA, RSA 2048 (e=65537) for RS256."""
        private_key: PrivateKey
        if algorithm is CoseAlgorithm.ES256:
            private_key = ec.generate_private_key(ec.SECP256R1())
        elif algorithm is CoseAlgorithm.EDDSA:
            private_key = ed25519.Ed25519PrivateKey.generate()
        else:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(algorithm, private_key)

    def sign(self, message: bytes) -> bytes:
        """The signature WebAuthn expects from this algorithm over the message."""
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(message)
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def cose_public_key(self) -> bytes:
        """The public key as a CTAP2-canonical CBOR COSE_Key."""
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            point = key.public_key().public_numbers()
            cose = {
                _KTY: _KTY_EC2,
                _ALG: int(self.algorithm),
                _CRV: _CRV_P256,
                _X: point.x.to_bytes(32, "big"),
                _Y: point.y.to_bytes(32, "big"),
            }
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            cose = {_KTY: _KTY_OKP, _ALG: int(self.algorithm), _CRV: _CRV_ED25519, _X: raw}
        else:
            numbers = key.public_key().public_numbers()
            cose = {
                _KTY: _KTY_RSA,
                _ALG: int(self.algorithm),
                _RSA_N: numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"),
                _RSA_E: numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"),
            }
        return cbor2.dumps(cose, canonical=True)

    def spki_public_key(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo, what getPublicKey() returns in a browser."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
