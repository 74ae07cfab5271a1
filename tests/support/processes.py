"""The real `idstore serve` as a separate process, as an operator starts it.

Its output goes to files, read once it is stopped; its environment holds only the settings
given, so that those of the calling shell (IDSTORE_DATABASE_URL of a `make run`) cannot leak in.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 15

# Debian package of each tool; `make test` installs them through scripts/ensure-test-tools.
TOOL_PACKAGES = {"oathtool": "oathtool", "zbarimg": "zbar-tools"}


class ServerFailed(Exception):
    """The process exited, or did not answer, before it was live."""


@dataclass
class ServerProcess:
    """One `idstore serve` process, its standard output and error kept in files."""

    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def stop(self) -> None:
        """Stop it the way an operator does (SIGTERM), so that it flushes its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")


class Launch(Protocol):
    def __call__(
        self,
        *,
        data_dir: Path,
        database_url: str,
        bootstrap_api_key: str | None,
        settings: dict[str, str] | None = None,
    ) -> ServerProcess: ...


@dataclass
class Launcher:
    """Starts servers whose output files go into `folder`, and remembers them to stop them."""

    folder: Path
    started: list[ServerProcess] = field(default_factory=list)

    def __call__(
        self,
        *,
        data_dir: Path,
        database_url: str,
        bootstrap_api_key: str | None,
        settings: dict[str, str] | None = None,
    ) -> ServerProcess:
        """Start `idstore serve` on a free port and return once /health/live answers.
        `settings` are more IDSTORE_* variables (IDSTORE_WORKERS, say).

        Raises ServerFailed (with the end of its standard error) when it does not.
        """
        port = free_port()
        number = len(self.started) + 1
        stdout_path = self.folder / f"server-{number}.stdout"
        stderr_path = self.folder / f"server-{number}.stderr"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [str(idstore_command()), "serve", "--port", str(port)],
                env={**_environment(data_dir, database_url, bootstrap_api_key), **(settings or {})},
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        server = ServerProcess(
            f"http://127.0.0.1:{port}", data_dir, process, stdout_path, stderr_path
        )
        self.started.append(server)
        _wait_until_live(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


def missing_tool_packages() -> list[str]:
    """The Debian packages of the tools (oathtool, zbarimg) that are not on PATH."""
    return [package for tool, package in TOOL_PACKAGES.items() if shutil.which(tool) is None]


def idstore_command() -> Path:
    """The `idstore` console script of the environment the tests run in."""
    command = Path(sys.executable).parent / "idstore"
    if not command.exists():
        raise ServerFailed(f"{command} is missing: install the project first (make test does)")
    return command


def idstore_process(
    *arguments: str,
    data_dir: Path,
    database_url: str,
    settings: dict[str, str] | None = None,
    stderr_path: Path | None = None,
) -> subprocess.Popen[str]:
    """Start one `idstore` command (not `serve`) with the environment a server of `data_dir`
    has, plus `settings`. Standard output is a pipe, read with `communicate()`; standard error
    too, unless it goes to `stderr_path` (to be read while the command runs)."""
    with ExitStack() as files:
        stderr = files.enter_context(stderr_path.open("w")) if stderr_path else subprocess.PIPE
        return subprocess.Popen(
            [str(idstore_command()), *arguments],
            env={**_environment(data_dir, database_url, None), **(settings or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def run_idstore(
    *arguments: str,
    environment: dict[str, str],
    timeout: float = 600,
    cwd: Path | None = None,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one `idstore` command as an operator does, with only `environment` (and a PATH),
    in `cwd` (default: the tests'), and `umask` if given; return its exit status and output."""
    return subprocess.run(
        [str(idstore_command()), *arguments],
        cwd=cwd,
        umask=-1 if umask is None else umask,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _environment(
    data_dir: Path, database_url: str, bootstrap_api_key: str | None
) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("IDSTORE_")
    }
    environment["IDSTORE_DATA_DIR"] = str(data_dir)
    environment["IDSTORE_DATABASE_URL"] = database_url
    if bootstrap_api_key is not None:
        environment["IDSTORE_BOOTSTRAP_API_KEY"] = bootstrap_api_key
    return environment


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_live(server: ServerProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(
                f"idstore serve exited with {server.process.returncode} before it answered:\n"
                f"{server.stderr()[-4000:]}"
            )
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling for start-up, not waiting on a time-based rule
    server.stop()
    raise ServerFailed(
        f"idstore serve did not answer /health/live within {START_TIMEOUT_SECONDS} s:\n"
        f"{server.stderr()[-4000:]}"
    )
