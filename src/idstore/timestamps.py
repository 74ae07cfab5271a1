"""The contract's timestamp form: ISO-8601 in UTC with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def format_dtm(moment: datetime) -> str:
    """`2026-12-04T15:02:11.123Z`: UTC, milliseconds (truncated, never rounded up), `Z`."""
    # This runs for every timestamp shown, ten in an authentication's answer: %-formatting
    # costs half what isoformat does (which goes through C's printf), strftime several times.
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 - see above
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond // 1000,
    )


def millisecond_start(moment: datetime) -> datetime:
    """The first microsecond of the millisecond `moment` falls in."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def millisecond_end(moment: datetime) -> datetime:
    """The last microsecond of the millisecond `moment` falls in."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000 + 999)
