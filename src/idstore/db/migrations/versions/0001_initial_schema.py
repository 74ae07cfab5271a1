"""Initial schema: API keys, stores, TOTP policies, users, user TOTPs, authentication audit.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migrations spell their types out rather than importing the live schema, so that they keep
# producing the same tables whatever the code becomes.
ID = sa.String(36)
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_updated_dtm", TIMESTAMP, nullable=False),
    ]


def _store_reference(table: str) -> sa.Column[object]:
    return sa.Column(
        "store_id",
        ID,
        sa.ForeignKey("stores.id", ondelete="CASCADE", name=f"fk_{table}_store_id_stores"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("lookup_id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128)),
        sa.Column("permissions", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hash_key_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("is_bootstrap", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("lookup_id", name="uq_api_keys_lookup_id"),
    )
    op.create_table(
        "stores",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("configuration", JSON, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_stores"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_stores_tenant_id_name"),
    )
    op.create_table(
        "totp_policies",
        sa.Column("id", ID, nullable=False),
        _store_reference("totp_policies"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(255)),
        sa.Column("drift_steps", sa.Integer(), nullable=False),
        sa.Column("secret_length", sa.Integer()),
        sa.Column("registration_timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("allow_secret_retrieval", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_totp_policies"),
        sa.UniqueConstraint("store_id", "name", name="uq_totp_policies_store_id_name"),
    )
    _create_users()
    _create_user_totps()
    _create_authentication_audit()


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        _store_reference("users"),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("type", sa.String(64)),
        sa.Column("locale", sa.String(35)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("first_name", sa.String(255)),
        sa.Column("last_name", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("nationalities", JSON),
        sa.Column("attributes", JSON),
        *_timestamps(),
        sa.Column("last_successful_authentication_dtm", TIMESTAMP),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.Column("temp_lock_streak", sa.Integer(), nullable=False),
        sa.Column("lock_kind", sa.String(16)),
        sa.Column("locked_dtm", TIMESTAMP),
        sa.Column("unlock_dtm", TIMESTAMP),
        sa.Column("modality_locks", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("store_id", "external_id", name="uq_users_store_id_external_id"),
    )
    op.create_index("ix_users_store_id_created_dtm_id", "users", ["store_id", "created_dtm", "id"])


def _create_user_totps() -> None:
    op.create_table(
        "user_totps",
        sa.Column("id", ID, nullable=False),
        _store_reference("user_totps"),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_user_totps_user_id_users"),
            nullable=False,
        ),
        sa.Column(
            "policy_id",
            ID,
            sa.ForeignKey(
                "totp_policies.id",
                ondelete="CASCADE",
                name="fk_user_totps_policy_id_totp_policies",
            ),
            nullable=False,
        ),
        sa.Column("policy_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("last_used_step", sa.BigInteger(), nullable=False),
        *_timestamps(),
        sa.Column("activated_dtm", TIMESTAMP),
        sa.Column("expiration_dtm", TIMESTAMP),
        sa.Column("last_authenticated_with_dtm", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_user_totps"),
        sa.UniqueConstraint("user_id", "policy_id", name="uq_user_totps_user_id_policy_id"),
    )
    op.create_index("ix_user_totps_policy_id", "user_totps", ["policy_id"])


def _create_authentication_audit() -> None:
    op.create_table(
        "authentication_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("store_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("error_code", sa.Integer()),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name="pk_authentication_audit"),
    )
    op.create_index(
        "ix_authentication_audit_user_id_created_dtm_id",
        "authentication_audit",
        ["user_id", "created_dtm", "id"],
    )
    op.create_index(
        "ix_authentication_audit_store_id_created_dtm",
        "authentication_audit",
        ["store_id", "created_dtm"],
    )


def downgrade() -> None:
    for table in ("authentication_audit", "user_totps", "users", "totp_policies", "stores"):
        op.drop_table(table)
    op.drop_table("api_keys")
