"""Appkeys (spec §10): relying parties' settings, users' UAF keys, ceremonies, challenges."""

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

# A relying party's appkey settings (spec §10); its facets and policies are small JSON documents.
appkey_configs = Table(
    "appkey_configs",
    metadata,
    Column("id", String(ID), primary_key=True),
    store_column(),
    Column("rp_id", String(253), nullable=False),
    Column("trusted_facets", json_column_type(), nullable=False),
    Column("session_management", String(16), nullable=False),
    Column("single_shot_window_seconds", Integer, nullable=False),
    Column("registration_policies", json_column_type(), nullable=False),
    Column("authentication_policies", json_column_type(), nullable=False),
    *timestamps(),
    UniqueConstraint("store_id", "rp_id"),
)

# A UAF key an app made on a user's device; `key_id` is the authenticator's KeyID in base64url.
user_appkeys = Table(
    "user_appkeys",
    metadata,
    Column("id", String(ID), nullable=False),
    store_column(),
    Column("user_id", String(ID), nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("aaid", String(9), nullable=False),
    Column("key_id", String(512), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("device_id", String(255)),
    Column("device_name", String(255)),
    Column("status", String(16), nullable=False),
    # Highest counter accepted; an assertion is accepted only by raising it (or both 0).
    Column("sign_count", BigInteger, nullable=False),
    # DER SubjectPublicKeyInfo, whatever encoding the authenticator sent it in.
    Column("public_key", LargeBinary, nullable=False),
    # The FIDO registry's ALG_SIGN_* number.
    Column("signature_algorithm", Integer, nullable=False),
    Column("attestation_type", String(32), nullable=False),
    # How it was registered (registrationAudit): AAID, attestation, facet, device, version.
    Column("registration_audit", json_column_type(), nullable=False),
    Column("preferred", Boolean, nullable=False),
    *timestamps(),
    Column("last_authenticated_with_dtm", UtcDateTime),
    store_key("id"),
    UniqueConstraint("store_id", "rp_id", "aaid", "key_id"),
    owned_by("user_id", "users"),
    Index("ix_user_appkeys_store_id_user_id", "store_id", "user_id"),
)

appkey_sessions = ceremony_sessions("appkey_sessions")

# Single-shot challenges a key has had accepted: the primary key refuses a second acceptance,
# in whichever process it comes. Rows older than the window can no longer match and are swept.
appkey_single_shot_challenges = Table(
    "appkey_single_shot_challenges",
    metadata,
    Column("appkey_id", String(ID), nullable=False),
    Column("challenge", String(64), nullable=False),
    store_column(),
    Column("accepted_dtm", UtcDateTime, nullable=False),
    store_key("appkey_id", "challenge"),
    owned_by("appkey_id", "user_appkeys"),
)
