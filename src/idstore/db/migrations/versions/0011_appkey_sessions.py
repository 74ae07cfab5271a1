"""Appkey ceremonies (spec §10): their sessions, and the single-shot challenges each key has had
accepted, so that "never accepted before" holds across server processes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the live schema, as 0001 explains.
ID = sa.String(36)
TIMESTAMP = sa.DateTime(timezone=True)


def _reference(table: str, column: str, target: str, *, nullable: bool = False) -> sa.Column[str]:
    foreign_key = sa.ForeignKey(
        f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}"
    )
    return sa.Column(column, ID, foreign_key, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "appkey_sessions",
        sa.Column("id", ID, nullable=False),
        _reference("appkey_sessions", "store_id", "stores"),
        _reference("appkey_sessions", "user_id", "users", nullable=True),
        sa.Column("rp_id", sa.String(253), nullable=False),
        sa.Column("ceremony", sa.String(16), nullable=False),
        sa.Column("state_sealed", sa.LargeBinary()),
        sa.Column("created_dtm", TIMESTAMP, nullable=False),
        sa.Column("expiration_dtm", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appkey_sessions"),
    )
    op.create_index("ix_appkey_sessions_expiration_dtm", "appkey_sessions", ["expiration_dtm"])
    op.create_table(
        "appkey_single_shot_challenges",
        _reference("appkey_single_shot_challenges", "appkey_id", "user_appkeys"),
        sa.Column("challenge", sa.String(64), nullable=False),
        _reference("appkey_single_shot_challenges", "store_id", "stores"),
        sa.Column("accepted_dtm", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("appkey_id", "challenge", name="pk_appkey_single_shot_challenges"),
    )


def downgrade() -> None:
    op.drop_table("appkey_single_shot_challenges")
    op.drop_table("appkey_sessions")
