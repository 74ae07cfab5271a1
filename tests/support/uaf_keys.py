"""Keys for the software UAF authenticator: user keys, an attestation key and its test root CA.

Signatures and public key formats follow the FIDO Registry of Predefined Values:
ECDSA P-256 over SHA-256 as raw r||s (0x0001) or DER (0x0002), public key as an X9.62 point
(0x0100) or a DER SubjectPublicKeyInfo (0x0101); Ed25519 (0x0012) with a COSE key (0x0104).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
AAID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.1")


class KeyKind(Enum):
    """How the authenticator signs and sends its keys: (signature alg, public key encoding)."""

    P256_RAW = (0x0001, 0x0100)
    P256_DER = (0x0002, 0x0100)
    P256_RAW_DER_KEY = (0x0001, 0x0101)
    ED25519 = (0x0012, 0x0104)

    @property
    def signature_algorithm(self) -> int:
        return self.value[0]

    @property
    def key_encoding(self) -> int:
        return self.value[1]

    def generate(self) -> PrivateKey:
        if self is KeyKind.ED25519:
            return ed25519.Ed25519PrivateKey.generate()
        return ec.generate_private_key(ec.SECP256R1())


def sign(kind: KeyKind, private_key: PrivateKey, message: bytes) -> bytes:
    """The signature of `message` in the format `kind` declares."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    der = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    if kind.signature_algorithm == 0x0002:
        return der
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def public_key_bytes(kind: KeyKind, private_key: PrivateKey) -> bytes:
    """The public key in the encoding `kind` declares."""
    public = private_key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})
    if kind.key_encoding == 0x0101:
        return public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def spki(private_key: PrivateKey) -> bytes:
    """The DER SubjectPublicKeyInfo of the key's public half, as the server stores it."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    *,
    subject: str,
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey,
    issuer: str,
    issuer_key: PrivateKey,
    is_ca: bool,
    aaid: str | None = None,
    valid_from: datetime,
    valid_until: datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if aaid is not None:
        # The FIDO AAID extension: an OCTET STRING of the AAID's ASCII.
        value = bytes([0x04, len(aaid)]) + aaid.encode("ascii")
        builder = builder.add_extension(x509.UnrecognizedExtension(AAID_EXTENSION, value), False)
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


@dataclass
class AttestationCa:
    """A test root CA and one attestation certificate it issued for an authenticator model.

    `root_der` is what a relying party configures as `attestationRootCertificates`.
    """

    kind: KeyKind
    aaid: str
    valid_from: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=1))
    valid_until: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(days=30))
    names_aaid: str | None = None
    intermediate_is_ca: bool | None = None  # None: no intermediate, the root issues the leaf

    def __post_init__(self) -> None:
        self.root_key = self.kind.generate()
        self.root = self._issue(
            "idstore test UAF root",
            self.root_key,
            "idstore test UAF root",
            self.root_key,
            is_ca=True,
        )
        self.intermediates: list[x509.Certificate] = []
        issuer, issuer_key = "idstore test UAF root", self.root_key
        if self.intermediate_is_ca is not None:
            intermediate_key = self.kind.generate()
            self.intermediates.append(
                self._issue(
                    "idstore test UAF intermediate",
                    intermediate_key,
                    issuer,
                    issuer_key,
                    is_ca=self.intermediate_is_ca,
                )
            )
            issuer, issuer_key = "idstore test UAF intermediate", intermediate_key
        self.attestation_key = self.kind.generate()
        self.attestation_certificate = _certificate(
            subject=f"idstore test authenticator {self.aaid}",
            public_key=self.attestation_key.public_key(),
            issuer=issuer,
            issuer_key=issuer_key,
            is_ca=False,
            aaid=self.names_aaid or self.aaid,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )

    def _issue(
        self, subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey, *, is_ca: bool
    ) -> x509.Certificate:
        return _certificate(
            subject=subject,
            public_key=key.public_key(),
            issuer=issuer,
            issuer_key=issuer_key,
            is_ca=is_ca,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )

    @property
    def chain_der(self) -> list[bytes]:
        """The certificates an assertion carries: the attestation certificate, then any
        intermediate."""
        return [self.attestation_der] + [
            certificate.public_bytes(serialization.Encoding.DER)
            for certificate in self.intermediates
        ]

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.DER)

    @property
    def attestation_der(self) -> bytes:
        return self.attestation_certificate.public_bytes(serialization.Encoding.DER)
