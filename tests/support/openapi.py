"""Reading the served OpenAPI document and the changelog: operations, sample bodies, examples,
paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema

METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER = re.compile(r"\{[^}/]+\}")

# Sample values for required string fields, by name; anything else gets "x".
_SAMPLE_STRINGS = {"code": "123456", "externalId": "sample-user", "name": "sample"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        return [match[1:-1] for match in PARAMETER.findall(self.path)]

    def url(self, values: dict[str, str]) -> str:
        """The path with each `{parameter}` replaced by `values[parameter]` (or "p-<name>")."""
        return PARAMETER.sub(
            lambda m: values.get(m.group()[1:-1], f"p-{m.group()[1:-1]}"), self.path
        )


def fetch(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if method in METHODS:
                found.append(Operation(method.upper(), path, spec))
    return found


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def sample_body(document: dict[str, Any], operation: Operation) -> Any:
    """A body that satisfies the operation's declared request schema (None when it takes none)."""
    request = operation.spec.get("requestBody")
    if request is None:
        return None
    schema = request["content"]["application/json"]["schema"]
    return sample_value(document, schema, "body")


def sample_value(document: dict[str, Any], schema: dict[str, Any], name: str) -> Any:
    schema = resolve(document, schema)
    if "anyOf" in schema:
        return sample_value(document, schema["anyOf"][0], name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {
            key: sample_value(document, schema["properties"][key], key)
            for key in schema.get("required", [])
        }
    samples: dict[str, Any] = {
        "string": _SAMPLE_STRINGS.get(name, "x"),
        "integer": schema.get("minimum", 1),
        "number": schema.get("minimum", 0.5),
        "boolean": False,
        "array": [],
    }
    return samples[kind]


def shape(path: str) -> str:
    """The path with every parameter replaced by one placeholder: the same route, any spelling."""
    return PARAMETER.sub("{}", path)


_CHANGELOG_ENTRY = re.compile(
    r"(GET|POST|PUT|PATCH|DELETE)\s*(/api/identity-store/[A-Za-z0-9/{}._-]*?)"
    r"(?=(?:GET|POST|PUT|PATCH|DELETE)\s*/api/|\s|$)"
)


def changelog_endpoints(text: str) -> set[tuple[str, str]]:
    """Every `METHOD /api/identity-store/...` in the changelog: one per line or run together."""
    return {(method, path) for method, path in _CHANGELOG_ENTRY.findall(text)}


@dataclass(frozen=True)
class Example:
    """One example of the document: where it stands, its value and the schema it illustrates."""

    where: str
    value: Any
    schema: dict[str, Any]


def examples(operation: Operation) -> list[Example]:
    """The request and response examples of an operation, at the media type as Swagger UI reads
    them: `example`, or each value of `examples`."""
    found = []
    places = [("request", operation.spec.get("requestBody", {}))]
    places += list(operation.spec["responses"].items())
    for place, declared in places:
        for media_type, content in declared.get("content", {}).items():
            where = f"{operation.method} {operation.path} {place} {media_type}"
            if "example" in content:
                found.append(Example(where, content["example"], content["schema"]))
            for name, named in content.get("examples", {}).items():
                found.append(Example(f"{where} {name}", named["value"], content["schema"]))
    return found


def closed(schema: Any) -> Any:
    """The schema with every object that lists its properties closed to others, so that an
    example with a misspelt field fails (response models leave `additionalProperties` open)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    shut = {key: closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        shut["additionalProperties"] = False
    return shut


def validation_errors(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """What in `value` breaks `schema`, its `$ref`s resolved against the document's components
    (JSON Schema 2020-12, which OpenAPI 3.1 uses); empty when it conforms."""
    root = {**closed(schema), "components": {"schemas": closed(document["components"]["schemas"])}}
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(value)
    ]
