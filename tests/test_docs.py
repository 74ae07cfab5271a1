"""The docs match the code they describe, and the README leads to all of them."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from prometheus_client import REGISTRY

import idstore.metrics
import idstore.services.passkey_attempts
import idstore.services.totp_attempts  # noqa: F401  (defines an Attempt)
from idstore.cli import _parser, _permissions_reference
from idstore.error_reference import errors_markdown
from idstore.services.attempts import Attempt
from idstore.services.errors import IdstoreError
from idstore.services.models import LockKind

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_permissions_reference_in_docs_is_current() -> None:
    # Regenerate with: .venv/bin/idstore permissions-reference > docs/permissions.md
    assert (DOCS / "permissions.md").read_text() == _permissions_reference()


def test_the_readme_links_every_page_of_the_docs() -> None:
    readme = (DOCS.parent / "README.md").read_text()

    unlinked = [page.name for page in DOCS.glob("*.md") if f"(docs/{page.name})" not in readme]

    assert unlinked == []


def test_the_readme_parts_the_docs_site_includes_link_nothing_by_a_readme_path() -> None:
    # docs/index.md includes these parts; a link written from the README's folder (docs/x.md)
    # points nowhere on the site, and the strict build does not look inside included parts.
    readme = (DOCS.parent / "README.md").read_text()
    parts = re.findall(r"\[start:(\w+)\] -->(.*?)<!-- --8<-- \[end:\1\]", readme, re.DOTALL)

    assert {name for name, _ in parts} >= {"commands", "demo", "enrolment"}
    assert [link for _, text in parts for link in re.findall(r"\]\((docs/[^)]*)\)", text)] == []


def _cli_commands() -> set[str]:
    (commands,) = [
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return set(commands.choices)


def test_the_readme_runs_idstore_from_the_checkouts_venv_as_an_existing_command() -> None:
    # `make run` installs the command as .venv/bin/idstore and puts nothing on PATH, so a
    # newcomer copying a bare `idstore …` from the README would get "command not found".
    readme = (DOCS.parent / "README.md").read_text()
    blocks = re.findall(r"```\w*\n(.*?)```", readme, re.DOTALL)
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", readme, flags=re.DOTALL))
    code = [*blocks, *spans]
    # A word that is `idstore` or a path to a bin/idstore, and the word after it (a URL naming a
    # database idstore is no command).
    runs = [
        (prefix, command)
        for text in code
        for prefix, command in re.findall(r"(?<!\S)(\S*?)idstore\s+([a-z][a-z-]*)", text)
        if prefix in ("", "(") or prefix.endswith("bin/")
    ]

    assert runs, "the README names no idstore command"
    assert [run for run in runs if run[0] != ".venv/bin/"] == []
    assert {command for _, command in runs} <= _cli_commands()


def test_the_operations_page_names_every_metric_the_service_exports() -> None:
    exported = {metric.name for metric in REGISTRY.collect() if metric.name.startswith("idstore_")}
    documented = set(
        re.findall(r"`(idstore_[a-z_]+?)(?:_total)?`", (DOCS / "operations.md").read_text())
    )

    assert exported == documented


def _attempt_kinds(kind: type[Attempt]) -> set[type[Attempt]]:
    return {kind}.union(*(_attempt_kinds(sub) for sub in kind.__subclasses__()))


def test_the_operations_page_lists_every_modality_the_metrics_label() -> None:
    # Every attempt (TOTP, passkey, appkey, face) labels its metrics with its class's modality.
    emitted = {str(kind.modality) for kind in _attempt_kinds(Attempt) if hasattr(kind, "modality")}
    rows = [
        line
        for line in (DOCS / "operations.md").read_text().splitlines()
        if line.startswith(("| `idstore_authentications_total`", "| `idstore_locks_total`"))
    ]

    assert emitted == {"TOTP", "Passkey", "Appkey", "Face"}
    for modality in emitted:
        assert f"`{modality}`" in rows[0], f"operations.md: modality {modality} not listed"
        assert f"`modality:{modality}`" in rows[1], f"operations.md: lock of {modality}"
    for kind in LockKind:
        assert f"`user:{kind}`" in rows[1]


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
