"""The user's audit chain head is sealed: a keyed hash over the user, the chain's length and its
newest hash, so that records cut from the end cannot be hidden by rewinding the head.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("audit_chain_length", sa.Integer()))
        batch.add_column(sa.Column("audit_chain_seal", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("audit_chain_seal")
        batch.drop_column("audit_chain_length")
