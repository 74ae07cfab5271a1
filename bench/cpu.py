"""Where the machine's CPU went during a run: the server, its database backends, wrk, others.

Everything shares this machine's cores: the server under test, PostgreSQL and wrk, and whatever
else runs here. Splitting the busy time tells how much CPU one request costs each, and how much
of the machine something else took (which makes a run noisy).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Marks:
    """CPU counters at one instant."""

    wall: float
    machine: float
    server: dict[int, float]
    database: dict[int, float]
    children: float  # processes the harness ran and waited for: wrk

    @classmethod
    def take(cls, server_pids: list[int], database: str) -> Marks:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            wall=time.monotonic(),
            machine=machine_busy_seconds(),
            server=cpu_by_pid(server_pids),
            database=cpu_by_pid(backend_pids(database)),
            children=usage.ru_utime + usage.ru_stime,
        )


def busy_percent(seconds: float = 1.0) -> float:
    """How busy the machine's cores are now, over a short sample."""
    started, busy = time.monotonic(), machine_busy_seconds()
    time.sleep(seconds)
    used = machine_busy_seconds() - busy
    return round(100 * used / ((time.monotonic() - started) * (os.cpu_count() or 1)), 1)


def figures(before: Marks, after: Marks, requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each part, and the share of the machine others used."""
    count = max(requests, 1)
    capacity = (after.wall - before.wall) * (os.cpu_count() or 1)
    server = cpu_used(before.server, after.server)
    database = cpu_used(before.database, after.database)
    wrk = after.children - before.children
    busy = after.machine - before.machine
    return {
        "server_ms_per_request": round(server * 1000 / count, 3),
        "database_ms_per_request": round(database * 1000 / count, 3),
        "wrk_ms_per_request": round(wrk * 1000 / count, 3),
        "machine_busy_percent": round(100 * busy / capacity, 1),
        "others_percent": round(100 * max(busy - server - database - wrk, 0) / capacity, 1),
    }


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds each live process has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots, by processes alive at the second one."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends connected to `database` (by their process title)."""
    marker = f" {database} ".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and marker in title:
                found.append(int(entry.name))
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
