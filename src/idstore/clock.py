"""The service's sense of time, injected so that tests can set it and nothing a client sends can."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time from `time.time()`: a Unix timestamp, independent of any time zone setting."""

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=UTC)
