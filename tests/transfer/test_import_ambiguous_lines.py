"""Import lines that two parsers could read differently are refused (FileRefused, nothing
written), however valid the file's HMAC: a line naming a member twice (which external id is the
user's?) or holding a constant that is no JSON. The HMAC vouches for the bytes, not for one
reading of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ambiguous_json import NOT_JSON_CONSTANTS, Raw, both_orders, repeating, spelled
from tests.transfer.test_attack_import_hostile import (
    assert_refused_writing_nothing,
    with_user_line,
)
from tests.transfer.test_import_appkeys_faces import (  # noqa: F401  (fixtures)
    Moving,
    moving,
    target,
)


def _unchanged(user: dict[str, Any]) -> None:
    return None


def _repeating(name: str, other: Any, *, honest_first: bool) -> Callable[[dict[str, Any]], str]:
    return lambda user: spelled(repeating(user, name, other, honest_first=honest_first))


@pytest.mark.parametrize(("name", "honest_first"), both_orders(["externalId"]))
def test_a_user_line_naming_a_member_twice_is_refused(
    moving: Moving,  # noqa: F811
    empty_database: str,
    name: str,
    honest_first: bool,
) -> None:
    spell = _repeating(name, "someone-else", honest_first=honest_first)
    lines = with_user_line(moving.exported, _unchanged, spell)

    refusal = assert_refused_writing_nothing(empty_database, moving.exported, lines)
    assert str(refusal) == f"line 3 names {name} more than once"


@pytest.mark.parametrize("constant", NOT_JSON_CONSTANTS)
def test_a_user_line_holding_no_json_number_is_refused(
    moving: Moving,  # noqa: F811
    empty_database: str,
    constant: str,
) -> None:
    # A member the importer does not read: the line as a whole is what is refused.
    lines = with_user_line(moving.exported, lambda user: user.update(x=Raw(constant)), spelled)

    refusal = assert_refused_writing_nothing(empty_database, moving.exported, lines)
    assert str(refusal) == "line 3 is not JSON"
