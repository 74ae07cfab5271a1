"""/docs and /redoc load everything from this server: no CDN, no font service, no validator."""

from __future__ import annotations

import re

import httpx
import pytest

_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_refers_only_to_this_server_and_each_reference_answers(
    anonymous: httpx.Client, page: str
) -> None:
    html = anonymous.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")

    references = [a or b for a, b in _REFERENCE.findall(html.text)]

    assert "/openapi.json" in references or 'spec-url="/openapi.json"' in html.text
    assert references, "the page loads its assets from this server"
    assert all(
        reference.startswith("/") and not reference.startswith("//") for reference in references
    )
    assert "http://" not in html.text and "https://" not in html.text
    for reference in references:
        answer = anonymous.get(reference)
        assert answer.status_code == 200, reference
        assert len(answer.content) > 1000, reference


def test_swagger_ui_is_told_not_to_send_the_document_to_a_validator(
    anonymous: httpx.Client,
) -> None:
    html = anonymous.get("/docs").text

    assert '"validatorUrl": null' in html


def test_the_swagger_ui_script_is_served_as_javascript(anonymous: httpx.Client) -> None:
    script = anonymous.get("/docs/assets/swagger-ui-bundle.js")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text


@pytest.mark.parametrize(
    "path", ["/docs/assets/nothing.js", "/docs/assets/%2e%2e/%2e%2e/pyproject.toml", "/docs/"]
)
def test_a_path_outside_the_assets_is_a_404_with_the_error_body(
    anonymous: httpx.Client, path: str
) -> None:
    missing = anonymous.get(path)

    assert missing.status_code == 404
    assert missing.json()["code"] == 9006
