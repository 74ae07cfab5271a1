"""Sealing secrets to a recipient: X25519 key pairs, their text forms, and one file's keys.

An export is sealed to the recipient's public key, never to the exporting server's key ring: an
ephemeral X25519 key pair is made for the file, the shared secret goes through HKDF-SHA256 (bound
to both public keys) into an AES-256-GCM key for the secrets and an HMAC-SHA256 key for the whole
file. Each sealed field carries associated data naming what it is (store, user, authenticator),
so a sealed value moved to another field, user or file does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from idstore.private_files import private_text_file

RECIPIENT_PREFIX = "idstore-recipient-1:"
IDENTITY_PREFIX = "idstore-identity-1:"
SCHEME = "X25519-HKDF-SHA256-AES-256-GCM"

_KEY_BYTES = 32
_NONCE_BYTES = 12
# "/1" names this derivation, which format versions 2 and 3 kept unchanged: all use these.
_DERIVATION_INFO = b"idstore-export/1 file keys"
_KEY_CHECK = b"idstore-export/1 key check"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class RecipientKeyError(ValueError):
    """A recipient or identity key in text form cannot be read (wrong prefix, length, base64)."""


class SealedFieldBroken(Exception):
    """A sealed field does not open: altered, moved to another field, or sealed to another key."""


def encode(raw: bytes) -> str:
    """base64url without padding: the text form of every binary value in an export."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> bytes:
    """The bytes of a base64url value (padding optional). Raises ValueError when it is not one."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url text") from exc


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_from_text(text: str, prefix: str, what: str) -> bytes:
    text = text.strip()
    if not text.startswith(prefix):
        raise RecipientKeyError(f"a {what} starts with {prefix!r}")
    try:
        raw = decode(text[len(prefix) :])
    except ValueError as exc:
        raise RecipientKeyError(f"the {what} is not base64url") from exc
    if len(raw) != _KEY_BYTES:
        raise RecipientKeyError(f"the {what} is {len(raw)} bytes, not {_KEY_BYTES}")
    return raw


def parse_recipient(text: str) -> X25519PublicKey:
    """The public key of `idstore-recipient-1:<base64url>`. Raises RecipientKeyError."""
    key = X25519PublicKey.from_public_bytes(_key_from_text(text, RECIPIENT_PREFIX, "recipient"))
    try:
        # A low-order point (all zeros, say) would give every file the same, public, shared key.
        X25519PrivateKey.generate().exchange(key)
    except ValueError as exc:
        raise RecipientKeyError("the recipient is not a usable X25519 public key") from exc
    return key


def recipient_text(key: X25519PublicKey) -> str:
    return RECIPIENT_PREFIX + encode(_raw_public(key))


@dataclass(frozen=True)
class Identity:
    """A recipient's private key: what opens the exports sealed to its public key."""

    private_key: X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> Identity:
        return cls(X25519PrivateKey.generate())

    @property
    def recipient(self) -> str:
        """The public key in text form, to give to whoever exports."""
        return recipient_text(self.private_key.public_key())

    def file_text(self) -> str:
        """The private key file: the key, and the public key as a comment to recover it by."""
        raw = self.private_key.private_bytes_raw()
        return f"# public key: {self.recipient}\n{IDENTITY_PREFIX}{encode(raw)}\n"

    @classmethod
    def read(cls, path: Path) -> Identity:
        """Read a private key file. Raises RecipientKeyError, or OSError when it cannot be read."""
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        keys = [line for line in lines if line and not line.startswith("#")]
        if len(keys) != 1:
            raise RecipientKeyError("a private key file holds exactly one idstore-identity-1 key")
        raw = _key_from_text(keys[0], IDENTITY_PREFIX, "private key")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def write_new(self, path: Path) -> None:
        """Write the private key file, mode 0600, whole or not at all. Raises FileExistsError
        rather than replace."""
        with private_text_file(path, replace=False) as key_file:
            key_file.write(self.file_text())


@dataclass(frozen=True)
class FileKeys:
    """The keys of one export file: AES-256-GCM for its secrets, HMAC-SHA256 for its bytes."""

    seal_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)
    ephemeral_public: bytes
    recipient: str

    @classmethod
    def for_recipient(cls, recipient: X25519PublicKey) -> FileKeys:
        """Fresh keys for a new file, from a new ephemeral key pair (whose private half is
        dropped here: only the recipient can derive these keys again)."""
        ephemeral = X25519PrivateKey.generate()
        shared = ephemeral.exchange(recipient)
        return cls._derive(shared, _raw_public(ephemeral.public_key()), recipient)

    @classmethod
    def for_identity(cls, identity: Identity, ephemeral_public: bytes) -> FileKeys:
        """The keys of a file whose header carries `ephemeral_public`, as its recipient sees them.
        Raises ValueError when the ephemeral key is not a usable X25519 public key."""
        if len(ephemeral_public) != _KEY_BYTES:
            raise ValueError("the ephemeral public key is not 32 bytes")
        peer = X25519PublicKey.from_public_bytes(ephemeral_public)
        shared = identity.private_key.exchange(peer)
        return cls._derive(shared, ephemeral_public, identity.private_key.public_key())

    @classmethod
    def _derive(
        cls, shared: bytes, ephemeral_public: bytes, recipient: X25519PublicKey
    ) -> FileKeys:
        # Both public keys go into the derivation, so the keys belong to this exchange alone.
        recipient_raw = _raw_public(recipient)
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=2 * _KEY_BYTES,
            salt=ephemeral_public + recipient_raw,
            info=_DERIVATION_INFO,
        )
        derived = hkdf.derive(shared)
        return cls(
            seal_key=derived[:_KEY_BYTES],
            mac_key=derived[_KEY_BYTES:],
            ephemeral_public=ephemeral_public,
            recipient=recipient_text(recipient),
        )

    def key_check(self) -> str:
        """A value in the header that tells a wrong private key apart from a tampered file."""
        return encode(hmac.new(self.mac_key, _KEY_CHECK, hashlib.sha256).digest())

    def is_key_check(self, value: str) -> bool:
        return hmac.compare_digest(self.key_check().encode(), value.encode())

    def seal(self, plaintext: bytes, *, binding: str) -> str:
        """Seal one secret; `binding` names the field it belongs to (the associated data)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self.seal_key).encrypt(nonce, plaintext, binding.encode())
        return encode(nonce + sealed)

    def open(self, sealed_text: str, *, binding: str) -> bytes:
        """Open one sealed field. Raises SealedFieldBroken when it fails authentication."""
        try:
            sealed = decode(sealed_text)
        except ValueError as exc:
            raise SealedFieldBroken("the sealed value is not base64url") from exc
        if len(sealed) < _NONCE_BYTES + 16:
            raise SealedFieldBroken("the sealed value is truncated")
        try:
            cipher = AESGCM(self.seal_key)
            return cipher.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], binding.encode())
        except InvalidTag as exc:
            raise SealedFieldBroken("the sealed value failed authentication") from exc

    def file_mac(self) -> hmac.HMAC:
        """A running HMAC over the file's bytes; its digest ends the file."""
        return hmac.new(self.mac_key, digestmod=hashlib.sha256)
