"""A store id the server remembers (services/store_ids.py) is safe when it has gone stale.

Another process (here a second server on the same database) deletes a store, and may create
one of the same name, which has a new id. The id the first server remembers then finds no row:
the attempt reads the store anew and answers for the store as it now is, never for the old one,
and never with a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import RFC_SECRET, Api, issue_token
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder, TotpSpec
from tests.support.server import LiveServer, running_server
from tests.support.totp_users import POLICY, TotpUser, totp_user

T0 = 1111111109  # the code is 081804
T1 = 1234567890  # the code is 005924


@pytest.fixture(scope="module")
def elsewhere(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API of a second server on the same database: another process, as far as the first
    server's memory goes."""
    with running_server(database_url, tmp_path_factory.mktemp("elsewhere")) as other:
        headers = {"Authorization": f"Bearer {issue_token(other.base_url, other.api_key)}"}
        with httpx.Client(base_url=other.base_url, headers=headers, timeout=30) as client:
            yield Api(client)


def _attempt_reads(statements: list[str]) -> int:
    """How many times the attempt's one SELECT ran (services/rows.py, totp_attempt_query)."""
    return sum("AS store_configuration" in statement for statement in statements)


def _remembered_then_deleted_elsewhere(
    api: Api, seeder: Seeder, clock: ManualClock, elsewhere: Api
) -> TotpUser:
    """A user of a new store whom the first server authenticates (and so remembers the store's
    id), and whose store the second server then deletes."""
    person = totp_user(api, seeder)
    clock.set(T0)
    response = person.authenticate("081804")
    assert response.status_code == 200, response.text

    deleted = elsewhere.client.delete(
        elsewhere.store_url(person.store_name), params={"force": "true"}
    )
    assert deleted.status_code == 204, deleted.text
    return person


def _created_anew_elsewhere(elsewhere: Api, seeder: Seeder, old: TotpUser) -> TotpUser:
    """A store of the old one's name, with the same policy and a user of the same external id."""
    store = elsewhere.create_store(
        name=old.store_name, configuration={"totpPolicies": {POLICY: {}}}
    )
    user = elsewhere.create_user(store["name"], external_id=old.user["externalId"])
    policy: dict[str, Any] = store["configuration"]["totpPolicies"][POLICY]
    totp_id = seeder.totp(store=store, user=user, policy=policy, spec=TotpSpec(RFC_SECRET))
    return TotpUser(
        api=old.api, store=store, policy=policy, user=user, totp_id=totp_id, secret=RFC_SECRET
    )


def test_a_store_created_anew_elsewhere_under_the_same_name_is_the_one_authenticated_against(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock, elsewhere: Api
) -> None:
    old = _remembered_then_deleted_elsewhere(api, seeder, clock, elsewhere)
    new = _created_anew_elsewhere(elsewhere, seeder, old)
    assert new.store["id"] != old.store["id"]
    clock.set(T1)

    with server.statements.capture() as statements:
        response = api.authenticate(new.store_name, new.user, POLICY, "005924")
    with server.statements.capture() as later:
        again = api.authenticate(new.store_name, new.user, POLICY, "005924")

    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == new.user["id"]
    assert _attempt_reads(statements) == 2  # the stale id found nothing; the new one the user
    assert (again.status_code, again.json()["code"]) == (400, 3402)  # the same code: a replay
    assert _attempt_reads(later) == 1  # the new id is remembered
    assert [(r["result"], r.get("errorCode")) for r in new.audit()] == [
        ("SUCCESS", None),
        ("FAILURE", 3402),
    ]


def test_the_old_user_of_a_store_created_anew_elsewhere_is_not_found(
    api: Api, seeder: Seeder, clock: ManualClock, elsewhere: Api
) -> None:
    old = _remembered_then_deleted_elsewhere(api, seeder, clock, elsewhere)
    _created_anew_elsewhere(elsewhere, seeder, old)
    clock.set(T1)

    response = old.authenticate("005924")

    assert (response.status_code, response.json()["code"]) == (404, 3100), response.text


def test_a_store_deleted_elsewhere_is_not_found(
    api: Api, seeder: Seeder, clock: ManualClock, elsewhere: Api
) -> None:
    old = _remembered_then_deleted_elsewhere(api, seeder, clock, elsewhere)
    clock.set(T1)

    response = old.authenticate("005924")

    assert (response.status_code, response.json()["code"]) == (404, 3000), response.text
