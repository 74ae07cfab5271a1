"""JSON spelled as no serializer spells it, for tests of documents two parsers read differently:
an object naming a member twice, or holding NaN, Infinity or a number past a float's range."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

NOT_JSON_CONSTANTS = ("NaN", "Infinity", "-Infinity", "1e999")


@dataclass(frozen=True)
class Members:
    """A JSON object as its members in order, a name possibly given more than once."""

    pairs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Raw:
    """Text written into the document as it is (`NaN`)."""

    text: str


def spelled(value: Any) -> str:
    """The JSON text of a value that may hold Members and Raw anywhere."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        value = Members(tuple(value.items()))
    if isinstance(value, Members):
        return "{" + ",".join(f"{json.dumps(k)}:{spelled(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(spelled(item) for item in value) + "]"
    return json.dumps(value)


def repeating(document: dict[str, Any], name: str, other: Any, *, honest_first: bool) -> Members:
    """The object with `name` given twice: its own value and `other`, in the order asked."""
    pairs: list[tuple[str, Any]] = []
    for key, value in document.items():
        if key == name:
            both = [(key, value), (key, other)]
            pairs += both if honest_first else both[::-1]
        else:
            pairs.append((key, value))
    assert len(pairs) == len(document) + 1, f"the object has no member {name}"
    return Members(tuple(pairs))


def adding(document: dict[str, Any], name: str, value: Any) -> Members:
    """The object with one more member at its end (`Raw("NaN")` for a constant)."""
    return Members((*document.items(), (name, value)))


def both_orders(names: Iterable[str]) -> list[Any]:
    """pytest parameters (name, honest_first): each name repeated with the honest value first,
    then with the other first (a parser keeping the last, then one keeping the first, is fooled)."""
    return [
        pytest.param(name, honest_first, id=f"{name}-{'honest' if honest_first else 'other'}-first")
        for name in names
        for honest_first in (True, False)
    ]
