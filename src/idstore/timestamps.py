"""The contract's timestamp form: ISO-8601 in UTC with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def format_dtm(moment: datetime) -> str:
    """`2026-12-04T15:02:11.123Z`: UTC, milliseconds (truncated, never rounded up), `Z`."""
    # isoformat is several times faster than strftime, and this runs for every timestamp shown.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def millisecond_start(moment: datetime) -> datetime:
    """The first microsecond of the millisecond `moment` falls in."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def millisecond_end(moment: datetime) -> datetime:
    """The last microsecond of the millisecond `moment` falls in."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000 + 999)
