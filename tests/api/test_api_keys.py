"""API keys (spec §2): shown once, stored hashed, blocked and deleted at once, no escalation."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from idstore.crypto.tokens import issue_token as sign
from tests.support.api import Api, issue_token, unique
from tests.support.server import LiveServer
from tests.support.tenants import bearer_client, make_api_key

KEYS = "/api/arthr/apiKeys"
STORES = "/api/identity-store/stores"
EVENTS = "/api/identity-store/events"


def _issue(server: LiveServer, api_key: str) -> httpx.Response:
    return httpx.post(f"{server.base_url}{KEYS}/issue", headers={"X-Api-Key": api_key})


def _listing_key(admin: httpx.Client) -> dict[str, Any]:
    """A new key of the admin's tenant that may only list stores, as created (with its key)."""
    tenant = admin.headers["X-Tenant"]
    created = admin.post(KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:listStores"]})
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_a_created_key_is_shown_once_and_exchanges_for_a_token(
    server: LiveServer, admin: httpx.Client
) -> None:
    tenant = admin.headers["X-Tenant"]
    created = admin.post(
        KEYS, json={"name": "ci", "permissions": [f"TNT#{tenant}#IdentityStore:*"]}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith("idsk_") and len(body["key"]) >= 48
    assert (body["tenantId"], body["name"], body["status"]) == (tenant, "ci", "ACTIVE")
    assert body["permissions"] == [f"TNT#{tenant}#IdentityStore:*"]
    listed = admin.get(KEYS).json()["content"]
    read = admin.get(f"{KEYS}/{body['id']}").json()
    assert body["id"] in [key["id"] for key in listed]
    assert all("key" not in key for key in [*listed, read])
    assert _issue(server, body["key"]).status_code == 200


def test_a_key_read_back_is_accepted_as_a_new_key_its_emitted_fields_ignored(
    admin: httpx.Client,
) -> None:
    sent = {**_listing_key(admin), "status": "BLOCKED", "tenantId": "another", "name": "copy"}

    created = admin.post(KEYS, json=sent)

    assert created.status_code == 201, created.text
    body = created.json()
    tenant = admin.headers["X-Tenant"]
    assert (body["status"], body["tenantId"], body["name"]) == ("ACTIVE", tenant, "copy")
    assert body["id"] != sent["id"] and body["key"] != sent["key"]
    assert body["permissions"] == sent["permissions"]


def test_a_blocked_key_and_its_tokens_are_refused_at_once(
    server: LiveServer, admin: httpx.Client
) -> None:
    key = _listing_key(admin)
    with bearer_client(server, key["key"]) as holder:
        assert holder.get(STORES).status_code == 200

        blocked = admin.post(f"{KEYS}/{key['id']}/block")
        refused = holder.get(STORES)
        exchange = _issue(server, key["key"])

        assert (blocked.status_code, blocked.json()["status"]) == (200, "BLOCKED")
        assert (refused.status_code, refused.json()["code"]) == (401, 9003)
        assert (exchange.status_code, exchange.json()["code"]) == (401, 9003)

        unblocked = admin.post(f"{KEYS}/{key['id']}/unblock")
        stale = holder.get(STORES)
        assert unblocked.json()["status"] == "ACTIVE"
        assert (stale.status_code, stale.json()["code"]) == (401, 9003)  # stolen tokens stay dead
        assert _issue(server, key["key"]).status_code == 200


def test_unblocking_an_active_key_or_blocking_a_blocked_one_changes_nothing(
    server: LiveServer, admin: httpx.Client
) -> None:
    key = _listing_key(admin)
    live_token = {"Authorization": f"Bearer {issue_token(server.base_url, key['key'])}"}

    unblocked = admin.post(f"{KEYS}/{key['id']}/unblock")
    still_served = httpx.get(f"{server.base_url}{STORES}", headers=live_token)
    admin.post(f"{KEYS}/{key['id']}/block")
    blocked_again = admin.post(f"{KEYS}/{key['id']}/block")

    assert unblocked.status_code == 200
    assert unblocked.json() == {k: v for k, v in key.items() if k != "key"}
    assert still_served.status_code == 200  # its live tokens were not voided
    assert (blocked_again.status_code, blocked_again.json()["status"]) == (200, "BLOCKED")
    events = admin.get(EVENTS, params={"size": 200}).json()["content"]
    assert [e["kind"] for e in events if e["subjectId"] == key["id"]] == [
        "apiKey.created",
        "apiKey.blocked",
    ]


def test_a_deleted_key_is_gone_and_its_tokens_are_refused(
    server: LiveServer, admin: httpx.Client
) -> None:
    key = _listing_key(admin)
    with bearer_client(server, key["key"]) as holder:
        deleted = admin.delete(f"{KEYS}/{key['id']}")
        refused = holder.get(STORES)

    assert deleted.status_code == 204
    assert (refused.status_code, refused.json()["code"]) == (401, 9003)
    assert admin.get(f"{KEYS}/{key['id']}").json()["code"] == 9011
    assert key["id"] not in [k["id"] for k in admin.get(KEYS).json()["content"]]
    assert _issue(server, key["key"]).json()["code"] == 9003
    assert admin.post(f"{KEYS}/{key['id']}/unblock").json()["code"] == 9011


def test_a_caller_grants_only_what_it_holds_in_its_own_tenant(server: LiveServer) -> None:
    tenant = unique("tenant")
    key = make_api_key(server, tenant, "createApiKey", "listStores")
    with bearer_client(server, key) as limited:
        wider = limited.post(KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:*"]})
        other_operation = limited.post(
            KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:createUser"]}
        )
        other_tenant = limited.post(
            KEYS, json={"permissions": ["TNT#default#IdentityStore:listStores"]}
        )
        held = limited.post(KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:listStores"]})

    for refused in (wider, other_operation, other_tenant):
        assert (refused.status_code, refused.json()["code"]) == (400, 9002)
        assert refused.json()["fieldErrors"][0]["field"] == "permissions"
    assert held.status_code == 201


def test_a_caller_cannot_block_unblock_or_delete_a_key_more_powerful_than_itself(
    server: LiveServer, admin: httpx.Client
) -> None:
    tenant = admin.headers["X-Tenant"]
    powerful = admin.post(KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:*"]}).json()
    limited_key = make_api_key(server, tenant, "updateApiKey", "deleteApiKey", "listStores")
    with bearer_client(server, limited_key) as limited:
        block = limited.post(f"{KEYS}/{powerful['id']}/block")
        delete = limited.delete(f"{KEYS}/{powerful['id']}")
        admin.post(f"{KEYS}/{powerful['id']}/block")
        unblock = limited.post(f"{KEYS}/{powerful['id']}/unblock")
        weaker = admin.post(
            KEYS, json={"permissions": [f"TNT#{tenant}#IdentityStore:listStores"]}
        ).json()
        own_kind = limited.post(f"{KEYS}/{weaker['id']}/block")

    for refused in (block, delete, unblock):
        assert (refused.status_code, refused.json()["code"]) == (403, 9004)
    assert admin.get(f"{KEYS}/{powerful['id']}").json()["status"] == "BLOCKED"
    assert (own_kind.status_code, own_kind.json()["status"]) == (200, "BLOCKED")


def test_another_tenants_key_is_not_found(
    server: LiveServer, admin: httpx.Client, api: Api
) -> None:
    ours = api.client.post(KEYS, json={"permissions": ["TNT#default#IdentityStore:listStores"]})
    key_id = ours.json()["id"]

    for answer in (
        admin.get(f"{KEYS}/{key_id}"),
        admin.post(f"{KEYS}/{key_id}/block"),
        admin.delete(f"{KEYS}/{key_id}"),
    ):
        assert (answer.status_code, answer.json()["code"]) == (404, 9011)
    assert key_id not in [
        key["id"] for key in admin.get(KEYS, params={"size": 200}).json()["content"]
    ]
    api.client.delete(f"{KEYS}/{key_id}")


@pytest.mark.parametrize(
    "body",
    [
        {"permissions": []},
        {"permissions": ["everything"]},
        {"permissions": ["TNT#x#Other:*"]},
        {"name": "", "permissions": ["TNT#default#IdentityStore:*"]},
        {"permissions": "TNT#default#IdentityStore:*"},
        {},
    ],
)
def test_malformed_key_requests_are_400_9002(api: Api, body: dict[str, object]) -> None:
    answer = api.client.post(KEYS, json=body)
    assert (answer.status_code, answer.json()["code"]) == (400, 9002)


def test_a_permission_naming_an_unknown_operation_is_400_9002_naming_it(
    admin: httpx.Client,
) -> None:
    tenant = admin.headers["X-Tenant"]
    granted = [f"TNT#{tenant}#IdentityStore:listStores", f"TNT#{tenant}#IdentityStore:nosuchop"]

    answer = admin.post(KEYS, json={"permissions": granted})

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    [problem] = answer.json()["fieldErrors"]
    assert problem["field"] == "permissions.1"
    assert "unknown operation 'nosuchop'" in problem["message"]


def test_a_permission_given_twice_is_kept_once(admin: httpx.Client) -> None:
    tenant = admin.headers["X-Tenant"]
    listing, reading = (f"TNT#{tenant}#IdentityStore:{op}" for op in ("listStores", "getStore"))

    created = admin.post(KEYS, json={"permissions": [listing, reading, listing, reading]})

    assert created.status_code == 201, created.text
    assert created.json()["permissions"] == [listing, reading]
    assert admin.get(f"{KEYS}/{created.json()['id']}").json()["permissions"] == [listing, reading]


def test_more_than_64_permissions_given_are_refused_even_when_repeated(
    admin: httpx.Client,
) -> None:
    # The bound the OpenAPI document states (maxItems 64) holds for what is sent, as the CLI's.
    tenant = admin.headers["X-Tenant"]
    every = f"TNT#{tenant}#IdentityStore:*"

    answer = admin.post(KEYS, json={"permissions": [every] * 65})
    taken = admin.post(KEYS, json={"permissions": [every] * 64})

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    assert answer.json()["fieldErrors"][0]["field"] == "permissions"
    assert taken.status_code == 201, taken.text
    assert taken.json()["permissions"] == [every]


@pytest.mark.parametrize(
    "name", ["a\nb", "bell\u0007", "tab\there", "evil\u202etxt.exe", "\u2067x"]
)
def test_a_key_name_with_control_or_bidi_characters_is_400_9002(
    admin: httpx.Client, name: str
) -> None:
    tenant = admin.headers["X-Tenant"]

    answer = admin.post(
        KEYS, json={"name": name, "permissions": [f"TNT#{tenant}#IdentityStore:listStores"]}
    )

    assert (answer.status_code, answer.json()["code"]) == (400, 9002)
    assert answer.json()["fieldErrors"][0]["field"] == "name"
    assert admin.get(KEYS).json()["totalElements"] == 1  # the admin's own key only


def test_a_missing_permission_is_403_9004(server: LiveServer) -> None:
    tenant = unique("tenant")
    with bearer_client(server, make_api_key(server, tenant, "listStores")) as reader:
        listed = reader.get(STORES)
        refused = reader.post(STORES, json={"name": "s"})
        keys = reader.get(KEYS)

    assert listed.status_code == 200
    assert (refused.status_code, refused.json()["code"]) == (403, 9004)
    assert f"TNT#{tenant}#IdentityStore:createStore" in refused.json()["message"]
    assert (keys.status_code, keys.json()["code"]) == (403, 9004)


def test_another_tenants_store_answers_as_a_missing_store(server: LiveServer, api: Api) -> None:
    ours = api.create_store()["name"]
    nothing = unique("nothing")
    with bearer_client(server, make_api_key(server, unique("tenant"), "*")) as stranger:
        theirs = stranger.get(f"{STORES}/{ours}")
        missing = stranger.get(f"{STORES}/{nothing}")
        same_name = stranger.post(STORES, json={"name": ours})
        listed = stranger.get(STORES).json()["content"]

    same = {"requestId": ""}
    assert theirs.json() | same == missing.json() | same | {"message": f"store {ours!r} not found"}
    assert (theirs.status_code, theirs.json()["code"]) == (404, 3000)
    assert same_name.status_code == 201  # two tenants may each have a store of one name
    assert [store["name"] for store in listed] == [ours]


def test_an_expired_token_says_it_expired(server: LiveServer, api: Api) -> None:
    key_id = api.client.get(KEYS).json()["content"][0]["id"]
    expired = sign(
        server.keyring,
        api_key_id=key_id,
        tenant_id="default",
        permissions=("TNT#default#IdentityStore:*",),
        now=server.clock.now() - timedelta(seconds=901),
        ttl_seconds=900,
    )
    answer = httpx.get(f"{server.base_url}{STORES}", headers={"Authorization": f"Bearer {expired}"})

    assert (answer.status_code, answer.json()["code"]) == (401, 9003)
    assert answer.json()["message"] == "the bearer token expired: issue a new one"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="idstore"'


def _unsigned(token: str) -> str:
    payload = token.split(".")[1]
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{none}.{payload}."


def _altered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["tnt"] = "another"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _resigned(token: str) -> str:
    # Signed with HS512 under a made-up key: another algorithm and another key.
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return jwt.encode(claims, "x" * 64, algorithm="HS512")


@pytest.mark.parametrize("tamper", [_unsigned, _altered, _resigned])
def test_unsigned_altered_or_otherwise_signed_tokens_are_401_9003(
    server: LiveServer, token: str, tamper: Callable[[str], str]
) -> None:
    answer = httpx.get(
        f"{server.base_url}{STORES}", headers={"Authorization": f"Bearer {tamper(token)}"}
    )
    assert (answer.status_code, answer.json()["code"]) == (401, 9003)
