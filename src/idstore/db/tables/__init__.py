"""The schema: every table carries `store_id` so that it can be distributed by store (Citus).

One module per part of the domain; everything is named here, so that code reads `tables.users`
whichever module defines it.
"""

from __future__ import annotations

from idstore.db.tables.accounts import api_keys, store_user_counts, stores, users
from idstore.db.tables.appkeys import (
    appkey_configs,
    appkey_sessions,
    appkey_single_shot_challenges,
    user_appkeys,
)
from idstore.db.tables.audit import admin_events, authentication_audit
from idstore.db.tables.base import ID, metadata
from idstore.db.tables.faces import user_biometrics
from idstore.db.tables.passkeys import (
    passkey_configs,
    passkey_sessions,
    passkey_user_handles,
    user_passkeys,
)
from idstore.db.tables.totps import totp_policies, user_totps

__all__ = [
    "ID",
    "admin_events",
    "api_keys",
    "appkey_configs",
    "appkey_sessions",
    "appkey_single_shot_challenges",
    "authentication_audit",
    "metadata",
    "passkey_configs",
    "passkey_sessions",
    "passkey_user_handles",
    "store_user_counts",
    "stores",
    "totp_policies",
    "user_appkeys",
    "user_biometrics",
    "user_passkeys",
    "user_totps",
    "users",
]
