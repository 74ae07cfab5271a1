"""The races of tests/api/test_concurrency.py and of the passkey sessions, across processes.

Two and four real `idstore serve` processes share one database; every race sends its calls at
once, round robin over the processes, as a load balancer would. What makes the answers exact is
the database (row locks, conditional updates), never one process's memory, so the outcome must
not depend on how many processes there are. Four processes only on PostgreSQL: on SQLite every
writer queues on the one file lock, and more processes would prove nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import Api
from tests.support.cluster import (
    HIGH,
    Cluster,
    authenticate,
    codes_of,
    enrol,
    pending,
    spread,
    wrong_code,
)
from tests.support.databases import drop_database, fresh_database_url, is_postgresql
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.processes import Launcher
from tests.support.webauthn_authenticator import SoftwareAuthenticator

pytestmark = pytest.mark.e2e

CALLS = 20
# Each process may open twice 5 connections: four processes stay far below max_connections (100
# here), with room for the other tests and helpers sharing the server.
SETTINGS = {"IDSTORE_DATABASE_POOL_SIZE": "5"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Processes on one database, started as the tests first ask for them."""
    folder = tmp_path_factory.mktemp("fleet")
    url = fresh_database_url(folder)
    group = Cluster(Launcher(folder), url, folder / "data", settings=SETTINGS)
    try:
        yield group
    finally:
        group.stop()
        drop_database(url)


@pytest.fixture(
    params=[
        2,
        pytest.param(
            4,
            marks=pytest.mark.skipif(
                not is_postgresql(), reason="on SQLite every writer queues on one file lock"
            ),
        ),
    ],
    ids=lambda count: f"{count}-processes",
)
def clients(request: pytest.FixtureRequest, fleet: Cluster) -> list[httpx.Client]:
    """One client for each of the first N processes (N: 2, then 4)."""
    count: int = request.param
    while len(fleet.servers) < count:
        fleet.start()
    return fleet.clients[:count]


def audit_of(client: httpx.Client, user_url: str) -> list[dict[str, Any]]:
    page = client.get(f"{user_url}/authentications", params={"size": 200})
    assert page.status_code == 200, page.text
    return [item["authAuditRecord"] for item in page.json()["content"]]


def test_one_code_sent_to_every_process_at_once_is_accepted_once(
    clients: list[httpx.Client],
) -> None:
    enrolled = enrol(clients[0], HIGH)
    code = enrolled.next_code()

    answers = spread(clients, CALLS, lambda client: authenticate(client, enrolled, code))

    assert codes_of(answers) == [200] + [3402] * (CALLS - 1)
    user = clients[-1].get(enrolled.user_url).json()
    assert user["locks"]["modalities"]["TOTP"] == {"failedAttempts": CALLS - 1}
    results = Counter(record["result"] for record in audit_of(clients[-1], enrolled.user_url))
    assert results == Counter({"SUCCESS": 1 + 1, "FAILURE": CALLS - 1})  # the completion too


def test_wrong_codes_over_every_process_count_exactly_to_the_threshold(
    clients: list[httpx.Client],
) -> None:
    enrolled = enrol(clients[0])  # the TOTP locks after 5 failures
    wrong = wrong_code(enrolled)

    answers = spread(clients, CALLS, lambda client: authenticate(client, enrolled, wrong))

    assert codes_of(answers) == [2101] * (CALLS - 5) + [3401] * 5
    user = clients[-1].get(enrolled.user_url).json()
    lock = user["locks"]["modalities"]["TOTP"]
    assert lock["failedAttempts"] == 5 and "lockedDtm" in lock
    assert user["status"] == "ACTIVE"
    records = audit_of(clients[-1], enrolled.user_url)
    failures = Counter(r["errorCode"] for r in records if r["result"] == "FAILURE")
    assert failures == Counter({2101: CALLS - 5, 3401: 5})


def test_wrong_codes_over_every_process_lock_the_user_exactly_once(
    clients: list[httpx.Client],
) -> None:
    locking = {"modalityLockThreshold": 1000, "userLockThreshold": 5, "maxTempLocks": 3}
    enrolled = enrol(clients[0], locking)
    wrong = wrong_code(enrolled)

    answers = spread(clients, CALLS, lambda client: authenticate(client, enrolled, wrong))

    assert codes_of(answers) == [2100] * (CALLS - 5) + [3401] * 5
    user = clients[-1].get(enrolled.user_url).json()
    assert (user["status"], user["lockCount"]) == ("TEMP_LOCKED", 1)


def test_one_registration_completed_on_every_process_at_once_activates_once(
    clients: list[httpx.Client],
) -> None:
    user_url, totp = pending(clients[0], HIGH)
    completion = {"code": totp.now()}
    url = f"{user_url}/totps/registrations/p/complete"

    answers = spread(clients, CALLS, lambda client: client.post(url, json=completion))

    # The losers find the registration no longer pending (3301), not a wrong code.
    assert codes_of(answers) == [200] + [3301] * (CALLS - 1)
    user = clients[-1].get(user_url).json()
    assert [totp["status"] for totp in user["summaryInfo"]["totps"]] == ["ACTIVE"]
    assert "TOTP" not in user["locks"]["modalities"]
    assert len(audit_of(clients[-1], user_url)) == CALLS


def passkey_user(client: httpx.Client) -> tuple[PasskeyStore, dict[str, Any]]:
    """A store with a relying party's passkey configuration, and a user of it."""
    rp = PasskeyStore.create(Api(client))
    return rp, rp.api.create_user(rp.store)


def test_one_passkey_registration_completed_on_every_process_registers_one_passkey(
    clients: list[httpx.Client],
) -> None:
    rp, user = passkey_user(clients[0])
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))
    url = f"{rp.base}/registrations/sessions/{ceremony.session_id}"
    calls = 2 * len(clients)

    answers = spread(clients, calls, lambda client: client.post(url, json=body))

    assert codes_of(answers) == [200] + [9011] * (calls - 1)
    assert len(Api(clients[-1]).get_user(rp.store, user)["summaryInfo"]["passkeys"]) == 1


def test_one_passkey_assertion_sent_to_every_process_signs_in_once(
    clients: list[httpx.Client],
) -> None:
    rp, user = passkey_user(clients[0])
    authenticator = SoftwareAuthenticator(ORIGIN)
    rp.registered(user, authenticator)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    body = ceremony.body(authenticator.authenticate(ceremony.options))
    url = f"{rp.base}/authentications/sessions/{ceremony.session_id}"
    calls = 2 * len(clients)

    answers = spread(clients, calls, lambda client: client.post(url, json=body))

    assert codes_of(answers) == [200] + [9011] * (calls - 1)
    assert PasskeyStore(Api(clients[-1]), rp.store).ceremonies(user) == [
        ("REGISTRATION", "SUCCESS"),
        ("AUTHENTICATION", "SUCCESS"),
    ]
