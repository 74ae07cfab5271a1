"""PSKC (RFC 6030) files: plain secrets, pre-shared-key encryption, and XML that is refused."""

from __future__ import annotations

import pytest

from idstore.otp import Algorithm
from idstore.transfer.pskc import PskcUnreadable, parse_key
from idstore.transfer.totp_files import read_totp_file
from idstore.transfer.totp_records import Format, ImportedTotp, Refusal, TotpDefaults
from tests.transfer.pskc_files import HMAC_SHA1, HOTP, PskcKey, container

DEFAULTS = TotpDefaults(algorithm=Algorithm.SHA1, digits=6, period=30, issuer="Policy Issuer")
SECRET = b"12345678901234567890"
PRE_SHARED_KEY = bytes.fromhex("12345678901234567890123456789012")


def _read(text: str, key: bytes | None = None) -> list[ImportedTotp | Refusal]:
    return read_totp_file(text, Format.PSKC, DEFAULTS, pskc_key=key)


def test_a_plain_pskc_totp_gives_user_secret_digits_period_suite_and_issuer() -> None:
    keys = [
        PskcKey("alice", SECRET, digits=8, period=60, suite="HMAC-SHA256", issuer="Token Co"),
        PskcKey("bob", SECRET),
    ]

    alice, bob = _read(container(keys))

    assert isinstance(alice, ImportedTotp) and isinstance(bob, ImportedTotp)
    assert (alice.external_id, alice.secret, alice.digits, alice.period) == (
        "alice",
        SECRET,
        8,
        60,
    )
    assert (alice.algorithm, alice.issuer) == (Algorithm.SHA256, "Token Co")
    assert (bob.algorithm, bob.issuer, bob.where) == (
        Algorithm.SHA1,
        "Policy Issuer",
        "key package 2",
    )


@pytest.mark.parametrize("mac", [HMAC_SHA1, "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"])
def test_an_encrypted_pskc_file_reads_with_its_pre_shared_key(mac: str) -> None:
    text = container([PskcKey("alice", SECRET)], pre_shared_key=PRE_SHARED_KEY, mac_algorithm=mac)

    (alice,) = _read(text, PRE_SHARED_KEY)

    assert isinstance(alice, ImportedTotp) and alice.secret == SECRET


def test_an_encrypted_pskc_file_without_a_key_says_it_needs_one() -> None:
    text = container([PskcKey("alice", SECRET)], pre_shared_key=PRE_SHARED_KEY)

    with pytest.raises(PskcUnreadable, match="--pskc-key"):
        _read(text)


def test_a_wrong_pre_shared_key_makes_the_whole_file_unreadable() -> None:
    text = container([PskcKey("alice", SECRET)], pre_shared_key=PRE_SHARED_KEY, mac_key=b"m" * 20)

    with pytest.raises(PskcUnreadable, match="the MAC key does not decrypt: a wrong --pskc-key"):
        _read(text, bytes(16))


def test_an_altered_encrypted_secret_fails_its_mac_and_is_refused() -> None:
    keys = [PskcKey("alice", SECRET), PskcKey("bob", SECRET)]
    text = container(keys, pre_shared_key=PRE_SHARED_KEY)
    first = text.index("<EncryptedValue>")
    start = text.index("<xenc:CipherValue>", first) + len("<xenc:CipherValue>")
    flipped = "B" if text[start] != "B" else "C"
    altered = text[:start] + flipped + text[start + 1 :]

    alice, bob = _read(altered, PRE_SHARED_KEY)

    assert alice == Refusal(
        "key package 1", "alice", "the secret fails its MAC: a wrong --pskc-key, or an altered file"
    )
    assert isinstance(bob, ImportedTotp) and bob.secret == SECRET


def test_keys_that_are_not_totp_or_name_no_user_are_refused_one_by_one() -> None:
    keys = [PskcKey("alice", SECRET, algorithm=HOTP), PskcKey(None, SECRET), PskcKey("c", SECRET)]

    hotp, unassigned, carol = _read(container(keys))

    assert isinstance(hotp, Refusal) and "not a TOTP key" in hotp.reason
    assert isinstance(unassigned, Refusal) and "UserId" in unassigned.reason
    assert isinstance(carol, ImportedTotp)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&lol3;</KeyContainer>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE k [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
    '<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><Key>'
    "<UserId>&leak;</UserId></Key></KeyPackage></KeyContainer>"
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BILLION_LAUGHS, "DTDs or entities"),
        (EXTERNAL_ENTITY, "DTDs or entities"),
        ("<KeyContainer><unclosed></KeyContainer>", "not well-formed"),
        ("<html/>", "not a PSKC KeyContainer"),
    ],
    ids=["billion-laughs", "external-entity", "malformed", "not-pskc"],
)
def test_unsafe_or_foreign_xml_is_refused_as_a_whole(text: str, reason: str) -> None:
    with pytest.raises(PskcUnreadable, match=reason):
        _read(text)


def test_the_pre_shared_key_is_read_as_hex() -> None:
    assert parse_key("1234 5678 9012 3456 7890 1234 5678 9012") == PRE_SHARED_KEY
    with pytest.raises(ValueError, match="hexadecimal"):
        parse_key("not hex")
