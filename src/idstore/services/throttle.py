"""The per-user attempt rate limit: a token bucket kept in the user's LockState.

It is taken before a code is judged, so a flood of guesses is refused (429, 9005) without
counting toward the user's locks; its burst is large enough that the contract's concurrent
cases (twenty attempts at once) are still judged as §6 says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from idstore.services.models import LockState, replaced


@dataclass(frozen=True)
class AttemptRate:
    """`burst` attempts at once, refilled at `per_minute`; a burst of 0 turns the limit off."""

    burst: int = 40
    per_minute: float = 60.0

    @property
    def enabled(self) -> bool:
        return self.burst > 0 and self.per_minute > 0


def tokens_now(state: LockState, rate: AttemptRate, now: datetime) -> float:
    if state.attempt_tokens is None or state.attempt_tokens_dtm is None:
        return float(rate.burst)
    elapsed = max(0.0, (now - state.attempt_tokens_dtm).total_seconds())
    return min(float(rate.burst), state.attempt_tokens + elapsed * rate.per_minute / 60)


def take_attempt(state: LockState, rate: AttemptRate, now: datetime) -> LockState | None:
    """The state with one attempt taken, or None when the bucket is empty."""
    if not rate.enabled:
        return state
    tokens = tokens_now(state, rate, now)
    if tokens < 1:
        return None
    # A request that waited for the user's lock carries an instant older than the bucket's:
    # moving the bucket back would refill it twice.
    latest = now if state.attempt_tokens_dtm is None else max(now, state.attempt_tokens_dtm)
    return replaced(state, attempt_tokens=tokens - 1, attempt_tokens_dtm=latest)


def seconds_until_next(state: LockState, rate: AttemptRate, now: datetime) -> int:
    """Whole seconds (at least 1) until one attempt is allowed again: the Retry-After."""
    missing = 1 - tokens_now(state, rate, now)
    return max(1, math.ceil(missing * 60 / rate.per_minute))
