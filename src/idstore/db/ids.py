"""Identifiers the server generates: opaque to clients, ordered by creation for index locality."""

from __future__ import annotations

import re
import secrets
import threading
import time

_lock = threading.Lock()
_last_millisecond = 0
_sequence = 0
_SEQUENCE_BITS = 12


def new_id() -> str:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit sequence that counts
    up within one millisecond (so ids made one after another sort in that order, as the records
    of one transaction must), then 62 random bits."""
    global _last_millisecond, _sequence
    with _lock:
        milliseconds = time.time_ns() // 1_000_000
        if milliseconds > _last_millisecond:
            _last_millisecond, _sequence = milliseconds, secrets.randbits(_SEQUENCE_BITS - 1)
        else:
            # Same millisecond (or the clock stepped back): count on, into the next if needed.
            _sequence += 1
            if _sequence >> _SEQUENCE_BITS:
                _last_millisecond, _sequence = _last_millisecond + 1, 0
        milliseconds, sequence = _last_millisecond, _sequence

    value = (milliseconds & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= sequence << 64
    value |= 0x2 << 62  # RFC 9562 variant
    value |= secrets.randbits(62)
    return hyphenated(value)


def hyphenated(value: int) -> str:
    """A 128-bit value in the UUID text form, as str(uuid.UUID(int=value)) writes it (without
    the UUID object, which costs more than the rest of new_id)."""
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_id(text: str) -> bool:
    """Whether `text` is an id as the server writes them: a UUID in lowercase hyphenated form."""
    return _ID.fullmatch(text) is not None
