"""Each user carries a token bucket of authentication attempts, on the row every attempt locks,
so the per-user rate limit holds across server processes at no extra round trip.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("attempt_tokens", sa.Float()))
        batch.add_column(sa.Column("attempt_tokens_dtm", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("attempt_tokens_dtm")
        batch.drop_column("attempt_tokens")
