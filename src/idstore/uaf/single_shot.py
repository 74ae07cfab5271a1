"""Single-shot authentication: the challenge is the signing time, not a server's random bytes.

The contract (API.md, appkeys): the client signs, without a start call, the base64url (unpadded)
of the current UTC time in ISO-8601 with milliseconds and `Z`, e.g. `2026-12-04T23:05:01.123Z`.
The server accepts it within a window either side of its own clock; that the same challenge is
never accepted twice for a key is the service's rule (it needs the database).
"""

import re
from datetime import UTC, datetime, timedelta

from idstore.uaf.encoding import b64url_decode, b64url_encode
from idstore.uaf.errors import UafCode, UafError

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def single_shot_challenge(at: datetime) -> str:
    """The single-shot challenge of the instant `at` (an aware datetime)."""
    text = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return b64url_encode(text.encode("ascii"))


def single_shot_time(challenge: str, *, now: datetime, window_seconds: int) -> datetime:
    """The instant a single-shot challenge names, when it is within `window_seconds` of `now`.

    Raises UafError 1091 when the challenge is not the base64url of such a time, 1090 when the
    time is further than the window from `now`, before or after.
    """
    malformed = UafCode.MALFORMED_AUTHENTICATION
    text = b64url_decode(challenge, error_code=malformed, what="the single-shot challenge")
    if _TIME.fullmatch(text.decode("ascii", errors="replace")) is None:
        raise UafError(malformed, "the single-shot challenge is not an ISO-8601 UTC time")
    try:
        signed_at = datetime.strptime(text.decode("ascii"), "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as exc:
        raise UafError(malformed, "the single-shot challenge is not a valid time") from exc

    signed_at = signed_at.replace(tzinfo=UTC)
    if abs(signed_at - now) > timedelta(seconds=window_seconds):
        raise UafError(
            UafCode.SINGLE_SHOT_OUTSIDE_WINDOW, "the single-shot time is outside the window"
        )
    return signed_at
