"""An API key is blocked and unblocked by an update of its URL (spec §1, §2): `POST
/api/arthr/apiKeys/{id}` with `{"status": "BLOCKED" | "ACTIVE"}` does what `…/block` and
`…/unblock` do: the same permission, the same admin event, the key's tokens voided."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Api, issue_token
from tests.support.checks import assert_invalid, json_of
from tests.support.server import LiveServer
from tests.support.tenants import bearer_client, make_api_key

KEYS = "/api/arthr/apiKeys"
STORES = "/api/identity-store/stores"
EVENTS = "/api/identity-store/events"


def _key(admin: httpx.Client, operation: str = "listStores") -> dict[str, Any]:
    """A new key of the admin's tenant holding one operation, as created (with its key)."""
    tenant = admin.headers["X-Tenant"]
    permissions = [f"TNT#{tenant}#IdentityStore:{operation}"]
    return json_of(admin.post(KEYS, json={"permissions": permissions}), 201)


def _issue(server: LiveServer, api_key: str) -> httpx.Response:
    return httpx.post(f"{server.base_url}{KEYS}/issue", headers={"X-Api-Key": api_key})


def _events(admin: httpx.Client, key: dict[str, Any]) -> list[str]:
    events = admin.get(EVENTS, params={"size": 200}).json()["content"]
    return [event["kind"] for event in events if event["subjectId"] == key["id"]]


def test_a_key_blocked_by_an_update_is_refused_with_its_tokens_and_unblocked_again(
    server: LiveServer, admin: httpx.Client
) -> None:
    key = _key(admin)
    url = f"{KEYS}/{key['id']}"
    with bearer_client(server, key["key"]) as holder:
        assert holder.get(STORES).status_code == 200

        blocked = admin.post(url, json={"status": "BLOCKED"})
        refused = holder.get(STORES)
        exchange = _issue(server, key["key"])
        unblocked = admin.post(url, json={"status": "ACTIVE"})
        stale = holder.get(STORES)

    assert json_of(blocked, 200)["status"] == "BLOCKED"
    assert (refused.status_code, refused.json()["code"]) == (401, 9003)
    assert (exchange.status_code, exchange.json()["code"]) == (401, 9003)
    assert json_of(unblocked, 200)["status"] == "ACTIVE"
    assert (stale.status_code, stale.json()["code"]) == (401, 9003)  # tokens stay void
    assert _issue(server, key["key"]).status_code == 200
    assert _events(admin, key) == ["apiKey.created", "apiKey.blocked", "apiKey.unblocked"]


@pytest.mark.parametrize("body", [{}, {"status": "ACTIVE"}, {"name": "renamed", "id": "x"}])
def test_an_update_giving_no_new_status_changes_nothing(
    server: LiveServer, admin: httpx.Client, body: dict[str, Any]
) -> None:
    key = _key(admin)
    shown = {field: value for field, value in key.items() if field != "key"}
    live_token = {"Authorization": f"Bearer {issue_token(server.base_url, key['key'])}"}

    answer = admin.post(f"{KEYS}/{key['id']}", json=body)

    assert json_of(answer, 200) == shown
    assert admin.get(f"{KEYS}/{key['id']}").json() == shown
    assert httpx.get(f"{server.base_url}{STORES}", headers=live_token).status_code == 200
    assert _events(admin, key) == ["apiKey.created"]


def test_a_key_read_back_and_sent_with_status_blocked_is_blocked(
    server: LiveServer, admin: httpx.Client
) -> None:
    key = _key(admin)
    read = admin.get(f"{KEYS}/{key['id']}").json()

    blocked = admin.post(f"{KEYS}/{key['id']}", json={**read, "status": "BLOCKED"})

    assert json_of(blocked, 200) == {
        **read,
        "status": "BLOCKED",
        "lastUpdatedDtm": blocked.json()["lastUpdatedDtm"],
    }
    assert _issue(server, key["key"]).status_code == 401


@pytest.mark.parametrize("status", ["DELETED", "LOCKED", None, 1])
def test_a_status_other_than_active_or_blocked_is_400_9002(
    admin: httpx.Client, status: object
) -> None:
    key = _key(admin)

    refused = admin.post(f"{KEYS}/{key['id']}", json={"status": status})

    assert_invalid(refused, "status")
    assert admin.get(f"{KEYS}/{key['id']}").json()["status"] == "ACTIVE"


def test_an_update_takes_the_permission_of_block_and_unblock(
    server: LiveServer, admin: httpx.Client
) -> None:
    tenant = admin.headers["X-Tenant"]
    target = _key(admin)
    powerful = _key(admin, "*")
    reader_key = make_api_key(server, tenant, "getApiKey", "listStores")
    updater_key = make_api_key(server, tenant, "updateApiKey", "listStores")
    with bearer_client(server, reader_key) as reader, bearer_client(server, updater_key) as updater:
        without = reader.post(f"{KEYS}/{target['id']}", json={"status": "BLOCKED"})
        above_itself = updater.post(f"{KEYS}/{powerful['id']}", json={"status": "BLOCKED"})
        nothing_above_itself = updater.post(f"{KEYS}/{powerful['id']}", json={})
        allowed = updater.post(f"{KEYS}/{target['id']}", json={"status": "BLOCKED"})

    assert (without.status_code, without.json()["code"]) == (403, 9004)
    assert "updateApiKey" in without.json()["message"]
    for refused in (above_itself, nothing_above_itself):
        assert (refused.status_code, refused.json()["code"]) == (403, 9004)
    assert admin.get(f"{KEYS}/{powerful['id']}").json()["status"] == "ACTIVE"
    assert json_of(allowed, 200)["status"] == "BLOCKED"


def test_another_tenants_key_is_not_found_by_an_update(admin: httpx.Client, api: Api) -> None:
    ours = json_of(
        api.client.post(KEYS, json={"permissions": ["TNT#default#IdentityStore:listStores"]}), 201
    )

    answer = admin.post(f"{KEYS}/{ours['id']}", json={"status": "BLOCKED"})

    assert (answer.status_code, answer.json()["code"]) == (404, 9011)
    assert api.client.get(f"{KEYS}/{ours['id']}").json()["status"] == "ACTIVE"
    api.client.delete(f"{KEYS}/{ours['id']}")
