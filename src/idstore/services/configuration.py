"""A store's configuration: defaults, field-by-field merging, and its stored JSON form."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from idstore.services.models import JsonObject, LockingPolicy, StoreConfiguration, UserStatus


@dataclass(frozen=True)
class LockingChanges:
    """The `userLocking` fields a request gave; absent ones stay as they were."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigurationChanges:
    """The configuration fields a request gave, by their snake_case names."""

    values: dict[str, Any] = field(default_factory=dict)
    user_locking: LockingChanges | None = None


def merged(current: StoreConfiguration, changes: ConfigurationChanges) -> StoreConfiguration:
    """Merge field by field: what the request gives replaces, what it omits stays."""
    configuration = replace(current, **changes.values)
    if changes.user_locking is not None:
        locking = replace(current.user_locking, **changes.user_locking.values)
        configuration = replace(configuration, user_locking=locking)
    return configuration


def to_json(configuration: StoreConfiguration) -> JsonObject:
    """The stored form (the stores.configuration column); policies live in their own tables."""
    locking = configuration.user_locking
    return {
        "defaultUserStatus": str(configuration.default_user_status),
        "defaultUserLocale": configuration.default_user_locale,
        "defaultUserTimezone": configuration.default_user_timezone,
        "userLocking": {name.name: getattr(locking, name.name) for name in fields(locking)},
        "faceMatchThreshold": configuration.face_match_threshold,
        "faceRetainImages": configuration.face_retain_images,
    }


# Parsed configurations by the stored JSON's repr, which tells apart every value JSON can hold
# (1, 1.0, True, "1"), and by the stored text (the attempt query reads the column as text).
# Every attempt reads its store's configuration, and stores are few: past this many distinct
# ones a cache starts over, so it stays bounded.
_PARSED: dict[str, StoreConfiguration] = {}
_PARSED_TEXT: dict[str, StoreConfiguration] = {}
_PARSED_LIMIT = 256


def from_json(stored: JsonObject) -> StoreConfiguration:
    """The configuration a stored JSON object holds; the result is shared (it is frozen)."""
    return _remembered(_PARSED, repr(stored), lambda: _parse(stored))


def from_text(stored: str) -> StoreConfiguration:
    """The configuration the stored JSON text holds, parsed once per distinct text."""
    return _remembered(_PARSED_TEXT, stored, lambda: _parse(json.loads(stored)))


def _remembered(
    cache: dict[str, StoreConfiguration], key: str, parse: Callable[[], StoreConfiguration]
) -> StoreConfiguration:
    parsed = cache.get(key)
    if parsed is None:
        if len(cache) >= _PARSED_LIMIT:
            cache.clear()
        parsed = cache[key] = parse()
    return parsed


def _parse(stored: JsonObject) -> StoreConfiguration:
    locking_stored: dict[str, Any] = dict(_object(stored.get("userLocking")))
    known = {item.name for item in fields(LockingPolicy)}
    locking = LockingPolicy(
        **{name: locking_stored[name] for name in known & locking_stored.keys()}
    )
    defaults = StoreConfiguration()
    return StoreConfiguration(
        default_user_status=UserStatus(
            str(stored.get("defaultUserStatus", defaults.default_user_status))
        ),
        default_user_locale=_optional_text(stored.get("defaultUserLocale")),
        default_user_timezone=_optional_text(stored.get("defaultUserTimezone")),
        user_locking=locking,
        face_match_threshold=_number(
            stored.get("faceMatchThreshold"), defaults.face_match_threshold
        ),
        face_retain_images=bool(stored.get("faceRetainImages", False)),
    )


def _object(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default
