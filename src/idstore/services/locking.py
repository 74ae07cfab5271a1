"""Locking rules of spec §6 as pure functions over a user's LockState.

Callers hold the user's row lock (or SQLite's write lock) while they read a state, apply one of
these functions and write the result back, so concurrent attempts are counted one after another.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from idstore.services.models import (
    JsonObject,
    LockingPolicy,
    LockKind,
    LockState,
    Modality,
    ModalityLock,
    UserStatus,
    replaced,
)


def user_lock_holds(state: LockState, now: datetime) -> bool:
    """Whether the user is locked at `now` (a temporary lock ends at its unlock time)."""
    if state.lock_kind is LockKind.PERMANENT:
        return True
    return state.lock_kind is LockKind.TEMPORARY and (
        state.unlock_dtm is None or state.unlock_dtm > now
    )


def modality_lock_holds(state: LockState, modality: Modality, now: datetime) -> bool:
    lock = state.modalities.get(modality)
    if lock is None or lock.locked_dtm is None:
        return False
    return lock.unlock_dtm is None or lock.unlock_dtm > now


def effective_status(admin_status: UserStatus, state: LockState, now: datetime) -> UserStatus:
    """The status a caller sees: a lock in force shows over the status an administrator set."""
    if not user_lock_holds(state, now):
        return admin_status
    return UserStatus.LOCKED if state.lock_kind is LockKind.PERMANENT else UserStatus.TEMP_LOCKED


def settle(state: LockState, now: datetime) -> LockState:
    """Drop locks whose time has passed; a lapsed lock's counter starts again from zero."""
    lapsed = [
        modality
        for modality, lock in state.modalities.items()
        if lock.locked_dtm is not None and lock.unlock_dtm is not None and lock.unlock_dtm <= now
    ]
    user_lock_lapsed = state.lock_kind is LockKind.TEMPORARY and not user_lock_holds(state, now)
    if not lapsed and not user_lock_lapsed:
        return state  # nearly every attempt: nothing to copy
    modalities = {**state.modalities, **{modality: ModalityLock() for modality in lapsed}}
    if user_lock_lapsed:
        return replaced(
            state, lock_kind=None, locked_dtm=None, unlock_dtm=None, modalities=modalities
        )
    return replaced(state, modalities=modalities)


def after_failure(
    policy: LockingPolicy, state: LockState, modality: Modality, now: datetime
) -> LockState:
    """Count one wrong proof for the modality and the user; lock what reaches its threshold."""
    state = settle(state, now)
    if not policy.enabled:
        return state

    counted = state.modalities.get(modality, ModalityLock()).failed_attempts + 1
    lock = ModalityLock(failed_attempts=counted)
    if counted >= policy.modality_lock_threshold:
        lock = replaced(lock, locked_dtm=now, unlock_dtm=_until(now, policy.modality_lock_seconds))
    state = replaced(state, modalities={**state.modalities, modality: lock})

    failures = state.failed_attempts + 1
    if failures < policy.user_lock_threshold:
        return replaced(state, failed_attempts=failures)
    return _lock_user(policy, state, now)


def _lock_user(policy: LockingPolicy, state: LockState, now: datetime) -> LockState:
    # maxTempLocks temporary locks in a row are allowed; the next one is permanent.
    permanent = state.temp_lock_streak >= policy.max_temp_locks
    return replaced(
        state,
        failed_attempts=0,
        lock_count=state.lock_count + 1,
        temp_lock_streak=state.temp_lock_streak + (0 if permanent else 1),
        lock_kind=LockKind.PERMANENT if permanent else LockKind.TEMPORARY,
        locked_dtm=now,
        unlock_dtm=None if permanent else now + timedelta(seconds=policy.user_temp_lock_seconds),
    )


def after_success(state: LockState, modality: Modality, now: datetime) -> LockState:
    """A success resets the modality's counter and the user's, and ends a run of temporary locks."""
    state = settle(state, now)
    modalities = dict(state.modalities)
    if modality in modalities:
        modalities[modality] = ModalityLock()
    return replaced(state, failed_attempts=0, temp_lock_streak=0, modalities=modalities)


def unlocked(state: LockState, modalities: Iterable[Modality] | None = None) -> LockState:
    """An administrator's unlock: the named modalities only, or the user and every modality."""
    if modalities is not None:
        # Only modalities that counted a failure are listed at all (spec §6).
        cleared = {
            modality: ModalityLock() for modality in modalities if modality in state.modalities
        }
        return replaced(state, modalities={**state.modalities, **cleared})
    return replaced(
        state,
        failed_attempts=0,
        temp_lock_streak=0,
        lock_kind=None,
        locked_dtm=None,
        unlock_dtm=None,
        modalities={modality: ModalityLock() for modality in state.modalities},
    )


def locked_by_administrator(state: LockState, now: datetime) -> LockState:
    """Status LOCKED set by an administrator: a permanent lock that counts in `lockCount`."""
    if state.lock_kind is LockKind.PERMANENT:
        return state
    return replaced(
        state,
        lock_count=state.lock_count + 1,
        lock_kind=LockKind.PERMANENT,
        locked_dtm=now,
        unlock_dtm=None,
    )


def _until(now: datetime, seconds: int) -> datetime | None:
    # 0 seconds means the lock lasts until an administrator lifts it.
    return None if seconds == 0 else now + timedelta(seconds=seconds)


def modality_locks_to_json(modalities: dict[Modality, ModalityLock]) -> JsonObject:
    """The stored form of the per-modality counters (the users.modality_locks column)."""
    return {
        str(modality): {
            "failedAttempts": lock.failed_attempts,
            "lockedDtm": _iso(lock.locked_dtm),
            "unlockDtm": _iso(lock.unlock_dtm),
        }
        for modality, lock in modalities.items()
    }


def modality_locks_from_json(stored: JsonObject) -> dict[Modality, ModalityLock]:
    locks = {}
    for name, entry in stored.items():
        if not isinstance(entry, dict):
            continue
        attempts = entry.get("failedAttempts")
        locks[Modality(name)] = ModalityLock(
            failed_attempts=attempts if isinstance(attempts, int) else 0,
            locked_dtm=_parse(entry.get("lockedDtm")),
            unlock_dtm=_parse(entry.get("unlockDtm")),
        )
    return locks


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None
