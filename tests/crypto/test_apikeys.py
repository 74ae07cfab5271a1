"""API keys are random, stored as a keyed hash, and compared in constant time."""

from __future__ import annotations

from idstore.crypto.apikeys import api_key_matches, generate_api_key, hash_api_key, lookup_id
from idstore.crypto.keyring import KeyRing

RING = KeyRing((("k1", bytes(range(32))),))


def test_keys_carry_at_least_256_random_bits() -> None:
    keys = {generate_api_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(key.startswith("idsk_") and len(key) >= 5 + 43 for key in keys)


def test_the_stored_hash_matches_only_its_key() -> None:
    key = generate_api_key()
    key_id, digest = hash_api_key(RING, key)

    assert api_key_matches(RING, key, key_id=key_id, stored_hash=digest)
    assert not api_key_matches(RING, key + "x", key_id=key_id, stored_hash=digest)
    assert key.encode() not in digest


def test_a_hash_made_with_a_key_not_in_the_ring_never_matches() -> None:
    key = generate_api_key()
    _, digest = hash_api_key(RING, key)
    assert not api_key_matches(RING, key, key_id="gone", stored_hash=digest)


def test_the_hash_is_keyed_by_the_ring() -> None:
    key = generate_api_key()
    other = KeyRing((("k1", bytes(32)),))
    assert hash_api_key(RING, key)[1] != hash_api_key(other, key)[1]
    assert lookup_id(key) == lookup_id(key) and len(lookup_id(key)) == 32
