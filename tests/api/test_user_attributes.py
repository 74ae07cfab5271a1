"""A user's free-form `attributes` come back as they were sent, number types included, on both
engines (PostgreSQL's JSONB once read a float written `1e+20` back as an integer)."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.checks import json_of

NUMBERS: dict[str, Any] = {
    "large float": 1e20,
    "huge float": 1e300,
    "negative float": -2.5e30,
    "integral float": 3.0,
    "small float": 1e-7,
    "large integer": 10**20,
    "integer": 7,
    "text": "1e+20",
    "nested": [1e22, {"deeper": [4.5e21, 12]}],
}


def _typed(value: Any) -> Any:
    """The value with every number tagged by its JSON type: 1e20 == 10**20 in Python."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def test_numbers_in_attributes_keep_their_type_and_value(api: Api) -> None:
    store = api.create_store()["name"]

    created = api.create_user(store, attributes=NUMBERS)

    assert _typed(created["attributes"]) == _typed(NUMBERS)
    assert _typed(api.get_user(store, created)["attributes"]) == _typed(NUMBERS)


def test_numbers_in_attributes_survive_an_update(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    updated = api.client.post(api.user_url(store, user), json={"attributes": {"score": 6e23}})

    assert _typed(json_of(updated, 200)["attributes"]) == {"score": ("float", 6e23)}
    assert _typed(api.get_user(store, user)["attributes"]) == {"score": ("float", 6e23)}
