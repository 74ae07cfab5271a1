"""The key ring: named 256-bit keys that seal secrets at rest with AES-256-GCM.

The first key seals; every key opens, so that `idstore rotate-keys` can re-seal while the service
keeps answering. Each purpose (sealing, token signing, API key hashing) gets its own subkey derived
with HKDF, so no raw ring key is ever used for two jobs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
_NONCE_BYTES = 12
_FORMAT_VERSION = b"\x01"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyRingError(ValueError):
    """The key ring configuration cannot be used (malformed entry, short key, no key)."""


class SealBroken(Exception):
    """A sealed value does not open: altered, sealed under a key not in the ring, or truncated."""


@dataclass(frozen=True)
class KeyRing:
    """Ordered (key id, key) pairs; the first seals, all open."""

    keys: tuple[tuple[str, bytes], ...]
    _by_id: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("the key ring holds no key")
        for key_id, key in self.keys:
            if not _KEY_ID.fullmatch(key_id):
                raise KeyRingError(f"key id {key_id!r} is not 1-32 of A-Za-z0-9_-")
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"key {key_id} is {len(key)} bytes, not {KEY_BYTES}")
        object.__setattr__(self, "_by_id", dict(self.keys))

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={[key_id for key_id, _ in self.keys]})"

    @property
    def current_key_id(self) -> str:
        return self.keys[0][0]

    def subkey(self, key_id: str, purpose: str) -> bytes:
        """The key for one purpose derived from ring key `key_id`; KeyError if it is absent."""
        return _derive(self._by_id[key_id], purpose)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt with the current key, bound to `context` (the owning row's id)."""
        key_id = self.current_key_id
        nonce = secrets.token_bytes(_NONCE_BYTES)
        cipher = _cipher(self.subkey(key_id, "seal"))
        header = _FORMAT_VERSION + bytes([len(key_id)]) + key_id.encode()
        return header + nonce + cipher.encrypt(nonce, plaintext, _aad(header, context))

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """Decrypt a sealed value. Raises SealBroken if it was altered, moved or its key is gone."""
        key_id, header, body = _split(sealed)
        if key_id not in self._by_id:
            raise SealBroken(f"sealed under key {key_id!r}, which is not in the key ring")

        cipher = _cipher(self.subkey(key_id, "seal"))
        try:
            return cipher.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], _aad(header, context))
        except InvalidTag as exc:
            raise SealBroken("sealed value failed authentication") from exc

    def sealed_key_id(self, sealed: bytes) -> str:
        """Which ring key sealed this value (for rotation)."""
        return _split(sealed)[0]


@cache
def _derive(key: bytes, purpose: str) -> bytes:
    # Derived once per process and purpose: HKDF on every request would sit on the hot path.
    info = b"idstore " + purpose.encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info)
    return hkdf.derive(key)


@cache
def _cipher(key: bytes) -> AESGCM:
    # One per key, like the key itself: every attempt opens a secret, and building the cipher
    # expands its key schedule each time.
    return AESGCM(key)


def _aad(header: bytes, context: str) -> bytes:
    return header + b"|" + context.encode()


def _split(sealed: bytes) -> tuple[str, bytes, bytes]:
    if len(sealed) < 2 or sealed[:1] != _FORMAT_VERSION:
        raise SealBroken("not a sealed value of a known format")
    id_length = sealed[1]
    header = sealed[: 2 + id_length]
    body = sealed[2 + id_length :]
    if len(body) < _NONCE_BYTES + 16:
        raise SealBroken("sealed value is truncated")
    return header[2:].decode("ascii", errors="replace"), header, body


def parse_key_ring(text: str) -> KeyRing:
    """Parse `id:base64key` entries separated by commas or new lines (the first seals)."""
    keys = []
    for entry in re.split(r"[,\n]", text):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            raise KeyRingError("a key ring entry is not of the form id:base64key")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise KeyRingError(f"key {key_id.strip()} is not valid base64") from exc
        keys.append((key_id.strip(), key))
    return KeyRing(tuple(keys))


def format_key_ring(ring: KeyRing) -> str:
    return "".join(f"{key_id}:{base64.b64encode(key).decode()}\n" for key_id, key in ring.keys)


def new_key_id(existing: KeyRing | None = None) -> str:
    """A random id, so that key rings made apart never share an id for different keys."""
    taken = {key_id for key_id, _ in existing.keys} if existing else set()
    while (key_id := "k" + secrets.token_hex(4)) in taken:
        pass
    return key_id


def load_or_create_key_file(path: Path) -> KeyRing:
    """Read the key file, creating it (mode 0600, one fresh key) when it does not exist yet."""
    try:
        return parse_key_ring(path.read_text())
    except FileNotFoundError:
        pass

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    ring = KeyRing(((new_key_id(), secrets.token_bytes(KEY_BYTES)),))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our create: use theirs.
        return parse_key_ring(path.read_text())
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(format_key_ring(ring))
    return ring
