"""Every route of /openapi.json, walked with the wrong credentials: no token, a token lacking the
route's permission, and a token of another tenant (which must not learn the store exists)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import Api, issue_token, unique
from tests.support.openapi import Operation, fetch, operations, sample_body
from tests.support.server import LiveServer
from tests.support.tenants import make_api_key

STORE_SCOPED = "/api/identity-store/stores/{storeName}"


@pytest.fixture(scope="module")
def document(server: LiveServer, token: str) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url) as client:
        return fetch(client)


def guarded(document: dict[str, Any]) -> list[Operation]:
    found = [op for op in operations(document) if "x-permission" in op.spec]
    assert len(found) >= 45, "every identity-store and API-key route declares its permission"
    return found


@pytest.fixture(scope="module")
def existing(server: LiveServer, token: str) -> dict[str, str]:
    """Real names of the default tenant: a stranger must see them exactly as missing ones."""
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        api = Api(client)
        store = api.create_store(configuration={"totpPolicies": {"p": {}}})["name"]
        user = api.create_user(store)
        totp = api.start_registration(store, user, "p").json()["totp"]
        key = client.post(
            "/api/arthr/apiKeys", json={"permissions": ["TNT#default#IdentityStore:getUser"]}
        ).json()
    return {
        "storeName": store,
        "userId": user["id"],
        "extId": user["externalId"],
        "userExtId": user["externalId"],
        "policyName": "p",
        "id": totp["id"],
        "keyId": key["id"],
    }


def _call(
    client: httpx.Client, document: dict[str, Any], operation: Operation, values: dict[str, str]
) -> httpx.Response:
    body = sample_body(document, operation)
    url = operation.url(values)
    return (
        client.request(operation.method, url, json=body)
        if body is not None
        else (client.request(operation.method, url))
    )


@pytest.fixture(scope="module")
def powerless(server: LiveServer) -> Iterator[httpx.Client]:
    token = issue_token(server.base_url, make_api_key(server, "default", "noSuchOperation"))
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture(scope="module")
def stranger(server: LiveServer) -> Iterator[httpx.Client]:
    token = issue_token(server.base_url, make_api_key(server, unique("tenant"), "*"))
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_every_guarded_route_refuses_a_missing_token_with_401_9003(
    server: LiveServer, document: dict[str, Any], existing: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.base_url) as anonymous:
        for operation in guarded(document):
            answer = _call(anonymous, document, operation, existing)
            assert (answer.status_code, answer.json()["code"]) == (401, 9003), operation


def test_every_guarded_route_refuses_a_token_without_its_permission_with_403_9004(
    document: dict[str, Any], existing: dict[str, str], powerless: httpx.Client
) -> None:
    for operation in guarded(document):
        answer = _call(powerless, document, operation, existing)
        needed = operation.spec["x-permission"].replace("{tenant}", "default")
        assert (answer.status_code, answer.json()["code"]) == (403, 9004), operation
        assert needed in answer.json()["message"]


def test_another_tenant_sees_no_store_user_or_key_of_ours(
    document: dict[str, Any], existing: dict[str, str], stranger: httpx.Client
) -> None:
    for operation in guarded(document):
        values = {**existing, "id": existing["keyId"]} if "apiKeys" in operation.path else existing
        answer = _call(stranger, document, operation, values)
        if operation.path.startswith(STORE_SCOPED):
            expected = (404, 3000)
        elif operation.path.startswith("/api/arthr/apiKeys/{id}"):
            expected = (404, 9011)
        else:
            continue  # creating and listing act within the stranger's own tenant, checked below
        assert (answer.status_code, answer.json()["code"]) == expected, operation
        assert existing["storeName"] not in answer.text or expected == (404, 3000)

    listed = stranger.get("/api/identity-store/stores").json()
    keys = stranger.get("/api/arthr/apiKeys").json()
    assert existing["storeName"] not in [store["name"] for store in listed["content"]]
    assert existing["keyId"] not in [key["id"] for key in keys["content"]]
