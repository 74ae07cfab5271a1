"""PSKC (RFC 6030) containers the tests write: plain secrets, or under a pre-shared AES key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


@dataclass(frozen=True)
class PskcKey:
    user_id: str | None
    secret: bytes
    algorithm: str = TOTP
    digits: int = 6
    period: int = 30
    suite: str | None = None
    issuer: str | None = None


def encrypt(key: bytes, plain: bytes, iv: bytes | None = None) -> bytes:
    """AES-128-CBC with the IV (random unless given) in front, PKCS#7 padded (RFC 6030 §6.1)."""
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _cipher(value: bytes) -> str:
    return (
        '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
        f"<xenc:CipherData><xenc:CipherValue>{_b64(value)}</xenc:CipherValue></xenc:CipherData>"
    )


def container(
    keys: list[PskcKey],
    *,
    pre_shared_key: bytes | None = None,
    mac_algorithm: str = HMAC_SHA256,
    mac_key: bytes | None = None,
) -> str:
    """A KeyContainer holding one KeyPackage per key, encrypted when a pre-shared key is given.
    A fixed `mac_key` (and IV) makes the file the same at each call."""
    iv = bytes(16) if mac_key else None
    mac_key = mac_key or os.urandom(20)
    head = ""
    if pre_shared_key is not None:
        head = (
            "<EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>"
            f'<MACMethod Algorithm="{mac_algorithm}"><MACKey>'
            f"{_cipher(encrypt(pre_shared_key, mac_key, iv))}</MACKey></MACMethod>"
        )
    packages = "".join(_package(key, pre_shared_key, mac_key, mac_algorithm) for key in keys)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">'
        f"{head}{packages}</KeyContainer>"
    )


def _package(key: PskcKey, pre_shared_key: bytes | None, mac_key: bytes, mac: str) -> str:
    if pre_shared_key is None:
        secret = f"<PlainValue>{_b64(key.secret)}</PlainValue>"
    else:
        encrypted = encrypt(pre_shared_key, key.secret)
        digest = hashlib.sha256 if mac == HMAC_SHA256 else hashlib.sha1
        value_mac = hmac.new(mac_key, encrypted, digest).digest()
        secret = (
            f"<EncryptedValue>{_cipher(encrypted)}</EncryptedValue>"
            f"<ValueMAC>{_b64(value_mac)}</ValueMAC>"
        )
    suite = f"<Suite>{key.suite}</Suite>" if key.suite else ""
    issuer = f"<Issuer>{key.issuer}</Issuer>" if key.issuer else ""
    user = f"<UserId>{key.user_id}</UserId>" if key.user_id else ""
    return (
        "<KeyPackage><DeviceInfo><Manufacturer>Token Co</Manufacturer>"
        "<SerialNo>0001</SerialNo></DeviceInfo>"
        f'<Key Id="k1" Algorithm="{key.algorithm}">{issuer}'
        f'<AlgorithmParameters>{suite}<ResponseFormat Length="{key.digits}" '
        'Encoding="DECIMAL"/></AlgorithmParameters>'
        f"<Data><Secret>{secret}</Secret>"
        f"<TimeInterval><PlainValue>{key.period}</PlainValue></TimeInterval></Data>"
        f"{user}</Key></KeyPackage>"
    )
