"""What an import file says, line by line: a TOTP to import, or a line refused with its reason.

Every format reader (otpauth URIs, CSV, privacyIDEA, PSKC) turns its file into these, so that
the import itself never looks at a file format. A refusal names where (line or key package),
whose (the external id, when the line got that far) and why; it never carries the secret.
"""

from __future__ import annotations

import dataclasses
import enum

from pydantic import TypeAdapter, ValidationError

from idstore import otp
from idstore.api.schemas.stores import Issuer
from idstore.api.schemas.users import ExternalId
from idstore.otp import Algorithm

# Policy ranges of spec §5.1: an imported TOTP must be one a policy could have registered.
ALLOWED_DIGITS = range(6, 9)
ALLOWED_PERIODS = range(10, 301)
MAX_EXTERNAL_ID_LENGTH = 255
# Shorter keys exist in the wild (10-byte secrets of early authenticator apps); below that a
# key is too weak to carry over, and is refused rather than silently kept.
MIN_SECRET_BYTES = 10
# The longest secret a policy may register (secretLength 20 to 64, spec §5.1): a longer one is
# no TOTP key any authenticator was given, and would cost every check to hash.
MAX_SECRET_BYTES = 64
# Bound on a line of a text format, checked before it is parsed: a URI with the longest issuer
# and account percent-encoded fits; a 5 MB line would take seconds and 140 MB to refuse.
MAX_LINE_CHARS = 8192


class Format(enum.StrEnum):
    """The import file formats `--format` names."""

    URI = "uri"
    CSV = "csv"
    PRIVACYIDEA = "privacyidea"
    PSKC = "pskc"


@dataclasses.dataclass(frozen=True)
class TotpDefaults:
    """What the target policy gives a TOTP whose file leaves a parameter out."""

    algorithm: Algorithm
    digits: int
    period: int
    issuer: str


@dataclasses.dataclass(frozen=True)
class ImportedTotp:
    """One TOTP to import, its parameters resolved (the file's, else the policy's)."""

    where: str
    external_id: str
    secret: bytes = dataclasses.field(repr=False)  # kept out of logs and tracebacks
    algorithm: Algorithm
    digits: int
    period: int
    issuer: str


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A line (or key package) not imported: where, whose when known, and why."""

    where: str
    external_id: str | None
    reason: str


class LineRefused(ValueError):
    """Raised by the readers' helpers; the reader turns it into a Refusal for its line."""


ParsedLine = ImportedTotp | Refusal


def decode_base32_secret(text: str) -> bytes:
    """The key of a base32 secret: lower case, embedded spaces, padded or not.

    Raises LineRefused naming the problem (never the secret): a character outside the base32
    alphabet, a length no whole number of bytes encodes to, or a key too short.
    """
    try:
        secret = otp.decode_secret(text.strip())
    except otp.InvalidSecret as exc:
        raise LineRefused(str(exc)) from exc
    return check_secret_length(secret)


def check_secret_length(secret: bytes) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise LineRefused(f"the secret is shorter than {MIN_SECRET_BYTES} bytes")
    if len(secret) > MAX_SECRET_BYTES:
        raise LineRefused(f"the secret is longer than {MAX_SECRET_BYTES} bytes")
    return secret


def parse_algorithm(text: str | None, default: Algorithm) -> Algorithm:
    """SHA1, SHA256 or SHA512 in any case, with or without the dash; blank gives the default."""
    if text is None or not text.strip():
        return default
    name = text.strip().upper().replace("-", "").removeprefix("HMAC")
    try:
        return Algorithm(name)
    except ValueError:
        raise LineRefused("the algorithm is not SHA1, SHA256 or SHA512") from None


def parse_digits(text: str | None, default: int) -> int:
    return _parse_number(text, default, "digits", ALLOWED_DIGITS)


def parse_period(text: str | None, default: int) -> int:
    return _parse_number(text, default, "period", ALLOWED_PERIODS)


def _parse_number(text: str | None, default: int, name: str, allowed: range) -> int:
    if text is None or not text.strip() or text.strip() == "None":
        return default
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) not in allowed:
        raise LineRefused(f"the {name} is not a number from {allowed.start} to {allowed.stop - 1}")
    return int(value)


def check_parameters(digits: int, period: int) -> None:
    """Refuse parameters a file gave outside the policy ranges (URIs allow more)."""
    if digits not in ALLOWED_DIGITS:
        raise LineRefused("the digits are not 6, 7 or 8")
    if period not in ALLOWED_PERIODS:
        raise LineRefused("the period is not from 10 to 300 seconds")


# The API's own types: an imported TOTP holds nothing the API would refuse to store.
_EXTERNAL_ID = TypeAdapter(ExternalId)
_ISSUER = TypeAdapter(Issuer)


def check_external_id(text: str) -> str:
    """The external id as the API stores it: 1 to 255 characters, no NUL."""
    external_id = text.strip()
    if not external_id:
        raise LineRefused("the external id is empty")
    if len(external_id) > MAX_EXTERNAL_ID_LENGTH or "\x00" in external_id:
        raise LineRefused("the external id is longer than 255 characters or holds NUL")
    return _api_checked(_EXTERNAL_ID, external_id, "external id")


def check_issuer(issuer: str) -> str:
    """The issuer as the API takes it (spec §5.1): 1 to 255 characters, no ':' (it separates
    issuer and account in the label an authenticator app shows), no NUL."""
    return _api_checked(_ISSUER, issuer, "issuer")


def _api_checked(adapter: TypeAdapter[str], value: str, name: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as refused:
        # pydantic's message alone: its error's text would quote the value.
        reason = refused.errors()[0]["msg"].removeprefix("Value error, ")
        raise LineRefused(f"the {name} is not one the API accepts: {reason}") from None
