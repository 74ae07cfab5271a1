"""Reading PSKC (RFC 6030) key containers: TOTP keys, in plain text or under a pre-shared key.

The XML is parsed with defusedxml: no external entities, no entity expansion (billion laughs),
no DTD retrieval. Encrypted secrets (RFC 6030 §6.1, pre-shared key) are AES-128-CBC with the IV
in front, checked with the container's MAC key (HMAC-SHA1 or HMAC-SHA256, §6.1.1) before use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator
from xml.etree.ElementTree import Element  # types only: parsing is defusedxml's

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeXml

from idstore.otp import Algorithm
from idstore.transfer import totp_records as records
from idstore.transfer.totp_records import LineRefused

PSKC = "{urn:ietf:params:xml:ns:keyprov:pskc}"
XENC = "{http://www.w3.org/2001/04/xmlenc#}"
TOTP_ALGORITHM = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
_MAC_HASHES = {
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1": hashlib.sha1,
    "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": hashlib.sha256,
}
_AES_BLOCK = 16


class PskcUnreadable(ValueError):
    """The file as a whole cannot be read: not PSKC XML, unsafe XML, or encrypted without a key."""


def read_pskc(
    text: str, defaults: records.TotpDefaults, key: bytes | None
) -> Iterator[records.ParsedLine]:
    """One TOTP to import or refusal per KeyPackage; the key's UserId is the external id.

    Raises PskcUnreadable for XML that does not parse or is unsafe, for a root that is no
    KeyContainer, and for encrypted secrets when no pre-shared `key` is given.
    """
    container = _parse(text)
    mac_key = _mac_key(container, key)
    for number, package in enumerate(container.iter(f"{PSKC}KeyPackage"), start=1):
        key_element = package.find(f"{PSKC}Key")
        where = f"key package {number}"
        user_id = _user_id(package, key_element)
        try:
            yield _totp_of_key(key_element, where, user_id, defaults, (key, mac_key))
        except LineRefused as refused:
            yield records.Refusal(where, user_id, str(refused))


def _parse(text: str) -> Element:
    try:
        root = SafeXml.fromstring(text)
    except DefusedXmlException as exc:
        raise PskcUnreadable("the XML uses DTDs or entities, which are refused") from exc
    except SafeXml.ParseError as exc:
        raise PskcUnreadable("the file is not well-formed XML") from exc
    if root.tag != f"{PSKC}KeyContainer":
        raise PskcUnreadable("the XML is not a PSKC KeyContainer")
    return root


def _mac_key(container: Element, key: bytes | None) -> tuple[bytes, str] | None:
    """The container's MAC key (decrypted with the pre-shared key) and its HMAC algorithm."""
    encrypted = container.find(f".//{PSKC}EncryptedValue") is not None
    if not encrypted:
        return None
    if key is None:
        raise PskcUnreadable(
            "the secrets are encrypted with a pre-shared key: pass it with --pskc-key HEX"
        )
    method = container.find(f"{PSKC}MACMethod")
    if method is None:
        raise PskcUnreadable("encrypted secrets without a MACMethod cannot be checked")
    mac_value = method.find(f"{PSKC}MACKey")
    if mac_value is None:
        raise PskcUnreadable("the MACMethod holds no MACKey")
    try:
        return _decrypt(mac_value, key, "the MAC key"), method.get("Algorithm", "")
    except LineRefused as exc:
        raise PskcUnreadable(str(exc)) from exc


def _user_id(package: Element, key_element: Element | None) -> str | None:
    for parent in (key_element, package.find(f"{PSKC}DeviceInfo")):
        if parent is not None:
            user_id = parent.findtext(f"{PSKC}UserId")
            if user_id and user_id.strip():
                return user_id.strip()
    return None


def _totp_of_key(
    key_element: Element | None,
    where: str,
    user_id: str | None,
    defaults: records.TotpDefaults,
    keys: tuple[bytes | None, tuple[bytes, str] | None],
) -> records.ImportedTotp:
    if key_element is None or key_element.get("Algorithm") != TOTP_ALGORITHM:
        raise LineRefused("not a TOTP key (Algorithm is not the PSKC totp URI)")
    if user_id is None:
        raise LineRefused("the key names no UserId to import it for")
    secret_element = key_element.find(f"{PSKC}Data/{PSKC}Secret")
    if secret_element is None:
        raise LineRefused("the key has no Data/Secret")

    digits = _response_length(key_element, defaults.digits)
    period = _int_value(key_element, "TimeInterval", defaults.period)
    records.check_parameters(digits, period)
    return records.ImportedTotp(
        where=where,
        external_id=records.check_external_id(user_id),
        secret=records.check_secret_length(_secret(secret_element, keys)),
        algorithm=_algorithm(key_element, defaults.algorithm),
        digits=digits,
        period=period,
        issuer=(key_element.findtext(f"{PSKC}Issuer") or "").strip() or defaults.issuer,
    )


def _secret(element: Element, keys: tuple[bytes | None, tuple[bytes, str] | None]) -> bytes:
    plain = element.findtext(f"{PSKC}PlainValue")
    if plain is not None:
        return _base64(plain)
    encrypted = element.find(f"{PSKC}EncryptedValue")
    key, mac = keys
    if encrypted is None or key is None or mac is None:
        raise LineRefused("the secret has neither PlainValue nor EncryptedValue")
    _check_mac(encrypted, element.findtext(f"{PSKC}ValueMAC"), mac)
    return _decrypt(encrypted, key, "the secret")


def _check_mac(encrypted: Element, value_mac: str | None, mac: tuple[bytes, str]) -> None:
    mac_key, algorithm = mac
    digest = _MAC_HASHES.get(algorithm)
    if digest is None:
        raise LineRefused("the MAC algorithm is not HMAC-SHA1 or HMAC-SHA256")
    if value_mac is None:
        raise LineRefused("the encrypted secret has no ValueMAC")
    cipher_value = _base64(encrypted.findtext(f"{XENC}CipherData/{XENC}CipherValue") or "")
    expected = hmac.new(mac_key, cipher_value, digest).digest()
    if not hmac.compare_digest(expected, _base64(value_mac)):
        raise LineRefused("the secret fails its MAC: a wrong --pskc-key, or an altered file")


def _decrypt(encrypted: Element, key: bytes, what: str) -> bytes:
    method = encrypted.find(f"{XENC}EncryptionMethod")
    if method is None or method.get("Algorithm") != AES128_CBC:
        raise LineRefused("the encryption is not AES-128-CBC")
    if len(key) != _AES_BLOCK:
        raise LineRefused("an AES-128 pre-shared key is 16 bytes (32 hex digits)")
    data = _base64(encrypted.findtext(f"{XENC}CipherData/{XENC}CipherValue") or "")
    if len(data) < 2 * _AES_BLOCK or len(data) % _AES_BLOCK:
        raise LineRefused("the encrypted value is not IV and whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:_AES_BLOCK])).decryptor()
    padded = decryptor.update(data[_AES_BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(8 * _AES_BLOCK).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise LineRefused(f"{what} does not decrypt: a wrong --pskc-key?") from exc


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise LineRefused("a value is not base64") from exc


def _response_length(key_element: Element, default: int) -> int:
    response = key_element.find(f"{PSKC}AlgorithmParameters/{PSKC}ResponseFormat")
    length = response.get("Length") if response is not None else None
    return _as_int(length, default, "ResponseFormat Length")


def _int_value(key_element: Element, name: str, default: int) -> int:
    text = key_element.findtext(f"{PSKC}Data/{PSKC}{name}/{PSKC}PlainValue")
    return _as_int(text, default, name)


def _as_int(text: str | None, default: int, name: str) -> int:
    if text is None:
        return default
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise LineRefused(f"the {name} is not a number")
    return int(value)


def _algorithm(key_element: Element, default: Algorithm) -> Algorithm:
    # RFC 6030 leaves the TOTP hash to AlgorithmParameters/Suite ("HMAC-SHA256", say).
    suite = (key_element.findtext(f"{PSKC}AlgorithmParameters/{PSKC}Suite") or "").upper()
    for algorithm in (Algorithm.SHA512, Algorithm.SHA256, Algorithm.SHA1):
        if algorithm.value.replace("SHA", "SHA-") in suite or algorithm.value in suite:
            return algorithm
    return default


def parse_key(text: str) -> bytes:
    """The pre-shared key `--pskc-key` gives in hex. Raises ValueError when it is not hex."""
    try:
        return binascii.unhexlify("".join(text.split()))
    except binascii.Error as exc:
        raise ValueError("--pskc-key takes the key in hexadecimal") from exc
