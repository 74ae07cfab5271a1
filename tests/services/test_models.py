"""`replaced`: the models' fast copy, equal to `dataclasses.replace`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from idstore.services.models import LockKind, LockState, Modality, ModalityLock, replaced

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


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
