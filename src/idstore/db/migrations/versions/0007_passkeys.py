"""Passkeys (spec §9): relying-party configurations, users' passkeys, ceremonies under way.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the live schema, as 0001 explains.
ID = sa.String(36)
RP_ID = sa.String(253)
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _reference(table: str, column: str, target: str, *, nullable: bool = False) -> sa.Column[str]:
    foreign_key = sa.ForeignKey(
        f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}"
    )
    return sa.Column(column, ID, foreign_key, nullable=nullable)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_updated_dtm", TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "passkey_configs",
        sa.Column("id", ID, nullable=False),
        _reference("passkey_configs", "store_id", "stores"),
        sa.Column("rp_id", RP_ID, nullable=False),
        sa.Column("rp_name", sa.String(255), nullable=False),
        sa.Column("restricted_origins", JSON, nullable=False),
        sa.Column("session_management", sa.String(16), nullable=False),
        sa.Column("registration_policies", JSON, nullable=False),
        sa.Column("authentication_policies", JSON, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_passkey_configs"),
        sa.UniqueConstraint("store_id", "rp_id", name="uq_passkey_configs_store_id_rp_id"),
    )
    _create_user_passkeys()
    op.create_table(
        "passkey_sessions",
        sa.Column("id", ID, nullable=False),
        _reference("passkey_sessions", "store_id", "stores"),
        _reference("passkey_sessions", "user_id", "users", nullable=True),
        sa.Column("rp_id", RP_ID, nullable=False),
        sa.Column("ceremony", sa.String(16), nullable=False),
        sa.Column("state_sealed", sa.LargeBinary()),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("expiration_dtm", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_passkey_sessions"),
    )
    op.create_index("ix_passkey_sessions_expiration_dtm", "passkey_sessions", ["expiration_dtm"])


def _create_user_passkeys() -> None:
    op.create_table(
        "user_passkeys",
        sa.Column("id", ID, nullable=False),
        _reference("user_passkeys", "store_id", "stores"),
        _reference("user_passkeys", "user_id", "users"),
        sa.Column("rp_id", RP_ID, nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("algorithm", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("transports", JSON, nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backup_state", sa.Boolean(), nullable=False),
        sa.Column("user_handle", sa.String(64), nullable=False),
        sa.Column("registration_audit", JSON, nullable=False),
        *_timestamps(),
        sa.Column("last_authenticated_with_dtm", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_user_passkeys"),
        sa.UniqueConstraint(
            "store_id",
            "rp_id",
            "credential_id",
            name="uq_user_passkeys_store_id_rp_id_credential_id",
        ),
    )
    op.create_index("ix_user_passkeys_user_id", "user_passkeys", ["user_id"])


def downgrade() -> None:
    op.drop_table("passkey_sessions")
    op.drop_table("user_passkeys")
    op.drop_table("passkey_configs")
