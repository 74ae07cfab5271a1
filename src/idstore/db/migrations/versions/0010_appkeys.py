"""Appkeys (spec §10): relying-party configurations and users' UAF keys.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the live schema, as 0001 explains.
ID = sa.String(36)
RP_ID = sa.String(253)
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _reference(table: str, column: str, target: str) -> sa.Column[str]:
    foreign_key = sa.ForeignKey(
        f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}"
    )
    return sa.Column(column, ID, foreign_key, nullable=False)


def upgrade() -> None:
    op.create_table(
        "appkey_configs",
        sa.Column("id", ID, nullable=False),
        _reference("appkey_configs", "store_id", "stores"),
        sa.Column("rp_id", RP_ID, nullable=False),
        sa.Column("trusted_facets", JSON, nullable=False),
        sa.Column("session_management", sa.String(16), nullable=False),
        sa.Column("single_shot_window_seconds", sa.Integer(), nullable=False),
        sa.Column("registration_policies", JSON, nullable=False),
        sa.Column("authentication_policies", JSON, nullable=False),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_updated_dtm", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appkey_configs"),
        sa.UniqueConstraint("store_id", "rp_id", name="uq_appkey_configs_store_id_rp_id"),
    )
    _create_user_appkeys()


def _create_user_appkeys() -> None:
    op.create_table(
        "user_appkeys",
        sa.Column("id", ID, nullable=False),
        _reference("user_appkeys", "store_id", "stores"),
        _reference("user_appkeys", "user_id", "users"),
        sa.Column("rp_id", RP_ID, nullable=False),
        sa.Column("aaid", sa.String(9), nullable=False),
        sa.Column("key_id", sa.String(512), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("device_id", sa.String(255)),
        sa.Column("device_name", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("signature_algorithm", sa.Integer(), nullable=False),
        sa.Column("attestation_type", sa.String(32), nullable=False),
        sa.Column("registration_audit", JSON, nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_updated_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_authenticated_with_dtm", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_user_appkeys"),
        sa.UniqueConstraint(
            "store_id", "rp_id", "aaid", "key_id", name="uq_user_appkeys_store_id_rp_id_aaid_key_id"
        ),
    )
    op.create_index("ix_user_appkeys_store_id_user_id", "user_appkeys", ["store_id", "user_id"])


def downgrade() -> None:
    op.drop_table("user_appkeys")
    op.drop_table("appkey_configs")
