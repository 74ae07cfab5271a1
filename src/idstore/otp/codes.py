"""One-time codes: HOTP (RFC 4226) and TOTP (RFC 6238), computed, normalized and matched.

Pure functions: the caller passes the secret and the current time, and decides about replay.
"""

import enum
import hmac
import math
import secrets

MIN_DIGITS = 6
MAX_DIGITS = 10
MIN_SECRET_LENGTH = 20

_MAX_COUNTER = 2**64 - 1
_ASCII_DIGITS = frozenset("0123456789")
_IGNORED_IN_CODES = (" ", "-")


class Algorithm(enum.StrEnum):
    """The HMAC hash function of a TOTP, named as in the Key Uri Format and the policy."""

    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"


_HASH_NAMES = {
    Algorithm.SHA1: "sha1",
    Algorithm.SHA256: "sha256",
    Algorithm.SHA512: "sha512",
}


class MalformedCode(ValueError):
    """A submitted code is not exactly the expected number of ASCII digits."""


def hotp(secret: bytes, counter: int, *, digits: int, algorithm: Algorithm) -> str:
    """Compute the RFC 4226 code of `counter`, zero-padded to `digits` characters.

    Raises ValueError if the counter is outside 0..2**64-1 or `digits` outside 6..10.
    """
    if not 0 <= counter <= _MAX_COUNTER:
        raise ValueError("the counter must be an unsigned 64-bit integer")
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be between {MIN_DIGITS} and {MAX_DIGITS}")

    mac = hmac.digest(secret, counter.to_bytes(8, "big"), _HASH_NAMES[algorithm])

    # RFC 4226 5.3 dynamic truncation: the low nibble of the last byte picks 4 bytes, whose
    # top bit is dropped so that signed and unsigned readings agree.
    offset = mac[-1] & 0x0F
    truncated = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF

    return str(truncated % 10**digits).zfill(digits)


def time_step(unix_time: float, period: int) -> int:
    """Return the RFC 6238 time step of a Unix timestamp: floor(unix_time / period).

    Raises ValueError if the period is not positive or the time is not a finite number.
    """
    if period <= 0:
        raise ValueError("the period must be a positive number of seconds")
    if not math.isfinite(unix_time):
        raise ValueError("the time must be a finite Unix timestamp")

    # floor(t / p) == floor(floor(t) / p) for a positive integer p; dividing integers keeps
    # far-future times exact where a float division could round across a step boundary.
    return math.floor(unix_time) // period


def normalize_code(submitted: str, *, digits: int) -> str:
    """Return the code a user typed without its spaces and hyphens.

    The code stays a string: a conversion to int would lose its leading zeros.
    Raises MalformedCode unless what remains is exactly `digits` ASCII digits 0-9.
    """
    code = submitted
    for separator in _IGNORED_IN_CODES:
        code = code.replace(separator, "")

    # Explicit set, not str.isdigit: that also accepts full-width, Arabic-Indic and
    # superscript digits, which an authenticator app never shows.
    if len(code) != digits or not _ASCII_DIGITS.issuperset(code):
        raise MalformedCode(f"a code must be exactly {digits} ASCII digits")

    return code


def matching_steps(
    secret: bytes,
    code: str,
    *,
    now: float,
    period: int,
    digits: int,
    algorithm: Algorithm,
    drift_steps: int,
) -> list[int]:
    """Return, in ascending order, the time steps within the drift window whose code is `code`.

    `code` must already be normalized. The window is the current step plus and minus
    `drift_steps`, without negative steps. The caller decides about replay.
    Raises ValueError if `drift_steps` is negative, or as time_step and hotp do.
    """
    if drift_steps < 0:
        raise ValueError("drift_steps must not be negative")

    current = time_step(now, period)
    window = range(max(current - drift_steps, 0), current + drift_steps + 1)
    submitted = code.encode("utf-8")

    # Every candidate is computed and compared, match or not: the response time must not
    # reveal which step of the window (if any) the code belongs to.
    matches: list[int] = []
    for step in window:
        expected = hotp(secret, step, digits=digits, algorithm=algorithm).encode("ascii")
        if hmac.compare_digest(expected, submitted):
            matches.append(step)

    return matches


def generate_secret(length: int) -> bytes:
    """Return a new random TOTP secret of `length` bytes from the operating system's CSPRNG.

    Raises ValueError if `length` is below 20 bytes, the 160 bits RFC 4226 section 4 requires.
    """
    if length < MIN_SECRET_LENGTH:
        raise ValueError(f"a secret must be at least {MIN_SECRET_LENGTH} bytes")

    return secrets.token_bytes(length)
