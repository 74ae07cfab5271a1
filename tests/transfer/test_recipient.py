"""Sealing to a recipient: only the private key opens, and only for the field it was sealed for."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from idstore.transfer.recipient import (
    FileKeys,
    Identity,
    RecipientKeyError,
    SealedFieldBroken,
    decode,
    encode,
    parse_recipient,
)

SECRET = b"12345678901234567890"
BINDING = "idstore-export/1|totp.secret|store|user|totp"


def sealed_for(identity: Identity) -> tuple[FileKeys, str]:
    keys = FileKeys.for_recipient(parse_recipient(identity.recipient))
    return keys, keys.seal(SECRET, binding=BINDING)


def test_the_recipient_derives_the_senders_keys_and_opens_the_secret() -> None:
    identity = Identity.generate()
    sender, sealed = sealed_for(identity)

    keys = FileKeys.for_identity(identity, sender.ephemeral_public)

    assert keys.open(sealed, binding=BINDING) == SECRET
    assert keys.is_key_check(sender.key_check())
    assert SECRET not in decode(sealed)


def test_another_private_key_neither_passes_the_key_check_nor_opens() -> None:
    sender, sealed = sealed_for(Identity.generate())

    stranger = FileKeys.for_identity(Identity.generate(), sender.ephemeral_public)

    assert not stranger.is_key_check(sender.key_check())
    with pytest.raises(SealedFieldBroken):
        stranger.open(sealed, binding=BINDING)


def test_a_secret_moved_to_another_user_does_not_open() -> None:
    identity = Identity.generate()
    sender, sealed = sealed_for(identity)
    keys = FileKeys.for_identity(identity, sender.ephemeral_public)

    with pytest.raises(SealedFieldBroken):
        keys.open(sealed, binding=BINDING.replace("|user|", "|other-user|"))


@pytest.mark.parametrize("position", [0, 11, 12, 30, -1])
def test_any_altered_byte_of_a_sealed_value_is_refused(position: int) -> None:
    identity = Identity.generate()
    sender, sealed = sealed_for(identity)
    raw = bytearray(decode(sealed))
    raw[position] ^= 0x01

    with pytest.raises(SealedFieldBroken):
        sender.open(encode(bytes(raw)), binding=BINDING)


def test_two_seals_of_one_secret_differ() -> None:
    keys, first = sealed_for(Identity.generate())

    assert keys.seal(SECRET, binding=BINDING) != first


def test_the_private_key_file_is_0600_and_reads_back(tmp_path: Path) -> None:
    identity = Identity.generate()
    path = tmp_path / "recipient.key"

    identity.write_new(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Identity.read(path).recipient == identity.recipient
    assert identity.recipient in path.read_text()  # the public key, as a comment
    with pytest.raises(FileExistsError):
        Identity.generate().write_new(path)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "idstore-identity-1:" + encode(bytes(32)),
        "idstore-recipient-1:" + encode(bytes(31)),
        "idstore-recipient-1:" + encode(bytes(32)),  # a low-order point
        "idstore-recipient-1:not*base64",
    ],
)
def test_a_malformed_recipient_is_refused(text: str) -> None:
    with pytest.raises(RecipientKeyError):
        parse_recipient(text)


def test_a_private_key_file_without_exactly_one_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.key"
    path.write_text(Identity.generate().file_text() + Identity.generate().file_text())

    with pytest.raises(RecipientKeyError):
        Identity.read(path)
