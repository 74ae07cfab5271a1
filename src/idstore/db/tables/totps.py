"""TOTP policies and the TOTPs users hold."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from idstore.db.tables.base import ID, metadata, owned_by, store_column, store_key, timestamps
from idstore.db.types import UtcDateTime

totp_policies = Table(
    "totp_policies",
    metadata,
    Column("id", String(ID), primary_key=True),
    store_column(),
    Column("name", String(64), nullable=False),
    Column("description", Text),
    Column("algorithm", String(8), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("issuer", String(255)),
    Column("drift_steps", Integer, nullable=False),
    Column("secret_length", Integer),
    Column("registration_timeout_seconds", Integer, nullable=False),
    Column("allow_secret_retrieval", Boolean, nullable=False),
    *timestamps(),
    UniqueConstraint("store_id", "name"),
)

user_totps = Table(
    "user_totps",
    metadata,
    Column("id", String(ID), nullable=False),
    store_column(),
    Column("user_id", String(ID), nullable=False),
    Column(
        "policy_id", String(ID), ForeignKey("totp_policies.id", ondelete="CASCADE"), nullable=False
    ),
    Column("policy_name", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issuer", String(255), nullable=False),
    Column("username", String(255), nullable=False),
    Column("algorithm", String(8), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    # Highest time step accepted so far; a code is accepted only by raising it (replay guard).
    Column("last_used_step", BigInteger, nullable=False),
    *timestamps(),
    Column("activated_dtm", UtcDateTime),
    Column("expiration_dtm", UtcDateTime),
    Column("last_authenticated_with_dtm", UtcDateTime),
    store_key("id"),
    UniqueConstraint("store_id", "user_id", "policy_id"),
    owned_by("user_id", "users"),
    Index("ix_user_totps_policy_id", "policy_id"),
)
