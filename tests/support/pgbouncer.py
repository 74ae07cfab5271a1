"""A private PgBouncer in transaction pool mode in front of the test PostgreSQL.

Its configuration, user list, log and pid file live in a temporary directory of its own; it
listens on a free port of 127.0.0.1 only and is stopped when the block ends. PgBouncer refuses to
run as root, so as root it runs as the `postgres` user (with runuser), which then owns that
directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.processes import free_port

START_TIMEOUT_SECONDS = 20
# Server connections PgBouncer opens to PostgreSQL per database: fewer than the clients it
# serves, which is the point of it (several server processes share these few).
SERVER_POOL_SIZE = 8
RUN_AS = "postgres"
# Debian installs it in /usr/sbin, which a non-root PATH often lacks.
DEBIAN_PATH = Path("/usr/sbin/pgbouncer")


@dataclass(frozen=True)
class PgBouncer:
    """A running PgBouncer: `url(database)` reaches PostgreSQL's `database` through it."""

    port: int
    folder: Path

    def url(self, database_url: str, **query: str) -> str:
        """`database_url` (plain, of the test PostgreSQL) rewritten to go through PgBouncer."""
        through = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return through.update_query_dict(query).render_as_string(hide_password=False)

    def log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text(encoding="utf-8", errors="replace")


def missing_reason() -> str | None:
    """Why no PgBouncer can run here (None when it can)."""
    if _pgbouncer_command() is None:
        return (
            "pgbouncer is not installed: apt-get install pgbouncer "
            "(make test installs it through scripts/ensure-test-tools)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "pgbouncer refuses to run as root and runuser is missing to run it as postgres"
    return None


@contextmanager
def running_pgbouncer(database_url: str) -> Iterator[PgBouncer]:
    """Start PgBouncer (transaction pooling, no authentication of its own: PostgreSQL's
    127.0.0.1 rules apply) in front of the server of `database_url`, for any database on it."""
    target = make_url(database_url)
    folder = Path(tempfile.mkdtemp(prefix="idstore-pgbouncer-"))
    port = free_port()
    configuration = _write_configuration(folder, port, target.host or "127.0.0.1", target.port)
    command = [str(_pgbouncer_command()), str(configuration)]
    if os.geteuid() == 0:
        shutil.chown(folder, user=RUN_AS)
        for path in folder.iterdir():
            shutil.chown(path, user=RUN_AS)
        command = ["runuser", "-u", RUN_AS, "--", *command]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    bouncer = PgBouncer(port, folder)
    try:
        _wait_until_listening(process, bouncer)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _pgbouncer_command() -> str | None:
    return shutil.which("pgbouncer") or (str(DEBIAN_PATH) if DEBIAN_PATH.exists() else None)


def _write_configuration(folder: Path, port: int, host: str, server_port: int | None) -> Path:
    users = folder / "users.txt"
    # auth_type trust still needs the user listed; PostgreSQL itself decides who may connect.
    users.write_text(f'"{RUN_AS}" ""\n', encoding="utf-8")
    configuration = folder / "pgbouncer.ini"
    configuration.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={host} port={server_port or 5432}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {users}",
                "pool_mode = transaction",
                f"default_pool_size = {SERVER_POOL_SIZE}",
                "max_client_conn = 500",
                f"logfile = {folder / 'pgbouncer.log'}",
                f"pidfile = {folder / 'pgbouncer.pid'}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return configuration


def _wait_until_listening(process: subprocess.Popen[bytes], bouncer: PgBouncer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = bouncer.log() if (bouncer.folder / "pgbouncer.log").exists() else ""
            raise RuntimeError(f"pgbouncer exited with {process.returncode}:\n{log[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", bouncer.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # polling for start-up, not waiting on a time-based rule
    raise RuntimeError(f"pgbouncer did not listen within {START_TIMEOUT_SECONDS} s")
