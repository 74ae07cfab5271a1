"""Attacks on the pooled PostgreSQL transactions (db/pooled.py) through a real `idstore serve`:
a held table lock that keeps every pooled connection busy, clients that hang up mid-request,
statements that time out, and backends killed under load. Each must end in answers of the
contract (a 503 with 9010, never a 500), no connection left `idle in transaction`, nothing
written half, and a server log with no traceback or warning.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no type information published
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import (
    TEST_DATABASE_URL,
    drop_database,
    fresh_database_url,
    is_postgresql,
)
from tests.support.load import UNLIMITED, Account, Load, enrol, new_store
from tests.support.load_checks import assert_consistent, stored_users
from tests.support.pgbouncer import missing_reason as pgbouncer_missing_reason
from tests.support.pgbouncer import running_pgbouncer
from tests.support.private_postgres import (
    ClusterUnavailable,
    PrivateCluster,
    postgresql_bin_dir,
    private_cluster,
)
from tests.support.processes import Launcher, ServerProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not is_postgresql(), reason="pooled transactions are PostgreSQL's"),
]

POOL_SIZE = 10
AUDIT = "authentication_audit"
# A server log line of one of these levels, or one that is not a JSON record (a traceback, a
# Python warning such as "coroutine ... was never awaited"), is a fault.
LOG_FAULT_LEVELS = ("ERROR", "CRITICAL")


@dataclass
class Served:
    database_url: str
    server: ServerProcess
    token: str


def _serve(tmp_path: Path, url_query: str = "", **settings: str) -> Iterator[Served]:
    """A server on a database of its own (its URL given `url_query`), with a bearer token."""
    url = fresh_database_url(tmp_path / "database")
    launcher = Launcher(tmp_path)
    api_key = secrets.token_urlsafe(32)
    environment = {**UNLIMITED, "IDSTORE_DATABASE_POOL_SIZE": str(POOL_SIZE), **settings}
    try:
        server = launcher(
            data_dir=tmp_path / "data", database_url=url + url_query, bootstrap_api_key=api_key,
            settings=environment,
        )  # fmt: skip
        issued = httpx.post(
            f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
        )
        assert issued.status_code == 200, issued.text
        yield Served(url, server, issued.json()["token"])
    finally:
        launcher.stop_all()
        drop_database(url)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, IDSTORE_DATABASE_STATEMENT_TIMEOUT_SECONDS="30")


@pytest.fixture
def served_short_timeout(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, IDSTORE_DATABASE_STATEMENT_TIMEOUT_SECONDS="1")


def _client(served: Served) -> httpx.Client:
    headers = {"Authorization": f"Bearer {served.token}"}
    return httpx.Client(base_url=served.server.base_url, headers=headers, timeout=60)


def _wrong_code_users(served: Served, count: int) -> list[Account]:
    with _client(served) as client:
        store = new_store(client)
        return [enrol(client, store) for _ in range(count)]


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


async def _session_states(database_url: str) -> dict[str, int]:
    """The states of the other sessions on the test's database (the server's connections)."""
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT state, count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY state"
        )
        return {str(row["state"]): int(row["n"]) for row in rows}
    finally:
        await conn.close()


def _settled_sessions(database_url: str, timeout: float = 15) -> dict[str, int]:
    """Wait until no server session is active or in a transaction; return the states."""
    deadline = time.monotonic() + timeout
    while True:
        states = asyncio.run(_session_states(database_url))
        busy = {state: n for state, n in states.items() if state != "idle"}
        if not busy or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


async def _attempts(
    served: Served, accounts: list[Account], *, timeout: float, hold: float = 0
) -> list[tuple[int | None, int | None]]:
    """One wrong-code attempt per account, all at once; (status, code) each, None if no answer.
    With `hold`, the audit table is locked (EXCLUSIVE: reads go on, writes wait) for that many
    seconds from before the first request, in a session of the test's own."""
    locker = await asyncpg.connect(_dsn(served.database_url))
    headers = {"Authorization": f"Bearer {served.token}"}
    try:
        if hold:
            await locker.execute(f"BEGIN; LOCK TABLE {AUDIT} IN EXCLUSIVE MODE")
        async with httpx.AsyncClient(
            base_url=served.server.base_url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=len(accounts) + 5),
        ) as client:

            async def one(account: Account) -> tuple[int | None, int | None]:
                url = f"{account.user_url}/totps/authentications/p"
                try:
                    answer = await client.post(url, json={"code": account.wrong_code()})
                except httpx.TransportError:
                    return None, None
                return answer.status_code, answer.json().get("code")

            async def release() -> None:
                await asyncio.sleep(hold)
                await locker.execute("ROLLBACK")

            sent = [asyncio.ensure_future(one(account)) for account in accounts]
            if hold:
                await release()
            return list(await asyncio.gather(*sent))
    finally:
        await locker.close()


def _assert_both_or_neither(served: Served, accounts: list[Account]) -> dict[str, Any]:
    """Every user's failure counters equal its 3401 audit records (the UPDATE and the INSERT
    of each attempt committed together or not at all)."""
    stored = stored_users(served.database_url, [account.user_id for account in accounts])
    for user_id, user in stored.items():
        assert user.failed_attempts == user.totp_failed_attempts == user.refusals, user_id
        assert user.audit_chain_length == user.audit_records, user_id
    return stored


def _assert_clean_log(server: ServerProcess) -> None:
    faults = []
    for line in server.stderr().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            faults.append(line)
            continue
        if record.get("level") in LOG_FAULT_LEVELS:
            faults.append(line)
    assert not faults, "\n".join(faults[:40])


def test_more_requests_than_connections_wait_then_503_9010_and_leave_nothing_open(
    served: Served,
) -> None:
    accounts = _wrong_code_users(served, 3 * POOL_SIZE)

    # The audit INSERT waits on the lock: the first requests hold every pooled connection in an
    # open transaction, the others wait for one (10 s) and must answer 503 (9010).
    answers = asyncio.run(_attempts(served, accounts, timeout=60, hold=13))

    statuses = sorted({status for status, _code in answers if status is not None})
    assert None not in [status for status, _code in answers]
    assert set(statuses) <= {400, 503}, answers
    assert all(code == 9010 for status, code in answers if status == 503), answers
    assert sum(1 for status, _code in answers if status == 400) >= POOL_SIZE - 1, answers
    assert sum(1 for status, _code in answers if status == 503) >= POOL_SIZE, answers

    states = _settled_sessions(served.database_url)
    assert set(states) <= {"idle"}, states
    stored = _assert_both_or_neither(served, accounts)
    refused = {
        a.user_id for a, (status, _c) in zip(accounts, answers, strict=True) if status == 400
    }
    assert {u for u, user in stored.items() if user.refusals == 1} == refused
    _assert_clean_log(served.server)


def test_clients_that_hang_up_mid_transaction_leave_no_open_transaction_nor_half_writes(
    served: Served,
) -> None:
    accounts = _wrong_code_users(served, 2 * POOL_SIZE)

    # Every client gives up after 1 s, while its attempt waits on the lock inside its transaction
    # (or for a connection); the lock goes 3 s later.
    answers = asyncio.run(_attempts(served, accounts, timeout=1, hold=3))
    assert all(status is None for status, _code in answers), answers

    states = _settled_sessions(served.database_url)
    assert set(states) <= {"idle"}, states
    _assert_both_or_neither(served, accounts)

    # The pool serves again, every connection of it.
    again = asyncio.run(_attempts(served, accounts, timeout=30))
    assert all(status == 400 for status, _code in again), again
    _assert_both_or_neither(served, accounts)
    _assert_clean_log(served.server)


def test_statements_that_time_out_answer_503_9010_and_return_their_connections(
    served_short_timeout: Served,
) -> None:
    served = served_short_timeout
    accounts = _wrong_code_users(served, POOL_SIZE + 2)

    answers = asyncio.run(_attempts(served, accounts, timeout=30, hold=4))

    assert all(status == 503 and code == 9010 for status, code in answers), answers
    states = _settled_sessions(served.database_url)
    assert set(states) <= {"idle"}, states
    stored = _assert_both_or_neither(served, accounts)
    assert all(user.refusals == 0 for user in stored.values())

    again = asyncio.run(_attempts(served, accounts, timeout=30))
    assert all(status == 400 for status, _code in again), again
    _assert_both_or_neither(served, accounts)
    _assert_clean_log(served.server)


async def _terminate_backends(database_url: str, rounds: int, pause: float) -> int:
    killed = 0
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        for _ in range(rounds):
            killed += int(
                await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            await asyncio.sleep(pause)
    finally:
        await conn.close()
    return killed


def test_backends_killed_under_load_mean_503s_then_recovery_and_no_500(served: Served) -> None:
    with _client(served) as client:
        store = new_store(client)
        right = [[enrol(client, store) for _ in range(4)] for _ in range(3)]
        wrong = [enrol(client, store) for _ in range(3)]
    load = Load([served.server.base_url], served.token, right, wrong)

    with load.running():
        load.wait_for(30)
        killed = asyncio.run(_terminate_backends(served.database_url, rounds=15, pause=0.3))
        started_again = time.monotonic()
        load.wait_for_success(sent_after=started_again)
        load.wait_for(30)

    outcomes = load.answered()
    assert killed > 0
    assert {o.status for o in outcomes} <= {200, 400, 503, None}, {o.status for o in outcomes}
    assert all(o.error_code == 9010 for o in outcomes if o.status == 503)
    assert all(o.seconds < 10 for o in outcomes if o.status == 503)
    assert set(_settled_sessions(served.database_url)) <= {"idle"}
    assert_consistent(load, served.database_url)
    _assert_clean_log(served.server)


@pytest.fixture
def served_unprepared(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, "?prepared_statements=false")


def test_unprepared_statements_survive_killed_backends(served_unprepared: Served) -> None:
    test_backends_killed_under_load_mean_503s_then_recovery_and_no_500(served_unprepared)


async def _refuse_connections(database_url: str, *, refuse: bool) -> None:
    """Let the test's database take no new connection (every open one ended), or take them again:
    an outage of that database alone, on the shared server."""
    name = make_url(database_url).database
    server = make_url(database_url).set(database="postgres").render_as_string(False)
    admin = await asyncpg.connect(_dsn(server))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {not refuse!s}')
        if refuse:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()


def _outage_load(served: Served) -> Load:
    with _client(served) as client:
        store = new_store(client)
        right = [[enrol(client, store) for _ in range(4)] for _ in range(3)]
        wrong = [enrol(client, store) for _ in range(3)]
    return Load([served.server.base_url], served.token, right, wrong)


def _wait_for_503s(load: Load, count: int) -> None:
    answered_before = len(load.answered())
    deadline = time.monotonic() + 90
    while len([o for o in load.answered()[answered_before:] if o.status == 503]) < count:
        assert time.monotonic() < deadline, "the outage did not bring enough 503s"
        time.sleep(0.1)  # polling the threads' progress


def _assert_outage_answers(load: Load, database_url: str) -> None:
    outcomes = load.answered()
    assert {o.status for o in outcomes} <= {200, 400, 503, None}, {o.status for o in outcomes}
    assert all(o.error_code == 9010 for o in outcomes if o.status == 503)
    assert set(_settled_sessions(database_url)) <= {"idle"}
    assert_consistent(load, database_url)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    try:
        postgresql_bin_dir()
    except ClusterUnavailable as unavailable:
        pytest.skip(str(unavailable))
    with private_cluster() as started:
        yield started


def test_an_outage_longer_than_the_pool_then_recovery_leaves_no_warning(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    # While the database is down, every checkout is a connect it refuses: far more of them than
    # the pool holds. Back up, no checkout may try to connect outside the greenlet bridge (a
    # "coroutine 'connect' was never awaited" RuntimeWarning in the log).
    launcher = Launcher(tmp_path)
    api_key = secrets.token_urlsafe(32)
    database_url = cluster.create_database()
    settings = {**UNLIMITED, "IDSTORE_DATABASE_POOL_SIZE": str(POOL_SIZE)}
    try:
        server = launcher(
            data_dir=tmp_path / "data", database_url=database_url, bootstrap_api_key=api_key,
            settings=settings,
        )  # fmt: skip
        issued = httpx.post(
            f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
        )
        served = Served(database_url, server, issued.json()["token"])
        load = _outage_load(served)
        with load.running():
            load.wait_for(30)
            cluster.stop("fast")
            _wait_for_503s(load, 4 * POOL_SIZE)
            cluster.start()
            load.wait_for_success(sent_after=time.monotonic())
            load.wait_for(30)
        _assert_outage_answers(load, database_url)
        _assert_clean_log(server)
    finally:
        launcher.stop_all()
        if not cluster.is_running():
            cluster.start()


def test_a_database_that_takes_no_connections_means_503s_not_500s(served: Served) -> None:
    load = _outage_load(served)
    with load.running():
        load.wait_for(30)
        asyncio.run(_refuse_connections(served.database_url, refuse=True))
        try:
            _wait_for_503s(load, 2 * POOL_SIZE)
        finally:
            asyncio.run(_refuse_connections(served.database_url, refuse=False))
        load.wait_for_success(sent_after=time.monotonic())
        load.wait_for(30)
    _assert_outage_answers(load, served.database_url)


_SLOW_COMMIT = f"""
CREATE FUNCTION pg_temp_slow_commit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON {AUDIT}
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp_slow_commit();
"""
_FAST_COMMIT = f"DROP TRIGGER slow_commit ON {AUDIT}; DROP FUNCTION pg_temp_slow_commit();"


async def _administer(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_a_commit_that_times_out_answers_503_and_leaves_its_connection_usable(
    served_short_timeout: Served,
) -> None:
    # The attempt's COMMIT (a deferred trigger stands for a stalled disk or a synchronous
    # replica) outlasts the statement time-out: the request is in doubt (503), the write is
    # whole or absent, and the connection serves the next transaction.
    served = served_short_timeout
    accounts = _wrong_code_users(served, POOL_SIZE // 2)
    asyncio.run(_administer(served.database_url, _SLOW_COMMIT))
    try:
        answers = asyncio.run(_attempts(served, accounts, timeout=30))
    finally:
        asyncio.run(_administer(served.database_url, _FAST_COMMIT))

    assert all(status == 503 and code == 9010 for status, code in answers), answers
    assert set(_settled_sessions(served.database_url)) <= {"idle"}
    _assert_both_or_neither(served, accounts)
    for _ in range(3):  # every pooled connection, in turn
        again = asyncio.run(_attempts(served, accounts, timeout=30))
        assert all(status == 400 and code == 3401 for status, code in again), again
    _assert_both_or_neither(served, accounts)
    _assert_clean_log(served.server)


@pytest.fixture
def served_through_pgbouncer(tmp_path: Path) -> Iterator[Served]:
    reason = pgbouncer_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    url = fresh_database_url(tmp_path / "database")
    launcher = Launcher(tmp_path)
    api_key = secrets.token_urlsafe(32)
    settings = {**UNLIMITED, "IDSTORE_DATABASE_POOL_SIZE": str(POOL_SIZE)}
    try:
        with running_pgbouncer(TEST_DATABASE_URL) as bouncer:
            server = launcher(
                data_dir=tmp_path / "data",
                database_url=bouncer.url(url, prepared_statements="false"),
                bootstrap_api_key=api_key, settings=settings,
            )  # fmt: skip
            issued = httpx.post(
                f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
            )
            assert issued.status_code == 200, issued.text
            yield Served(url, server, issued.json()["token"])
            launcher.stop_all()
    finally:
        launcher.stop_all()
        drop_database(url)


def test_backends_killed_behind_pgbouncer_mean_503s_then_recovery(
    served_through_pgbouncer: Served,
) -> None:
    test_backends_killed_under_load_mean_503s_then_recovery_and_no_500(served_through_pgbouncer)
