"""The admin event log: every change a caller makes, with the caller, the request and the time."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import Api, issue_token, unique
from tests.support.clock import ManualClock
from tests.support.server import LiveServer
from tests.support.tenants import make_api_key

EVENTS = "/api/identity-store/events"
KEYS = "/api/arthr/apiKeys"


@pytest.fixture
def tenant(server: LiveServer) -> Iterator[tuple[Api, str]]:
    """A client of a fresh tenant (so its event log is its own) and its API key's id."""
    name = unique("tenant")
    token = issue_token(server.base_url, make_api_key(server, name, "*"))
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        key_id = c.get(KEYS).json()["content"][0]["id"]
        yield Api(c), key_id


def _kinds(api: Api, **params: str) -> list[str]:
    page = api.client.get(EVENTS, params={"size": 200, **params})
    assert page.status_code == 200, page.text
    return [event["kind"] for event in page.json()["content"]]


def test_every_change_is_logged_in_order_with_its_caller(tenant: tuple[Api, str]) -> None:
    api, key_id = tenant
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})["name"]
    api.create_policy(store, name="q")
    api.client.post(api.store_url(store), json={"description": "d", "configuration": {}})
    user = api.create_user(store, firstName="Zoë")
    api.client.post(api.user_url(store, user), json={"firstName": "Zoé", "status": "DISABLED"})
    api.client.post(api.user_url(store, user, "unlock"))
    api.client.post(api.user_url(store, user), json={"status": "ACTIVE"})
    api.start_registration(store, user, "p")
    api.client.post(api.user_url(store, user, "totps/deregistrations/p"))
    api.client.delete(api.user_url(store, user))
    api.client.delete(f"{api.store_url(store)}/totpPolicy/q")
    api.client.delete(api.store_url(store))

    page = api.client.get(EVENTS, params={"size": 200}).json()
    assert [event["kind"] for event in page["content"]] == [
        "store.created",
        "totpPolicy.created",
        "totpPolicy.created",
        "store.updated",
        "user.created",
        "user.updated",
        "user.unlocked",
        "user.updated",
        "totp.registrationStarted",
        "totp.deregistered",
        "user.deleted",
        "totpPolicy.deleted",
        "store.deleted",
    ]
    assert {event["callerId"] for event in page["content"]} == {key_id}
    updated = page["content"][5]
    assert updated["details"] == {"fields": ["firstName", "status"]}
    assert "Zo" not in str(page)  # names of fields changed, never their values


def test_an_event_carries_the_request_id_and_the_time(tenant: tuple[Api, str]) -> None:
    api, _ = tenant
    created = api.client.post(
        "/api/identity-store/stores", json={"name": unique("s")}, headers={"X-Request-Id": "chg-1"}
    )

    (event,) = api.client.get(EVENTS).json()["content"]

    assert event["requestId"] == "chg-1"
    assert event["createdDtm"] == created.json()["createdDtm"]
    assert event["subjectId"] == event["storeId"] == created.json()["id"]


def test_api_key_changes_are_logged(tenant: tuple[Api, str]) -> None:
    api, _ = tenant
    tenant_name = api.client.get(KEYS).json()["content"][0]["tenantId"]
    key = api.client.post(
        KEYS, json={"permissions": [f"TNT#{tenant_name}#IdentityStore:listStores"]}
    ).json()
    for action in ("block", "unblock"):
        api.client.post(f"{KEYS}/{key['id']}/{action}")
    api.client.delete(f"{KEYS}/{key['id']}")

    assert _kinds(api) == ["apiKey.created", "apiKey.blocked", "apiKey.unblocked", "apiKey.deleted"]


def test_events_filter_by_store_kind_and_caller_and_stay_in_the_tenant(
    tenant: tuple[Api, str], api: Api
) -> None:
    ours, key_id = tenant
    first = ours.create_store()["name"]
    second = ours.create_store()["name"]
    ours.create_user(first)
    ours.create_user(second)

    assert _kinds(ours, storeName=first) == ["store.created", "user.created"]
    assert _kinds(ours, kind="user.created") == ["user.created", "user.created"]
    assert len(_kinds(ours, callerId=key_id)) == 4
    assert _kinds(ours, callerId="nobody") == []
    missing = ours.client.get(EVENTS, params={"storeName": "nothing-here"})
    assert missing.json()["code"] == 3000
    theirs = {
        event.get("storeId")
        for event in api.client.get(EVENTS, params={"size": 200}).json()["content"]
    }
    assert not theirs & {
        s["id"] for s in ours.client.get("/api/identity-store/stores").json()["content"]
    }


def test_both_time_bounds_include_their_whole_millisecond(
    tenant: tuple[Api, str], clock: ManualClock
) -> None:
    api, _ = tenant
    second = 1_800_000_000
    for microseconds in (556_381, 556_999, 557_000):
        clock.set(second + microseconds / 1_000_000)
        api.create_store()
    shown = "2027-01-15T08:00:00.556Z"

    assert _kinds(api, **{"from": shown, "to": shown}) == ["store.created"] * 2
    assert _kinds(api, **{"from": "2027-01-15T08:00:00Z", "to": shown}) == ["store.created"] * 2
    assert _kinds(api, **{"from": "2027-01-15T08:00:00.5569Z"}) == ["store.created"] * 3
