"""Rules that must hold across server processes sharing one database, and across restarts.

Two real `idstore serve` processes run on one database (and one data directory, so one key
ring). Requests are spread over both; codes come from pyotp at the real time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import unique
from tests.support.databases import drop_database, fresh_database_url
from tests.support.processes import Launcher, ServerProcess

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
LOCKING = {"modalityLockThreshold": 5, "modalityLockSeconds": 300, "userLockThreshold": 100}


@dataclass
class Cluster:
    """Server processes on one database, each with its own client carrying the same token."""

    launcher: Launcher
    database_url: str
    data_dir: Path
    api_key: str
    servers: list[ServerProcess]
    clients: list[httpx.Client]

    def live_clients(self) -> list[httpx.Client]:
        return [
            client
            for server, client in zip(self.servers, self.clients, strict=True)
            if server.process.poll() is None
        ]

    def start(self) -> httpx.Client:
        server = self.launcher(
            data_dir=self.data_dir, database_url=self.database_url, bootstrap_api_key=self.api_key
        )
        token = _token(server.base_url, self.api_key)
        client = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.servers.append(server)
        self.clients.append(client)
        return client


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    url = fresh_database_url(folder)
    launcher = Launcher(folder)
    group = Cluster(launcher, url, folder / "data", secrets.token_urlsafe(32), [], [])
    group.start()
    group.start()
    try:
        yield group
    finally:
        for client in group.clients:
            client.close()
        launcher.stop_all()
        drop_database(url)


def _token(base_url: str, api_key: str) -> str:
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


def enrol(client: httpx.Client, locking: dict[str, int] = LOCKING) -> Enrolled:
    store = unique("store")
    created = client.post(
        STORES,
        json={"name": store, "configuration": {"userLocking": locking, "totpPolicies": {"p": {}}}},
    )
    assert created.status_code == 201, created.text
    user = client.post(f"{STORES}/{store}/users", json={"externalId": unique("user")}).json()
    user_url = f"{STORES}/{store}/users/{user['id']}"

    secret = client.post(f"{user_url}/totps/registrations/p?qrFormat=none").json()["secret"]
    step = int(time.time()) // 30
    enrolled = Enrolled(user_url, pyotp.TOTP(secret), step=step)
    completion = client.post(
        f"{user_url}/totps/registrations/p/complete", json={"code": enrolled.totp.at(step * 30)}
    )
    assert completion.status_code == 200, completion.text
    return enrolled


def wrong_code(enrolled: Enrolled) -> str:
    window = {enrolled.totp.at(time.time() + 30 * shift) for shift in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222") if code not in window)


def authenticate(client: httpx.Client, enrolled: Enrolled, code: str) -> httpx.Response:
    return client.post(f"{enrolled.user_url}/totps/authentications/p", json={"code": code})


def all_at_once(calls: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in parallel threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _spread(
    cluster: Cluster, count: int, send: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    # One client per call: httpx clients are not shared between threads here.
    clients = [
        httpx.Client(base_url=str(c.base_url), headers=dict(c.headers), timeout=30)
        for c in cluster.live_clients()
    ]
    try:
        calls = [partial(send, clients[i % len(clients)]) for i in range(count)]
        return all_at_once(calls)
    finally:
        for client in clients:
            client.close()


def _codes(responses: list[httpx.Response]) -> list[Any]:
    return sorted(r.json().get("code", r.status_code) for r in responses)


def test_a_token_issued_by_one_process_works_on_the_other(cluster: Cluster) -> None:
    first, second = cluster.clients[:2]
    assert first.get(STORES).status_code == 200
    answer = second.get(STORES)
    assert answer.status_code == 200, answer.text


def test_a_code_sent_to_both_processes_at_once_is_accepted_once(cluster: Cluster) -> None:
    # Thresholds above 20: every replay counts, and no lock may hide a 3402.
    enrolled = enrol(cluster.clients[0], {"modalityLockThreshold": 50, "userLockThreshold": 50})
    code = enrolled.next_code()

    answers = _spread(cluster, 20, lambda client: authenticate(client, enrolled, code))

    assert [r.status_code for r in answers].count(200) == 1
    assert _codes([r for r in answers if r.status_code != 200]) == [3402] * 19


def test_wrong_codes_spread_over_both_processes_are_counted_exactly(cluster: Cluster) -> None:
    enrolled = enrol(cluster.clients[0])
    wrong = wrong_code(enrolled)

    answers = _spread(cluster, 20, lambda client: authenticate(client, enrolled, wrong))

    assert _codes(answers) == [2101] * 15 + [3401] * 5
    user = cluster.clients[1].get(enrolled.user_url).json()
    assert user["locks"]["modalities"]["TOTP"]["failedAttempts"] == 5
    audit = cluster.clients[0].get(f"{enrolled.user_url}/authentications?size=200").json()
    assert audit["totalElements"] == 1 + 20  # the completion, then one record per attempt


def test_counters_and_locks_survive_a_restart_and_hold_on_the_other_process(
    cluster: Cluster,
) -> None:
    enrolled = enrol(cluster.clients[0])
    wrong = wrong_code(enrolled)
    for _ in range(3):
        assert authenticate(cluster.clients[0], enrolled, wrong).json()["code"] == 3401

    cluster.servers[0].stop()
    restarted = cluster.start()
    fourth = authenticate(restarted, enrolled, wrong).json()
    fifth = authenticate(cluster.clients[1], enrolled, wrong).json()
    refused = authenticate(restarted, enrolled, enrolled.next_code()).json()

    assert fourth["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 4
    assert (fifth["code"], fifth["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"]) == (
        3401,
        5,
    )
    assert "lockedDtm" in fifth["user"]["locks"]["modalities"]["TOTP"]
    assert refused["code"] == 2101
    assert refused["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 5


def test_a_blocked_keys_tokens_stop_on_every_process_within_five_seconds(
    cluster: Cluster,
) -> None:
    first, second = cluster.live_clients()[:2]
    created = first.post(
        "/api/arthr/apiKeys", json={"permissions": ["TNT#default#IdentityStore:listStores"]}
    ).json()
    token = _token(str(first.base_url), created["key"])
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{second.base_url}{STORES}", headers=headers).status_code == 200

    assert first.post(f"/api/arthr/apiKeys/{created['id']}/block").status_code == 200
    blocked_at = time.monotonic()
    refused = None
    while time.monotonic() - blocked_at < 5.0:  # the bound the contract promises, not a sleep
        answer = httpx.get(f"{second.base_url}{STORES}", headers=headers)
        if answer.status_code == 401:
            refused = answer
            break
        time.sleep(0.1)

    assert refused is not None, "a token of a blocked key still worked after 5 s"
    assert refused.json()["code"] == 9003
