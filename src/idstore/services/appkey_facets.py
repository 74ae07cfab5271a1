"""Facet ids of an appkey configuration and the UAF TrustedFacets document (spec §10).

Pure functions. A facet id is one of the three forms FIDO UAF 1.1 (AppID and Facet
specification) defines: a web origin `https://host[:port]` with no path, an Android app
`android:apk-key-hash:<base64 of its signing certificate's hash>`, or an iOS app
`ios:bundle-id:<bundle id>`. Web origins are kept in their RFC 6454 serialization (lower case,
no default port), the form a UAF client reports, so that the ceremonies compare exact text.
"""

from __future__ import annotations

import base64
import binascii
import re

from idstore.services.errors import InvalidField
from idstore.services.models import JsonObject
from idstore.services.passkey_origins import Origin

MAX_FACETS = 64
ANDROID_PREFIX = "android:apk-key-hash:"
IOS_PREFIX = "ios:bundle-id:"
# SHA-1 (what UAF 1.1 clients send) or SHA-256 of the signing certificate.
_APK_HASH_LENGTHS = frozenset({20, 32})
# Used with fullmatch only: `$` would also match before a trailing newline.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_BUNDLE_ID = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# TrustedFacets `version`: the UAF protocol version the document is for.
UAF_VERSION: JsonObject = {"major": 1, "minor": 1}


def check_rp_id(rp_id: str) -> str:
    """The relying party id: a lower-case domain name. Raises InvalidField (9002)."""
    if len(rp_id) > 253 or not all(_LABEL.fullmatch(label) for label in rp_id.split(".")):
        raise InvalidField.of("rpId", "must be a lower-case domain name")
    return rp_id


def check_facets(facets: list[str]) -> tuple[str, ...]:
    """The facet ids in their canonical form, duplicates dropped, order kept.
    Raises InvalidField (9002) naming the first bad one."""
    checked = [_checked_facet(text, f"trustedFacets[{index}]") for index, text in enumerate(facets)]
    return tuple(dict.fromkeys(checked))


def _checked_facet(text: str, field: str) -> str:
    if text.startswith(ANDROID_PREFIX):
        return _checked_apk_hash(text, field)
    if text.startswith(IOS_PREFIX):
        if not _BUNDLE_ID.fullmatch(text[len(IOS_PREFIX) :]) or len(text) > 255:
            raise InvalidField.of(field, "an iOS facet is ios:bundle-id:<bundle id>")
        return text
    origin = Origin.parse(text)
    if origin is None or origin.scheme != "https":
        raise InvalidField.of(
            field,
            "must be https://host[:port] without a path, android:apk-key-hash:<base64> "
            "or ios:bundle-id:<id>",
        )
    if origin.port == 0:
        raise InvalidField.of(field, "a web facet's port must be 1 to 65535")
    # A UAF client reports the host as its browser serializes it: internationalized names
    # in their ASCII (xn--) form, no empty label. Other spellings would never match.
    is_address = origin.host.startswith("[")
    if not is_address and not all(_LABEL.fullmatch(label) for label in origin.host.split(".")):
        raise InvalidField.of(
            field, "a web facet's host must be an ASCII host name (xn-- form for IDN)"
        )
    return origin.serialized()


def _checked_apk_hash(text: str, field: str) -> str:
    encoded = text[len(ANDROID_PREFIX) :]
    message = "an Android facet is android:apk-key-hash:<base64 of a SHA-1 or SHA-256 hash>"
    if not _BASE64.fullmatch(encoded):
        raise InvalidField.of(field, message)
    # Clients write it in standard or URL-safe base64, with or without padding.
    unpadded = encoded.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        digest = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField.of(field, message) from None
    if len(digest) not in _APK_HASH_LENGTHS:
        raise InvalidField.of(field, message)
    return text


def trusted_facets_document(facets: tuple[str, ...]) -> JsonObject:
    """The UAF TrustedFacets document a client fetches from the AppID."""
    return {"trustedFacets": [{"version": dict(UAF_VERSION), "ids": list(facets)}]}


def app_id_of(rp_id: str) -> str:
    """The relying party's UAF AppID: the HTTPS URL where it serves its TrustedFacets document
    (the one `GET …/appkeyConfig/{rpId}/trustedFacets` answers). Every UAF message names it."""
    return f"https://{rp_id}/.well-known/uaf-trusted-facets"
