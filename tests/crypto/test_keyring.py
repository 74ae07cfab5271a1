"""The key ring seals with the first key, opens with any, and fails closed on tampering."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from idstore.crypto.keyring import (
    KeyRing,
    KeyRingError,
    SealBroken,
    format_key_ring,
    load_or_create_key_file,
    parse_key_ring,
)

OLD = ("k1", bytes(32))
NEW = ("k2", bytes(range(32)))


def test_a_sealed_secret_opens_with_the_same_context() -> None:
    ring = KeyRing((NEW, OLD))
    sealed = ring.seal(b"12345678901234567890", context="row-1")

    assert ring.open(sealed, context="row-1") == b"12345678901234567890"
    assert b"12345678901234567890" not in sealed
    assert ring.sealed_key_id(sealed) == "k2"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    ring = KeyRing((NEW,))
    assert ring.seal(b"secret", context="a") != ring.seal(b"secret", context="a")


def test_a_value_sealed_under_an_older_key_still_opens_after_rotation() -> None:
    sealed = KeyRing((OLD,)).seal(b"secret", context="row")
    assert KeyRing((NEW, OLD)).open(sealed, context="row") == b"secret"


def test_a_value_moved_to_another_row_does_not_open() -> None:
    ring = KeyRing((NEW,))
    sealed = ring.seal(b"secret", context="row-1")
    with pytest.raises(SealBroken):
        ring.open(sealed, context="row-2")


@pytest.mark.parametrize("position", [0, 1, 5, 20, -1])
def test_any_altered_byte_fails_closed(position: int) -> None:
    ring = KeyRing((NEW,))
    sealed = bytearray(ring.seal(b"secret", context="row"))
    sealed[position] ^= 0x01
    with pytest.raises(SealBroken):
        ring.open(bytes(sealed), context="row")


def test_a_ring_without_the_sealing_key_yields_nothing() -> None:
    sealed = KeyRing((NEW,)).seal(b"secret", context="row")
    with pytest.raises(SealBroken, match="not in the key ring"):
        KeyRing((OLD,)).open(sealed, context="row")


def test_truncated_values_fail_closed() -> None:
    ring = KeyRing((NEW,))
    sealed = ring.seal(b"secret", context="row")
    for length in (0, 1, 3, len(sealed) - 17):
        with pytest.raises(SealBroken):
            ring.open(sealed[:length], context="row")


def test_key_ring_text_round_trips_in_order() -> None:
    ring = KeyRing((NEW, OLD))
    assert parse_key_ring(format_key_ring(ring)) == ring
    text = f"k2:{base64.b64encode(NEW[1]).decode()}, k1:{base64.b64encode(OLD[1]).decode()}"
    assert parse_key_ring(text).current_key_id == "k2"


@pytest.mark.parametrize(
    "text",
    ["", "k1", "k1:not-base64!", f"k1:{base64.b64encode(bytes(16)).decode()}", "bad id:AAAA"],
)
def test_malformed_key_rings_are_refused(text: str) -> None:
    with pytest.raises(KeyRingError):
        parse_key_ring(text)


def test_repr_never_shows_key_material() -> None:
    assert repr(KeyRing((NEW,))) == "KeyRing(key_ids=['k2'])"


def test_the_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keyring"
    first = load_or_create_key_file(path)
    second = load_or_create_key_file(path)

    assert first == second
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
