"""A PostgreSQL cluster of the test's own, which the test may stop and start at will.

The cluster lives under a temporary directory and listens on a free port of 127.0.0.1 only.
`initdb` and `pg_ctl` refuse to run as root, so they run as the `postgres` user (`runuser`), which
owns the cluster's directory; trust authentication, since nothing but the test can reach it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port

CLUSTER_USER = "postgres"
PG_CTL_TIMEOUT_SECONDS = 120


class ClusterUnavailable(Exception):
    """This machine cannot run a private cluster; the message says why (a test skips on it)."""


@dataclass(frozen=True)
class PrivateCluster:
    """One cluster: its binaries, its directory and its port."""

    bin_dir: Path
    directory: Path
    port: int

    def start(self) -> None:
        """Start the cluster and return once it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._pg_ctl("start", "-l", str(self.directory / "server.log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster: `fast` ends the sessions and rolls back their transactions;
        `immediate` kills every process, as a crash would, and the next start recovers."""
        self._pg_ctl("stop", "-m", mode)

    def is_running(self) -> bool:
        status = self._run("pg_ctl", "status", "-D", str(self.directory / "data"), check=False)
        return status.returncode == 0

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop every process of the cluster (SIGSTOP) for the block, then let them go on: a
        database that hangs with its connections open, as a stuck host or a partition does."""
        processes = self._processes()
        for pid in processes:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in reversed(processes):
                os.kill(pid, signal.SIGCONT)

    def _processes(self) -> list[int]:
        """The postmaster, then its children (read from /proc: pid (name) state ppid ...)."""
        postmaster = int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def create_database(self) -> str:
        """A new, empty database of the cluster; its URL."""
        name = f"idstore_{uuid.uuid4().hex[:12]}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", CLUSTER_USER, name)
        return f"postgresql://{CLUSTER_USER}@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, action: str, *options: str) -> None:
        data = str(self.directory / "data")
        timeout = str(PG_CTL_TIMEOUT_SECONDS)
        self._run("pg_ctl", action, "-D", data, "-w", "-t", timeout, *options)

    def _run(
        self, tool: str, *arguments: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", CLUSTER_USER, "--", str(self.bin_dir / tool), *arguments]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        if check and completed.returncode != 0:
            raise RuntimeError(f"{tool} {arguments[0]} failed: {completed.stderr[-2000:]}")
        return completed


def postgresql_bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries.

    Raises ClusterUnavailable when there are none, or when this process cannot act as `postgres`.
    """
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    if not candidates or not (candidates[-1] / "initdb").exists():
        raise ClusterUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        raise ClusterUnavailable("running initdb as the postgres user needs root and runuser")
    try:
        pwd.getpwnam(CLUSTER_USER)
    except KeyError as missing:
        raise ClusterUnavailable(f"there is no {CLUSTER_USER!r} user") from missing
    return candidates[-1]


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started cluster, stopped and removed afterwards.

    Raises ClusterUnavailable (see postgresql_bin_dir).
    """
    bin_dir = postgresql_bin_dir()
    # Not under pytest's tmp_path: its folders are root's alone, and postgres must enter this one.
    directory = Path(tempfile.mkdtemp(prefix="idstore-pg-"))
    account = pwd.getpwnam(CLUSTER_USER)
    os.chown(directory, account.pw_uid, account.pw_gid)
    cluster = PrivateCluster(bin_dir, directory, free_port())
    try:
        cluster._run(
            "initdb", "-D", str(directory / "data"), "-A", "trust", "-U", CLUSTER_USER,
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
