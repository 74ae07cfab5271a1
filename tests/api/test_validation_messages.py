"""Validation messages say what is wrong in the client's terms: characters, not items; bytes
that are no UTF-8, not surrogates."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.api import Api
from tests.support.checks import assert_invalid

EVENTS = "/api/identity-store/events"
# Every bounded text a request may leave out: the bound applies to a string inside an optional.
OVERLONG = [
    ("GET", "users", {"externalId": "x" * 300}, None, "externalId", 255),
    ("GET", EVENTS, {"storeName": "s" * 65}, None, "storeName", 64),
    ("GET", EVENTS, {"callerId": "c" * 37}, None, "callerId", 36),
    ("GET", EVENTS, {"kind": "k" * 49}, None, "kind", 48),
    ("POST", "users/u1/biometrics/FACE", None, {"subtype": "s" * 33}, "subtype", 32),
    ("POST", "users/e1/biometrics/FACE/ext", None, {"subtype": "s" * 33}, "subtype", 32),
    (
        "POST",
        "users/u1/biometrics/authentications/failure",
        None,
        {"type": "FACE", "reason": "r" * 300},
        "reason",
        255,
    ),
    (
        "POST",
        "users/u1/biometrics/authentications/face",
        None,
        {"data": "AAAA", "matchingAlgorithm": "a" * 65},
        "matchingAlgorithm",
        64,
    ),
]


@pytest.mark.parametrize(("method", "route", "params", "body", "field", "limit"), OVERLONG)
def test_a_string_over_its_length_is_counted_in_characters(
    api: Api,
    method: str,
    route: str,
    params: dict[str, str] | None,
    body: dict[str, str] | None,
    field: str,
    limit: int,
) -> None:
    answer = _send(api, method, route, params, body)

    assert _messages(answer, field)[field] == f"String should have at most {limit} characters"


def _send(
    api: Api,
    method: str,
    route: str,
    params: dict[str, str] | None,
    body: dict[str, str] | None,
) -> httpx.Response:
    store = api.create_store()["name"]
    url = route if route.startswith("/") else f"{api.store_url(store)}/{route}"
    if body is None:
        return api.client.request(method, url, params=params)
    # Escaped JSON: an unpaired surrogate travels as `\\ud800`, as any client would send it.
    content = json.dumps(body)
    headers = {"content-type": "application/json"}
    return api.client.request(method, url, params=params, content=content, headers=headers)


def _messages(answer: httpx.Response, field: str) -> dict[str, str]:
    assert_invalid(answer, field)
    return {item["field"]: item["message"] for item in answer.json()["fieldErrors"]}


@pytest.mark.parametrize(("route", "field"), [("users/%FF/ext", "extId"), ("users/a%C3", "userId")])
def test_a_path_segment_that_is_no_utf8_is_400_9002_saying_so(
    api: Api, route: str, field: str
) -> None:
    store = api.create_store()["name"]

    answer = api.client.get(f"{api.store_url(store)}/{route}")

    assert_invalid(answer, field)
    [problem] = answer.json()["fieldErrors"]
    assert "not valid percent-encoded UTF-8" in problem["message"]
    assert "surrogate" not in answer.text
