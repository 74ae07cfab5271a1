"""The OpenAPI document states the bounds the server applies, no looser and no stricter: walked
over every request body and path or query parameter, and checked against the live server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from idstore.api.middleware import MAX_BIOMETRIC_BODY_BYTES
from idstore.api.schemas.biometrics import MAX_DATA_LENGTH
from tests.support.api import Api
from tests.support.checks import json_of
from tests.support.openapi import Operation, operations, resolve, sample_value

# Keywords Pydantic writes when it cannot place a bound, which JSON Schema does not know.
FOREIGN = {"ge", "le", "gt", "lt", "max_length", "min_length"}
KEYWORDS_BY_TYPE = {
    "string": {"maxLength", "minLength", "pattern", "format"},
    "array": {"maxItems", "minItems"},
    "object": {"maxProperties", "minProperties"},
    "integer": {"minimum", "maximum"},
    "number": {"minimum", "maximum"},
}
# Values the document leaves open, each for its reason.
OPEN = {
    # Spaces and hyphens inside a code are ignored, so no length is wrong as such (3400).
    "CodeIn.code",
    # UAF messages and the client's failure report: JSON arrays or strings the service parses.
    "AppkeyCompleteIn.clientResponse",
    "AppkeyCompleteIn.clientFailure",
    "AppkeyCompleteIn.sessionData",
    "AppkeyExternalCompleteIn.clientResponse",
    "AppkeyExternalCompleteIn.clientFailure",
    # WebAuthn's JSON form of a credential.
    "CompleteIn.clientResponse",
    "ExternalCompleteIn.clientResponse",
    # Refused whatever it holds (388): a session completed by its id takes no session data.
    "CompleteIn.sessionData",
}
# Ids the service generated or an import carried over: any other is not found (404).
OPEN_PATH_PARAMETERS = {"userId", "id", "keyId", "sessionId"}


def _nodes(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every value schema under `schema` with where it stands, `$ref`s followed once."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        yield from _nodes(document, resolve(document, schema), name, seen)
        return
    if "anyOf" in schema:
        for choice in schema["anyOf"]:
            if choice != {"type": "null"}:
                yield from _nodes(document, {**schema, **choice, "anyOf": []}, where, seen)
        return
    yield where, schema
    for name, value in schema.get("properties", {}).items():
        yield from _nodes(document, value, f"{where}.{name}", seen)
    for value in schema.get("patternProperties", {}).values():
        yield from _nodes(document, value, f"{where}.*", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(document, schema["additionalProperties"], f"{where}.*", seen)
    if "items" in schema:
        yield from _nodes(document, schema["items"], f"{where}[]", seen)


def _request_nodes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every value schema of a request body or a path or query parameter, by where it stands."""
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for operation in operations(document):
        request = operation.spec.get("requestBody")
        if request is not None:
            body = request["content"]["application/json"]["schema"]
            found.update(_nodes(document, body, "body", seen))
        for parameter in operation.spec.get("parameters", []):
            if parameter["in"] in ("path", "query"):
                where = f"{parameter['in']}:{parameter['name']}"
                found.update(_nodes(document, parameter["schema"], where, set()))
    return found


def _is_bounded(schema: dict[str, Any]) -> bool:
    if "enum" in schema or "const" in schema:
        return True
    kind = schema.get("type")
    if kind == "string":
        return "maxLength" in schema or "format" in schema
    if kind in ("integer", "number"):
        return "minimum" in schema and "maximum" in schema
    if kind == "array":
        return "maxItems" in schema
    if kind == "object":
        return "properties" in schema or "maxProperties" in schema
    return kind == "boolean"


def test_every_request_value_is_bounded_with_the_keywords_of_its_type(
    openapi_document: dict[str, Any],
) -> None:
    nodes = _request_nodes(openapi_document)
    misplaced, foreign, open_ = [], [], []

    for where, schema in nodes.items():
        kind = schema.get("type")
        for keyword in schema:
            if keyword in FOREIGN:
                foreign.append(f"{where}: {keyword}")
            owners = {other for other, keywords in KEYWORDS_BY_TYPE.items() if keyword in keywords}
            if owners and kind is not None and kind not in owners:
                misplaced.append(f"{where}: {keyword} on {kind}")
        parameter = where.split(":", 1)[-1] if ":" in where else None
        if not _is_bounded(schema) and where not in OPEN and parameter not in OPEN_PATH_PARAMETERS:
            open_.append(where)

    assert len(nodes) > 140
    assert (foreign, misplaced, open_) == ([], [], [])


def test_path_parameters_state_the_rules_of_store_names_external_ids_and_types(
    openapi_document: dict[str, Any],
) -> None:
    nodes = _request_nodes(openapi_document)

    assert nodes["path:storeName"]["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    for name in ("extId", "userExtId", "extUserId"):
        assert (nodes[f"path:{name}"]["minLength"], nodes[f"path:{name}"]["maxLength"]) == (1, 255)
    assert nodes["path:type"]["enum"] == ["FACE"]
    assert MAX_DATA_LENGTH == MAX_BIOMETRIC_BODY_BYTES


# The server against the document


# Bounds the service checks with the changelog's codes after the store and user are found, so
# that they cannot be 9002 on an arbitrary path: declared in the document alone.
CHECKED_BY_THE_SERVICE = {"data", "subtype", "matchingAlgorithm", "matchThreshold", "type"}
# Items the generic sample ("x") would not pass, distinct (repeated permissions count once), so
# that only the array's length is wrong.
ITEM_SAMPLES: dict[str, Callable[[int], Any]] = {
    "permissions": lambda index: f"TNT#tenant{index}#IdentityStore:*"
}


def _bounded_fields(document: dict[str, Any]) -> Iterator[tuple[Operation, list[str], Any, Any]]:
    """Each body field of each operation with a numeric or size bound: its path, a value at the
    bound the document allows, and one just beyond it."""
    for operation in operations(document):
        request = operation.spec.get("requestBody")
        if request is None:
            continue
        body = resolve(document, request["content"]["application/json"]["schema"])
        body = resolve(document, body.get("anyOf", [body])[0])
        yield from _fields_of(document, operation, body, [], set())


def _fields_of(
    document: dict[str, Any],
    operation: Operation,
    schema: dict[str, Any],
    path: list[str],
    seen: set[str],
) -> Iterator[tuple[Operation, list[str], Any, Any]]:
    for name, field in schema.get("properties", {}).items():
        if "$ref" in field:
            if field["$ref"] in seen:
                continue
            seen = {*seen, field["$ref"]}
        field = resolve(document, field)
        field = resolve(
            document, next(c for c in field.get("anyOf", [field]) if c != {"type": "null"})
        )
        where = [*path, name]
        if field.get("type") == "object" and "properties" in field:
            yield from _fields_of(document, operation, field, where, seen)
        edges = _edges(document, field, name)
        if edges is not None and name not in CHECKED_BY_THE_SERVICE:
            yield operation, where, *edges


def _edges(document: dict[str, Any], field: dict[str, Any], name: str) -> tuple[Any, Any] | None:
    kind = field.get("type")
    if kind in ("integer", "number") and "maximum" in field:
        top = int(field["maximum"]) if kind == "integer" else field["maximum"]
        return top, top + 1
    if kind == "string" and "maxLength" in field and "pattern" not in field:
        return None, "x" * (field["maxLength"] + 1)
    if kind == "array" and "maxItems" in field:
        if name in ITEM_SAMPLES:
            return None, [ITEM_SAMPLES[name](index) for index in range(field["maxItems"] + 1)]
        return None, [sample_value(document, field["items"], name)] * (field["maxItems"] + 1)
    if kind == "object" and "maxProperties" in field:
        values = [*field.get("patternProperties", {}).values(), field.get("additionalProperties")]
        value = sample_value(document, values[0], name) if isinstance(values[0], dict) else 1
        return None, {f"k{index}": value for index in range(field["maxProperties"] + 1)}
    return None


def _body(document: dict[str, Any], operation: Operation, path: list[str], value: Any) -> Any:
    """The operation's sample body with the field at `path` set to `value`."""
    request = operation.spec["requestBody"]["content"]["application/json"]["schema"]
    schema = resolve(document, request)
    body = sample_value(document, schema.get("anyOf", [schema])[0], "body")
    place = body
    for name in path[:-1]:
        place = place.setdefault(name, {})
    place[path[-1]] = value
    return body


def _named(response: Any) -> list[str]:
    if response.status_code != 400 or response.json()["code"] != 9002:
        return []
    return [item["field"] for item in response.json()["fieldErrors"]]


def test_the_server_refuses_just_beyond_each_declared_bound_and_takes_the_bound(
    api: Api, openapi_document: dict[str, Any]
) -> None:
    refused_beyond, refused_at, checked = [], [], 0

    for operation, path, at, beyond in _bounded_fields(openapi_document):
        field, where = ".".join(path), f"{operation.method} {operation.path} {'.'.join(path)}"
        url = operation.url({})
        over = _body(openapi_document, operation, path, beyond)
        if field not in _named(api.client.request(operation.method, url, json=over)):
            refused_beyond.append(where)
        if at is not None:
            edge = _body(openapi_document, operation, path, at)
            if field in _named(api.client.request(operation.method, url, json=edge)):
                refused_at.append(where)
        checked += 1

    assert checked > 50
    assert (refused_beyond, refused_at) == ([], [])


@pytest.mark.parametrize("threshold", [-0.01, 1.01])
def test_a_match_threshold_the_document_refuses_is_refused_by_the_service(
    api: Api, threshold: float
) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    url = api.user_url(store, user, "biometrics/authentications/face")

    response = api.client.post(url, json={"data": "AAAA", "matchThreshold": threshold})

    assert json_of(response, 400)["code"] == 20125
