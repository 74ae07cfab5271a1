"""A store's stored configuration, parsed once per distinct stored value."""

from __future__ import annotations

import json

from idstore.services import configuration
from idstore.services.models import (
    JsonObject,
    JsonValue,
    LockingPolicy,
    StoreConfiguration,
    UserStatus,
)


def _stored(**locking: JsonValue) -> JsonObject:
    return {"defaultUserStatus": "PENDING_ACTIVE", "userLocking": dict(locking)}


def test_each_stored_value_reads_as_its_own_configuration_every_time() -> None:
    strict = _stored(enabled=True, modality_lock_threshold=3)
    lenient = _stored(enabled=True, modality_lock_threshold=30)

    for _ in range(2):
        first = configuration.from_json(strict)
        second = configuration.from_json(lenient)

        assert first == StoreConfiguration(
            default_user_status=UserStatus.PENDING_ACTIVE,
            user_locking=LockingPolicy(enabled=True, modality_lock_threshold=3),
        )
        assert second.user_locking.modality_lock_threshold == 30


def test_values_equal_in_python_but_not_in_json_are_told_apart() -> None:
    # 1 == True in Python: a cache keyed by equality would hand one the other's parse.
    as_number = configuration.from_json(_stored(max_temp_locks=1))
    as_boolean = configuration.from_json(_stored(max_temp_locks=True))

    assert type(as_number.user_locking.max_temp_locks) is int
    assert type(as_boolean.user_locking.max_temp_locks) is bool


def test_stored_text_reads_as_the_object_it_spells_each_time() -> None:
    for stored in (_stored(enabled=True, modality_lock_threshold=3), _stored(max_temp_locks=True)):
        text = json.dumps(stored)

        for _ in range(2):
            assert configuration.from_text(text) == configuration.from_json(stored)

    assert configuration.from_text('{"userLocking": {"enabled": false}}').user_locking == (
        LockingPolicy(enabled=False)
    )
