"""A store's `totalElements` without a filter comes from its user counter: exact whoever writes."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from idstore.db import tables
from tests.support.api import Api, unique
from tests.support.checks import error_of, in_parallel
from tests.support.seeding import Seeder


def total(api: Api, store: str, **params: Any) -> int:
    response = api.client.get(f"{api.store_url(store)}/users", params=params)
    assert response.status_code == 200, response.text
    counted: int = response.json()["totalElements"]
    return counted


def counted_rows(seeder: Seeder, store: dict[str, Any]) -> int:
    users = tables.users.c
    rows = seeder.rows(select(func.count().label("n")).where(users.store_id == store["id"]))
    counted: int = rows[0]["n"]
    return counted


def test_parallel_creates_and_deletes_leave_the_total_exact(api: Api, seeder: Seeder) -> None:
    store = api.create_store()
    doomed = [api.create_user(store["name"]) for _ in range(8)]
    users_url = f"{api.store_url(store['name'])}/users"
    creates = [("POST", users_url, {"externalId": unique("new")}) for _ in range(16)]
    taken = [("POST", users_url, {"externalId": doomed[0]["externalId"]})] * 4
    # Each doomed user deleted twice at once: one 204, one 404; neither may count twice.
    deletes = [("DELETE", api.user_url(store["name"], user), None) for user in doomed] * 2

    requests = creates + taken + deletes

    def send(index: int) -> httpx.Response:
        method, url, body = requests[index]
        return api.client.request(method, url, json=body)

    responses = in_parallel(len(requests), send)

    statuses = Counter(response.status_code for response in responses)
    created = statuses[201]
    assert statuses[204] == 8
    assert statuses[404] == 8
    for response in responses:
        if response.status_code == 404:
            error_of(response, 404, 3100)  # the other deletion took the user
        elif response.status_code == 409:
            error_of(response, 409, 3101)  # the external id is taken
    # The taken external id may be free again by the time a create runs, once its user is gone.
    assert created in (16, 17)
    assert statuses[409] == 4 - (created - 16)
    assert total(api, store["name"]) == created
    assert counted_rows(seeder, store) == created
    assert total(api, store["name"], status="ACTIVE") == created  # counted with count(*)


def test_users_written_straight_into_the_table_are_counted(api: Api, seeder: Seeder) -> None:
    store = api.create_store()
    api.create_user(store["name"])
    moment = datetime.fromisoformat(api.create_user(store["name"])["createdDtm"])
    rows = [
        {
            "id": str(uuid.uuid4()),
            "store_id": store["id"],
            "external_id": unique("bulk"),
            "status": "ACTIVE",
            "created_dtm": moment,
            "last_updated_dtm": moment,
            "failed_attempts": 0,
            "lock_count": 0,
            "temp_lock_streak": 0,
            "modality_locks": {},
        }
        for _ in range(5)
    ]

    seeder.execute(insert(tables.users).values(rows))

    assert total(api, store["name"]) == 7
    assert counted_rows(seeder, store) == 7


def test_a_store_deleted_with_its_users_and_made_again_counts_from_zero(api: Api) -> None:
    store = api.create_store()
    for _ in range(3):
        api.create_user(store["name"])
    assert total(api, store["name"]) == 3

    deleted = api.client.delete(api.store_url(store["name"]), params={"force": "true"})
    again = api.create_store(name=store["name"])

    assert deleted.status_code == 204, deleted.text
    assert again["id"] != store["id"]
    assert total(api, store["name"]) == 0
    api.create_user(store["name"])
    assert total(api, store["name"]) == 1
