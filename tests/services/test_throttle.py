"""The per-user attempt bucket: a burst, then one attempt per refill interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idstore.services.models import LockState
from idstore.services.throttle import AttemptRate, seconds_until_next, take_attempt

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RATE = AttemptRate(burst=3, per_minute=30)  # one attempt back every 2 s


def _take_all(state: LockState, count: int) -> LockState | None:
    current: LockState | None = state
    for _ in range(count):
        assert current is not None
        current = take_attempt(current, RATE, NOW)
    return current


def test_a_fresh_user_has_the_whole_burst() -> None:
    after_three = _take_all(LockState(), 3)

    assert after_three is not None and after_three.attempt_tokens == 0
    assert take_attempt(after_three, RATE, NOW) is None
    assert seconds_until_next(after_three, RATE, NOW) == 2


def test_attempts_come_back_at_the_rate_and_never_beyond_the_burst() -> None:
    empty = _take_all(LockState(), 3)
    assert empty is not None

    assert take_attempt(empty, RATE, NOW + timedelta(seconds=1.9)) is None
    again = take_attempt(empty, RATE, NOW + timedelta(seconds=2))
    much_later = take_attempt(empty, RATE, NOW + timedelta(days=1))

    assert again is not None and again.attempt_tokens == 0
    assert much_later is not None and much_later.attempt_tokens == 2  # burst 3, one taken


def test_a_burst_of_zero_turns_the_limit_off() -> None:
    off = AttemptRate(burst=0, per_minute=30)
    state = LockState(attempt_tokens=0, attempt_tokens_dtm=NOW)
    assert take_attempt(state, off, NOW) is state
