"""Identifiers the server generates: opaque to clients, ordered by creation for index locality."""

from __future__ import annotations

import secrets
import time
import uuid


def new_id() -> str:
    """A UUID version 7: 48 bits of Unix milliseconds, then random bits (RFC 9562)."""
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds & (2**48 - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))
