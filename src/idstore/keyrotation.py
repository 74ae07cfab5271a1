"""`idstore rotate-keys`: a new key for the key file, then every secret re-sealed under it.

Servers re-read the key file within KEY_FILE_CHECK_SECONDS, so the rotation moves in steps that
each wait longer than that: first the new key is added at the end of the ring (every server can
open with it, none seals with it yet), then it moves to the front (servers seal with it), then
the stored secrets are re-sealed. At no moment can a server meet a value it cannot open.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from idstore.crypto.keyring import KEY_BYTES, KeyRing, format_key_ring, new_key_id, parse_key_ring
from idstore.crypto.keysource import KEY_FILE_CHECK_SECONDS, write_key_file
from idstore.db.engine import Database
from idstore.services.rotation import ResealReport, reseal_all

# Long enough for every server to have re-read the file once, whatever its phase.
STEP_WAIT_SECONDS = 2 * KEY_FILE_CHECK_SECONDS + 1


def add_key_to_file(path: Path, *, wait_seconds: float, say: Callable[[str], None]) -> KeyRing:
    """Add a new key to the key file and make it the sealing key, in two announced steps."""
    ring = parse_key_ring(path.read_text())
    new_key = (new_key_id(ring), secrets.token_bytes(KEY_BYTES))

    write_key_file(path, format_key_ring(KeyRing((*ring.keys, new_key))))
    say(f"added key {new_key[0]}; waiting {wait_seconds:.0f} s for every server to read it")
    time.sleep(wait_seconds)

    promoted = KeyRing((new_key, *ring.keys))
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
    return report
