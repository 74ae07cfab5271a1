"""API keys: random, shown once, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from idstore.crypto.keyring import KeyRing

API_KEY_PREFIX = "idsk_"
MIN_API_KEY_LENGTH = 32


def generate_api_key() -> str:
    """A new key: 256 random bits, URL-safe, with a prefix that secret scanners can recognise."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def lookup_id(api_key: str) -> str:
    """The handle a key is found by; keys carry 256 bits, so a plain digest reveals nothing."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


def hash_api_key(ring: KeyRing, api_key: str, *, key_id: str | None = None) -> tuple[str, bytes]:
    """The keyed hash stored for a key, and the ring key id it was made with."""
    key_id = key_id or ring.current_key_id
    digest = hmac.new(ring.subkey(key_id, "api-key"), api_key.encode(), hashlib.sha256).digest()
    return key_id, digest


def api_key_matches(ring: KeyRing, api_key: str, *, key_id: str, stored_hash: bytes) -> bool:
    """Compare a presented key with its stored hash in constant time."""
    try:
        _, digest = hash_api_key(ring, api_key, key_id=key_id)
    except KeyError:
        return False
    return hmac.compare_digest(digest, stored_hash)
