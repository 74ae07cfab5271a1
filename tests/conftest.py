"""Fixtures: one real server per test session, on SQLite or on the PostgreSQL under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.support.api import Api, issue_token
from tests.support.browser import launch_chromium, serve_test_page
from tests.support.clock import ManualClock
from tests.support.databases import TEST_DATABASE_URL, engine_name, fresh_database_url
from tests.support.seeding import Seeder
from tests.support.server import LiveServer, running_server


def pytest_report_header() -> str:
    return f"idstore database engine under test: {engine_name()}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's database: the PostgreSQL one CI created, or a new SQLite file."""
    return TEST_DATABASE_URL or fresh_database_url(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory.mktemp("data")) as live:
        yield live


@pytest.fixture(autouse=True)
def _one_connection_per_request(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test of the server fails when a request held two pooled connections at once
    (tests/support/connection_holds.py)."""
    yield
    if "server" in request.fixturenames:
        live: LiveServer = request.getfixturevalue("server")
        nested = live.connection_holds.take_nested()
        assert not nested, "a task checked out a second connection:\n" + nested[0]


@pytest.fixture(scope="session")
def token(server: LiveServer) -> str:
    return issue_token(server.base_url, server.api_key)


@pytest.fixture
def clock(server: LiveServer) -> Iterator[ManualClock]:
    """The server's clock; back to real time after the test."""
    yield server.clock
    server.clock.follow_real_time()


@pytest.fixture
def http(server: LiveServer, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def api(http: httpx.Client) -> Api:
    return Api(http)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def seeder(server: LiveServer, database_url: str) -> Seeder:
    """Reads and writes the server's database directly (known secrets, tampering, checks)."""
    return Seeder(database_url, server.keyring)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's headless chromium, one per test module (skips where it is not installed).

    Not for the session: while Playwright's sync API is started, its event loop counts as
    running in the main thread, and every later asyncio.run() (the Seeder, PostgreSQL
    databases made for a test) would fail."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """The passkey test page's origin, http://localhost:PORT, served for a test module."""
    with serve_test_page() as page_origin:
        yield page_origin
