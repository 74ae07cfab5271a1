"""base64url without padding, as UAF messages carry every binary field, read strictly."""

import base64
import binascii
import re

from idstore.uaf.errors import UafCode, UafError

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def b64url_encode(raw: bytes) -> str:
    """base64url of `raw`, without padding (UAF Protocol 1.1, notation)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, *, error_code: UafCode, what: str) -> bytes:
    """Decode a base64url string; padding is tolerated, any other character is not.

    Raises UafError(error_code) naming `what` when `text` is not a base64url string, or holds
    bits beyond its last byte (two strings must never decode to the same bytes).
    """
    if not isinstance(text, str) or _BASE64URL.fullmatch(text) is None:
        raise UafError(error_code, f"{what} is not a base64url string")
    unpadded = text.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UafError(error_code, f"{what} is not a base64url string") from exc
    if b64url_encode(raw) != unpadded:
        raise UafError(error_code, f"{what} is not a canonical base64url string")
    return raw
