"""A clock the tests can set. Only tests build an app with it; nothing a client sends moves it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class ManualClock:
    """Follows real time until set; then stands still (or moves only when advanced)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: float | None = None

    def now(self) -> datetime:
        with self._lock:
            moment = time.time() if self._fixed is None else self._fixed
        return datetime.fromtimestamp(moment, tz=UTC)

    def set(self, unix_time: float) -> None:
        with self._lock:
            self._fixed = unix_time

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._fixed = (time.time() if self._fixed is None else self._fixed) + seconds

    def follow_real_time(self) -> None:
        with self._lock:
            self._fixed = None

    def timestamp(self) -> float:
        return self.now().timestamp()
