"""Fixtures of the end-to-end tests: real server processes, fresh databases, Debian tools.

Every process a test starts is stopped, and every database it made dropped, when it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.processes import Launch, Launcher, missing_tool_packages


@pytest.fixture
def launch(tmp_path: Path, fresh_database: str) -> Iterator[Launch]:
    """Start `idstore serve` on a free port and wait for /health/live.

    Depends on `fresh_database` so that its servers stop before that database is dropped.
    """
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.stop_all()


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the engine under test (plain URL), dropped afterwards."""
    folder = tmp_path / "database"
    folder.mkdir()
    url = fresh_database_url(folder)
    yield url
    drop_database(url)


@pytest.fixture
def debian_tools() -> None:
    """Fail, naming the Debian packages, when oathtool or zbarimg is missing."""
    missing = " ".join(missing_tool_packages())
    if missing:
        pytest.fail(
            f"the end-to-end tests need the Debian package(s) {missing}: "
            f"apt-get install {missing} (make test installs them via scripts/ensure-test-tools)"
        )
