"""TOTP secrets in base32 and the otpauth:// URIs (Key Uri Format) that authenticator apps scan."""

import base64
import dataclasses
from urllib.parse import quote, unquote

from idstore.otp.codes import MAX_DIGITS, MIN_DIGITS, Algorithm

_BASE32_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32_CHARACTERS = frozenset(_BASE32_LETTERS + _BASE32_LETTERS.lower())

# Unpadded base32 length modulo 8 -> the "=" that complete it; other remainders end
# in the middle of a byte, so no secret encodes to them.
_PADDING_BY_REMAINDER = {0: 0, 2: 6, 4: 4, 5: 3, 7: 1}

_URI_PREFIX = "otpauth://totp/"
_LABEL_SEPARATOR = ":"

# Authenticator apps assume these when the URI omits them (Key Uri Format).
_DEFAULT_ALGORITHM = Algorithm.SHA1
_DEFAULT_DIGITS = 6
_DEFAULT_PERIOD = 30

_ALGORITHMS_BY_NAME = {algorithm.value: algorithm for algorithm in Algorithm}
_ALLOWED_DIGITS = range(MIN_DIGITS, MAX_DIGITS + 1)
_ALLOWED_PERIODS = range(1, 10**9)
_MAX_NUMBER_LENGTH = 9


class InvalidSecret(ValueError):
    """A text is not a base32 TOTP secret."""


class InvalidLabel(ValueError):
    """An issuer or username cannot be written into an otpauth URI label.

    `field` names the culprit: "issuer" or "username".
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"the {field} {reason}")
        self.field = field


class InvalidOtpauthUri(ValueError):
    """A text is not an otpauth://totp/ URI this service can read."""


@dataclasses.dataclass(frozen=True)
class OtpauthParameters:
    """What an otpauth URI tells an authenticator app about one TOTP."""

    secret: bytes = dataclasses.field(repr=False)  # kept out of logs and tracebacks
    issuer: str
    username: str
    algorithm: Algorithm
    digits: int
    period: int


def encode_secret(secret: bytes) -> str:
    """Return the secret in upper-case base32 without "=" padding, as authenticator apps take it."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def decode_secret(text: str) -> bytes:
    """Return the bytes of a base32 secret as a user may type or paste it.

    Lower case, spaces anywhere, and missing or extra trailing "=" are accepted.
    Raises InvalidSecret if the text is empty, has a character outside the base32 alphabet,
    or has a length that no whole number of bytes encodes to.
    """
    letters = text.replace(" ", "").rstrip("=")
    if not letters:
        raise InvalidSecret("the secret is empty")

    # Checked before upper(): str.upper maps some non-ASCII letters to ASCII ("ß" -> "SS").
    if not _BASE32_CHARACTERS.issuperset(letters):
        raise InvalidSecret("the secret has characters outside the base32 alphabet")

    padding = _PADDING_BY_REMAINDER.get(len(letters) % 8)
    if padding is None:
        raise InvalidSecret("the secret's length is not a whole number of bytes")

    return base64.b32decode(letters.upper() + "=" * padding)


def build_otpauth_uri(parameters: OtpauthParameters) -> str:
    """Return the otpauth://totp/ URI an authenticator app scans to register the TOTP.

    The label is "issuer:username" and the issuer parameter repeats the label's prefix, as the
    Key Uri Format recommends. Every component is percent-encoded as UTF-8, space as %20.
    Raises InvalidLabel (with its `field`) if the issuer or username is empty or holds ":".
    """
    _check_label("issuer", parameters.issuer)
    _check_label("username", parameters.username)

    issuer = _percent_encode(parameters.issuer)
    username = _percent_encode(parameters.username)
    query = "&".join(
        [
            f"secret={encode_secret(parameters.secret)}",
            f"issuer={issuer}",
            f"algorithm={_percent_encode(parameters.algorithm.value)}",
            f"digits={parameters.digits}",
            f"period={parameters.period}",
        ]
    )

    return f"{_URI_PREFIX}{issuer}{_LABEL_SEPARATOR}{username}?{query}"


def parse_otpauth_uri(uri: str, *, default_issuer: str | None = None) -> OtpauthParameters:
    """Read the TOTP an otpauth://totp/ URI describes; the inverse of build_otpauth_uri.

    Absent algorithm, digits and period take the authenticator apps' defaults (SHA1, 6, 30);
    an absent issuer takes `default_issuer` when one is given.
    Raises InvalidOtpauthUri if the URI is not a totp otpauth URI, lacks a valid secret, an
    issuer or a username, has an issuer parameter that differs from the label's prefix, or
    has an unknown algorithm or out-of-range digits or period.
    """
    if uri[: len(_URI_PREFIX)].lower() != _URI_PREFIX:
        raise InvalidOtpauthUri("the URI does not start with otpauth://totp/")
    if "#" in uri:
        raise InvalidOtpauthUri("an otpauth URI has no fragment")

    label, _, query = uri[len(_URI_PREFIX) :].partition("?")
    label_issuer, username = _parse_label(label)
    query_parameters = _parse_query(query)

    issuer = _choose_issuer(label_issuer, query_parameters.get("issuer"), default_issuer)
    _check_parsed_label("issuer", issuer)
    _check_parsed_label("username", username)

    return OtpauthParameters(
        secret=_parse_secret(query_parameters.get("secret")),
        issuer=issuer,
        username=username,
        algorithm=_parse_algorithm(query_parameters.get("algorithm")),
        digits=_parse_number(query_parameters, "digits", _DEFAULT_DIGITS, _ALLOWED_DIGITS),
        period=_parse_number(query_parameters, "period", _DEFAULT_PERIOD, _ALLOWED_PERIODS),
    )


def _check_label(field: str, value: str) -> None:
    # Authenticator apps show the label: one of only spaces names no account at all.
    if not value.strip():
        raise InvalidLabel(field, "is empty or only white space")

    # The label is "issuer:username"; a ":" inside either makes the split ambiguous.
    if _LABEL_SEPARATOR in value:
        raise InvalidLabel(field, "contains ':', which separates issuer and username")


def _check_parsed_label(field: str, value: str) -> None:
    try:
        _check_label(field, value)
    except InvalidLabel as exc:
        raise InvalidOtpauthUri(str(exc)) from exc


def _percent_encode(component: str) -> str:
    # safe="" so that "/", "&", ":" and "=" cannot end the component early; quote never
    # writes a space as "+", which some apps would keep as a literal plus.
    return quote(component, safe="", encoding="utf-8")


def _percent_decode(component: str) -> str:
    try:
        return unquote(component, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidOtpauthUri("the URI has percent-escapes that are not UTF-8") from exc


def _parse_label(label: str) -> tuple[str | None, str]:
    # Decoded before splitting: the Key Uri Format allows the separator written as %3A.
    issuer, separator, username = _percent_decode(label).partition(_LABEL_SEPARATOR)
    if not separator:
        return None, issuer

    return issuer, username


_KNOWN_PARAMETERS = frozenset({"secret", "issuer", "algorithm", "digits", "period"})


def _parse_query(query: str) -> dict[str, str]:
    # Parsed by hand: parse_qsl would read a literal "+" as a space.
    parameters: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = _percent_decode(name)
        if name in parameters:
            # Named only when it is one we read: an unknown "name" may be a secret.
            shown = f"the {name!r}" if name in _KNOWN_PARAMETERS else "a"
            raise InvalidOtpauthUri(f"the URI repeats {shown} parameter")
        parameters[name] = _percent_decode(value)

    return parameters


def _choose_issuer(
    label_issuer: str | None, issuer_parameter: str | None, default_issuer: str | None
) -> str:
    if label_issuer is not None and issuer_parameter is not None:
        if label_issuer != issuer_parameter:
            raise InvalidOtpauthUri("the issuer parameter differs from the label's issuer")

    issuer = issuer_parameter if issuer_parameter is not None else label_issuer
    if issuer is None:
        issuer = default_issuer
    if issuer is None:
        raise InvalidOtpauthUri("the URI names no issuer")

    return issuer


def _parse_secret(text: str | None) -> bytes:
    if text is None:
        raise InvalidOtpauthUri("the URI has no secret")

    try:
        return decode_secret(text)
    except InvalidSecret as exc:
        raise InvalidOtpauthUri("the URI's secret is not valid base32") from exc


def _parse_algorithm(text: str | None) -> Algorithm:
    if text is None:
        return _DEFAULT_ALGORITHM

    # ASCII first: str.upper maps some non-ASCII letters to ASCII (U+017F long s -> "S").
    algorithm = _ALGORITHMS_BY_NAME.get(text.upper()) if text.isascii() else None
    if algorithm is None:
        raise InvalidOtpauthUri("the URI's algorithm is not SHA1, SHA256 or SHA512")

    return algorithm


def _parse_number(parameters: dict[str, str], name: str, default: int, allowed: range) -> int:
    text = parameters.get(name)
    if text is None:
        return default

    # isascii too: str.isdigit alone accepts "²" and other digits int() refuses or misreads.
    is_decimal = text.isascii() and text.isdigit() and len(text) <= _MAX_NUMBER_LENGTH
    if not is_decimal or int(text) not in allowed:
        raise InvalidOtpauthUri(f"the URI's {name} is not a number in the allowed range")

    return int(text)
