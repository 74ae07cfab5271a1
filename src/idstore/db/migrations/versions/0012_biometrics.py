"""Face biometrics (spec §11): one face per user and subtype, its template sealed at rest.

The template (and the image, only when the store keeps images) is sealed with the key ring, the
row id as associated data, as TOTP secrets are. A re-enrolment replaces the row's template in
place, so the unique constraint on (user_id, type, subtype) holds one face per user and subtype.

Revision ID: 0012
Revises: 0009 (chained after 0011 when the appkey migrations land)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the live schema, as 0001 explains.
ID = sa.String(36)
TIMESTAMP = sa.DateTime(timezone=True)
_TABLE = "user_biometrics"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "store_id",
            ID,
            sa.ForeignKey("stores.id", ondelete="CASCADE", name=f"fk_{_TABLE}_store_id_stores"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{_TABLE}_user_id_users"),
            nullable=False,
        ),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("subtype", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("template_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("image_sealed", sa.LargeBinary()),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("last_updated_dtm", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{_TABLE}"),
        sa.UniqueConstraint("user_id", "type", "subtype", name=f"uq_{_TABLE}_user_id_type_subtype"),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
