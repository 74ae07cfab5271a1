"""The operations a permission may name are exactly those the routes check."""

from __future__ import annotations

from idstore.app import create_app
from idstore.crypto.keyring import KeyRing
from idstore.services.api_key_rules import OPERATIONS
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
