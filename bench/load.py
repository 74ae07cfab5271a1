"""The load: wrk (C, two threads) with a Lua script that spreads requests over the users."""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp

from bench.seeding import DIGITS, DRIFT_STEPS, PERIOD, BenchUser, Population

SCRIPT = Path(__file__).with_name("wrk_script.lua")
WRK_THREADS = 2
WRK_TIMEOUT = "5s"
_MARK = "BENCH_RESULT "


class WrkMissing(Exception):
    """wrk is not installed and cannot be installed here."""


@dataclass(frozen=True)
class Mix:
    """Which codes a run sends: `correct_every` 0 is all wrong, 10 is one correct in ten."""

    name: str
    correct_every: int


WRONG = Mix("wrong", 0)
MIXED = Mix("mixed-10%", 10)


def ensure_wrk() -> str:
    """The wrk binary; installs Debian's wrk when missing and apt-get is usable as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("bench: wrk is missing; installing Debian's wrk with apt-get", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
        if found:
            return found
    raise WrkMissing(
        "wrk is not installed (Debian/Ubuntu: apt-get install wrk; or build it from its "
        "sources) and could not be installed here: install it and run make bench again"
    )


def write_script(
    path: Path, population: Population, token: str, mix: Mix, *, threads: int, seconds: float
) -> None:
    """The Lua script of one run: its data (users, codes, token) followed by bench's script."""
    now = time.time()
    first_step = int(now // PERIOD) - 1
    last_step = int((now + seconds) // PERIOD) + 1
    steps = range(first_step, last_step + 1)
    users = population.users
    correct = [_codes(user, steps) for user in users]
    wrong = [_wrong_code(user, first_step, last_step) for user in users]
    prefix = f"/api/identity-store/stores/{quote(population.store_name, safe='')}/users/"
    lines = [
        f"token = {_lua(token)}",
        f"user_count = {len(users)}",
        f"stride = {threads}",
        f"period = {PERIOD}",
        f"first_step = {first_step}",
        f"correct_every = {mix.correct_every}",
        f"path_prefix = {_lua(prefix)}",
        f"path_suffix = {_lua('/totps/authentications/' + quote(population.policy_name))}",
        "users = {" + ",".join(_lua(quote(user.id, safe="")) for user in users) + "}",
        "wrong = {" + ",".join(_lua(code) for code in wrong) + "}",
        "correct = {" if mix.correct_every else "correct = {}",
    ]
    if mix.correct_every:
        lines += ["{" + ",".join(_lua(code) for code in codes) + "}," for codes in correct]
        lines.append("}")
    path.write_text("\n".join(lines) + "\n" + SCRIPT.read_text())


def _codes(user: BenchUser, steps: range) -> list[str]:
    generator = pyotp.TOTP(_b32(user.secret), digits=DIGITS, interval=PERIOD)
    return [str(generator.at(step * PERIOD)) for step in steps]


def _wrong_code(user: BenchUser, first_step: int, last_step: int) -> str:
    """A code that matches no step the server could accept during the run (drift included)."""
    window = range(first_step - DRIFT_STEPS, last_step + DRIFT_STEPS + 1)
    taken = set(_codes(user, window))
    while (code := f"{random.randrange(10**DIGITS):0{DIGITS}d}") in taken:
        pass
    return code


def _b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def run_wrk(
    wrk: str, url: str, script: Path, *, connections: int, seconds: float
) -> dict[str, Any]:
    """One wrk run; the Lua `done` callback's JSON, plus wrk's own text output."""
    threads = min(WRK_THREADS, connections)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s"]
    command += [f"--timeout={WRK_TIMEOUT}", "--latency", "-s", str(script), url]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in finished.stdout.splitlines():
        if line.startswith(_MARK):
            result: dict[str, Any] = json.loads(line[len(_MARK) :])
            result["wrk_output"] = finished.stdout.replace(line, "").strip()
            return result
    print(finished.stdout, finished.stderr, file=sys.stderr)
    raise RuntimeError(f"wrk gave no result (exit {finished.returncode})")


def threads_for(connections: int) -> int:
    return min(WRK_THREADS, connections)
