"""Examples in /openapi.json (issue 6): one per operation's body, success and declared error code,
each valid against the schema it illustrates, none with a credential that could pass for real."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from idstore.services import errors
from tests.support import openapi
from tests.support.api import BASE, Api, code_at, unique
from tests.support.clock import ManualClock

SUCCESS = ("200", "201", "204")
DTM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Each tag is one resource: the paths it holds, by the segment that names the resource.
TAG_OF_PATH = (
    ("API keys", re.compile(r"^/api/arthr/apiKeys")),
    ("TOTP policies", re.compile(r"^/api/identity-store/stores/[^/]+/totpPolicy")),
    ("user TOTPs", re.compile(r"^/api/identity-store/stores/[^/]+/users/[^/]+/totps")),
    ("passkey configurations", re.compile(r"^/api/identity-store/stores/[^/]+/passkeyConfig")),
    (
        "passkey authentication",
        re.compile(r"^/api/identity-store/stores/[^/]+/passkeys/authentications"),
    ),
    (
        "passkeys",
        re.compile(
            r"^/api/identity-store/stores/[^/]+/(users/[^/]+/passkeys|passkeys/registrations)"
        ),
    ),
    ("biometrics", re.compile(r"^/api/identity-store/stores/[^/]+/users/[^/]+/biometrics")),
    ("appkey configurations", re.compile(r"^/api/identity-store/stores/[^/]+/appkeyConfig")),
    (
        "appkey authentication",
        re.compile(r"^/api/identity-store/stores/[^/]+/appkeys/authentications"),
    ),
    (
        "appkeys",
        re.compile(
            r"^/api/identity-store/stores/[^/]+/(users/[^/]+/appkeys|appkeys/registrations)"
        ),
    ),
    (
        "authentication audit",
        re.compile(r"^/api/identity-store/stores/[^/]+/users/[^/]+/authentications"),
    ),
    ("users", re.compile(r"^/api/identity-store/stores/[^/]+/users")),
    ("stores", re.compile(r"^/api/identity-store/stores")),
    ("admin events", re.compile(r"^/api/identity-store/events")),
    ("health", re.compile(r"^/health/")),
    ("metrics", re.compile(r"^/metrics$")),
)


@pytest.fixture(scope="module")
def document(server: Any) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return openapi.fetch(client)


def _contract_codes() -> dict[int, int]:
    """Every numbered error of the service: its code and HTTP status."""

    def subclasses(kind: type[errors.IdstoreError]) -> Iterator[type[errors.IdstoreError]]:
        for sub in kind.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {kind.code: kind.http_status for kind in subclasses(errors.IdstoreError)}


def _error_responses(operation: openapi.Operation) -> dict[str, dict[str, Any]]:
    return {
        status: response
        for status, response in operation.spec["responses"].items()
        if status not in SUCCESS
    }


def test_every_operation_has_a_success_example(document: dict[str, Any]) -> None:
    missing = []
    for operation in openapi.operations(document):
        status = next(status for status in SUCCESS if status in operation.spec["responses"])
        content = operation.spec["responses"][status].get("content", {})
        if status == "204":
            assert content == {}, (operation.method, operation.path)
            continue
        if not any("example" in media or "examples" in media for media in content.values()):
            missing.append(f"{operation.method} {operation.path}")

    assert missing == []


def test_every_request_body_has_named_examples(document: dict[str, Any]) -> None:
    bodies = [
        (operation, operation.spec["requestBody"]["content"]["application/json"])
        for operation in openapi.operations(document)
        if "requestBody" in operation.spec
    ]

    assert len(bodies) >= 18
    for operation, content in bodies:
        named = content.get("examples", {})
        assert named, (operation.method, operation.path)
        assert all(example["summary"] for example in named.values()), operation.path


def test_every_example_validates_against_the_schema_it_illustrates(
    document: dict[str, Any],
) -> None:
    found = [example for op in openapi.operations(document) for example in openapi.examples(op)]
    invalid = {
        example.where: problems
        for example in found
        if (problems := openapi.validation_errors(document, example.schema, example.value))
    }

    assert len(found) >= 500
    assert invalid == {}


def test_the_validation_catches_a_misspelt_or_mistyped_field(document: dict[str, Any]) -> None:
    create_user = document["paths"]["/api/identity-store/stores/{storeName}/users"]["post"]
    schema = create_user["responses"]["201"]["content"]["application/json"]["schema"]
    good = create_user["responses"]["201"]["content"]["application/json"]["example"]
    misspelt = {**good, "lastUpdateDtm": good["lastUpdatedDtm"]}
    mistyped = {**good, "lockCount": "0"}

    assert openapi.validation_errors(document, schema, good) == []
    assert openapi.validation_errors(document, schema, misspelt) != []
    assert openapi.validation_errors(document, schema, mistyped) != []


def test_error_examples_show_exactly_the_codes_each_response_declares(
    document: dict[str, Any],
) -> None:
    contract = _contract_codes()
    declared = [_error_responses(operation) for operation in openapi.operations(document)]
    # Every guarded operation declares at least 400, 401, 403 and 500: the loop checks something.
    assert sum(len(responses) for responses in declared) >= 4 * 45
    for operation in openapi.operations(document):
        for status, response in _error_responses(operation).items():
            where = (operation.method, operation.path, status)
            codes = response["x-error-codes"]
            named = response["content"]["application/json"]["examples"]

            assert codes, where
            assert sorted(int(name) for name in named) == codes, where
            assert {contract[code] for code in codes} == {int(status)}, where
            for name, example in named.items():
                body = example["value"]
                assert (body["httpStatus"], body["code"]) == (int(status), int(name)), where
                assert body["message"] and body["requestId"], where
                assert str(body["code"]) in response["description"], where


def test_every_guarded_operation_declares_the_codes_any_request_can_meet(
    document: dict[str, Any],
) -> None:
    guarded = [op for op in openapi.operations(document) if "x-permission" in op.spec]
    every_request = {9001, 9002, 9003, 9004, 9005, 9008, 9009, 9010, 9099}

    assert len(guarded) >= 45
    for operation in guarded:
        declared = {
            code
            for response in _error_responses(operation).values()
            for code in response["x-error-codes"]
        }
        assert every_request <= declared, (operation.method, operation.path)
        if "{storeName}" in operation.path:
            assert 3000 in declared, (operation.method, operation.path)


def test_authentication_refusals_show_the_user_they_leave_behind(
    document: dict[str, Any],
) -> None:
    path = (
        "/api/identity-store/stores/{storeName}/users/{userId}/totps/authentications/{policyName}"
    )
    refusals = document["paths"][path]["post"]["responses"]
    bad_request = refusals["400"]["content"]["application/json"]["examples"]
    not_found = refusals["404"]["content"]["application/json"]["examples"]

    assert {3401, 3402, 3400, 2100, 2101, 2102, 2103, 502} <= set(refusals["400"]["x-error-codes"])
    assert bad_request["3401"]["value"]["user"]["locks"]["modalities"]["TOTP"] == {
        "failedAttempts": 1
    }
    locked = bad_request["2101"]["value"]["user"]
    assert (locked["status"], locked["locks"]["modalities"]["TOTP"]["failedAttempts"]) == (
        "ACTIVE",
        5,
    )
    assert bad_request["2100"]["value"]["user"]["status"] == "TEMP_LOCKED"
    # A malformed body never reaches the user; neither does a store or user that is not there.
    assert "user" not in bad_request["9002"]["value"]
    assert "user" not in not_found["3000"]["value"]
    assert "user" in not_found["3300"]["value"]


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str):
        yield key, value


CREDENTIAL_FIELDS = {"secret", "key", "token", "otpauthUri", "sessionData"}
# What could pass for a real credential: a long base32 run, a JWT, an API key, a long base64 run.
CREDENTIAL_SHAPES = (
    re.compile(r"[A-Z2-7]{16,}"),
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"),
    re.compile(r"idsk_"),
)


def test_no_example_carries_a_credential_that_could_pass_for_real(
    document: dict[str, Any],
) -> None:
    suspicious = []
    for operation in openapi.operations(document):
        for example in openapi.examples(operation):
            for key, text in _strings(example.value):
                if key == "qrCode":  # a PNG of the example's own otpauth URI
                    continue
                looks_real = key in CREDENTIAL_FIELDS or any(
                    shape.search(text) for shape in CREDENTIAL_SHAPES
                )
                if looks_real and "EXAMPLE" not in text:
                    suspicious.append((example.where, key, text[:40]))

    assert suspicious == []


def test_the_registration_example_shows_a_secret_its_uri_and_qr_code_agree_on(
    document: dict[str, Any],
) -> None:
    path = "/api/identity-store/stores/{storeName}/users/{userId}/totps/registrations/{policyName}"
    example = document["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]
    registration = example["example"]

    assert registration["secret"].startswith("EXAMPLE")
    assert f"secret={registration['secret']}&" in registration["otpauthUri"]
    assert registration["qrCode"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_timestamps_in_examples_are_written_as_the_contract_writes_them(
    document: dict[str, Any],
) -> None:
    written = {
        (key, text)
        for operation in openapi.operations(document)
        for example in openapi.examples(operation)
        for key, text in _strings(example.value)
        if key.endswith("Dtm")
    }

    assert len(written) >= 10
    assert sorted(text for _key, text in written if not DTM.fullmatch(text)) == []


def test_every_operation_has_one_tag_naming_its_resource(document: dict[str, Any]) -> None:
    declared = [tag["name"] for tag in document["tags"]]
    wrong = []
    for operation in openapi.operations(document):
        expected = next(tag for tag, pattern in TAG_OF_PATH if pattern.match(operation.path))
        if operation.spec.get("tags") != [expected]:
            wrong.append((operation.method, operation.path, operation.spec.get("tags")))

    assert wrong == []
    assert sorted(declared) == sorted(tag for tag, _pattern in TAG_OF_PATH)
    assert all(tag.get("description") for tag in document["tags"])


# The examples against the real thing: what the server answers has the fields the examples show.

USER = BASE + "/{storeName}/users/{userId}"


def _content(document: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    operation = document["paths"][path][method]
    place = operation["requestBody"] if status == "request" else operation["responses"][status]
    content: dict[str, Any] = place["content"]["application/json"]
    return content


def _named(document: dict[str, Any], method: str, path: str, status: str, name: str) -> Any:
    return _content(document, method, path, status)["examples"][name]["value"]


def _success(document: dict[str, Any], method: str, path: str, status: str = "200") -> Any:
    return _content(document, method, path, status)["example"]


def _fields(value: Any) -> Any:
    """The names and JSON types of a value's fields, nested as they nest (a list by its first
    item): what an example must share with a real answer, whatever the values."""
    if isinstance(value, dict):
        return {key: _fields(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fields(value[0])] if value else []
    return type(value).__name__


def test_the_examples_have_the_fields_the_server_really_answers(
    document: dict[str, Any], api: Api, clock: ManualClock
) -> None:
    store_body = _named(document, "post", BASE, "request", "configured")
    store = api.client.post(BASE, json={**store_body, "name": unique("store")})
    name = store.json()["name"]
    user_body = _named(document, "post", BASE + "/{storeName}/users", "request", "full")
    user = api.client.post(
        api.store_url(name) + "/users", json={**user_body, "externalId": unique("user")}
    )
    user_url = api.user_url(name, user.json())
    start_body = _named(
        document, "post", USER + "/totps/registrations/{policyName}", "request", "username"
    )
    started = api.client.post(f"{user_url}/totps/registrations/default", json=start_body)
    code = code_at(started.json()["secret"], clock.timestamp())
    completed = api.client.post(
        f"{user_url}/totps/registrations/default/complete", json={"code": code}
    )
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = api.client.post(f"{user_url}/totps/authentications/default", json={"code": wrong})
    audit = api.client.get(f"{user_url}/authentications", params={"result": "FAILURE"})

    assert _fields(store.json()) == _fields(_success(document, "post", BASE, "201"))
    assert _fields(user.json()) == _fields(
        _success(document, "post", BASE + "/{storeName}/users", "201")
    )
    assert _fields(started.json()) == _fields(
        _success(document, "post", USER + "/totps/registrations/{policyName}", "201")
    )
    assert _fields(completed.json()) == _fields(
        _success(document, "post", USER + "/totps/registrations/{policyName}/complete")
    )
    incorrect = _named(
        document, "post", USER + "/totps/authentications/{policyName}", "400", "3401"
    )
    assert _fields(refused.json()) == _fields(incorrect)
    assert (refused.json()["code"], refused.json()["message"]) == (3401, incorrect["message"])
    assert _fields(audit.json()) == _fields(_success(document, "get", USER + "/authentications"))
