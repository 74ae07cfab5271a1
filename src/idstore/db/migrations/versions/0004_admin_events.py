"""The admin event log: every change a caller makes, with who, when and in which request.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "admin_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(36)),
        sa.Column("caller_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("subject_id", sa.String(36)),
        sa.Column("created_dtm", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_events"),
    )
    op.create_index(
        "ix_admin_events_tenant_id_created_dtm_id",
        "admin_events",
        ["tenant_id", "created_dtm", "id"],
    )
    op.create_index(
        "ix_admin_events_store_id_created_dtm", "admin_events", ["store_id", "created_dtm"]
    )


def downgrade() -> None:
    op.drop_table("admin_events")
