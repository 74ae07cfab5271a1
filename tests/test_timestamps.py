"""The contract's timestamp form, written without isoformat: checked against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from idstore.timestamps import format_dtm


def _by_isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 4, 15, 2, 11, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 4, 23, 30, 0, 999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 12, 5, 0, 15, 0, 1000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_format_dtm_writes_utc_milliseconds_as_isoformat_would(moment: datetime) -> None:
    assert format_dtm(moment) == _by_isoformat(moment)


def test_format_dtm_agrees_with_isoformat_over_many_moments() -> None:
    # Every field's every value comes round: a prime step through four centuries.
    start, step = (
        datetime(1800, 1, 1, tzinfo=UTC),
        timedelta(days=37, seconds=3607, microseconds=1009),
    )
    moments = [start + step * n for n in range(4000)]

    assert [format_dtm(m) for m in moments] == [_by_isoformat(m) for m in moments]


def test_milliseconds_are_truncated_never_rounded_up() -> None:
    assert format_dtm(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == (
        "2026-12-31T23:59:59.999Z"
    )
    assert format_dtm(datetime(2026, 3, 1, 4, 5, 6, 7000, tzinfo=UTC)) == "2026-03-01T04:05:06.007Z"
