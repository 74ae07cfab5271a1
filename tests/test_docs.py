"""The docs match the code they describe, and the README leads to all of them."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

import idstore.metrics  # noqa: F401  (registers the metrics)
from idstore.cli import _permissions_reference

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
