"""Passkeys (spec §9): relying parties' settings, users' keys and handles, ceremonies."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from idstore.db.tables.base import (
    ID,
    ceremony_sessions,
    metadata,
    owned_by,
    store_column,
    store_key,
    timestamps,
)
from idstore.db.types import UtcDateTime, json_column_type

# A relying party's passkey settings (spec §9); its policies are small maps kept as JSON.
passkey_configs = Table(
    "passkey_configs",
    metadata,
    Column("id", String(ID), primary_key=True),
    store_column(),
    Column("rp_id", String(253), nullable=False),
    Column("rp_name", String(255), nullable=False),
    Column("restricted_origins", json_column_type(), nullable=False),
    Column("session_management", String(16), nullable=False),
    Column("registration_policies", json_column_type(), nullable=False),
    Column("authentication_policies", json_column_type(), nullable=False),
    *timestamps(),
    UniqueConstraint("store_id", "rp_id"),
)

user_passkeys = Table(
    "user_passkeys",
    metadata,
    Column("id", String(ID), nullable=False),
    store_column(),
    Column("user_id", String(ID), nullable=False),
    Column("rp_id", String(253), nullable=False),
    # base64url of the credential id (at most 1023 bytes by WebAuthn level 3).
    Column("credential_id", String(1400), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("algorithm", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    # Highest counter accepted; an assertion is accepted only by raising it (or both 0).
    Column("sign_count", BigInteger, nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("transports", json_column_type(), nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    Column("backup_state", Boolean, nullable=False),
    Column("user_handle", String(64), nullable=False),
    # How it was registered (registrationAudit): format, origin, flags, policy.
    Column("registration_audit", json_column_type(), nullable=False),
    *timestamps(),
    Column("last_authenticated_with_dtm", UtcDateTime),
    store_key("id"),
    UniqueConstraint("store_id", "rp_id", "credential_id"),
    owned_by("user_id", "users"),
    Index("ix_user_passkeys_user_id", "user_id"),
)

# Which user a WebAuthn user handle names, per relying party: discoverable sign-in finds the user
# by it, so the primary key makes the database refuse a second user with the same handle, across
# processes (migration 0014). A user's passkeys of one relying party share one row; a row outlives
# the passkeys, so a handle once given never passes to another user.
passkey_user_handles = Table(
    "passkey_user_handles",
    metadata,
    store_column(),
    Column("rp_id", String(253), nullable=False),
    Column("user_handle", String(64), nullable=False),
    Column("user_id", String(ID), nullable=False),
    store_key("rp_id", "user_handle"),
    owned_by("user_id", "users"),
    Index("ix_passkey_user_handles_store_id_user_id", "store_id", "user_id"),
)


passkey_sessions = ceremony_sessions("passkey_sessions")
