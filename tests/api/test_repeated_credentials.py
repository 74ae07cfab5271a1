"""A credential header sent twice is refused on every route that reads it (docs/decisions.md):
a proxy in front may check one copy while the service reads the other."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.openapi import Operation, operations
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

# Sent as application/json the TOTP authentication takes the direct path (api/hot_path.py); as a
# +json type, FastAPI's route.
CONTENT_TYPES = ("application/json", "application/vnd.idstore+json")
INSTANT = 1234567890
ISSUE = "/api/arthr/apiKeys/issue"


def _secured(document: dict[str, Any]) -> list[Operation]:
    return [operation for operation in operations(document) if "x-permission" in operation.spec]


def test_every_route_refuses_two_authorization_headers(
    anonymous: httpx.Client, token: str, openapi_document: dict[str, Any]
) -> None:
    good = f"Bearer {token}"
    pairs = [(good, good), (good, "Bearer garbage"), ("Bearer garbage", good)]
    secured = _secured(openapi_document)

    for operation in secured:
        for pair in pairs:
            headers = [("Authorization", value) for value in pair]
            response = anonymous.request(operation.method, operation.url({}), headers=headers)
            assert response.request.headers.get_list("Authorization") == list(pair)
            body = error_of(response, 401, 9003)
            assert "Authorization" in body["message"], f"{operation.method} {operation.path}"
            assert response.headers["www-authenticate"] == 'Bearer realm="idstore"', (
                f"{operation.method} {operation.path}"
            )
    assert len(secured) >= 80


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_a_totp_authentication_with_two_authorization_headers_is_no_attempt(
    api: Api, seeder: Seeder, clock: ManualClock, token: str, content_type: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    right = pyotp.TOTP(person.secret_b32).at(INSTANT)
    headers = [("Authorization", f"Bearer {token}")] * 2 + [("Content-Type", content_type)]

    with httpx.Client(base_url=str(api.client.base_url)) as anonymous:
        response = anonymous.post(
            person.url("totps/authentications/otp"),
            content=json.dumps({"code": right}).encode(),
            headers=headers,
        )

    error_of(response, 401, 9003)
    assert person.audit() == []
    assert person.authenticate(right).status_code == 200


def test_issuing_a_token_refuses_two_api_key_headers(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        twice = client.post(ISSUE, headers=[("X-Api-Key", server.api_key)] * 2)
        once = client.post(ISSUE, headers={"X-Api-Key": server.api_key})

    assert "X-Api-Key" in error_of(twice, 401, 9003)["message"]
    assert twice.headers["www-authenticate"] == 'ApiKey realm="idstore", header="X-Api-Key"'
    assert json_of(once, 200)["ttl"] > 0


def test_a_401_names_the_scheme_its_route_takes(server: LiveServer) -> None:
    # RFC 7235 §3.1: every 401 carries a challenge, the API key routes' as much as the store's.
    with httpx.Client(base_url=server.base_url) as client:
        no_key = client.post(ISSUE)
        no_token = client.get("/api/arthr/apiKeys")
        open_route = client.get("/health/live")

    assert no_key.headers["www-authenticate"] == 'ApiKey realm="idstore", header="X-Api-Key"'
    assert no_token.headers["www-authenticate"] == 'Bearer realm="idstore"'
    assert "www-authenticate" not in open_route.headers
