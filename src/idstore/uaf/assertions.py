"""The UAFV1TLV registration and authentication assertions, read into typed values.

Layouts from UAF Authenticator Commands 1.1, Register command (registration: TAG_UAFV1_REG_ASSERTION
holding the signed key registration data and its attestation) and Sign command (authentication:
TAG_UAFV1_AUTH_ASSERTION holding the signed data and its signature). `tlv.read` checks the
nesting; this module checks each value's length and meaning.
"""

import re
import struct
from dataclasses import dataclass
from typing import Literal

from idstore.uaf import tlv
from idstore.uaf.errors import UafCode, UafError
from idstore.uaf.tlv import Element, Tag

AttestationType = Literal["BASIC_FULL", "BASIC_SURROGATE"]

KEY_TYPE_EXTENSION = "idstore.keyType"
UNDERSTOOD_EXTENSIONS = frozenset({KEY_TYPE_EXTENSION})

_AAID = re.compile(r"[0-9A-Fa-f]{4}#[0-9A-Fa-f]{4}")
_HASH_LENGTH = 32  # SHA-256, the hash of every supported algorithm
# UAF allows key ids of up to 2048 bytes; the store keeps their base64url in 512 characters
# (user_appkeys.key_id, under PostgreSQL's limit for the unique index it is part of), which hold
# 384 bytes. A longer one is refused as malformed on every engine, never left to the column.
_MAX_KEY_ID = 384
_NONCE_LENGTHS = range(8, 65)
_MAX_EXTENSION_ID = 32
# Authentication modes of ASSERTION_INFO: the user was verified; or verified and shown a
# transaction text (UAF Authenticator Commands 1.1, Sign command).
MODE_USER_VERIFIED = 0x01
MODE_TRANSACTION_SHOWN = 0x02
_REG_INFO = struct.Struct("<HBHH")
_AUTH_INFO = struct.Struct("<HBH")
_REG_COUNTERS = struct.Struct("<II")
_AUTH_COUNTERS = struct.Struct("<I")


@dataclass(frozen=True)
class Extension:
    """A UAF extension carried in an assertion; `critical` ones must be understood."""

    extension_id: str
    data: bytes
    is_critical: bool


@dataclass(frozen=True)
class RegistrationAssertion:
    """A read TAG_UAFV1_REG_ASSERTION; nothing in it is verified yet."""

    aaid: str
    authenticator_version: int
    authentication_mode: int
    signature_algorithm: int
    public_key_encoding: int
    final_challenge_hash: bytes
    key_id: bytes
    sign_counter: int
    registration_counter: int
    public_key: bytes
    extensions: tuple[Extension, ...]
    signed_data: bytes
    attestation_type: AttestationType
    signature: bytes
    certificates: tuple[bytes, ...]


@dataclass(frozen=True)
class AuthenticationAssertion:
    """A read TAG_UAFV1_AUTH_ASSERTION; nothing in it is verified yet."""

    aaid: str
    authenticator_version: int
    authentication_mode: int
    signature_algorithm: int
    authenticator_nonce: bytes
    final_challenge_hash: bytes
    transaction_content_hash: bytes
    key_id: bytes
    sign_counter: int
    extensions: tuple[Extension, ...]
    signed_data: bytes
    signature: bytes


def read_registration_assertion(data: bytes) -> RegistrationAssertion:
    """Read the TLV bytes of a registration assertion.

    Raises UafError 3716 when they hold an authentication assertion, 3711 for any other
    deviation from the layout.
    """
    malformed = UafCode.MALFORMED_REGISTRATION
    root = _root(data, Tag.UAFV1_REG_ASSERTION, malformed)
    krd = root.one(Tag.UAFV1_KRD)

    version, mode, signature_algorithm, key_encoding = _unpack(
        _REG_INFO, krd.one(Tag.ASSERTION_INFO), malformed
    )
    if mode != MODE_USER_VERIFIED:
        raise UafError(malformed, "a registration must report authentication mode 0x01")
    sign_counter, registration_counter = _unpack(_REG_COUNTERS, krd.one(Tag.COUNTERS), malformed)
    attestation_type, attestation = _attestation(root, malformed)
    _extensions(root, malformed)  # unsigned ones: checked for critical ids, then unused

    return RegistrationAssertion(
        aaid=_aaid(krd, malformed),
        authenticator_version=version,
        authentication_mode=mode,
        signature_algorithm=signature_algorithm,
        public_key_encoding=key_encoding,
        final_challenge_hash=_hash(krd, malformed),
        key_id=_key_id(krd, malformed),
        sign_counter=sign_counter,
        registration_counter=registration_counter,
        public_key=krd.one(Tag.PUB_KEY).value,
        extensions=_extensions(krd, malformed),
        signed_data=krd.encoded,
        attestation_type=attestation_type,
        signature=attestation.one(Tag.SIGNATURE).value,
        certificates=tuple(cert.value for cert in attestation.every(Tag.ATTESTATION_CERT)),
    )


def read_authentication_assertion(data: bytes) -> AuthenticationAssertion:
    """Read the TLV bytes of an authentication assertion.

    Raises UafError 1017 when they hold a registration assertion, 1091 for any other
    deviation from the layout.
    """
    malformed = UafCode.MALFORMED_AUTHENTICATION
    root = _root(data, Tag.UAFV1_AUTH_ASSERTION, malformed)
    signed = root.one(Tag.UAFV1_SIGNED_DATA)

    version, mode, signature_algorithm = _unpack(
        _AUTH_INFO, signed.one(Tag.ASSERTION_INFO), malformed
    )
    if mode not in (MODE_USER_VERIFIED, MODE_TRANSACTION_SHOWN):
        raise UafError(malformed, "the authentication mode must be 0x01 or 0x02")
    (sign_counter,) = _unpack(_AUTH_COUNTERS, signed.one(Tag.COUNTERS), malformed)
    nonce = signed.one(Tag.AUTHENTICATOR_NONCE).value
    if len(nonce) not in _NONCE_LENGTHS:
        raise UafError(malformed, "the authenticator nonce must hold 8 to 64 bytes")
    transaction_hash = signed.one(Tag.TRANSACTION_CONTENT_HASH).value
    if len(transaction_hash) not in (0, _HASH_LENGTH):
        raise UafError(malformed, "the transaction content hash must be empty or 32 bytes")
    if (mode == MODE_TRANSACTION_SHOWN) != bool(transaction_hash):
        raise UafError(malformed, "a transaction hash goes with authentication mode 0x02 only")
    _extensions(root, malformed)

    return AuthenticationAssertion(
        aaid=_aaid(signed, malformed),
        authenticator_version=version,
        authentication_mode=mode,
        signature_algorithm=signature_algorithm,
        authenticator_nonce=nonce,
        final_challenge_hash=_hash(signed, malformed),
        transaction_content_hash=transaction_hash,
        key_id=_key_id(signed, malformed),
        sign_counter=sign_counter,
        extensions=_extensions(signed, malformed),
        signed_data=signed.encoded,
        signature=root.one(Tag.SIGNATURE).value,
    )


def _root(data: bytes, expected: Tag, malformed: UafCode) -> Element:
    # The other ceremony's assertion has its own code (1017, 3716), not the malformed one.
    if expected == Tag.UAFV1_REG_ASSERTION and tlv.peek_tag(data) == Tag.UAFV1_AUTH_ASSERTION:
        raise UafError(
            UafCode.AUTHENTICATION_SENT_TO_REGISTRATION,
            "an authentication assertion was sent to registration",
        )
    if expected == Tag.UAFV1_AUTH_ASSERTION and tlv.peek_tag(data) == Tag.UAFV1_REG_ASSERTION:
        raise UafError(
            UafCode.REGISTRATION_SENT_TO_AUTHENTICATION,
            "a registration assertion was sent to authentication",
        )
    return tlv.read(data, expected=expected, error_code=malformed)


def _unpack(layout: struct.Struct, element: Element, malformed: UafCode) -> tuple[int, ...]:
    if len(element.value) != layout.size:
        raise UafError(malformed, f"{element.tag.name} must be {layout.size} bytes")
    return layout.unpack(element.value)


def _aaid(parent: Element, malformed: UafCode) -> str:
    raw = parent.one(Tag.AAID).value
    text = raw.decode("ascii", errors="replace")
    if _AAID.fullmatch(text) is None:
        raise UafError(malformed, "the AAID must read VVVV#MMMM in hexadecimal")
    return text.upper()


def _hash(parent: Element, malformed: UafCode) -> bytes:
    value = parent.one(Tag.FINAL_CHALLENGE_HASH).value
    if len(value) != _HASH_LENGTH:
        raise UafError(malformed, "the final challenge hash must be 32 bytes (SHA-256)")
    return value


def _key_id(parent: Element, malformed: UafCode) -> bytes:
    value = parent.one(Tag.KEYID).value
    if not 1 <= len(value) <= _MAX_KEY_ID:
        raise UafError(malformed, f"the key id must hold 1 to {_MAX_KEY_ID} bytes")
    return value


def _attestation(root: Element, malformed: UafCode) -> tuple[AttestationType, Element]:
    full = root.optional(Tag.ATTESTATION_BASIC_FULL)
    surrogate = root.optional(Tag.ATTESTATION_BASIC_SURROGATE)
    if full is not None and surrogate is None:
        return "BASIC_FULL", full
    if surrogate is not None and full is None:
        return "BASIC_SURROGATE", surrogate
    raise UafError(malformed, "a registration carries exactly one attestation")


def _extensions(parent: Element, malformed: UafCode) -> tuple[Extension, ...]:
    extensions: list[Extension] = []
    for element in parent.children:
        if element.tag not in (Tag.EXTENSION, Tag.EXTENSION_NON_CRITICAL):
            continue
        raw_id = element.one(Tag.EXTENSION_ID).value
        try:
            extension_id = raw_id.decode("utf-8")
        except UnicodeDecodeError:
            raise UafError(malformed, "an extension id is not UTF-8") from None
        if not 1 <= len(extension_id) <= _MAX_EXTENSION_ID:
            raise UafError(malformed, "an extension id must hold 1 to 32 characters")
        is_critical = element.tag == Tag.EXTENSION
        # UAF Protocol 1.1, Extension: a critical extension the server does not know stops it.
        if is_critical and extension_id not in UNDERSTOOD_EXTENSIONS:
            raise UafError(malformed, "the assertion holds a critical extension not understood")
        if extension_id in {seen.extension_id for seen in extensions}:
            raise UafError(malformed, "an extension id is repeated")
        data_element = element.optional(Tag.EXTENSION_DATA)
        data = b"" if data_element is None else data_element.value
        extensions.append(Extension(extension_id, data, is_critical))
    return tuple(extensions)
