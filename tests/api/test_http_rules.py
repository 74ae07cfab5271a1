"""The rules every request follows (spec §1, §8): errors, request ids, auth, bodies, text, times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import BASE, Api, unique
from tests.support.checks import (
    ERROR_KEYS,
    assert_dtm,
    assert_invalid,
    error_of,
    field_errors_of,
    iso_ms,
    json_of,
    send_json,
)
from tests.support.clock import ManualClock
from tests.support.server import LiveServer, running_server

MAX_BODY = 64 * 1024
KEYS = "/api/arthr/apiKeys"


@pytest.fixture
def anonymous(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


# Error body and request id


def test_an_error_body_is_exactly_status_code_message_and_request_id(api: Api) -> None:
    response = api.client.get(api.store_url(unique("missing")))

    body = error_of(response, 404, 3000)
    assert set(body) == ERROR_KEYS


def test_a_validation_error_adds_field_errors_with_field_and_message(api: Api) -> None:
    response = api.client.post(BASE, json={"name": "has space"})

    body = error_of(response, 400, 9002)
    assert set(body) == ERROR_KEYS | {"fieldErrors"}
    assert body["fieldErrors"][0]["field"] == "name"
    assert set(body["fieldErrors"][0]) == {"field", "message"}


@pytest.mark.parametrize(
    "request_id",
    ["abc", "A-Za-z0-9._:-", "x" * 128, "trace:2026-01-01T00:00:00.000Z", "0"],
)
def test_a_valid_request_id_is_echoed_on_success_and_error(api: Api, request_id: str) -> None:
    headers = {"X-Request-Id": request_id}

    ok = api.client.get(BASE, params={"size": 1}, headers=headers)
    failed = api.client.get(api.store_url(unique("missing")), headers=headers)

    assert ok.status_code == 200
    assert ok.headers["x-request-id"] == request_id
    assert error_of(failed, 404, 3000)["requestId"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "has space", "slash/inside", "semi;colon", "ümlaut", "", "a,b", "<script>"],
)
def test_an_invalid_request_id_is_replaced_by_a_new_one(api: Api, request_id: str) -> None:
    first = api.client.get(
        api.store_url(unique("missing")), headers={b"X-Request-Id": request_id.encode()}
    )
    second = api.client.get(
        api.store_url(unique("missing")), headers={b"X-Request-Id": request_id.encode()}
    )

    issued = error_of(first, 404, 3000)["requestId"]
    assert issued != request_id
    assert 1 <= len(issued) <= 128
    assert all(char.isascii() and (char.isalnum() or char in "._:-") for char in issued)
    assert error_of(second, 404, 3000)["requestId"] != issued


def test_every_response_without_a_request_id_gets_a_fresh_one(api: Api) -> None:
    ids = {api.client.get(BASE, params={"size": 1}).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


# Authentication


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        "Bearer",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "Basic dXNlcjpwYXNz",
        "garbage",
    ],
)
def test_a_missing_or_bad_token_is_401_9003(
    anonymous: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    for method, path in (("GET", BASE), ("POST", BASE), ("GET", f"{BASE}/any/users/x/ext")):
        response = anonymous.request(method, path, headers=headers, json={"name": unique("s")})
        body = error_of(response, 401, 9003)
        assert "garbage" not in body["message"]
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_with_a_tampered_signature_is_401_9003(anonymous: httpx.Client, token: str) -> None:
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"

    response = anonymous.get(BASE, headers={"Authorization": f"Bearer {forged}"})

    error_of(response, 401, 9003)


def test_a_refused_request_changes_nothing(anonymous: httpx.Client, api: Api) -> None:
    name = unique("store")

    refused = anonymous.post(BASE, json={"name": name}, headers={"Authorization": "Bearer x"})

    error_of(refused, 401, 9003)
    error_of(api.client.get(api.store_url(name)), 404, 3000)


# Routes and methods


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/api/identity-store",
        "/api/identity-store/nothing",
        "/api/identity-store/stores/s/nothing",
        "/api/identity-store/stores/s/users/u/nothing/at/all",
        "/api/identity-store/stores/",
        "/health/live/",
    ],
)
def test_an_unknown_route_is_404_9006(api: Api, path: str) -> None:
    error_of(api.client.get(path), 404, 9006)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", BASE, {"GET", "POST"}),
        ("DELETE", BASE, {"GET", "POST"}),
        ("PATCH", f"{BASE}/some-store", {"GET", "POST", "DELETE"}),
        ("OPTIONS", f"{BASE}/some-store", {"GET", "POST", "DELETE"}),
        ("PUT", f"{BASE}/some-store/users/u1", {"GET", "POST", "DELETE"}),
        ("PUT", f"{BASE}/some-store/users/u1/ext", {"GET", "POST", "DELETE"}),
        ("GET", f"{BASE}/some-store/users/u1/unlock", {"POST"}),
        ("PUT", f"{BASE}/some-store/totpPolicy/p", {"GET", "POST", "DELETE"}),
        ("GET", f"{BASE}/some-store/totpPolicy", {"POST"}),
        ("POST", "/health/ready", {"GET", "HEAD"}),
        # A literal segment is its route's path: `/apiKeys/{id}` (GET, POST, DELETE) does not
        # take it.
        ("OPTIONS", f"{KEYS}/issue", {"POST"}),
        ("GET", f"{KEYS}/issue", {"POST"}),
        ("DELETE", f"{KEYS}/issue", {"POST"}),
        ("OPTIONS", f"{KEYS}/some-key", {"GET", "POST", "DELETE"}),
        ("DELETE", f"{BASE}/some-store/users/u1/passkeys/ext", {"GET"}),
        ("POST", f"{BASE}/some-store/users/u1/totps/ext", {"GET"}),
    ],
)
def test_a_wrong_method_is_405_9007_naming_every_allowed_method(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    response = api.client.request(method, path, json={})

    error_of(response, 405, 9007)
    assert {item.strip() for item in response.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_head_on_a_health_route_answers_the_status_of_get_without_a_body(
    anonymous: httpx.Client, path: str
) -> None:
    got = anonymous.get(path)
    head = anonymous.head(path)

    assert (got.status_code, got.json()) == (200, {"status": "UP"})
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-request-id"]


# Bodies


@pytest.mark.parametrize(
    "content",
    [b'{"name": ', b"{'name': 'x'}", b"not json", b'{"name": "x"} trailing', b'{"name": "\xff"}'],
)
def test_a_body_that_is_not_json_is_400_9001(api: Api, content: bytes) -> None:
    response = api.client.post(BASE, content=content, headers={"Content-Type": "application/json"})

    error_of(response, 400, 9001)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/xml",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_a_body_of_another_content_type_is_415_9008(api: Api, content_type: str) -> None:
    name = unique("store")

    response = api.client.post(
        BASE, content=json.dumps({"name": name}).encode(), headers={"Content-Type": content_type}
    )

    error_of(response, 415, 9008)
    error_of(api.client.get(api.store_url(name)), 404, 3000)


def test_a_body_without_a_content_type_is_415_9008(api: Api) -> None:
    response = api.client.post(BASE, content=b'{"name": "x"}')

    assert "content-type" not in response.request.headers
    error_of(response, 415, 9008)


def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(api: Api) -> None:
    for content_type in (
        "application/json; charset=utf-8",
        'application/json; charset="UTF-8"',
        "Application/JSON",
    ):
        name = unique("store")
        response = api.client.post(
            BASE, content=json.dumps({"name": name}), headers={"Content-Type": content_type}
        )
        assert json_of(response, 201)["name"] == name


def _user_body_of_size(size: int) -> bytes:
    """A valid user creation body of exactly `size` bytes (a long attribute pads it)."""
    skeleton = {"externalId": unique("user"), "attributes": {"pad": ""}}
    padding = size - len(json.dumps(skeleton).encode())
    skeleton["attributes"] = {"pad": "p" * padding}
    body = json.dumps(skeleton).encode()
    assert len(body) == size
    return body


def test_a_body_of_exactly_64_kib_is_accepted(api: Api) -> None:
    store = api.create_store()["name"]

    response = api.client.post(
        f"{api.store_url(store)}/users",
        content=_user_body_of_size(MAX_BODY),
        headers={"Content-Type": "application/json"},
    )

    assert len(json_of(response, 201)["attributes"]["pad"]) > 60_000


def test_a_body_one_byte_over_64_kib_is_413_9009_and_changes_nothing(api: Api) -> None:
    store = api.create_store()["name"]
    body = _user_body_of_size(MAX_BODY + 1)

    response = api.client.post(
        f"{api.store_url(store)}/users", content=body, headers={"Content-Type": "application/json"}
    )

    error_of(response, 413, 9009)
    listed = json_of(api.client.get(f"{api.store_url(store)}/users"), 200)
    assert listed["totalElements"] == 0


def test_a_chunked_body_over_64_kib_without_length_is_413_9009(api: Api) -> None:
    store = api.create_store()["name"]
    body = _user_body_of_size(MAX_BODY * 2)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = api.client.post(
        f"{api.store_url(store)}/users",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    error_of(response, 413, 9009)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


@pytest.mark.parametrize("depth", [20, 40])
def test_json_nested_deeply_in_attributes_is_400_9002(api: Api, depth: int) -> None:
    store = api.create_store()["name"]

    response = api.client.post(
        f"{api.store_url(store)}/users",
        json={"externalId": unique("user"), "attributes": _nested(depth)},
    )

    field_errors_of(response)


def test_json_nested_thousands_deep_is_400_9002_not_a_crash(api: Api) -> None:
    for content in (b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        response = api.client.post(
            BASE, content=content, headers={"Content-Type": "application/json"}
        )
        field_errors_of(response)


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_400_9002(api: Api, content: bytes) -> None:
    response = api.client.post(BASE, content=content, headers={"Content-Type": "application/json"})

    field_errors_of(response)


def test_a_missing_required_body_is_400_9002(api: Api) -> None:
    response = api.client.post(BASE, headers={"Content-Type": "application/json"})

    field_errors_of(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"configuration": {"userLocking": {"tries": 3}}}, "configuration.userLocking.tries"),
        ({"configuration": {"default_user_status": "ACTIVE"}}, "configuration.default_user_status"),
        ({"Name": "x"}, "Name"),
    ],
)
def test_an_unknown_field_is_400_9002_naming_it(api: Api, body: dict[str, Any], field: str) -> None:
    name = unique("store")

    response = api.client.post(BASE, json={"name": name, **body})

    assert_invalid(response, field)
    error_of(api.client.get(api.store_url(name)), 404, 3000)


def test_an_unknown_field_in_a_user_body_is_400_9002_naming_it(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    created = api.client.post(
        f"{api.store_url(store)}/users", json={"externalId": "x", "nickname": "n"}
    )
    updated = api.client.post(api.user_url(store, user), json={"nickname": "n"})

    assert_invalid(created, "nickname")
    assert_invalid(updated, "nickname")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_a_number_json_cannot_hold_is_refused_not_stored_as_null(api: Api, number: bytes) -> None:
    store = api.create_store()["name"]
    external_id = unique("user")
    content = (
        b'{"externalId": "' + external_id.encode() + b'", "attributes": {"x": ' + number + b"}}"
    )

    response = api.client.post(
        f"{api.store_url(store)}/users",
        content=content,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] in (9001, 9002)
    listed = json_of(api.client.get(f"{api.store_url(store)}/users"), 200)
    assert listed["totalElements"] == 0


# Server-emitted fields


def test_server_emitted_fields_in_a_store_body_are_ignored(api: Api) -> None:
    name = unique("store")
    body = {
        "name": name,
        "id": "my-own-id",
        "tenantId": "another-tenant",
        "createdDtm": "2001-01-01T00:00:00.000Z",
        "lastUpdatedDtm": "2001-01-01T00:00:00.000Z",
    }

    created = json_of(api.client.post(BASE, json=body), 201)

    assert created["id"] != "my-own-id"
    assert created["tenantId"] == "default"
    assert not created["createdDtm"].startswith("2001")


def test_server_emitted_fields_in_a_user_body_are_ignored(api: Api) -> None:
    store = api.create_store()
    emitted = {
        "id": "my-own-id",
        "storeId": "another-store",
        "createdDtm": "2001-01-01T00:00:00.000Z",
        "lastUpdatedDtm": "2001-01-01T00:00:00.000Z",
        "lastSuccessfulAuthenticationDtm": "2001-01-01T00:00:00.000Z",
        "lockCount": 7,
        "locks": {"user": {"status": "LOCKED"}, "modalities": {"TOTP": {"failedAttempts": 4}}},
        "summaryInfo": {"totps": [{"id": "x"}], "biometrics": [], "appkeys": [], "passkeys": []},
    }

    created = api.client.post(
        f"{api.store_url(store['name'])}/users", json={"externalId": unique("u"), **emitted}
    )

    user = json_of(created, 201)
    assert user["id"] != "my-own-id"
    assert user["storeId"] == store["id"]
    assert (user["lockCount"], user["locks"]) == (0, {"modalities": {}})
    assert user["summaryInfo"]["totps"] == []
    assert "lastSuccessfulAuthenticationDtm" not in user


def test_a_user_read_back_can_be_sent_back_as_an_update(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    clock.set(1_800_000_000)
    user = api.create_user(store, firstName="Ada", attributes={"k": "v"})
    clock.advance(60)

    updated = json_of(api.client.post(api.user_url(store, user), json=user), 200)

    assert {**updated, "lastUpdatedDtm": None} == {**user, "lastUpdatedDtm": None}
    assert updated["lastUpdatedDtm"] == iso_ms(1_800_000_060)


def test_a_store_read_back_can_be_sent_back_as_an_update(api: Api) -> None:
    store = api.create_store(
        description="d", configuration={"totpPolicies": {"main": {"digits": 8}}}
    )

    response = api.client.post(api.store_url(store["name"]), json=store)

    updated = json_of(response, 200)
    assert updated["configuration"] == store["configuration"] | {
        "totpPolicies": {
            "main": {
                **store["configuration"]["totpPolicies"]["main"],
                "lastUpdatedDtm": updated["configuration"]["totpPolicies"]["main"][
                    "lastUpdatedDtm"
                ],
            }
        }
    }


def test_server_emitted_fields_in_a_policy_body_are_ignored(api: Api) -> None:
    store = api.create_store()["name"]
    body = {"name": unique("p"), "id": "mine", "createdDtm": "2001-01-01T00:00:00.000Z"}

    response = api.client.post(f"{api.store_url(store)}/totpPolicy", json=body)

    policy = json_of(response, 201)
    assert policy["id"] != "mine"
    assert not policy["createdDtm"].startswith("2001")


# Text that no database column can hold


BAD_TEXT = ["nul\u0000inside", "\u0000", "lone \ud800 surrogate", "\udfff", "tail\udbff"]


@pytest.mark.parametrize("text", BAD_TEXT)
def test_a_store_with_nul_or_lone_surrogate_is_400_9002(api: Api, text: str) -> None:
    name = unique("store")

    response = send_json(api.client, "POST", BASE, {"name": name, "description": text})

    assert_invalid(response, "description")
    error_of(api.client.get(api.store_url(name)), 404, 3000)


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize(
    "field", ["externalId", "firstName", "lastName", "type", "email", "locale", "timezone"]
)
def test_a_user_text_field_with_nul_or_lone_surrogate_is_400_9002(
    api: Api, text: str, field: str
) -> None:
    store = api.create_store()["name"]
    body = {"externalId": unique("user"), field: text}

    response = send_json(api.client, "POST", f"{api.store_url(store)}/users", body)

    assert_invalid(response, field)


@pytest.mark.parametrize("text", BAD_TEXT)
def test_user_attributes_with_nul_or_lone_surrogate_are_400_9002(api: Api, text: str) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    url = f"{api.store_url(store)}/users"

    for attributes in ({"k": text}, {text: "v"}, {"k": {"deep": [text]}}):
        created = send_json(
            api.client, "POST", url, {"externalId": unique("u"), "attributes": attributes}
        )
        updated = send_json(
            api.client, "POST", api.user_url(store, user), {"attributes": attributes}
        )
        assert_invalid(created, "attributes")
        assert_invalid(updated, "attributes")

    assert "attributes" not in api.get_user(store, user)


@pytest.mark.parametrize("text", BAD_TEXT)
def test_a_policy_with_nul_or_lone_surrogate_is_400_9002(api: Api, text: str) -> None:
    store = api.create_store()["name"]
    url = f"{api.store_url(store)}/totpPolicy"

    for field in ("description", "issuer"):
        response = send_json(api.client, "POST", url, {"name": unique("p"), field: text})
        assert_invalid(response, field)


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%ED%A0%80", "%FF", "%C0%80"])
def test_an_external_id_path_with_nul_or_bad_utf8_is_400_9002(api: Api, raw: str) -> None:
    store = api.create_store()["name"]

    for method in ("GET", "POST", "DELETE"):
        response = api.client.request(
            method, f"{api.store_url(store)}/users/{raw}/ext", json={} if method == "POST" else None
        )
        field_errors_of(response)


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%ED%A0%80", "%FF"])
def test_a_store_or_policy_name_path_with_nul_or_bad_utf8_is_400_9002(api: Api, raw: str) -> None:
    store = api.create_store()["name"]

    for method, path in (
        ("GET", f"{BASE}/{raw}"),
        ("DELETE", f"{BASE}/{raw}"),
        ("GET", f"{BASE}/{raw}/users"),
        ("GET", f"{api.store_url(store)}/totpPolicy/{raw}"),
        ("DELETE", f"{api.store_url(store)}/totpPolicy/{raw}"),
    ):
        field_errors_of(api.client.request(method, path))


def test_a_list_filter_with_nul_is_400_9002(api: Api) -> None:
    store = api.create_store()["name"]

    response = api.client.get(f"{api.store_url(store)}/users", params={"externalId": "a\x00"})

    assert_invalid(response, "externalId")


# Timestamps and absent values


def test_timestamps_are_utc_with_milliseconds_and_z(api: Api, clock: ManualClock) -> None:
    clock.set(1_700_000_000.25)
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})
    user = api.create_user(store["name"])
    registration = json_of(api.start_registration(store["name"], user, "p"), 201)

    stamps = [
        store["createdDtm"],
        store["lastUpdatedDtm"],
        store["configuration"]["totpPolicies"]["p"]["createdDtm"],
        user["createdDtm"],
        user["lastUpdatedDtm"],
        registration["totp"]["createdDtm"],
        registration["totp"]["expirationDtm"],
    ]
    for stamp in stamps:
        assert_dtm(stamp)
    assert store["createdDtm"] == "2023-11-14T22:13:20.250Z"
    assert registration["totp"]["expirationDtm"] == "2023-11-14T22:23:20.250Z"


def test_timestamps_keep_four_digit_years_far_ahead(api: Api, clock: ManualClock) -> None:
    clock.set(20_000_000_000)

    store = api.create_store()

    assert store["createdDtm"] == "2603-10-11T11:33:20.000Z"


def test_absent_optional_values_are_omitted_not_null(api: Api) -> None:
    store = api.create_store()
    user = api.create_user(store["name"])
    policy = api.create_policy(store["name"])
    listed = json_of(api.client.get(f"{api.store_url(store['name'])}/users"), 200)

    for body in (store, store["configuration"], user, policy, listed, listed["content"][0]):
        assert None not in body.values(), body
    assert "description" not in store
    assert "defaultUserLocale" not in store["configuration"]
    assert "description" not in policy
    for field in ("firstName", "email", "attributes", "lastSuccessfulAuthenticationDtm", "type"):
        assert field not in user
    assert "user" not in user["locks"]


def test_a_cleared_optional_value_is_omitted_not_null(api: Api) -> None:
    store = api.create_store(description="d")
    url = api.store_url(store["name"])

    cleared = json_of(api.client.post(url, json={"description": None}), 200)

    assert "description" not in cleared
    assert "description" not in json_of(api.client.get(url), 200)


def test_no_cors_headers_are_sent_unless_configured(api: Api) -> None:
    preflight = api.client.options(
        BASE,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    simple = api.client.get(BASE, headers={"Origin": "https://evil.example"})

    for answer in (preflight, simple):
        assert not [name for name in answer.headers if name.lower().startswith("access-control")]


def test_configured_origins_alone_get_cors_headers(database_url: str, tmp_path: Any) -> None:
    with running_server(database_url, tmp_path, cors_origins="https://admin.example") as live:
        allowed = httpx.options(
            f"{live.base_url}{BASE}",
            headers={"Origin": "https://admin.example", "Access-Control-Request-Method": "POST"},
        )
        other = httpx.options(
            f"{live.base_url}{BASE}",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )

    assert allowed.headers["access-control-allow-origin"] == "https://admin.example"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "query",
    [
        [("size", "500"), ("size", "1")],
        [("sort", "bogus"), ("sort", "createdDtm,asc")],
        [("page", "0"), ("size", "5"), ("page", "1")],
        [("externalId", ""), ("externalId", "")],
    ],
)
def test_a_query_parameter_given_twice_is_9002_naming_it(
    api: Api, query: list[tuple[str, str]]
) -> None:
    store = api.create_store()["name"]

    answer = api.client.get(f"{api.store_url(store)}/users", params=tuple(query))
    once = api.client.get(f"{api.store_url(store)}/users", params=dict(query[1:]))

    body = error_of(answer, 400, 9002)
    names = [name for name, _ in query]
    repeated = next(name for name in names if names.count(name) > 1)
    assert body["fieldErrors"] == [{"field": repeated, "message": "given more than once"}]
    assert once.status_code == 200, once.text
