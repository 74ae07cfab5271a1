"""Validation messages say what is wrong in the client's terms: characters, not items; bytes
that are no UTF-8, not surrogates."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.checks import assert_invalid

KEYS = "/api/arthr/apiKeys"


@pytest.mark.parametrize(
    ("method", "route", "params", "body", "field", "limit"),
    [
        ("GET", "users", {"externalId": "x" * 300}, None, "externalId", 255),
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
    ],
)
def test_a_string_over_its_length_is_counted_in_characters(
    api: Api,
    method: str,
    route: str,
    params: dict[str, str] | None,
    body: dict[str, str] | None,
    field: str,
    limit: int,
) -> None:
    store = api.create_store()["name"]

    answer = api.client.request(method, f"{api.store_url(store)}/{route}", params=params, json=body)

    assert_invalid(answer, field)
    messages = {item["field"]: item["message"] for item in answer.json()["fieldErrors"]}
    assert messages[field] == f"String should have at most {limit} characters"


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
