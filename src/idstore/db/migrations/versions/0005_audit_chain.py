"""Authentication audit records are chained per user: each carries a keyed hash over its content
and the hash of the user's previous record, and the user row keeps the newest hash.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authentication_audit") as batch:
        batch.add_column(sa.Column("chain_key_id", sa.String(32)))
        batch.add_column(sa.Column("chain_previous", sa.String(64)))
        batch.add_column(sa.Column("chain_hash", sa.String(64)))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("audit_chain_head", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("audit_chain_head")
    with op.batch_alter_table("authentication_audit") as batch:
        for column in ("chain_hash", "chain_previous", "chain_key_id"):
            batch.drop_column(column)
