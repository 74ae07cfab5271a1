"""`idstore rotate-keys`: a new key for the key file, then every secret re-sealed under it.

Servers re-read the key file within KEY_FILE_CHECK_SECONDS, so the rotation moves in steps that
each wait longer than that: first the new key is added at the end of the ring (every server can
open with it, none seals with it yet), then it moves to the front (servers seal with it), then
the stored secrets are re-sealed. At no moment can a server meet a value it cannot open.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from idstore.crypto.keyring import KEY_BYTES, KeyRing, format_key_ring, new_key_id, parse_key_ring
from idstore.crypto.keysource import KEY_FILE_CHECK_SECONDS, write_key_file
from idstore.db.engine import Database
from idstore.services.rotation import ResealReport, reseal_all

# Long enough for every server to have re-read the file once, whatever its phase.
STEP_WAIT_SECONDS = 2 * KEY_FILE_CHECK_SECONDS + 1


class RotationRunning(Exception):
    """Another `rotate-keys` holds the key file: two at once would each drop the other's key."""


@contextmanager
def rotation_lock(path: Path) -> Iterator[None]:
    """Hold the key file for one rotation (an exclusive lock on `<key file>.lock`)."""
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationRunning(f"another rotate-keys holds {lock_path}") from None
        yield
    finally:
        os.close(descriptor)


def add_key_to_file(path: Path, *, wait_seconds: float, say: Callable[[str], None]) -> KeyRing:
    """Add a new key to the key file and make it the sealing key, in two announced steps.

    Each step re-reads the file and changes only the new key's place in it, so nothing another
    hand wrote meanwhile is lost. Call it under `rotation_lock`.
    """
    ring = parse_key_ring(path.read_text())
    new_key = (new_key_id(ring), secrets.token_bytes(KEY_BYTES))

    write_key_file(path, format_key_ring(KeyRing((*ring.keys, new_key))))
    say(f"added key {new_key[0]}; waiting {wait_seconds:.0f} s for every server to read it")
    time.sleep(wait_seconds)

    others = [key for key in parse_key_ring(path.read_text()).keys if key[0] != new_key[0]]
    promoted = KeyRing((new_key, *others))
    write_key_file(path, format_key_ring(promoted))
    say(f"key {new_key[0]} now seals; waiting {wait_seconds:.0f} s for every server to use it")
    time.sleep(wait_seconds)
    return promoted


async def reseal(database: Database, ring: KeyRing, *, say: Callable[[str], None]) -> ResealReport:
    """Re-seal every stored secret under the ring's current key, showing progress."""

    def progress(done: int, total: int) -> None:
        say(f"re-sealing secrets: {done}/{total}")

    report = await reseal_all(database, ring, progress=progress)
    say(f"re-sealed {report.resealed} of {report.examined} secrets under key {ring.current_key_id}")
    for row_id in report.unopenable:
        say(f"could not open the secret of row {row_id}: altered, or sealed under a lost key")
    return report
