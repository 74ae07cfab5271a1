"""UAFV1TLV: the tag-length-value encoding of UAF 1.1 assertions, read strictly and written.

Each element is a 2-byte tag, a 2-byte length and that many bytes of value, both numbers
little-endian (UAF Authenticator Commands 1.1, UAFV1TLV). Composite tags hold further elements;
which tags a composite may hold, and how often, is the schema below, taken from the
registration and authentication assertion layouts of the same section. Anything else (an
unknown or repeated tag, a missing mandatory one, a length running past its parent, bytes
left over) is refused with the caller's "malformed" code.
"""

import enum
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from idstore.uaf.errors import UafCode, UafError

_HEADER = struct.Struct("<HH")
MAX_LENGTH = 0xFFFF


class Tag(enum.IntEnum):
    """The UAF 1.1 tags an assertion may carry (UAF Authenticator Commands, Tags)."""

    UAFV1_REG_ASSERTION = 0x3E01
    UAFV1_AUTH_ASSERTION = 0x3E02
    UAFV1_KRD = 0x3E03
    UAFV1_SIGNED_DATA = 0x3E04
    ATTESTATION_CERT = 0x2E05
    SIGNATURE = 0x2E06
    ATTESTATION_BASIC_FULL = 0x3E07
    ATTESTATION_BASIC_SURROGATE = 0x3E08
    KEYID = 0x2E09
    FINAL_CHALLENGE_HASH = 0x2E0A
    AAID = 0x2E0B
    PUB_KEY = 0x2E0C
    COUNTERS = 0x2E0D
    ASSERTION_INFO = 0x2E0E
    AUTHENTICATOR_NONCE = 0x2E0F
    TRANSACTION_CONTENT_HASH = 0x2E10
    EXTENSION = 0x3E11
    EXTENSION_NON_CRITICAL = 0x3E12
    EXTENSION_ID = 0x2E13
    EXTENSION_DATA = 0x2E14


_MANY = MAX_LENGTH  # no count limit beyond what fits in the parent
# UAF sets no number; a bound keeps thousands of tiny extensions from costing a server time.
MAX_EXTENSIONS = 16
_EXTENSIONS = {Tag.EXTENSION: (0, MAX_EXTENSIONS), Tag.EXTENSION_NON_CRITICAL: (0, MAX_EXTENSIONS)}

# For each composite tag: child tag -> (fewest, most) occurrences.
SCHEMA: Mapping[Tag, Mapping[Tag, tuple[int, int]]] = {
    Tag.UAFV1_REG_ASSERTION: {
        Tag.UAFV1_KRD: (1, 1),
        Tag.ATTESTATION_BASIC_FULL: (0, 1),
        Tag.ATTESTATION_BASIC_SURROGATE: (0, 1),
        **_EXTENSIONS,
    },
    Tag.UAFV1_KRD: {
        Tag.AAID: (1, 1),
        Tag.ASSERTION_INFO: (1, 1),
        Tag.FINAL_CHALLENGE_HASH: (1, 1),
        Tag.KEYID: (1, 1),
        Tag.COUNTERS: (1, 1),
        Tag.PUB_KEY: (1, 1),
        **_EXTENSIONS,
    },
    Tag.ATTESTATION_BASIC_FULL: {Tag.SIGNATURE: (1, 1), Tag.ATTESTATION_CERT: (1, _MANY)},
    Tag.ATTESTATION_BASIC_SURROGATE: {Tag.SIGNATURE: (1, 1)},
    Tag.UAFV1_AUTH_ASSERTION: {
        Tag.UAFV1_SIGNED_DATA: (1, 1),
        Tag.SIGNATURE: (1, 1),
        **_EXTENSIONS,
    },
    Tag.UAFV1_SIGNED_DATA: {
        Tag.AAID: (1, 1),
        Tag.ASSERTION_INFO: (1, 1),
        Tag.AUTHENTICATOR_NONCE: (1, 1),
        Tag.FINAL_CHALLENGE_HASH: (1, 1),
        Tag.TRANSACTION_CONTENT_HASH: (1, 1),
        Tag.KEYID: (1, 1),
        Tag.COUNTERS: (1, 1),
        **_EXTENSIONS,
    },
    Tag.EXTENSION: {Tag.EXTENSION_ID: (1, 1), Tag.EXTENSION_DATA: (0, 1)},
    Tag.EXTENSION_NON_CRITICAL: {Tag.EXTENSION_ID: (1, 1), Tag.EXTENSION_DATA: (0, 1)},
}


@dataclass(frozen=True)
class Element:
    """One read element: its value and, for signatures, its exact encoding as received."""

    tag: Tag
    value: bytes
    encoded: bytes
    children: tuple["Element", ...] = ()

    def one(self, tag: Tag) -> "Element":
        """The child with `tag`; the schema has made sure there is exactly one."""
        return next(child for child in self.children if child.tag == tag)

    def optional(self, tag: Tag) -> "Element | None":
        """The child with `tag`, or None when the schema allowed it to be absent."""
        return next((child for child in self.children if child.tag == tag), None)

    def every(self, tag: Tag) -> tuple["Element", ...]:
        """All children with `tag`, in the order received."""
        return tuple(child for child in self.children if child.tag == tag)


def peek_tag(data: bytes) -> int | None:
    """The first tag of `data`, or None when it holds fewer than two bytes."""
    if len(data) < 2:
        return None
    return int.from_bytes(data[:2], "little")


def read(data: bytes, *, expected: Tag, error_code: UafCode) -> Element:
    """Read `data` as exactly one element with tag `expected`, checked against the schema.

    Raises UafError(error_code) for every deviation: a short header, a length past the end,
    trailing bytes, a different top tag, an unknown, repeated or missing child tag.
    """
    elements = _split(data, error_code, where="assertion")
    if len(elements) != 1:
        raise UafError(error_code, "the assertion must be one TLV element with nothing after it")
    tag, value, encoded = elements[0]
    if tag != expected:
        raise UafError(error_code, f"expected tag {expected.name}, found 0x{tag:04X}")
    return _element(expected, value, encoded, error_code)


def _element(tag: Tag, value: bytes, encoded: bytes, error_code: UafCode) -> Element:
    schema = SCHEMA.get(tag)
    if schema is None:
        return Element(tag, value, encoded)

    counts = dict.fromkeys(schema, 0)
    children = []
    for child_tag, child_value, child_encoded in _split(value, error_code, where=tag.name):
        if child_tag not in schema:
            raise UafError(error_code, f"tag 0x{child_tag:04X} is not allowed in {tag.name}")
        known = Tag(child_tag)
        counts[known] += 1
        if counts[known] > schema[known][1]:
            raise UafError(error_code, f"{known.name} is repeated in {tag.name}")
        children.append(_element(known, child_value, child_encoded, error_code))

    for child_tag, (fewest, _) in schema.items():
        if counts[child_tag] < fewest:
            raise UafError(error_code, f"{tag.name} lacks {child_tag.name}")
    return Element(tag, value, encoded, tuple(children))


def _split(data: bytes, error_code: UafCode, *, where: str) -> list[tuple[int, bytes, bytes]]:
    """Cut `data` into (tag, value, encoding) triples, each length checked against the rest."""
    elements = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise UafError(error_code, f"a TLV header in {where} is cut short")
        tag, length = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        if length > len(data) - start:
            raise UafError(error_code, f"a TLV length in {where} runs past its end")
        elements.append((tag, data[start : start + length], data[offset : start + length]))
        offset = start + length
    return elements


def encode(tag: int, value: bytes) -> bytes:
    """Encode one element. Raises ValueError when `value` exceeds 65535 bytes."""
    if len(value) > MAX_LENGTH:
        raise ValueError("a TLV value holds at most 65535 bytes")
    return _HEADER.pack(tag, len(value)) + value


def encode_nested(tag: int, *children: bytes) -> bytes:
    """Encode a composite element from already encoded children."""
    return encode(tag, b"".join(children))
