"""A software authenticator and the browser's side of WebAuthn, for tests that need real responses.

It takes the options JSON a relying party sends (`PublicKeyCredentialCreationOptionsJSON` or
`...RequestOptionsJSON`, bare or wrapped in `{"publicKey": ...}`) and returns what a browser's
`PublicKeyCredential.toJSON()` gives for it: clientDataJSON (WebAuthn L3 §5.8.1), authenticator
data (§6.1), an attestation object with fmt `none` or `packed` self attestation (§8.2, §8.7), or an
assertion signed over authenticatorData || SHA-256(clientDataJSON) (§6.3.3). Every binary field is
base64url without padding.

A `Forgery` sets any field an honest authenticator computes to something else, so tests can build
the responses a server must refuse (wrong rpIdHash, origin or challenge, a counter going back, BS
without BE, no UP, no UV, a bad signature). Top-level JSON members (`authenticatorAttachment`,
`clientExtensionResults`) are plain values: tests change the returned dict itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any
from urllib.parse import urlsplit

import cbor2

from tests.support.webauthn_keys import CoseAlgorithm, CredentialKey, b64url, b64url_decode


class Flag(IntFlag):
    """Authenticator data flags (WebAuthn §6.1): user present, verified, backup eligible/state."""

    UP = 0x01
    UV = 0x04
    BE = 0x08
    BS = 0x10
    AT = 0x40
    ED = 0x80


def rp_id_hash(rp_id: str) -> bytes:
    """SHA-256 of the relying party id, the first 32 bytes of authenticator data."""
    return hashlib.sha256(rp_id.encode("utf-8")).digest()


@dataclass
class Credential:
    """A credential the authenticator holds: its key, scope, user handle and signature counter."""

    credential_id: bytes
    key: CredentialKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0
    is_backup_eligible: bool = False
    is_backed_up: bool = False

    def honest_flags(self, *, is_user_verified: bool) -> Flag:
        """UP always, UV when the user was verified, BE and BS as the credential is backed up."""
        flags = Flag.UP
        if is_user_verified:
            flags |= Flag.UV
        if self.is_backup_eligible:
            flags |= Flag.BE
        if self.is_backed_up:
            flags |= Flag.BS
        return flags


@dataclass(frozen=True)
class Forgery:
    """What to put in a response instead of the honest value; None (or False) keeps it honest.

    `flags` is the whole flags byte except AT, which is set whenever attested credential data is
    present. `signing_key` signs with another key (a well-formed but wrong signature); `signature`
    replaces the signature bytes outright; `cose_key` replaces the attested public key.
    `user_handle` b"" sends an empty handle and `omits_user_handle` leaves the member out, as a
    browser does for a non-discoverable credential. `rewrite_client_data` turns the honest
    clientDataJSON bytes into others, which the authenticator then signs as it would the honest
    ones (a client that spells the collected data its own way).
    """

    origin: str | None = None
    challenge: str | None = None
    client_data_type: str | None = None
    is_cross_origin: bool | None = None
    rp_id_hash: bytes | None = None
    flags: int | None = None
    sign_count: int | None = None
    signing_key: CredentialKey | None = None
    signature: bytes | None = None
    user_handle: bytes | None = None
    omits_user_handle: bool = False
    fmt: str | None = None
    att_stmt: Mapping[str, Any] | None = None
    aaguid: bytes | None = None
    credential_id: bytes | None = None
    algorithm: CoseAlgorithm | None = None
    cose_key: bytes | None = None
    rewrite_client_data: Callable[[bytes], bytes] | None = None


HONEST = Forgery()


def client_data_json(
    *, client_data_type: str, challenge: str, origin: str, is_cross_origin: bool
) -> bytes:
    """The collected client data serialized as a browser does, members in the spec's order."""
    collected = {
        "type": client_data_type,
        "challenge": challenge,
        "origin": origin,
        "crossOrigin": is_cross_origin,
    }
    return json.dumps(collected, separators=(",", ":")).encode("utf-8")


def authenticator_data(
    *, rp_id_hash: bytes, flags: int, sign_count: int, attested_credential_data: bytes = b""
) -> bytes:
    """rpIdHash (32) || flags (1) || signCount (4, big-endian) || attestedCredentialData."""
    if attested_credential_data:
        flags |= Flag.AT
    return rp_id_hash + struct.pack(">BI", flags, sign_count) + attested_credential_data


def attested_credential_data(*, aaguid: bytes, credential_id: bytes, cose_key: bytes) -> bytes:
    """AAGUID (16) || credentialIdLength (2, big-endian) || credentialId || COSE public key."""
    return aaguid + struct.pack(">H", len(credential_id)) + credential_id + cose_key


def public_key_options(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """The options themselves, unwrapped when they come as {"publicKey": {...}}."""
    inner = options.get("publicKey")
    return inner if isinstance(inner, Mapping) else options


@dataclass
class SoftwareAuthenticator:
    """A platform authenticator in a browser showing a page of `origin`.

    It makes a credential of `algorithm` when the options offer it (else the first offered one it
    can make), adds `counter_step` to a credential's counter at each assertion (0 makes the
    counter-less authenticators many passkey providers are), and marks new credentials backup
    eligible and backed up as told. Refusals a browser would give raise LookupError.
    """

    origin: str
    algorithm: CoseAlgorithm = CoseAlgorithm.ES256
    aaguid: bytes = bytes(16)
    counter_step: int = 1
    is_backup_eligible: bool = False
    is_backed_up: bool = False
    attestation_format: str = "none"
    credential_id_length: int = 32
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def credential(self, credential_id: str | bytes) -> Credential:
        """The credential with this id (raw bytes or base64url)."""
        raw = b64url_decode(credential_id) if isinstance(credential_id, str) else credential_id
        return self.credentials[raw]

    def register(self, options: Mapping[str, Any], forgery: Forgery = HONEST) -> dict[str, Any]:
        """navigator.credentials.create(): a new credential for the options' rp and user.

        Raises LookupError when the authenticator holds a credential the options exclude.
        """
        public_key = public_key_options(options)
        excluded = {b64url_decode(item["id"]) for item in public_key.get("excludeCredentials", [])}
        if excluded & self.credentials.keys():
            raise LookupError("the authenticator already holds an excluded credential")
        rp_id = str(public_key.get("rp", {}).get("id") or self._origin_host())
        credential = Credential(
            credential_id=secrets.token_bytes(self.credential_id_length),
            key=CredentialKey.generate(forgery.algorithm or self._chosen_algorithm(public_key)),
            rp_id=rp_id,
            user_handle=b64url_decode(public_key["user"]["id"]),
            is_backup_eligible=self.is_backup_eligible,
            is_backed_up=self.is_backed_up,
        )
        self.credentials[credential.credential_id] = credential

        client_data = self._client_data(public_key, forgery, "webauthn.create")
        attested = attested_credential_data(
            aaguid=self.aaguid if forgery.aaguid is None else forgery.aaguid,
            credential_id=credential.credential_id,
            cose_key=forgery.cose_key or credential.key.cose_public_key(),
        )
        auth_data = self._authenticator_data(
            credential, public_key, forgery, credential.sign_count, attested
        )
        attestation_object = self._attestation_object(credential, auth_data, client_data, forgery)

        response = {
            "clientDataJSON": b64url(client_data),
            "attestationObject": b64url(attestation_object),
            "authenticatorData": b64url(auth_data),
            "transports": ["internal"],
            "publicKeyAlgorithm": int(credential.key.algorithm),
            "publicKey": b64url(credential.key.spki_public_key()),
        }
        return self._credential_json(forgery.credential_id or credential.credential_id, response)

    def authenticate(
        self,
        options: Mapping[str, Any],
        forgery: Forgery = HONEST,
        *,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion by the chosen or first matching credential."""
        public_key = public_key_options(options)
        credential = self._chosen_credential(public_key, credential_id)
        credential.sign_count += self.counter_step

        client_data = self._client_data(public_key, forgery, "webauthn.get")
        auth_data = self._authenticator_data(credential, public_key, forgery, credential.sign_count)
        message = auth_data + hashlib.sha256(client_data).digest()

        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(self._signature(credential, message, forgery)),
        }
        if not forgery.omits_user_handle:
            handle = credential.user_handle if forgery.user_handle is None else forgery.user_handle
            response["userHandle"] = b64url(handle)
        return self._credential_json(forgery.credential_id or credential.credential_id, response)

    def _origin_host(self) -> str:
        return urlsplit(self.origin).hostname or ""

    def _chosen_algorithm(self, public_key: Mapping[str, Any]) -> CoseAlgorithm:
        offered = [int(param["alg"]) for param in public_key.get("pubKeyCredParams", [])]
        if not offered or self.algorithm in offered:
            return self.algorithm
        for alg in offered:
            if alg in CoseAlgorithm._value2member_map_:
                return CoseAlgorithm(alg)
        raise LookupError("the options offer no algorithm this authenticator can make")

    def _chosen_credential(
        self, public_key: Mapping[str, Any], credential_id: bytes | None
    ) -> Credential:
        rp_id = str(public_key.get("rpId") or self._origin_host())
        allowed = [b64url_decode(item["id"]) for item in public_key.get("allowCredentials", [])]
        candidates = [
            credential
            for credential in self.credentials.values()
            if credential.rp_id == rp_id
            and (not allowed or credential.credential_id in allowed)
            and (credential_id is None or credential.credential_id == credential_id)
        ]
        if not candidates:
            raise LookupError("no credential of this authenticator matches the options")
        # Discoverable sign-in offers the newest passkey first, as platform authenticators do.
        return candidates[-1]

    def _client_data(
        self, public_key: Mapping[str, Any], forgery: Forgery, client_data_type: str
    ) -> bytes:
        honest = client_data_json(
            client_data_type=forgery.client_data_type or client_data_type,
            challenge=public_key["challenge"] if forgery.challenge is None else forgery.challenge,
            origin=self.origin if forgery.origin is None else forgery.origin,
            is_cross_origin=bool(forgery.is_cross_origin),
        )
        rewrite = forgery.rewrite_client_data
        return honest if rewrite is None else rewrite(honest)

    def _authenticator_data(
        self,
        credential: Credential,
        public_key: Mapping[str, Any],
        forgery: Forgery,
        sign_count: int,
        attested: bytes = b"",
    ) -> bytes:
        is_user_verified = _user_verification(public_key) != "discouraged"
        flags = credential.honest_flags(is_user_verified=is_user_verified)
        return authenticator_data(
            rp_id_hash=forgery.rp_id_hash or rp_id_hash(credential.rp_id),
            flags=flags if forgery.flags is None else forgery.flags,
            sign_count=sign_count if forgery.sign_count is None else forgery.sign_count,
            attested_credential_data=attested,
        )

    def _attestation_object(
        self, credential: Credential, auth_data: bytes, client_data: bytes, forgery: Forgery
    ) -> bytes:
        fmt = forgery.fmt or self.attestation_format
        statement: Mapping[str, Any] = {}
        if fmt == "packed":
            # Self attestation (§8.2): the credential's own key signs, no x5c.
            message = auth_data + hashlib.sha256(client_data).digest()
            signature = self._signature(credential, message, forgery)
            statement = {"alg": int(credential.key.algorithm), "sig": signature}
        if forgery.att_stmt is not None:
            statement = forgery.att_stmt
        return cbor2.dumps(
            {"fmt": fmt, "attStmt": dict(statement), "authData": auth_data}, canonical=True
        )

    @staticmethod
    def _signature(credential: Credential, message: bytes, forgery: Forgery = HONEST) -> bytes:
        if forgery.signature is not None:
            return forgery.signature
        return (forgery.signing_key or credential.key).sign(message)

    @staticmethod
    def _credential_json(credential_id: bytes, response: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


def _user_verification(public_key: Mapping[str, Any]) -> str:
    """The options' userVerification (top level for get, authenticatorSelection for create)."""
    selection = public_key.get("authenticatorSelection") or {}
    return str(public_key.get("userVerification") or selection.get("userVerification") or "")
