"""idstore behind PgBouncer in transaction pool mode (docs/scaling.md), on the test PostgreSQL.

In transaction mode PgBouncer hands each transaction whichever server connection is free, so a
statement a client prepared in one transaction is missing in its next one, or was prepared under
the same name by another client. asyncpg and SQLAlchemy keep prepared statements between
transactions by default: through such a pooler that breaks, and `?prepared_statements=false`
on the URL is the setting that makes it work. Both are shown here; then server processes through
one PgBouncer authenticate, refuse replays and count failures exactly, on fewer server
connections than they have clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from idstore.db.engine import Database
from tests.support.cluster import (
    HIGH,
    Cluster,
    authenticate,
    codes_of,
    enrol,
    spread,
    wrong_code,
)
from tests.support.databases import (
    TEST_DATABASE_URL,
    async_url,
    drop_database,
    fresh_database_url,
    is_postgresql,
)
from tests.support.pgbouncer import SERVER_POOL_SIZE, PgBouncer, missing_reason, running_pgbouncer
from tests.support.processes import Launcher

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not is_postgresql(), reason="PgBouncer pools PostgreSQL connections only"),
    pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or ""),
]

CALLS = 20
PROCESSES = 2


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = fresh_database_url()
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def bouncer(database: str) -> Iterator[PgBouncer]:
    with running_pgbouncer(TEST_DATABASE_URL) as running:
        yield running


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, database: str, bouncer: PgBouncer
) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("pgbouncer-fleet")
    url = bouncer.url(database, prepared_statements="false")
    group = Cluster(Launcher(folder), url, folder / "data")
    try:
        for _ in range(PROCESSES):
            group.start()  # the first one migrates the database through PgBouncer
        yield group
    finally:
        group.stop()


async def _turn(client: Database, turn: int) -> int:
    async with client.transaction() as conn:
        found = await conn.scalar(text("SELECT CAST(:turn AS integer)"), {"turn": turn})
        return int(found)


async def _take_turns(url: str, turns: int) -> list[int]:
    """Each turn, a client runs a transaction while another holds one open, so that the two
    run on two server connections; then again once both have ended, when PgBouncer hands it the
    connection released last (it reuses them last in, first out): the other one. The answers of
    the client's transactions."""
    holder, client = (Database(async_url(url), pool_size=1) for _ in range(2))
    answers: list[int] = []
    try:
        for turn in range(turns):
            async with holder.transaction() as held:
                await held.execute(text("SELECT 1"))
                answers.append(await _turn(client, turn))
            answers.append(await _turn(client, turn))
    finally:
        await holder.dispose()
        await client.dispose()
    return answers


def test_prepared_statements_kept_between_transactions_break_behind_the_pooler(
    bouncer: PgBouncer, database: str
) -> None:
    with pytest.raises(DBAPIError, match="prepared statement"):
        asyncio.run(_take_turns(bouncer.url(database), turns=5))


def test_without_kept_prepared_statements_every_transaction_goes_through(
    bouncer: PgBouncer, database: str
) -> None:
    url = bouncer.url(database, prepared_statements="false")

    assert asyncio.run(_take_turns(url, turns=5)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_the_setting_works_straight_to_postgresql_too(database: str) -> None:
    direct = f"{database}?prepared_statements=false"

    assert asyncio.run(_take_turns(direct, turns=2)) == [0, 0, 1, 1]


def test_a_code_sent_to_every_process_through_the_pooler_is_accepted_once(
    fleet: Cluster,
) -> None:
    enrolled = enrol(fleet.clients[0], HIGH)
    code = enrolled.next_code()

    answers = spread(fleet.clients, CALLS, lambda client: authenticate(client, enrolled, code))

    assert codes_of(answers) == [200] + [3402] * (CALLS - 1)
    user = fleet.clients[-1].get(enrolled.user_url).json()
    assert user["locks"]["modalities"]["TOTP"] == {"failedAttempts": CALLS - 1}


def test_wrong_codes_through_the_pooler_are_counted_exactly(fleet: Cluster) -> None:
    enrolled = enrol(fleet.clients[0])  # the TOTP locks after 5 failures
    wrong = wrong_code(enrolled)

    answers = spread(fleet.clients, CALLS, lambda client: authenticate(client, enrolled, wrong))

    assert codes_of(answers) == [2101] * (CALLS - 5) + [3401] * 5
    audit = fleet.clients[-1].get(f"{enrolled.user_url}/authentications?size=200").json()
    assert audit["totalElements"] == 1 + CALLS  # the completion, then one record per attempt


def test_the_processes_share_the_poolers_few_server_connections(
    fleet: Cluster, database: str
) -> None:
    enrolled = enrol(fleet.clients[0], HIGH)
    wrong = wrong_code(enrolled)
    spread(fleet.clients, CALLS, lambda client: authenticate(client, enrolled, wrong))

    backends = asyncio.run(_backends_of(database))

    # CALLS transactions at once over the processes, on at most the pooler's server connections.
    assert 1 <= backends <= SERVER_POOL_SIZE
    answered = [client.get("/health/ready") for client in fleet.clients]
    assert [response.status_code for response in answered] == [200] * PROCESSES


async def _backends_of(database: str) -> int:
    """Connections PostgreSQL holds open to `database`, seen from a direct connection."""
    admin = Database(async_url(TEST_DATABASE_URL), pool_size=1)
    name = make_url(database).database
    try:
        async with admin.transaction(write=False) as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
            return int(count)
    finally:
        await admin.dispose()
