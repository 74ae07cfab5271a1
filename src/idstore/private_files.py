"""Files the commands write for this user alone: mode 0600, whole or not at all.

A name beside the target that anyone could guess (FILE.partial) lets whoever can write to the
directory plant a link there, so that opening it overwrites the link's target, or plant a file
of mode 0666, whose mode an open with O_TRUNC keeps. Each file is therefore written under a
fresh random name (created exclusively, never through a link, mode 0600), and renamed to its
name only once complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO


@contextmanager
def private_text_file(path: Path, *, replace: bool = True) -> Iterator[TextIO]:
    """A UTF-8 text file open for writing that appears at `path` when the block ends without an
    error, and never if it raises. With `replace` False an existing `path` (a dangling link too)
    is kept and FileExistsError raised."""
    with _private(path, replace) as descriptor:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
            yield out
            _sync(out)


@contextmanager
def private_binary_file(path: Path, *, replace: bool = True) -> Iterator[BinaryIO]:
    """The same as private_text_file, for bytes."""
    with _private(path, replace) as descriptor:
        with os.fdopen(descriptor, "wb") as out:
            yield out
            _sync(out)


@contextmanager
def _private(path: Path, replace: bool) -> Iterator[int]:
    descriptor, written = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        os.fchmod(descriptor, 0o600)  # mkstemp's mode already; said here, where it matters
        yield descriptor
        if replace:
            os.replace(written, path)
        else:
            os.link(written, path)  # atomic, and refuses an existing name (or link)
    finally:
        Path(written).unlink(missing_ok=True)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists, never through a link: SQLite makes
    its database file with the process's umask (0644 as a rule), readable by every local user
    wherever the directory lets them in, and its -wal and -shm files copy that mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _sync(out: IO[Any]) -> None:
    out.flush()
    os.fsync(out.fileno())
