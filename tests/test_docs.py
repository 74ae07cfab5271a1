"""Generated docs match the code they describe."""

from __future__ import annotations

from pathlib import Path

from idstore.cli import _permissions_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_permissions_reference_in_docs_is_current() -> None:
    # Regenerate with: .venv/bin/idstore permissions-reference > docs/permissions.md
    assert (DOCS / "permissions.md").read_text() == _permissions_reference()
