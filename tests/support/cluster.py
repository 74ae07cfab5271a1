"""Several real `idstore serve` processes on one database, and requests spread over them.

They share one data directory (so one key ring) and a bootstrap API key; each has its own client
carrying one token. Codes come from pyotp at the real time: a separate process has no clock a
test can move.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pyotp

from tests.support import wrong_codes
from tests.support.api import unique
from tests.support.processes import Launcher, ServerProcess

STORES = "/api/identity-store/stores"
LOCKING = {"modalityLockThreshold": 5, "modalityLockSeconds": 300, "userLockThreshold": 100}
# Thresholds above any test's parallel calls: every replay counts, and no lock hides a 3402.
HIGH = {"modalityLockThreshold": 50, "userLockThreshold": 50}


@dataclass
class Cluster:
    """Server processes on one database, each with its own client carrying the same token.

    `settings` are IDSTORE_* variables every process gets (a small pool, say).
    """

    launcher: Launcher
    database_url: str
    data_dir: Path
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    settings: dict[str, str] = field(default_factory=dict)
    servers: list[ServerProcess] = field(default_factory=list)
    clients: list[httpx.Client] = field(default_factory=list)

    def live_clients(self) -> list[httpx.Client]:
        return [
            client
            for server, client in zip(self.servers, self.clients, strict=True)
            if server.process.poll() is None
        ]

    def start(self) -> httpx.Client:
        server = self.launcher(
            data_dir=self.data_dir,
            database_url=self.database_url,
            bootstrap_api_key=self.api_key,
            settings=self.settings,
        )
        token = issue_token(server.base_url, self.api_key)
        client = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.servers.append(server)
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.launcher.stop_all()


def issue_token(base_url: str, api_key: str) -> str:
    response = httpx.post(f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@dataclass
class Enrolled:
    """A user with an active TOTP; `next_code` is a code newer than any accepted so far."""

    user_url: str
    totp: pyotp.TOTP
    step: int

    def next_code(self) -> str:
        # The window accepts the step after the current one, so no test waits for time to pass.
        self.step = max(self.step, int(time.time()) // 30) + 1
        return str(self.totp.at(self.step * 30))


def new_store(client: httpx.Client, locking: dict[str, int]) -> str:
    """A store with those lock settings and a TOTP policy `p`; its name."""
    store = unique("store")
    created = client.post(
        STORES,
        json={"name": store, "configuration": {"userLocking": locking, "totpPolicies": {"p": {}}}},
    )
    assert created.status_code == 201, created.text
    return store


def pending(client: httpx.Client, locking: dict[str, int] = LOCKING) -> tuple[str, pyotp.TOTP]:
    """A new user with a TOTP registration of policy `p` started: the user's URL and the TOTP."""
    store = new_store(client, locking)
    user = client.post(f"{STORES}/{store}/users", json={"externalId": unique("user")}).json()
    user_url = f"{STORES}/{store}/users/{user['id']}"
    started = client.post(f"{user_url}/totps/registrations/p?qrFormat=none")
    assert started.status_code == 201, started.text
    return user_url, pyotp.TOTP(started.json()["secret"])


def enrol(client: httpx.Client, locking: dict[str, int] = LOCKING) -> Enrolled:
    """A new user in a new store, with an active TOTP of policy `p`."""
    user_url, totp = pending(client, locking)
    step = int(time.time()) // 30
    completion = client.post(
        f"{user_url}/totps/registrations/p/complete", json={"code": totp.at(step * 30)}
    )
    assert completion.status_code == 200, completion.text
    return Enrolled(user_url, totp, step=step)


def wrong_code(enrolled: Enrolled) -> str:
    # The window is one step either side (the default drift); one more for the way there.
    return wrong_codes.wrong_code(enrolled.totp, steps=2)


def authenticate(client: httpx.Client, enrolled: Enrolled, code: str) -> httpx.Response:
    return client.post(f"{enrolled.user_url}/totps/authentications/p", json={"code": code})


def all_at_once(calls: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in parallel threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def spread(
    clients: Sequence[httpx.Client], count: int, send: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    """`count` calls of `send`, all at once, round robin over the processes of `clients`, each
    on a connection of its own (opened before the start, so that all leave together)."""
    targets = [clients[number % len(clients)] for number in range(count)]
    own = [
        httpx.Client(base_url=str(target.base_url), headers=dict(target.headers), timeout=60)
        for target in targets
    ]
    try:
        for client in own:
            assert client.get("/health/live").status_code == 200
        return all_at_once([partial(send, client) for client in own])
    finally:
        for client in own:
            client.close()


def codes_of(responses: list[httpx.Response]) -> list[Any]:
    """The answers, sorted: 200 for a success, else the contract's error code."""
    return sorted(200 if r.status_code == 200 else r.json()["code"] for r in responses)
