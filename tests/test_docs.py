"""The docs match the code they describe, and the README leads to all of them."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

import idstore.metrics  # noqa: F401  (registers the metrics)
from idstore.cli import _permissions_reference
from idstore.error_reference import errors_markdown
from idstore.services.errors import IdstoreError

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_permissions_reference_in_docs_is_current() -> None:
    # Regenerate with: .venv/bin/idstore permissions-reference > docs/permissions.md
    assert (DOCS / "permissions.md").read_text() == _permissions_reference()


def test_the_readme_links_every_page_of_the_docs() -> None:
    readme = (DOCS.parent / "README.md").read_text()

    unlinked = [page.name for page in DOCS.glob("*.md") if f"(docs/{page.name})" not in readme]

    assert unlinked == []


def test_the_operations_page_names_every_metric_the_service_exports() -> None:
    exported = {metric.name for metric in REGISTRY.collect() if metric.name.startswith("idstore_")}
    documented = set(
        re.findall(r"`(idstore_[a-z_]+?)(?:_total)?`", (DOCS / "operations.md").read_text())
    )

    assert exported == documented


def test_the_error_code_table_in_docs_is_current() -> None:
    # Regenerate with: .venv/bin/idstore errors-reference > docs/errors.md
    assert (DOCS / "errors.md").read_text() == errors_markdown()


def test_the_error_code_table_has_one_row_per_code_with_its_status() -> None:
    rows = re.findall(r"^\| (\d+) \| (\d+) \| `(\w+)` \|", errors_markdown(), re.MULTILINE)
    shown = {int(code): (int(status), name) for code, status, name in rows}

    assert len(shown) == len(rows)
    assert shown[3402] == (400, "CodeAlreadyUsed")
    assert shown[9005] == (429, "TooManyRequests")
    assert shown[9099] == (500, "UnexpectedError")
    assert IdstoreError.__name__ not in {name for _, name in shown.values()}
