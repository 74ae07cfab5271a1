"""Bodies two parsers could read two ways are refused on every route (docs/decisions.md): a JSON
key given twice in one object (9002), and a body that is not JSON even where the route takes
none (9001)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyotp
import pytest

from idstore.api.json_bodies import REPEATED_KEY
from idstore.strict_json import MAX_NAMED, MAX_SHOWN
from tests.support.api import BASE, Api, unique
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.openapi import Operation, operations, resolve, sample_value
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

JSON = {"Content-Type": "application/json"}
# Sent as application/json the TOTP authentication takes the direct path (api/hot_path.py); as a
# +json type, FastAPI's route.
CONTENT_TYPES = ("application/json", "application/vnd.idstore+json")
INSTANT = 1234567890  # the RFC secret's code is 005924 here
ISSUE = "/api/arthr/apiKeys/issue"


def _repeated(key: str, first: Any, second: Any) -> bytes:
    return (
        b"{"
        + f"{json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: ".encode()
        + (json.dumps(second).encode() + b"}")
    )


def _field_errors(response: httpx.Response) -> list[dict[str, str]]:
    items: list[dict[str, str]] = error_of(response, 400, 9002)["fieldErrors"]
    return items


def _body_operations(document: dict[str, Any]) -> list[tuple[Operation, str, Any]]:
    """Every operation that takes a body, with a field of its schema and a value for it."""
    found = []
    for operation in operations(document):
        request = operation.spec.get("requestBody")
        if request is None:
            continue
        schema = resolve(document, request["content"]["application/json"]["schema"])
        if "anyOf" in schema:  # an optional body: the object or nothing
            schema = resolve(document, schema["anyOf"][0])
        properties = schema["properties"]
        field = (schema.get("required") or sorted(properties))[0]
        found.append((operation, field, sample_value(document, properties[field], field)))
    return found


# A key given twice


def test_every_route_with_a_body_refuses_a_key_given_twice_naming_it(
    api: Api, openapi_document: dict[str, Any]
) -> None:
    checked = 0
    for operation, field, value in _body_operations(openapi_document):
        url, body = operation.url({}), _repeated(field, value, value)
        response = api.client.request(operation.method, url, content=body, headers=JSON)

        where = f"{operation.method} {operation.path}"
        assert _field_errors(response) == [{"field": field, "message": REPEATED_KEY}], where
        checked += 1
    assert checked >= 40


def test_a_store_named_twice_in_its_body_is_refused_and_neither_is_created(api: Api) -> None:
    first, second = unique("store"), unique("store")

    response = api.client.post(BASE, content=_repeated("name", first, second), headers=JSON)

    assert [item["field"] for item in _field_errors(response)] == ["name"]
    for name in (first, second):
        error_of(api.client.get(api.store_url(name)), 404, 3000)


def test_a_key_given_twice_deep_inside_is_named_by_its_path(api: Api) -> None:
    store = api.create_store()
    locking = b'{"enabled": true, "enabled": false, "modalityLockThreshold": 3}'
    body = b'{"configuration": {"userLocking": ' + locking + b"}}"

    response = api.client.post(api.store_url(store["name"]), content=body, headers=JSON)

    assert [item["field"] for item in _field_errors(response)] == [
        "configuration.userLocking.enabled"
    ]
    read = json_of(api.client.get(api.store_url(store["name"])), 200)
    assert read["configuration"]["userLocking"] == store["configuration"]["userLocking"]


def test_the_same_key_twice_with_the_same_value_is_still_refused(api: Api) -> None:
    name = unique("store")

    response = api.client.post(BASE, content=_repeated("name", name, name), headers=JSON)

    assert [item["field"] for item in _field_errors(response)] == ["name"]
    error_of(api.client.get(api.store_url(name)), 404, 3000)


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_a_code_given_twice_is_refused_alike_on_both_paths_and_is_no_attempt(
    api: Api, seeder: Seeder, clock: ManualClock, content_type: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(INSTANT)
    right = pyotp.TOTP(person.secret_b32).at(INSTANT)

    for first, second in (("000000", right), (right, "000000")):
        response = api.client.post(
            person.url("totps/authentications/otp"),
            content=_repeated("code", first, second),
            headers={"Content-Type": content_type},
        )
        assert _field_errors(response) == [{"field": "code", "message": REPEATED_KEY}]

    assert person.audit() == []
    assert person.totp_lock() == {}
    assert person.authenticate(right).status_code == 200  # the step was never used


# A body that is not JSON


def test_issuing_a_token_refuses_a_body_that_is_not_json(server: LiveServer) -> None:
    headers = {"X-Api-Key": server.api_key, **JSON}

    with httpx.Client(base_url=server.base_url) as client:
        malformed = client.post(ISSUE, content=b'{"ttl": ', headers=headers)
        repeated = client.post(ISSUE, content=_repeated("ttl", 1, 2), headers=headers)
        empty = client.post(ISSUE, headers={"X-Api-Key": server.api_key})

    error_of(malformed, 400, 9001)
    assert [item["field"] for item in _field_errors(repeated)] == ["ttl"]
    assert json_of(empty, 200)["token"]


def test_every_operation_refuses_a_body_that_is_not_json(
    anonymous: httpx.Client, openapi_document: dict[str, Any]
) -> None:
    # Before the caller is verified, as for routes that take a body: the body is read first.
    for operation in operations(openapi_document):
        response = anonymous.request(
            operation.method, operation.url({}), content=b'{"name": ', headers=JSON
        )
        assert response.json()["code"] == 9001, f"{operation.method} {operation.path}"
        error_of(response, 400, 9001)


def test_a_refusal_names_a_few_repeated_fields_and_stays_small(anonymous: httpx.Client) -> None:
    # Every key repeated under one long parent: naming each by its full path would answer
    # megabytes to a small request, before any caller is verified.
    parent = "p" * 25_000
    repeats = ",".join(f'"k{index}":0,"k{index}":0' for index in range(1800))
    body = ('{"' + parent + '":{' + repeats + "}}").encode()

    response = anonymous.request("GET", "/health/live", content=body, headers=JSON)

    fields = [item["field"] for item in _field_errors(response)]
    shown = "p" * MAX_SHOWN + "…"
    assert fields == [f"{shown}.k{index}" for index in range(MAX_NAMED)]
    assert len(response.content) < 2_000


@pytest.mark.parametrize(
    "body",
    [b'{"\\ud800": 1, "\\ud800": 2}', b'{"a": {"\\udfff": 1, "\\udfff": 2}}'],
    ids=["top", "nested"],
)
def test_a_repeated_key_json_spells_but_utf8_cannot_is_named_by_its_escape(
    anonymous: httpx.Client, body: bytes
) -> None:
    for method, path in (("GET", "/health/live"), ("POST", ISSUE), ("POST", BASE)):
        response = anonymous.request(method, path, content=body, headers=JSON)

        [field] = [item["field"] for item in _field_errors(response)]
        assert field.endswith(("\\ud800", "\\udfff")), path
        assert response.content.decode("utf-8")  # the answer itself is UTF-8


def test_null_where_a_body_is_optional_is_refused_and_changes_nothing(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"otp": {}}})
    user = api.create_user(store["name"])
    url = f"{api.user_url(store['name'], user)}/totps/registrations/otp"

    refused = api.client.post(url, content=b"null", headers=JSON)

    assert [item["field"] for item in _field_errors(refused)] == ["body"]
    assert _field_errors(refused)[0]["message"] == "a JSON object body is required"
    assert api.get_user(store["name"], user)["summaryInfo"]["totps"] == []


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_numbers_json_does_not_have_are_malformed_bodies(
    api: Api, seeder: Seeder, value: bytes
) -> None:
    person = totp_user(api, seeder)
    authentication = person.url("totps/authentications/otp")
    store_body = b'{"name": "n", "configuration": {"faceMatchThreshold": ' + value + b"}}"

    for content_type in CONTENT_TYPES:
        headers = {"Content-Type": content_type}
        store = api.client.post(BASE, content=store_body, headers=headers)
        code = api.client.post(authentication, content=b'{"code": ' + value + b"}", headers=headers)

        error_of(store, 400, 9001)
        error_of(code, 400, 9001)
    assert person.audit() == []
