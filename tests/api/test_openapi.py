"""The served OpenAPI document (spec §1, issue 2): public, complete, spelled as the changelog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import openapi

CHANGELOG = (
    Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "changes-2025-12-01.txt"
)
SUCCESS = ("200", "201", "204")
ERROR_FIELDS = {"httpStatus", "code", "message", "requestId"}
# Outside these, an operation is part of a later issue (appkeys).


@pytest.fixture
def document(anonymous: httpx.Client) -> dict[str, Any]:
    return openapi.fetch(anonymous)


def _guarded(document: dict[str, Any]) -> list[openapi.Operation]:
    """The operations that need a bearer token."""
    return [
        op
        for op in openapi.operations(document)
        if any("HTTPBearer" in scheme for scheme in op.spec.get("security", []))
    ]


def test_the_token_exchange_declares_the_api_key_header_as_its_security(
    document: dict[str, Any],
) -> None:
    issue = document["paths"]["/api/arthr/apiKeys/issue"]["post"]
    scheme = document["components"]["securitySchemes"]["APIKeyHeader"]

    assert issue["security"] == [{"APIKeyHeader": []}]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Api-Key")
    assert {"400", "401", "500", "503"} <= set(issue["responses"])
    assert "403" not in issue["responses"]


def _schema_of(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return openapi.resolve(document, response["content"]["application/json"]["schema"])


def test_the_openapi_document_and_docs_need_no_token(anonymous: httpx.Client) -> None:
    document = anonymous.get("/openapi.json")
    docs = anonymous.get("/docs")

    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


def test_every_identity_store_operation_needs_a_bearer_token(document: dict[str, Any]) -> None:
    identity_store = [
        op for op in openapi.operations(document) if op.path.startswith("/api/identity-store/")
    ]

    assert identity_store
    assert [op.path for op in identity_store if op not in _guarded(document)] == []


TRUSTED_FACETS = "application/fido.trusted-apps+json"


def test_every_operation_declares_its_success_response(document: dict[str, Any]) -> None:
    for op in openapi.operations(document):
        declared = [status for status in SUCCESS if status in op.spec["responses"]]
        assert len(declared) == 1, (op.method, op.path, sorted(op.spec["responses"]))
        response = op.spec["responses"][declared[0]]
        if declared[0] == "204":
            assert "content" not in response, (op.method, op.path)
        elif "text/plain" in response["content"]:  # the Prometheus scrape
            assert response["content"]["text/plain"]["schema"] == {"type": "string"}
        elif TRUSTED_FACETS in response["content"]:  # the UAF document, for UAF clients
            facets = openapi.resolve(document, response["content"][TRUSTED_FACETS]["schema"])
            assert set(facets["properties"]) == {"trustedFacets"}, (op.method, op.path)
        else:
            assert _schema_of(document, response), (op.method, op.path)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op.spec["operationId"] for op in openapi.operations(document)]

    assert len(ids) == len(set(ids))


def test_no_operation_declares_a_422(document: dict[str, Any]) -> None:
    declaring = [
        (op.method, op.path) for op in openapi.operations(document) if "422" in op.spec["responses"]
    ]

    assert declaring == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_guarded_operation_declares_its_errors_with_the_error_body(
    document: dict[str, Any],
) -> None:
    for op in _guarded(document):
        expected = {"400", "401", "403", "500"}
        if "{storeName}" in op.path:
            expected.add("404")
        if "requestBody" in op.spec:
            expected |= {"413", "415"}
        responses = op.spec["responses"]
        assert expected <= set(responses), (op.method, op.path, expected - set(responses))
        for status, response in responses.items():
            if status in SUCCESS:
                continue
            schema = _schema_of(document, response)
            assert ERROR_FIELDS <= set(schema["required"]), (op.method, op.path, status)


def test_operations_that_can_conflict_declare_409(document: dict[str, Any]) -> None:
    conflicts = {
        ("POST", "/api/identity-store/stores"),
        ("DELETE", "/api/identity-store/stores/{storeName}"),
        ("POST", "/api/identity-store/stores/{storeName}/users"),
        ("POST", "/api/identity-store/stores/{storeName}/users/{userId}"),
        ("POST", "/api/identity-store/stores/{storeName}/users/{extId}/ext"),
        ("POST", "/api/identity-store/stores/{storeName}/totpPolicy"),
        ("DELETE", "/api/identity-store/stores/{storeName}/totpPolicy/{policyName}"),
        ("POST", "/api/identity-store/stores/{storeName}/passkeyConfig"),
        ("POST", "/api/identity-store/stores/{storeName}/passkeys/registrations"),
        (
            "POST",
            "/api/identity-store/stores/{storeName}/passkeys/registrations/sessions/{sessionId}",
        ),
    }
    by_key = {(op.method, op.path): op for op in openapi.operations(document)}

    for key in conflicts:
        assert "409" in by_key[key].spec["responses"], key


def test_request_schemas_declare_the_text_rules_clients_must_follow(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]

    def field(schema: str, name: str) -> dict[str, Any]:
        declared: dict[str, Any] = schemas[schema]["properties"][name]
        first: dict[str, Any] = declared.get("anyOf", [declared])[0]
        return first

    assert field("StoreIn", "name")["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    assert field("TotpPolicyIn", "name")["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    assert field("TotpPolicyIn", "digits")["enum"] == [6, 7, 8]
    assert (
        field("TotpPolicyIn", "period")["minimum"],
        field("TotpPolicyIn", "period")["maximum"],
    ) == (10, 300)
    assert "pattern" in field("UserIn", "locale")
    assert (
        field("UserIn", "externalId")["minLength"],
        field("UserIn", "externalId")["maxLength"],
    ) == (1, 255)
    for schema in (
        "StoreIn",
        "StorePatch",
        "UserIn",
        "UserPatch",
        "TotpPolicyIn",
        "TotpPolicyPatch",
    ):
        assert schemas[schema]["additionalProperties"] is False, schema


# The changelog's spelling


def test_the_changelog_parser_reads_both_layouts() -> None:
    text = (
        "GET /api/identity-store/stores/{storeName}/users/{userId}\n"
        "Get a user\n"
        "GET/api/identity-store/a/{x}/extPOST/api/identity-store/b/{y}DELETE/api/identity-store/c\n"
        "Return Type:"
    )

    assert openapi.changelog_endpoints(text) == {
        ("GET", "/api/identity-store/stores/{storeName}/users/{userId}"),
        ("GET", "/api/identity-store/a/{x}/ext"),
        ("POST", "/api/identity-store/b/{y}"),
        ("DELETE", "/api/identity-store/c"),
    }


def _changelog() -> set[tuple[str, str]]:
    if not CHANGELOG.is_file():
        pytest.skip(f"the changelog is not at {CHANGELOG} (../shared/spec beside the repository)")
    return openapi.changelog_endpoints(CHANGELOG.read_text(encoding="utf-8"))


def test_implemented_changelog_endpoints_are_spelled_exactly_as_the_changelog(
    document: dict[str, Any],
) -> None:
    changelog = _changelog()
    served = {(op.method, op.path) for op in openapi.operations(document)}
    served_shapes = {(method, openapi.shape(path)): path for method, path in served}

    implemented = {
        (method, path)
        for method, path in changelog
        if (method, openapi.shape(path)) in served_shapes
    }
    misspelled = sorted(
        f"{method} {path} (served as {served_shapes[(method, openapi.shape(path))]})"
        for method, path in implemented - served
    )
    print(f"changelog endpoints: {len(changelog)}, served: {len(implemented)}")
    for method, path in sorted(changelog):
        print(f"  {'served' if (method, path) in implemented else 'not yet'}  {method} {path}")

    assert len(changelog) >= 40
    assert (
        "GET",
        "/api/identity-store/stores/{storeName}/users/{userId}/authentications/{id}",
    ) in changelog
    assert misspelled == []


def test_every_endpoint_of_the_changelog_is_served(
    document: dict[str, Any],
) -> None:
    served = {(op.method, op.path) for op in openapi.operations(document)}

    wanted = set(_changelog())

    assert len(wanted) >= 60
    assert sorted(wanted - served) == []
