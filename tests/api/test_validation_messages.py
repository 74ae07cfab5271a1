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
# (method, route, the rest of the body or None for a query parameter, field, its length)
OVERLONG = [
    ("GET", "users", None, "externalId", 255),
    ("GET", EVENTS, None, "storeName", 64),
    ("GET", EVENTS, None, "callerId", 36),
    ("GET", EVENTS, None, "kind", 48),
    ("POST", "users/u1/biometrics/FACE", {}, "subtype", 32),
    ("POST", "users/e1/biometrics/FACE/ext", {}, "subtype", 32),
    ("POST", "users/u1/biometrics/authentications/failure", {"type": "FACE"}, "reason", 255),
    ("POST", "users/u1/biometrics/authentications/face", {"data": "AAAA"}, "matchingAlgorithm", 64),
]


# A NUL in an over-long string is reported as the length: the bound sits on the string itself,
# ahead of the storable-text rule (schemas/common.py).
@pytest.mark.parametrize("character", ["x", "\x00"], ids=["plain", "nul"])
@pytest.mark.parametrize(("method", "route", "rest", "field", "limit"), OVERLONG)
def test_a_string_over_its_length_is_counted_in_characters(
    api: Api,
    method: str,
    route: str,
    rest: dict[str, str] | None,
    field: str,
    limit: int,
    character: str,
) -> None:
    value = {field: character * (limit + 1)}
    params, body = (value, None) if rest is None else (None, {**rest, **value})

    answer = _send(api, method, route, params, body)

    assert _messages(answer, field)[field] == f"String should have at most {limit} characters"


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("users/u1/biometrics/FACE", {"subtype": "\ud800"}, "subtype"),
        (
            "users/u1/biometrics/authentications/face",
            {"matchingAlgorithm": "\ud800"},
            "matchingAlgorithm",
        ),
        (
            "users/u1/biometrics/authentications/failure",
            {"type": "FACE", "reason": "\ud800"},
            "reason",
        ),
    ],
)
def test_an_unpaired_surrogate_in_a_bounded_string_is_400_9002_naming_the_field(
    api: Api, route: str, body: dict[str, str], field: str
) -> None:
    answer = _send(api, "POST", route, None, body)

    assert _messages(answer, field) == {
        field: "Input should be a valid string, unable to parse raw data as a unicode string"
    }


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
