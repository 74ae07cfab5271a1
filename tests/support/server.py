"""The real service on a real socket: uvicorn serving the app in a thread of the test process.

The app is built with a ManualClock, which only tests can set, and its engine reports every SQL
statement it runs, so tests can count the statements of one request.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import event

from idstore.app import create_app
from idstore.crypto.keyring import KeyRing
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.services import api_keys
from idstore.serving import HTTP_PARSER, WEBSOCKETS
from idstore.settings import Settings
from tests.support.clock import ManualClock
from tests.support.connection_holds import ConnectionHolds
from tests.support.databases import async_url

# Tests move the clock to 1970 and to the year 2603; tokens must outlive both.
TEST_TOKEN_TTL_SECONDS = 2 * 10**11
TEST_KEYRING = KeyRing((("test1", bytes(range(32))),))


@dataclass
class StatementLog:
    """SQL statements the server ran, recorded while a capture is open."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _captures: list[list[str]] = field(default_factory=list)

    def record(self, statement: str) -> None:
        with self._lock:
            for capture in self._captures:
                capture.append(statement)

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Statements run while the block runs, BEGIN/COMMIT/ROLLBACK and PRAGMAs left out."""
        statements: list[str] = []
        with self._lock:
            self._captures.append(statements)
        try:
            yield statements
        finally:
            with self._lock:
                self._captures.remove(statements)


@dataclass
class LiveServer:
    base_url: str
    clock: ManualClock
    database: Database
    keyring: KeyRing
    api_key: str
    statements: StatementLog
    settings: Settings
    connection_holds: ConnectionHolds


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")


def _watch_statements(database: Database, log: StatementLog) -> None:
    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Work no request asked for (the revocation refresh) is not a request's statement.
        if conn.get_execution_options().get("idstore_housekeeping"):
            return
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            log.record(statement)


async def prepare_database(database_url: str, keyring: KeyRing = TEST_KEYRING) -> str:
    """Migrate the database and give it an API key for tenant `default` with every permission."""
    database = Database(async_url(database_url))
    try:
        await migrate(database)
        async with database.transaction() as conn:
            _, key = await api_keys.create_api_key(
                conn,
                keyring,
                tenant_id="default",
                permissions=("TNT#default#IdentityStore:*",),
                now=ManualClock().now(),
            )
        return key
    finally:
        await database.dispose()


@contextmanager
def running_server(
    database_url: str, data_dir: Path, keyring: KeyRing = TEST_KEYRING, **overrides: Any
) -> Iterator[LiveServer]:
    """A server on its own port with `keyring`; `overrides` are Settings fields (limits, say)."""
    api_key = asyncio.run(prepare_database(database_url, keyring))
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        token_ttl_seconds=TEST_TOKEN_TTL_SECONDS,
        **overrides,
    )
    clock = ManualClock()
    database = Database(settings.resolved_database_url, pool_size=25)
    statements = StatementLog()
    _watch_statements(database, statements)
    holds = ConnectionHolds()
    holds.watch(database)
    app = create_app(settings, clock=clock, database=database, keyring=keyring)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            log_config=None,
            http=HTTP_PARSER,  # as `idstore serve` speaks HTTP
            ws=WEBSOCKETS,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    _wait_until_started(server)
    try:
        yield LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            clock=clock,
            database=database,
            keyring=keyring,
            api_key=api_key,
            statements=statements,
            settings=settings,
            connection_holds=holds,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def _wait_until_started(server: uvicorn.Server) -> None:
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start within 20 s")
        time.sleep(0.02)
