"""Basic full attestation: the certificate chain of an assertion, verified up to a trusted root.

UAF Protocol 1.1, server processing of a registration response: the attestation certificate
must chain to a root of the authenticator's metadata; here the roots are those the relying
party configured.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import (
    InternalError,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from cryptography.hazmat.primitives import serialization

from idstore.uaf.errors import UafCode, UafError

MAX_CHAIN = 5
# id-fido-uaf-aaid: when an attestation certificate names its AAID, it must be the assertion's.
AAID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.1")
_OCTET_STRING = 0x04
# Every error cryptography raises while reading or checking a certificate: the chain comes from
# the client, so none of them may escape as anything but a refusal.
_UNREADABLE = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    InvalidSignature,
    InvalidKey,
    InternalError,
    x509.DuplicateExtension,
    x509.InvalidVersion,
    x509.UnsupportedGeneralNameType,
)


@dataclass(frozen=True)
class AttestationCertificate:
    """The verified leaf of an attestation chain: its key (DER SPKI) and subject."""

    public_key: bytes
    subject: str


def verify_chain(
    certificates: Sequence[bytes], *, roots: Sequence[bytes], aaid: str, now: datetime
) -> AttestationCertificate:
    """Verify `certificates` (leaf first) up to one of `roots` (DER) at time `now`.

    Raises UafError 3713 when a certificate cannot be read, is outside its validity, is not
    signed by the next one, does not end at a configured root, or names another AAID.
    """
    if not roots:
        raise UafError(UafCode.ATTESTATION_REFUSED, "no attestation root is configured")
    if len(certificates) > MAX_CHAIN:
        raise UafError(UafCode.ATTESTATION_REFUSED, "the attestation chain is too long")
    try:
        return _verify_chain(certificates, roots=roots, aaid=aaid, now=now)
    except _UNREADABLE as exc:
        # cryptography reads some parts of a certificate only when asked (extensions, names,
        # keys), and raises its own errors there, not all of them ValueError.
        raise UafError(
            UafCode.ATTESTATION_REFUSED, "an attestation certificate cannot be read"
        ) from exc


def _verify_chain(
    certificates: Sequence[bytes], *, roots: Sequence[bytes], aaid: str, now: datetime
) -> AttestationCertificate:
    chain = [_load(der, "an attestation certificate") for der in certificates]
    anchors = [_load(der, "a configured attestation root") for der in roots]

    for certificate, issuer in itertools.pairwise(chain):
        _check_issued(certificate, issuer, now)
    top = chain[-1]
    if not any(_is_root_of(top, root, now) for root in anchors):
        raise UafError(UafCode.ATTESTATION_REFUSED, "the attestation chain ends at no trusted root")

    leaf = chain[0]
    _check_valid(leaf, now)
    if _is_ca(leaf):  # an authenticator's attestation key is no issuer's (UAF 1.1 metadata)
        raise UafError(UafCode.ATTESTATION_REFUSED, "the attestation certificate is a CA")
    _check_aaid(leaf, aaid)
    return AttestationCertificate(
        public_key=leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        subject=leaf.subject.rfc4514_string(),
    )


def _load(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:
        raise UafError(UafCode.ATTESTATION_REFUSED, f"{what} is not a DER certificate") from exc


def _is_root_of(top: x509.Certificate, root: x509.Certificate, now: datetime) -> bool:
    if top == root:
        _check_valid(root, now)
        return True
    try:
        _check_issued(top, root, now)
    except UafError:
        return False
    return True


def _check_issued(certificate: x509.Certificate, issuer: x509.Certificate, now: datetime) -> None:
    _check_valid(certificate, now)
    _check_valid(issuer, now)
    if not _is_ca(issuer):
        raise UafError(UafCode.ATTESTATION_REFUSED, "an issuing certificate is not a CA")
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise UafError(
            UafCode.ATTESTATION_REFUSED, "an attestation certificate is not signed by its issuer"
        ) from exc


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _check_valid(certificate: x509.Certificate, now: datetime) -> None:
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise UafError(
            UafCode.ATTESTATION_REFUSED, "an attestation certificate is outside its validity"
        )


def _check_aaid(leaf: x509.Certificate, aaid: str) -> None:
    try:
        extension = leaf.extensions.get_extension_for_oid(AAID_EXTENSION).value
    except x509.ExtensionNotFound:
        return
    raw = extension.value if isinstance(extension, x509.UnrecognizedExtension) else b""
    # The extension value is an OCTET STRING holding the AAID's ASCII.
    if len(raw) >= 2 and raw[0] == _OCTET_STRING and raw[1] == len(raw) - 2:
        raw = raw[2:]
    if raw.decode("ascii", errors="replace").upper() != aaid.upper():
        raise UafError(
            UafCode.ATTESTATION_REFUSED, "the attestation certificate names another AAID"
        )
