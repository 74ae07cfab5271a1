"""The kinds of key user_keys serves (passkeys, appkeys) each take only their own statuses: a
status of the other kind is refused by the type checker, which `mypy --strict` on tests/ runs."""

from __future__ import annotations

import typing

from idstore.db.engine import Database
from idstore.services.context import Context
from idstore.services.models import AppkeyStatus, PasskeyStatus, UserAppkey, UserPasskey
from idstore.services.user_appkeys import APPKEYS
from idstore.services.user_keys import KeyAddress, set_key_status
from idstore.services.user_passkeys import PASSKEYS


def test_each_kind_names_the_status_type_its_keys_read_as() -> None:
    assert PASSKEYS.statuses is typing.get_type_hints(UserPasskey)["status"] is PasskeyStatus
    assert APPKEYS.statuses is typing.get_type_hints(UserAppkey)["status"] is AppkeyStatus


async def _status_of_the_other_kind(database: Database, ctx: Context, key: KeyAddress) -> None:
    """Never run; type-checked only. With warn_unused_ignores (strict), each ignore below fails
    the check as soon as the call it covers would type-check."""
    passkeys, appkeys = PasskeyStatus.DISABLED, AppkeyStatus.DISABLED
    await set_key_status(database, ctx, PASSKEYS, key, passkeys)
    await set_key_status(database, ctx, APPKEYS, key, appkeys)
    await set_key_status(database, ctx, PASSKEYS, key, appkeys)  # type: ignore[misc]  # wrong kind
    await set_key_status(database, ctx, APPKEYS, key, passkeys)  # type: ignore[misc]  # wrong kind
