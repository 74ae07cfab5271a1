"""The audit trails: authentications, and the changes callers made."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
)

from idstore.db.tables.base import ID, metadata, store_key
from idstore.db.types import UtcDateTime, json_column_type

# Audit records outlive their user and store: no foreign keys, nothing cascades into them.
authentication_audit = Table(
    "authentication_audit",
    metadata,
    Column("id", String(ID), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("store_id", String(ID), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("result", String(8), nullable=False),
    Column("error_code", Integer),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("details", json_column_type(), nullable=False),
    Column("request_id", String(128)),
    # The user's chain: a keyed hash over this record and the previous one's hash.
    Column("chain_key_id", String(32)),
    Column("chain_previous", String(64)),
    Column("chain_hash", String(64)),
    store_key("id"),
    # A user's records in order; type and result ride along so that counting a user's records,
    # filtered or not, reads the index alone (migration 0009).
    Index(
        "ix_authentication_audit_store_id_user_id_created_dtm_id",
        "store_id",
        "user_id",
        "created_dtm",
        "id",
        postgresql_include=["type", "result"],
    ),
    Index("ix_authentication_audit_store_id_created_dtm", "store_id", "created_dtm"),
)

# Changes callers made (spec: an auditor can tell who changed what). Like the authentication
# audit, it outlives what it describes: no foreign keys.
admin_events = Table(
    "admin_events",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("store_id", String(ID)),
    Column("caller_id", String(ID), nullable=False),
    Column("request_id", String(128)),
    Column("kind", String(48), nullable=False),
    Column("subject_id", String(ID)),
    Column("created_dtm", UtcDateTime, nullable=False),
    Column("details", json_column_type(), nullable=False),
    Index("ix_admin_events_tenant_id_created_dtm_id", "tenant_id", "created_dtm", "id"),
    Index("ix_admin_events_store_id_created_dtm", "store_id", "created_dtm"),
)
