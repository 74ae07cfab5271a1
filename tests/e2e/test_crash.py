"""A server process killed mid-load (SIGKILL: no shutdown, no flush) loses nothing it answered,
and the other process serving the same database goes on answering.

Two real `idstore serve` processes share one database; threads send right and wrong TOTP codes
round robin over both, as a load balancer would, until one is killed; then over the other alone.
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.load import UNLIMITED, Load, enrol, new_store
from tests.support.load_checks import assert_consistent, refusal_codes
from tests.support.processes import Launcher, ServerProcess, idstore_process

pytestmark = pytest.mark.e2e

ANSWERS_PER_PHASE = 60


@dataclass
class Pair:
    database_url: str
    data_dir: Path
    servers: list[ServerProcess]
    token: str


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    url = fresh_database_url(tmp_path / "database")
    launcher = Launcher(tmp_path)
    api_key = secrets.token_urlsafe(32)
    data_dir = tmp_path / "data"
    try:
        servers = [
            launcher(
                data_dir=data_dir, database_url=url, bootstrap_api_key=api_key, settings=UNLIMITED
            )
            for _ in range(2)
        ]
        issued = httpx.post(
            f"{servers[0].base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
        )
        assert issued.status_code == 200, issued.text
        yield Pair(url, data_dir, servers, issued.json()["token"])
    finally:
        launcher.stop_all()
        drop_database(url)


def loaded(pair: Pair, client: httpx.Client) -> tuple[Load, str]:
    """Three threads of right codes over six users each, two wrong-code users with two threads."""
    store = new_store(client)
    right = [[enrol(client, store) for _ in range(6)] for _ in range(3)]
    wrong = [enrol(client, store) for _ in range(2)]
    routes = [server.base_url for server in pair.servers]
    return Load(routes, pair.token, right, wrong), store


def test_a_killed_process_loses_no_answered_write_and_the_other_keeps_answering(
    pair: Pair,
) -> None:
    doomed, survivor = pair.servers
    headers = {"Authorization": f"Bearer {pair.token}"}
    with httpx.Client(base_url=survivor.base_url, headers=headers, timeout=30) as client:
        load, store = loaded(pair, client)

    with load.running():
        load.wait_for(ANSWERS_PER_PHASE, route=doomed.base_url)
        doomed.process.kill()
        killed_at = time.monotonic()
        load.close_route(doomed.base_url)
        # Counted from the kill, as checked below: answers to requests sent before it (in
        # flight on the survivor then) must not make up the number.
        load.wait_for(ANSWERS_PER_PHASE, route=survivor.base_url, sent_after=killed_at)

    assert doomed.process.wait() == -signal.SIGKILL
    on_survivor = load.answered(survivor.base_url)
    assert {(o.status, o.error_code) for o in on_survivor if o.step is not None} == {(200, None)}
    refused = [o for o in on_survivor if o.step is None]
    allowed = refusal_codes(load, pair.database_url)
    assert refused and all(o.status == 400 and o.error_code in allowed[o.user_id] for o in refused)
    assert len([o for o in on_survivor if o.sent_at > killed_at]) >= ANSWERS_PER_PHASE
    assert {o.status for o in load.answered(doomed.base_url)} <= {200, 400, None}
    assert_consistent(load, pair.database_url)
    verify = idstore_process(
        "verify-audit", "--store", store, data_dir=pair.data_dir, database_url=pair.database_url
    )
    report, problems = verify.communicate(timeout=120)
    assert (verify.returncode, report.splitlines()[-1].endswith(" 0 broken chains")) == (0, True), (
        report + problems
    )
