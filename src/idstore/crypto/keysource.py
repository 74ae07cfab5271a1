"""Where a process gets its key ring: fixed at start, or a key file re-read when it changes.

`idstore rotate-keys` edits the key file while servers run; each server notices within
KEY_FILE_CHECK_SECONDS, so the rotation can wait that long between its steps and be sure every
process holds a new key before anything is sealed with it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Protocol

from idstore.crypto.keyring import KeyRing, KeyRingError, load_or_create_key_file, parse_key_ring
from idstore.private_files import private_text_file
from idstore.settings import Settings

KEY_FILE_CHECK_SECONDS = 2.0

log = logging.getLogger(__name__)


class KeySource(Protocol):
    def current(self) -> KeyRing: ...


class FixedKeys:
    """A ring given once (IDSTORE_SECRET_KEYS, or a test's)."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def current(self) -> KeyRing:
        return self._ring


class KeyRingMissing(Exception):
    """No key ring is configured where one must already exist."""


class KeyFile:
    """A ring kept in a file: re-read when its modification time changes.

    Only a development server's first start may create the file (`create`); anywhere else a
    missing file means a wrong path, and a fresh ring would open nothing.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.exists():
            raise KeyRingMissing(
                f"no key file at {path}: point IDSTORE_DATA_DIR or IDSTORE_KEY_FILE at the "
                "servers' key ring, or set IDSTORE_SECRET_KEYS"
            )
        self.path = path
        self._lock = threading.Lock()
        self._ring = load_or_create_key_file(path)
        self._stamp = _stamp(path)
        self._checked = time.monotonic()

    def current(self) -> KeyRing:
        now = time.monotonic()
        if now - self._checked < KEY_FILE_CHECK_SECONDS:
            return self._ring
        with self._lock:
            self._checked = now
            stamp = _stamp(self.path)
            if stamp != self._stamp:
                # A half-written file cannot be seen: rotate-keys replaces it with a rename.
                self._stamp = stamp
                self._ring = self._reread()
        return self._ring

    def _reread(self) -> KeyRing:
        try:
            return parse_key_ring(self.path.read_text())
        except (KeyRingError, OSError):
            # Keep serving with the ring in hand; say so once for this version of the file.
            log.error("key_file.unreadable", extra={"path": str(self.path)}, exc_info=True)
            return self._ring


def _stamp(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_mtime_ns, status.st_ino


def write_key_file(path: Path, text: str) -> None:
    """Replace the key file in one step (mode 0600): readers see the old or the new, never half."""
    with private_text_file(path) as key_file:
        key_file.write(text)


def key_source(settings: Settings, *, create: bool = False) -> KeySource:
    """The key ring from IDSTORE_SECRET_KEYS, else from the key file (made only if `create`).

    Raises KeyRingMissing when the key file is missing and may not be made.
    """
    if settings.secret_keys:
        return FixedKeys(parse_key_ring(settings.secret_keys))
    return KeyFile(settings.resolved_key_file, create=create)


def load_keyring(settings: Settings, *, create: bool = False) -> KeyRing:
    return key_source(settings, create=create).current()
