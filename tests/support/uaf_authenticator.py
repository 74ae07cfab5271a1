"""A software FIDO UAF 1.1 authenticator and client, written from the specifications.

It answers RegistrationRequests and AuthenticationRequests the way a UAF client with one
authenticator does (UAF Protocol 1.1; assertions per UAF Authenticator Commands 1.1, Register
and Sign), with its own TLV encoder so that the server's reader is tested against an independent
writer. The API is small:

    authenticator = SoftwareUafAuthenticator(aaid="FFFF#0001", kind=KeyKind.P256_RAW)
    response = authenticator.register(request, facet_id, key_type="BIOMETRIC")
    response = authenticator.authenticate(request, facet_id)          # a request from the server
    response = authenticator.authenticate(challenge, facet_id, app_id=app_id)  # single-shot
    authenticator.ca.root_der                                         # the root to configure

`Tamper` breaks one response in a named way; `zero_counters=True` makes an authenticator that
always reports sign counter 0; `set_sign_counter` moves a key's counter (backwards, for clones).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.support.uaf_keys import AttestationCa, KeyKind, PrivateKey, public_key_bytes, sign

# Tags of UAF Authenticator Commands 1.1 (the server has its own copy).
REG_ASSERTION, AUTH_ASSERTION, KRD, SIGNED_DATA = 0x3E01, 0x3E02, 0x3E03, 0x3E04
ATTESTATION_CERT, SIGNATURE, BASIC_FULL, BASIC_SURROGATE = 0x2E05, 0x2E06, 0x3E07, 0x3E08
KEYID, FINAL_CHALLENGE_HASH, AAID, PUB_KEY = 0x2E09, 0x2E0A, 0x2E0B, 0x2E0C
COUNTERS, ASSERTION_INFO, AUTHENTICATOR_NONCE, TRANSACTION_CONTENT_HASH = (
    0x2E0D,
    0x2E0E,
    0x2E0F,
    0x2E10,
)
EXTENSION, EXTENSION_NON_CRITICAL, EXTENSION_ID, EXTENSION_DATA = 0x3E11, 0x3E12, 0x2E13, 0x2E14
UNKNOWN_TAG = 0x2EFF

KeyType = Literal["DEVICE", "BIOMETRIC"]
Attestation = Literal["BASIC_FULL", "BASIC_SURROGATE"]


def tlv(tag: int, *values: bytes) -> bytes:
    """One UAFV1TLV element: tag and length little-endian, then the value (children joined)."""
    value = b"".join(values)
    return struct.pack("<HH", tag, len(value)) + value


def b64url(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of a base64url text, padded or not."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fc_params(
    *, app_id: str, challenge: str, facet_id: str, rewrite: Callable[[str], str] | None = None
) -> str:
    """FinalChallengeParams as a UAF client sends it: base64url of its JSON (as `rewrite`
    spells that JSON, if given)."""
    params = {"appID": app_id, "challenge": challenge, "facetID": facet_id, "channelBinding": {}}
    text = json.dumps(params)
    return b64url((text if rewrite is None else rewrite(text)).encode())


@dataclass(frozen=True)
class Tamper:
    """What to break in one response; the default breaks nothing."""

    challenge: str | None = None  # sign this challenge instead of the request's
    app_id: str | None = None  # claim this app id in fcParams and the header
    op: str | None = None  # send this header op
    wrong_length: bool = False  # the key id's length field claims one byte more
    trailing_bytes: bool = False  # two stray bytes after the assertion
    duplicate_tag: bool = False  # the key id twice in the signed data
    unknown_tag: bool = False  # a tag UAF does not define, in the signed data
    bad_signature: bool = False  # one bit of the signature flipped
    other_fc_params: bool = False  # the final challenge hash of other fcParams signed
    assertions: int = 1  # copies of the assertion sent (0 or 2 for the count refusals)
    extension: tuple[str, bytes, bool] | None = None  # (id, data, is critical), signed in
    extensions: tuple[tuple[str, bytes, bool], ...] = ()  # more of the same
    key_id_length: int | None = None  # a new key's id of this many bytes (default 32)
    # The FinalChallengeParams JSON spelled otherwise; its hash is signed, as a client would.
    rewrite_fc_params: Callable[[str], str] | None = None


HONEST = Tamper()


def _extension(extension_id: str, data: bytes, *, is_critical: bool) -> bytes:
    tag = EXTENSION if is_critical else EXTENSION_NON_CRITICAL
    return tlv(tag, tlv(EXTENSION_ID, extension_id.encode()), tlv(EXTENSION_DATA, data))


def _tampered_tail(tamper: Tamper) -> list[bytes]:
    """What a tamper adds at the end of the signed data: an extension, an unknown tag."""
    extra = (tamper.extension,) if tamper.extension is not None else ()
    tail = [
        _extension(extension_id, data, is_critical=is_critical)
        for extension_id, data, is_critical in (*extra, *tamper.extensions)
    ]
    if tamper.unknown_tag:
        tail.append(tlv(UNKNOWN_TAG, b"\x00"))
    return tail


@dataclass
class RegisteredKey:
    """A key the authenticator made: its id, private half and sign counter."""

    app_id: str
    key_id: bytes
    private_key: PrivateKey
    sign_counter: int = 0

    @property
    def key_id_text(self) -> str:
        return b64url(self.key_id)


@dataclass
class SoftwareUafAuthenticator:
    """One UAF authenticator model: an AAID, a key kind and an attestation certificate."""

    aaid: str = "FFFF#0001"
    kind: KeyKind = KeyKind.P256_RAW
    ca: AttestationCa | None = None
    zero_counters: bool = False
    version: int = 1
    keys: dict[str, RegisteredKey] = field(default_factory=dict)
    registration_counter: int = 0

    def __post_init__(self) -> None:
        if self.ca is None:
            self.ca = AttestationCa(self.kind, self.aaid)

    @property
    def root_der(self) -> bytes:
        """The DER root certificate a relying party trusts for this authenticator."""
        assert self.ca is not None
        return self.ca.root_der

    def key(self, key_id: str) -> RegisteredKey:
        """The registered key with base64url id `key_id`."""
        return self.keys[key_id]

    def set_sign_counter(self, key_id: str, value: int) -> None:
        """Move a key's sign counter; the next authentication reports `value` + 1."""
        self.keys[key_id].sign_counter = value

    def register(
        self,
        request: list[dict[str, Any]],
        facet_id: str,
        *,
        key_type: KeyType | None = "DEVICE",
        attestation: Attestation = "BASIC_FULL",
        tamper: Tamper = HONEST,
    ) -> list[dict[str, Any]]:
        """Make a key for the RegistrationRequest and answer the RegistrationResponse array.

        `key_type` is signed into the registration as the `idstore.keyType` extension (None:
        no extension, as a stock UAF authenticator sends).
        """
        message = request[0]
        app_id = tamper.app_id or message["header"]["appID"]
        challenge = tamper.challenge or message["challenge"]
        params = fc_params(
            app_id=app_id, challenge=challenge, facet_id=facet_id, rewrite=tamper.rewrite_fc_params
        )

        private_key = self.kind.generate()
        key_id = hashlib.sha256(public_key_bytes(self.kind, private_key)).digest()
        if tamper.key_id_length is not None:
            key_id = (key_id * (tamper.key_id_length // len(key_id) + 1))[: tamper.key_id_length]
        key = RegisteredKey(app_id, key_id, private_key)
        self.registration_counter += 1
        krd = self._krd(key, private_key, self._signed_hash(params, tamper), key_type, tamper)
        assertion = tlv(
            REG_ASSERTION, krd, self._attestation(krd, private_key, attestation, tamper)
        )

        self.keys[key.key_id_text] = key
        return self._response("Reg", message, app_id, params, assertion, tamper)

    def authenticate(
        self,
        request: list[dict[str, Any]] | str,
        facet_id: str,
        *,
        app_id: str | None = None,
        key_id: str | None = None,
        tamper: Tamper = HONEST,
    ) -> list[dict[str, Any]]:
        """Sign an AuthenticationRequest, or a bare single-shot challenge for `app_id`.

        The key is `key_id`, else the first of the request's keyIDs this authenticator holds,
        else its newest key for the app id.
        """
        if isinstance(request, str):
            assert app_id is not None, "a single-shot challenge needs the app id"
            message: dict[str, Any] = {"header": {"appID": app_id}, "challenge": request}
        else:
            message = request[0]
        claimed_app_id = tamper.app_id or message["header"]["appID"]
        challenge = tamper.challenge or message["challenge"]
        params = fc_params(
            app_id=claimed_app_id,
            challenge=challenge,
            facet_id=facet_id,
            rewrite=tamper.rewrite_fc_params,
        )
        key = self._chosen_key(message, key_id)

        key.sign_counter = 0 if self.zero_counters else key.sign_counter + 1
        signed_data = self._signed_data(key, message, self._signed_hash(params, tamper), tamper)
        signature = self._maybe_flipped(sign(self.kind, key.private_key, signed_data), tamper)
        assertion = tlv(AUTH_ASSERTION, signed_data, tlv(SIGNATURE, signature))
        return self._response("Auth", message, claimed_app_id, params, assertion, tamper)

    def _krd(
        self,
        key: RegisteredKey,
        private_key: PrivateKey,
        final_challenge_hash: bytes,
        key_type: KeyType | None,
        tamper: Tamper,
    ) -> bytes:
        info = struct.pack(
            "<HBHH", self.version, 0x01, self.kind.signature_algorithm, self.kind.key_encoding
        )
        counters = struct.pack("<II", 0, 0 if self.zero_counters else self.registration_counter)
        parts = [
            tlv(AAID, self.aaid.encode()),
            tlv(ASSERTION_INFO, info),
            tlv(FINAL_CHALLENGE_HASH, final_challenge_hash),
            *self._key_id_parts(key.key_id, tamper),
            tlv(COUNTERS, counters),
            tlv(PUB_KEY, public_key_bytes(self.kind, private_key)),
        ]
        if key_type is not None:
            parts.append(_extension("idstore.keyType", key_type.encode(), is_critical=False))
        return tlv(KRD, *parts, *_tampered_tail(tamper))

    def _attestation(
        self, krd: bytes, private_key: PrivateKey, attestation: Attestation, tamper: Tamper
    ) -> bytes:
        assert self.ca is not None
        if attestation == "BASIC_SURROGATE":
            signature = self._maybe_flipped(sign(self.kind, private_key, krd), tamper)
            return tlv(BASIC_SURROGATE, tlv(SIGNATURE, signature))
        signature = self._maybe_flipped(sign(self.kind, self.ca.attestation_key, krd), tamper)
        certificates = [tlv(ATTESTATION_CERT, der) for der in self.ca.chain_der]
        return tlv(BASIC_FULL, tlv(SIGNATURE, signature), *certificates)

    def _signed_data(
        self, key: RegisteredKey, message: dict[str, Any], final_hash: bytes, tamper: Tamper
    ) -> bytes:
        transactions = message.get("transaction") or []
        if transactions:
            mode = 0x02
            content_hash = hashlib.sha256(b64url_decode(transactions[0]["content"])).digest()
        else:
            mode, content_hash = 0x01, b""
        parts = [
            tlv(AAID, self.aaid.encode()),
            tlv(
                ASSERTION_INFO,
                struct.pack("<HBH", self.version, mode, self.kind.signature_algorithm),
            ),
            tlv(
                AUTHENTICATOR_NONCE,
                hashlib.sha256(key.key_id + bytes(key.sign_counter)).digest()[:16],
            ),
            tlv(FINAL_CHALLENGE_HASH, final_hash),
            tlv(TRANSACTION_CONTENT_HASH, content_hash),
            *self._key_id_parts(key.key_id, tamper),
            tlv(COUNTERS, struct.pack("<I", key.sign_counter)),
        ]
        return tlv(SIGNED_DATA, *parts, *_tampered_tail(tamper))

    @staticmethod
    def _key_id_parts(key_id: bytes, tamper: Tamper) -> list[bytes]:
        element = tlv(KEYID, key_id)
        if tamper.wrong_length:
            element = struct.pack("<HH", KEYID, len(key_id) + 1) + key_id
        return [element, element] if tamper.duplicate_tag else [element]

    @staticmethod
    def _signed_hash(params: str, tamper: Tamper) -> bytes:
        hashed = params + "x" if tamper.other_fc_params else params
        return hashlib.sha256(hashed.encode("ascii")).digest()

    @staticmethod
    def _maybe_flipped(signature: bytes, tamper: Tamper) -> bytes:
        if not tamper.bad_signature:
            return signature
        return signature[:-1] + bytes([signature[-1] ^ 0x01])

    def _chosen_key(self, message: dict[str, Any], key_id: str | None) -> RegisteredKey:
        if key_id is not None:
            return self.keys[key_id]
        app_id = message["header"]["appID"]
        accepted = [
            wanted
            for criteria in (message.get("policy") or {}).get("accepted", [])
            for criterion in criteria
            for wanted in criterion.get("keyIDs", [])
        ]
        for wanted in accepted:
            if wanted in self.keys:
                return self.keys[wanted]
        mine = [key for key in self.keys.values() if key.app_id == app_id]
        assert mine, f"this authenticator holds no key for {app_id}"
        return mine[-1]

    @staticmethod
    def _response(
        op: str,
        message: dict[str, Any],
        app_id: str,
        params: str,
        assertion: bytes,
        tamper: Tamper,
    ) -> list[dict[str, Any]]:
        if tamper.trailing_bytes:
            assertion += b"\x00\x00"
        header: dict[str, Any] = {
            "upv": {"major": 1, "minor": 1},
            "op": tamper.op or op,
            "appID": app_id,
        }
        if "serverData" in message["header"]:
            header["serverData"] = message["header"]["serverData"]
        entry = {"assertionScheme": "UAFV1TLV", "assertion": b64url(assertion)}
        return [{"header": header, "fcParams": params, "assertions": [entry] * tamper.assertions}]
