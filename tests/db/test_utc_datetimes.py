"""UtcDateTime: what goes to each engine and what comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from idstore.db.types import UtcDateTime

POSTGRESQL = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
SQLITE = sqlite.dialect()
MOMENT = datetime(2026, 12, 5, 10, 9, 50, 123456, tzinfo=UTC)
ELSEWHERE = MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30)))


def test_an_aware_value_goes_to_postgresql_in_utc() -> None:
    column = UtcDateTime()

    assert column.process_bind_param(MOMENT, POSTGRESQL) is MOMENT
    converted = column.process_bind_param(ELSEWHERE, POSTGRESQL)
    assert converted == MOMENT and converted is not None and converted.tzinfo is UTC


def test_an_aware_value_goes_to_sqlite_as_naive_utc() -> None:
    column = UtcDateTime()

    for value in (MOMENT, ELSEWHERE):
        assert column.process_bind_param(value, SQLITE) == MOMENT.replace(tzinfo=None)


def test_a_naive_value_is_refused_and_none_passes() -> None:
    column = UtcDateTime()

    with pytest.raises(ValueError, match="naive datetime"):
        column.process_bind_param(MOMENT.replace(tzinfo=None), POSTGRESQL)
    assert column.process_bind_param(None, POSTGRESQL) is None


def test_values_read_back_are_aware_utc() -> None:
    column = UtcDateTime()

    assert column.process_result_value(MOMENT.replace(tzinfo=None), SQLITE) == MOMENT
    read = column.process_result_value(ELSEWHERE, POSTGRESQL)
    assert read == MOMENT and read is not None and read.tzinfo is UTC
    assert column.process_result_value(None, SQLITE) is None
