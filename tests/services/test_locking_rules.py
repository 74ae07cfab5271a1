"""The locking rules of spec §6 as pure functions (services/locking.py), time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idstore.services import locking
from idstore.services.models import (
    LockingPolicy,
    LockKind,
    LockState,
    Modality,
    ModalityLock,
    UserStatus,
)

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
POLICY = LockingPolicy(
    modality_lock_threshold=3,
    modality_lock_seconds=300,
    user_lock_threshold=5,
    user_temp_lock_seconds=900,
    max_temp_locks=2,
)
TOTP, PASSKEY = Modality.TOTP, Modality.PASSKEY


def seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


def fail(state: LockState, times: int, *, policy: LockingPolicy = POLICY) -> LockState:
    for _ in range(times):
        state = locking.after_failure(policy, state, TOTP, NOW)
    return state


def temporarily_locked(streak: int = 1) -> LockState:
    return LockState(
        lock_count=streak,
        temp_lock_streak=streak,
        lock_kind=LockKind.TEMPORARY,
        locked_dtm=NOW,
        unlock_dtm=NOW + seconds(900),
    )


# after_failure


def test_a_failure_counts_for_the_modality_and_the_user() -> None:
    state = fail(LockState(), 2)

    assert state.modalities == {TOTP: ModalityLock(failed_attempts=2)}
    assert (state.failed_attempts, state.lock_kind, state.lock_count) == (2, None, 0)


def test_the_modality_locks_at_its_threshold_until_the_lock_seconds_pass() -> None:
    state = fail(LockState(), 3)

    assert state.modalities[TOTP] == ModalityLock(3, locked_dtm=NOW, unlock_dtm=NOW + seconds(300))
    assert locking.modality_lock_holds(state, TOTP, NOW + seconds(299))
    assert not locking.modality_lock_holds(state, TOTP, NOW + seconds(300))
    assert not locking.modality_lock_holds(state, PASSKEY, NOW)
    assert state.lock_kind is None


def test_a_modality_lock_of_zero_seconds_has_no_end() -> None:
    policy = LockingPolicy(modality_lock_threshold=1, modality_lock_seconds=0)

    state = fail(LockState(), 1, policy=policy)

    assert state.modalities[TOTP] == ModalityLock(1, locked_dtm=NOW, unlock_dtm=None)
    assert locking.modality_lock_holds(state, TOTP, NOW + seconds(10**9))


def test_a_failure_after_a_lapsed_modality_lock_counts_from_one() -> None:
    locked = fail(LockState(), 3)

    state = locking.after_failure(POLICY, locked, TOTP, NOW + seconds(300))

    assert state.modalities[TOTP] == ModalityLock(failed_attempts=1)


def test_the_user_locks_temporarily_at_the_user_threshold_across_modalities() -> None:
    state = fail(LockState(modalities={PASSKEY: ModalityLock(2)}, failed_attempts=2), 3)

    assert (state.lock_kind, state.locked_dtm, state.unlock_dtm) == (
        LockKind.TEMPORARY,
        NOW,
        NOW + seconds(900),
    )
    assert (state.failed_attempts, state.lock_count, state.temp_lock_streak) == (0, 1, 1)
    assert state.modalities[PASSKEY] == ModalityLock(2)
    assert locking.user_lock_holds(state, NOW + seconds(899))
    assert not locking.user_lock_holds(state, NOW + seconds(900))


def test_after_max_temp_locks_in_a_row_the_next_lock_is_permanent() -> None:
    state = temporarily_locked(streak=2)
    lapsed = NOW + seconds(900)

    for _ in range(5):
        state = locking.after_failure(POLICY, state, PASSKEY, lapsed)

    assert (state.lock_kind, state.locked_dtm, state.unlock_dtm) == (
        LockKind.PERMANENT,
        lapsed,
        None,
    )
    assert (state.lock_count, state.temp_lock_streak) == (3, 2)
    assert locking.user_lock_holds(state, lapsed + seconds(10**9))


def test_max_temp_locks_zero_makes_the_first_lock_permanent() -> None:
    state = fail(LockState(), 5, policy=LockingPolicy(user_lock_threshold=5, max_temp_locks=0))

    assert (state.lock_kind, state.lock_count) == (LockKind.PERMANENT, 1)


def test_both_thresholds_reached_by_one_failure_lock_both() -> None:
    policy = LockingPolicy(modality_lock_threshold=2, user_lock_threshold=2)

    state = fail(LockState(), 2, policy=policy)

    assert state.lock_kind is LockKind.TEMPORARY
    assert state.modalities[TOTP].locked_dtm == NOW


def test_a_disabled_policy_counts_nothing() -> None:
    before = LockState(failed_attempts=1, modalities={TOTP: ModalityLock(1)})

    state = fail(before, 10, policy=LockingPolicy(enabled=False))

    assert state == before


# after_success


def test_a_success_resets_its_modality_and_the_user_and_ends_the_run_of_locks() -> None:
    before = LockState(
        failed_attempts=4,
        lock_count=2,
        temp_lock_streak=2,
        modalities={TOTP: ModalityLock(2), PASSKEY: ModalityLock(1)},
    )

    state = locking.after_success(before, TOTP, NOW)

    assert (state.failed_attempts, state.temp_lock_streak, state.lock_count) == (0, 0, 2)
    assert state.modalities == {TOTP: ModalityLock(), PASSKEY: ModalityLock(1)}


def test_a_success_adds_no_modality_that_never_failed() -> None:
    assert locking.after_success(LockState(), TOTP, NOW).modalities == {}


def test_a_success_after_a_lapsed_temporary_lock_clears_it() -> None:
    state = locking.after_success(temporarily_locked(), TOTP, NOW + seconds(900))

    assert (state.lock_kind, state.locked_dtm, state.unlock_dtm) == (None, None, None)
    assert (state.lock_count, state.temp_lock_streak) == (1, 0)


# settle


def test_settle_drops_lapsed_locks_and_keeps_those_in_force() -> None:
    before = LockState(
        lock_kind=LockKind.TEMPORARY,
        locked_dtm=NOW,
        unlock_dtm=NOW + seconds(100),
        temp_lock_streak=1,
        modalities={
            TOTP: ModalityLock(3, locked_dtm=NOW, unlock_dtm=NOW + seconds(50)),
            PASSKEY: ModalityLock(3, locked_dtm=NOW, unlock_dtm=None),
            Modality.FACE: ModalityLock(2),
        },
    )

    assert locking.settle(before, NOW + seconds(49)) == before
    later = locking.settle(before, NOW + seconds(100))

    assert (later.lock_kind, later.unlock_dtm, later.temp_lock_streak) == (None, None, 1)
    assert later.modalities == {
        TOTP: ModalityLock(),
        PASSKEY: ModalityLock(3, locked_dtm=NOW, unlock_dtm=None),
        Modality.FACE: ModalityLock(2),
    }


def test_settle_keeps_a_permanent_lock() -> None:
    state = LockState(lock_kind=LockKind.PERMANENT, locked_dtm=NOW, lock_count=1)

    assert locking.settle(state, NOW + seconds(10**9)) == state


# unlocked and locked_by_administrator


def locked_everywhere() -> LockState:
    return LockState(
        failed_attempts=3,
        lock_count=4,
        temp_lock_streak=3,
        lock_kind=LockKind.PERMANENT,
        locked_dtm=NOW,
        modalities={
            TOTP: ModalityLock(5, locked_dtm=NOW, unlock_dtm=None),
            PASSKEY: ModalityLock(5, locked_dtm=NOW, unlock_dtm=None),
        },
    )


def test_unlocking_everything_keeps_only_the_lock_count() -> None:
    state = locking.unlocked(locked_everywhere())

    assert state == LockState(
        lock_count=4, modalities={TOTP: ModalityLock(), PASSKEY: ModalityLock()}
    )


def test_unlocking_named_modalities_leaves_the_user_lock_and_the_others() -> None:
    before = locked_everywhere()

    state = locking.unlocked(before, [TOTP])

    assert state.modalities == {TOTP: ModalityLock(), PASSKEY: before.modalities[PASSKEY]}
    assert (state.lock_kind, state.failed_attempts, state.temp_lock_streak) == (
        LockKind.PERMANENT,
        3,
        3,
    )


def test_an_administrators_lock_is_permanent_and_counted_once() -> None:
    state = locking.locked_by_administrator(LockState(lock_count=1), NOW)
    again = locking.locked_by_administrator(state, NOW + seconds(5))

    assert (state.lock_kind, state.locked_dtm, state.unlock_dtm, state.lock_count) == (
        LockKind.PERMANENT,
        NOW,
        None,
        2,
    )
    assert again == state


# effective_status


@pytest.mark.parametrize(
    ("state", "at", "expected"),
    [
        (LockState(), NOW, UserStatus.ACTIVE),
        (temporarily_locked(), NOW, UserStatus.TEMP_LOCKED),
        (temporarily_locked(), NOW + seconds(899), UserStatus.TEMP_LOCKED),
        (temporarily_locked(), NOW + seconds(900), UserStatus.ACTIVE),
        (LockState(lock_kind=LockKind.PERMANENT, locked_dtm=NOW), NOW, UserStatus.LOCKED),
        (LockState(modalities={TOTP: ModalityLock(3, NOW, None)}), NOW, UserStatus.ACTIVE),
    ],
)
def test_a_user_lock_in_force_shows_as_the_status(
    state: LockState, at: datetime, expected: UserStatus
) -> None:
    assert locking.effective_status(UserStatus.ACTIVE, state, at) is expected


@pytest.mark.parametrize("admin_status", [UserStatus.DISABLED, UserStatus.PENDING_ACTIVE])
def test_without_a_lock_the_administrators_status_shows(admin_status: UserStatus) -> None:
    assert locking.effective_status(admin_status, LockState(), NOW) is admin_status
    lapsed = NOW + seconds(900)
    assert locking.effective_status(admin_status, temporarily_locked(), lapsed) is admin_status


def test_modality_locks_survive_their_stored_form() -> None:
    modalities = {
        TOTP: ModalityLock(3, locked_dtm=NOW, unlock_dtm=NOW + seconds(300)),
        PASSKEY: ModalityLock(1),
    }

    stored = locking.modality_locks_to_json(modalities)

    assert locking.modality_locks_from_json(stored) == modalities
