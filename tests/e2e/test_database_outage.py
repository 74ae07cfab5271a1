"""The database stops under load: requests fail fast with 503 (9010), readiness says so, nothing
is left half-written, and service resumes by itself once the database is back.

The database is a PostgreSQL cluster of the test's own (tests/support/private_postgres.py), so
that stopping it disturbs nothing else; the server is started once and never restarted.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import is_postgresql
from tests.support.load import STORES, UNLIMITED, Load, enrol, new_store
from tests.support.load_checks import assert_consistent, refusal_codes
from tests.support.private_postgres import (
    ClusterUnavailable,
    PrivateCluster,
    postgresql_bin_dir,
    private_cluster,
)
from tests.support.processes import Launcher

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not is_postgresql(),
        reason="a database server that stops is a PostgreSQL fault; SQLite lives in the process",
    ),
]

# The contract's bound is "fast"; generous here, for a loaded 2-core machine.
FAIL_FAST_SECONDS = 10
ANSWERS_PER_PHASE = 30


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    try:
        postgresql_bin_dir()
    except ClusterUnavailable as unavailable:
        pytest.skip(str(unavailable))
    with private_cluster() as started:
        yield started


def loaded(client: httpx.Client, base_url: str, token: str) -> Load:
    store = new_store(client)
    right = [[enrol(client, store) for _ in range(4)] for _ in range(2)]
    return Load([base_url], token, right, [enrol(client, store)])


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_stopped_database_means_fast_503s_and_service_resumes_when_it_is_back(
    cluster: PrivateCluster, mode: str, tmp_path: Path
) -> None:
    api_key = secrets.token_urlsafe(32)
    launcher = Launcher(tmp_path)
    database_url = cluster.create_database()
    server = launcher(
        data_dir=tmp_path / "data", database_url=database_url, bootstrap_api_key=api_key,
        settings=UNLIMITED,
    )  # fmt: skip
    try:
        issued = httpx.post(
            f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
        )
        token = issued.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            load = loaded(client, server.base_url, token)
            with load.running():
                load.wait_for(ANSWERS_PER_PHASE)
                cluster.stop(mode)
                stopped_at = time.monotonic()
                load.wait_for(ANSWERS_PER_PHASE // 3)
                not_ready = client.get("/health/ready")
                cluster.start()
                started_at = time.monotonic()
                load.wait_for_success(sent_after=started_at)
                load.wait_for(ANSWERS_PER_PHASE)
            ready = client.get("/health/ready")
        never_restarted = server.process.poll() is None
    finally:
        launcher.stop_all()
        if not cluster.is_running():
            cluster.start()

    outcomes = load.answered()
    down = [o for o in outcomes if stopped_at < o.sent_at and o.sent_at + o.seconds < started_at]
    assert down, "no request was sent while the database was down"
    assert {(o.status, o.error_code) for o in down} == {(503, 9010)}
    assert max(o.seconds for o in down) < FAIL_FAST_SECONDS
    assert {o.status for o in outcomes} <= {200, 400, 503}
    allowed = refusal_codes(load, database_url)
    assert all(o.error_code in allowed[o.user_id] for o in outcomes if o.status == 400)
    assert (not_ready.status_code, not_ready.json()["code"]) == (503, 9010)
    assert int(not_ready.headers["Retry-After"]) > 0
    assert ready.status_code == 200
    assert never_restarted
    assert_consistent(load, database_url)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_the_first_request_after_a_database_restart_is_served(
    cluster: PrivateCluster, mode: str, tmp_path: Path
) -> None:
    # No request meets the outage, so the pool still holds connections the database dropped.
    launcher = Launcher(tmp_path)
    database_url = cluster.create_database()
    try:
        server = launcher(
            data_dir=tmp_path / "data", database_url=database_url, bootstrap_api_key=None
        )
        before = httpx.get(f"{server.base_url}/health/ready", timeout=30)
        cluster.stop(mode)
        cluster.start()
        after = httpx.get(f"{server.base_url}/health/ready", timeout=30)
    finally:
        launcher.stop_all()

    assert (before.status_code, after.status_code) == (200, 200), after.text


def test_a_database_that_hangs_means_503s_within_the_bound_and_service_resumes(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    # The pool holds an open connection to a database that no longer answers on it: only the
    # statement time-out ends the wait (the connect time-out bounds new connections).
    api_key = secrets.token_urlsafe(32)
    launcher = Launcher(tmp_path)
    settings = {"IDSTORE_DATABASE_STATEMENT_TIMEOUT_SECONDS": "3"}
    database_url = cluster.create_database()
    try:
        server = launcher(
            data_dir=tmp_path / "data", database_url=database_url, bootstrap_api_key=api_key,
            settings=settings,
        )  # fmt: skip
        issued = httpx.post(
            f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
        )
        headers = {"Authorization": f"Bearer {issued.json()['token']}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            assert client.get("/health/ready").status_code == 200
            with cluster.frozen():
                timed = [_timed(client, path) for path in ("/health/ready", STORES, STORES)]
            after = client.get(STORES)
    finally:
        launcher.stop_all()

    assert [(answer.status_code, answer.json()["code"]) for answer, _ in timed] == [(503, 9010)] * 3
    assert max(seconds for _, seconds in timed) < FAIL_FAST_SECONDS
    assert after.status_code == 200, after.text


def _timed(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = client.get(path)
    return answer, time.monotonic() - started
