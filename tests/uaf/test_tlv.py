"""The UAFV1TLV reader on hand-made bytes: lengths, nesting, unknown and repeated tags."""

from __future__ import annotations

import struct

import pytest

from idstore.uaf import UafCode
from idstore.uaf.tlv import Element, Tag, encode, encode_nested, peek_tag, read
from tests.support.uaf_authenticator import tlv
from tests.uaf.conftest import refusal

MALFORMED = UafCode.MALFORMED_AUTHENTICATION


def surrogate(*children: bytes) -> bytes:
    return tlv(Tag.ATTESTATION_BASIC_SURROGATE, *children)


def read_surrogate(data: bytes) -> Element:
    return read(data, expected=Tag.ATTESTATION_BASIC_SURROGATE, error_code=MALFORMED)


def test_the_writer_puts_tag_and_length_little_endian() -> None:
    assert encode(Tag.KEYID, b"\x01\x02\x03") == b"\x09\x2e\x03\x00\x01\x02\x03"
    assert encode_nested(Tag.ATTESTATION_BASIC_SURROGATE, encode(Tag.SIGNATURE, b"")) == (
        b"\x08\x3e\x04\x00\x06\x2e\x00\x00"
    )
    with pytest.raises(ValueError, match="65535"):
        encode(Tag.KEYID, bytes(65536))


def test_a_nested_element_is_read_with_its_exact_encoding() -> None:
    data = surrogate(tlv(Tag.SIGNATURE, b"sig"))

    element = read(data, expected=Tag.ATTESTATION_BASIC_SURROGATE, error_code=MALFORMED)

    assert element.encoded == data
    assert element.one(Tag.SIGNATURE).value == b"sig"
    assert element.one(Tag.SIGNATURE).encoded == b"\x06\x2e\x03\x00sig"
    assert element.optional(Tag.KEYID) is None


def test_an_element_of_65535_bytes_is_read() -> None:
    data = tlv(Tag.SIGNATURE, bytes(65531))

    element = read_surrogate(surrogate(data))

    assert len(element.one(Tag.SIGNATURE).value) == 65531


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x08\x3e\x04", "header cut short"),
        (surrogate(tlv(Tag.SIGNATURE, b"sig")) + b"\x00", "a trailing byte"),
        (surrogate(tlv(Tag.SIGNATURE, b"sig")) + tlv(Tag.SIGNATURE, b""), "a second element"),
        (
            struct.pack("<HH", Tag.ATTESTATION_BASIC_SURROGATE, 9) + tlv(Tag.SIGNATURE, b"sig"),
            "outer length too long",
        ),
        (
            struct.pack("<HH", Tag.ATTESTATION_BASIC_SURROGATE, 6) + tlv(Tag.SIGNATURE, b"sig"),
            "outer length too short",
        ),
        (surrogate(struct.pack("<HH", Tag.SIGNATURE, 4) + b"sig"), "inner length past its parent"),
        (surrogate(tlv(Tag.SIGNATURE, b"a"), tlv(Tag.SIGNATURE, b"b")), "a repeated tag"),
        (surrogate(), "a missing mandatory tag"),
        (surrogate(tlv(Tag.SIGNATURE, b"sig"), tlv(0x2EFF, b"")), "an unknown tag"),
        (surrogate(tlv(Tag.SIGNATURE, b"sig"), tlv(Tag.KEYID, b"k")), "a known tag out of place"),
        (tlv(Tag.ATTESTATION_BASIC_FULL, tlv(Tag.SIGNATURE, b"s")), "another top tag"),
    ],
)
def test_a_deviation_is_refused_with_the_callers_code(data: bytes, why: str) -> None:
    assert refusal(lambda: read_surrogate(data)) == MALFORMED, why


def test_the_refusal_code_is_the_callers() -> None:
    code = UafCode.MALFORMED_REGISTRATION

    assert refusal(lambda: read(b"\x00", expected=Tag.UAFV1_KRD, error_code=code)) == code


def test_peek_tag_reads_the_first_tag_only_when_there_is_one() -> None:
    assert peek_tag(b"\x01\x3e\xff") == Tag.UAFV1_REG_ASSERTION
    assert peek_tag(b"\x01") is None
