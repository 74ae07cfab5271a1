"""The lists and lookups a store with many users runs use indexes, never a scan of a big table.

A database of its own holds two stores of 20,000 users each and 50,000 audit records. Each test
calls the real API and asks PostgreSQL for the plan of every statement the request ran, with the
values it ran with.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import RFC_SECRET, Api, code_at, issue_token, segment
from tests.support.bulk import (
    AUDIT_COLUMNS,
    USER_COLUMNS,
    AuditSpread,
    audit_rows,
    copy_rows,
    user_rows,
)
from tests.support.checks import json_of
from tests.support.databases import drop_database, fresh_database_url, is_postgresql
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.plans import PlanRecorder, Scan, explain
from tests.support.seeding import Seeder, TotpSpec, b32
from tests.support.server import running_server
from tests.support.webauthn_authenticator import SoftwareAuthenticator

pytestmark = pytest.mark.skipif(
    not is_postgresql(), reason="index use is checked in PostgreSQL's plans; SQLite is embedded"
)

BIG_TABLES = {"users", "authentication_audit", "user_totps"}
# The audit's indexes that pin an instant: a registration's record is sought through either.
AUDIT_SEEKS = {
    "ix_authentication_audit_store_id_user_id_created_dtm_id",
    "ix_authentication_audit_store_id_created_dtm",
}
USERS_PER_STORE = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scaled:
    url: str
    api: Api
    recorder: PlanRecorder
    store: dict[str, Any]
    person: dict[str, Any]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    url = fresh_database_url()
    try:
        with running_server(url, tmp_path_factory.mktemp("scaled")) as server:
            recorder = PlanRecorder()
            recorder.watch(server.database)
            headers = {"Authorization": f"Bearer {issue_token(server.base_url, server.api_key)}"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
                api = Api(client)
                store = api.create_store(configuration={"totpPolicies": {"default": {}}})
                other = api.create_store()
                person = api.create_user(store["name"])
                policy = store["configuration"]["totpPolicies"]["default"]
                spec = TotpSpec(RFC_SECRET)
                Seeder(url, server.keyring).totp(store=store, user=person, policy=policy, spec=spec)
                _seed(url, store["id"], other["id"], person["id"])
                yield Scaled(url, api, recorder, store, person)
    finally:
        drop_database(url)


def _seed(url: str, store_id: str, other_id: str, person_id: str) -> None:
    """20,000 users in each store; 1,000 audit records of the person, 49,000 of 980 others."""
    now = datetime.now(UTC)
    mine = user_rows(store_id, USERS_PER_STORE, prefix="bulk", now=now)
    theirs = user_rows(other_id, USERS_PER_STORE, prefix="bulk", now=now)
    copy_rows(url, "users", USER_COLUMNS, mine + theirs)

    hour = timedelta(hours=1)
    spreads = [AuditSpread(person_id, store_id, 1000, START, hour, types=("TOTP", "Passkey"))]
    for row in (mine + theirs)[::40][:980]:
        spreads.append(AuditSpread(row[0], row[1], 50, START, 20 * hour))
    records = [record for spread in spreads for record in audit_rows(spread)]
    copy_rows(url, "authentication_audit", AUDIT_COLUMNS, records)


def plans_of(scaled: Scaled, path: str, **params: Any) -> list[list[Scan]]:
    """GET from the API and return the scans of each statement the request ran."""
    with scaled.recorder.capture() as ran:
        response = scaled.api.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return explain(scaled.url, ran)


def assert_indexed(plans: list[list[Scan]], expected_index: str) -> None:
    scans = [scan for plan in plans for scan in plan]
    sequential = [s.relation for s in scans if s.node_type == "Seq Scan" and s.relation]
    assert not set(sequential) & BIG_TABLES, scans
    assert expected_index in {scan.index for scan in scans}, scans


def test_the_first_page_of_a_stores_users_reads_an_index(scaled: Scaled) -> None:
    plans = plans_of(scaled, f"{scaled.api.store_url(scaled.store['name'])}/users")

    assert_indexed(plans, "ix_users_store_id_created_dtm_id")


def test_a_user_found_by_external_id_is_read_through_an_index(scaled: Scaled) -> None:
    url = scaled.api.user_url(scaled.store["name"], scaled.person, ext=True)

    plans = plans_of(scaled, url)

    assert_indexed(plans, "uq_users_store_id_external_id")


@pytest.mark.parametrize("ext", [False, True], ids=["by id", "by external id"])
def test_a_totp_authentication_reads_indexes_only(scaled: Scaled, ext: bool) -> None:
    path = "totps/authentications/default"
    url = scaled.api.user_url(scaled.store["name"], scaled.person, path, ext=ext)
    now = time.time()
    window = {code_at(b32(RFC_SECRET), now + steps * 30) for steps in (-1, 0, 1, 2)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in window)

    with scaled.recorder.capture() as ran:
        response = scaled.api.client.post(url, json={"code": wrong})
    assert response.json()["code"] == 3401, response.text

    plans = explain(scaled.url, ran)

    expected = "uq_users_store_id_external_id" if ext else "pk_users"
    assert_indexed(plans, expected)
    assert_indexed(plans, "uq_user_totps_store_id_user_id_policy_id")


AUDIT_QUERIES = {
    "default": {},
    "newest first": {"sort": "createdDtm,desc"},
    "type": {"type": "Passkey"},
    "result": {"result": "SUCCESS"},
    "from and to": {"from": "2026-01-10T00:00:00Z", "to": "2026-01-20T00:00:00Z"},
    "every filter": {
        "type": "TOTP",
        "result": "FAILURE",
        "from": "2026-01-05T00:00:00Z",
        "to": "2026-02-01T00:00:00Z",
        "sort": "createdDtm,desc",
    },
}


@pytest.mark.parametrize("params", AUDIT_QUERIES.values(), ids=AUDIT_QUERIES.keys())
def test_the_first_page_of_a_users_audit_reads_an_index(
    scaled: Scaled, params: dict[str, str]
) -> None:
    url = scaled.api.user_url(scaled.store["name"], scaled.person, "authentications")

    plans = plans_of(scaled, url, **params)

    assert_indexed(plans, "ix_authentication_audit_store_id_user_id_created_dtm_id")


def test_a_registration_audit_finds_its_completion_record_through_the_audit_index(
    scaled: Scaled,
) -> None:
    """The person has 1,000 records (Passkey among them): the completion's record is sought at
    the key's instant, not found by reading them. Either audit index serves the seek (both pin
    store and instant); the planner chooses by its statistics."""
    store = scaled.store["name"]
    config = {"rpId": RP_ID, "restrictedOrigins": [ORIGIN]}
    json_of(
        scaled.api.client.post(f"{scaled.api.store_url(store)}/passkeyConfig", json=config), 201
    )
    passkey = PasskeyStore(scaled.api, store).registered(
        scaled.person, SoftwareAuthenticator(ORIGIN)
    )
    path = f"passkeys/{segment(passkey['id'])}/registrationAudit"

    plans = plans_of(scaled, scaled.api.user_url(store, scaled.person, path))

    audit_scans = [
        scan for plan in plans for scan in plan if scan.relation == "authentication_audit"
    ]
    assert audit_scans, plans
    assert {scan.index for scan in audit_scans} <= AUDIT_SEEKS, audit_scans
    assert_indexed(plans, "pk_user_passkeys")
