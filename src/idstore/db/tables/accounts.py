"""Callers, stores and users: the rows everything else belongs to."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from idstore.db.tables.base import ID, metadata, store_column, store_key, timestamps
from idstore.db.types import UtcDateTime, json_column_type

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("lookup_id", String(32), nullable=False, unique=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(128)),
    Column("permissions", json_column_type(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("hash_key_id", String(32), nullable=False),
    Column("key_hash", LargeBinary, nullable=False),
    Column("is_bootstrap", Boolean, nullable=False, default=False),
    *timestamps(),
    # Tokens issued before this instant are void (set when a key is unblocked).
    Column("tokens_not_before", UtcDateTime),
)

stores = Table(
    "stores",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text),
    Column("configuration", json_column_type(), nullable=False),
    *timestamps(),
    UniqueConstraint("tenant_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), nullable=False),
    store_column(),
    Column("external_id", String(255), nullable=False),
    # The status an administrator set; a lock shows as TEMP_LOCKED / LOCKED on top of it.
    Column("status", String(16), nullable=False),
    Column("type", String(64)),
    Column("locale", String(35)),
    Column("timezone", String(64)),
    Column("first_name", String(255)),
    Column("last_name", String(255)),
    Column("email", String(320)),
    Column("date_of_birth", Date),
    Column("nationalities", json_column_type()),
    Column("attributes", json_column_type()),
    *timestamps(),
    Column("last_successful_authentication_dtm", UtcDateTime),
    # Locking state lives on the user row, which every authentication locks first (FOR UPDATE).
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("lock_count", Integer, nullable=False, default=0),
    Column("temp_lock_streak", Integer, nullable=False, default=0),
    Column("lock_kind", String(16)),
    Column("locked_dtm", UtcDateTime),
    Column("unlock_dtm", UtcDateTime),
    Column("modality_locks", json_column_type(), nullable=False),
    # The per-user attempt rate limit: tokens left, as of when (a token bucket).
    Column("attempt_tokens", Float),
    Column("attempt_tokens_dtm", UtcDateTime),
    # Hash of the user's newest authentication audit record: the head of the user's chain.
    Column("audit_chain_head", String(64)),
    # How many records the chain holds, and a keyed hash over user, length and head.
    Column("audit_chain_length", Integer),
    Column("audit_chain_seal", String(64)),
    store_key("id"),
    UniqueConstraint("store_id", "external_id"),
    Index("ix_users_store_id_created_dtm_id", "store_id", "created_dtm", "id"),
)

# How many users each store holds, so that a page of users need not count them all. Triggers on
# `users` (migration 0008) change it in the transaction that inserts or deletes users, whatever
# writes them; a store without a row holds no users.
store_user_counts = Table(
    "store_user_counts",
    metadata,
    Column(
        "store_id",
        String(ID),
        ForeignKey("stores.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_count", BigInteger, nullable=False),
)
