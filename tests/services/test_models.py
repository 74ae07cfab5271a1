"""`replaced`: the models' fast copy, equal to `dataclasses.replace`; a service module copies
models with one of the two."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

import idstore.services
from idstore.services.models import LockKind, LockState, Modality, ModalityLock, replaced

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MODELS = "idstore.services.models"


def test_a_copy_equals_what_dataclasses_replace_makes_and_leaves_the_original() -> None:
    state = LockState(failed_attempts=2, modalities={Modality.TOTP: ModalityLock(1)})

    copy = replaced(state, lock_kind=LockKind.TEMPORARY, locked_dtm=NOW)

    assert copy == dataclasses.replace(state, lock_kind=LockKind.TEMPORARY, locked_dtm=NOW)
    assert type(copy) is LockState
    assert (state.lock_kind, state.locked_dtm) == (None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.failed_attempts = 3  # type: ignore[misc]  # frozen, as the original


def test_a_name_that_is_not_a_field_is_refused() -> None:
    with pytest.raises(TypeError, match="LockState has no field 'failures'"):
        replaced(LockState(), failures=1)


SERVICES = Path(idstore.services.__file__).parent


def _copies(path: Path) -> set[str]:
    """How a module copies models: `replaced`, `dataclasses.replace`, or both."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in ("dataclasses", MODELS):
            found |= {alias.name for alias in node.names} & {"replace", "replaced"}
        if isinstance(node, ast.Attribute) and node.attr in ("replace", "replaced"):
            if isinstance(node.value, ast.Name) and node.value.id in ("dataclasses", "models"):
                found.add(node.attr)
    return found


def test_no_service_module_copies_models_both_ways() -> None:
    mixed = [path.name for path in sorted(SERVICES.glob("*.py")) if len(_copies(path)) > 1]

    assert mixed == []
