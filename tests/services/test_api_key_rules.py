"""The permissions a key may hold: well formed, naming exactly the operations the routes check,
each once."""

from __future__ import annotations

import pytest

from idstore.app import create_app
from idstore.crypto.keyring import KeyRing
from idstore.services.api_key_rules import OPERATIONS, PermissionRefused, permissions_held
from idstore.settings import Settings


def test_the_known_operations_are_those_the_routes_check() -> None:
    app = create_app(
        Settings(database_url="sqlite+aiosqlite://"), keyring=KeyRing((("t", bytes(32)),))
    )
    checked = {
        operation["x-permission"].rsplit(":", 1)[1]
        for path in app.openapi()["paths"].values()
        for operation in path.values()
        if "x-permission" in operation
    }

    assert checked == OPERATIONS


LISTING, READING = "TNT#t1#IdentityStore:listStores", "TNT#t1#IdentityStore:getStore"


def test_a_key_holds_each_permission_once_the_first_kept_in_order() -> None:
    held = permissions_held([READING, LISTING, READING, "TNT#t1#IdentityStore:*", LISTING])

    assert held == (READING, LISTING, "TNT#t1#IdentityStore:*")


@pytest.mark.parametrize(
    ("permission", "reason"),
    [
        ("TNT#t1#IdentityStore:nosuchop", "unknown operation 'nosuchop' (see docs/permissions.md)"),
        ("everything", "not of the form TNT#{tenant}#IdentityStore:{operation}"),
        ("TNT#t1#Other:listStores", "not of the form TNT#{tenant}#IdentityStore:{operation}"),
        (
            "TNT#t 1#IdentityStore:listStores",
            "not of the form TNT#{tenant}#IdentityStore:{operation}",
        ),
    ],
)
def test_a_permission_no_key_may_hold_is_refused_naming_it_and_why(
    permission: str, reason: str
) -> None:
    with pytest.raises(PermissionRefused) as refused:
        permissions_held([LISTING, permission, READING])

    assert str(refused.value) == f"{permission!r}: {reason}"
    assert refused.value.permission == permission
