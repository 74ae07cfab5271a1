"""A user's audit is read through an index that holds every column its filters name.

The count of a user's records (`totalElements` of the audit list) read each record from the
table: the index held `(user_id, created_dtm, id)` while the query filters on `store_id` too, and
on `type` and `result` when asked. With them in the index the count reads the index alone, which
matters for a user with a hundred thousand records scattered among everyone else's.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "authentication_audit"
_OLD = "ix_authentication_audit_user_id_created_dtm_id"
_NEW = "ix_authentication_audit_store_id_user_id_created_dtm_id"


def upgrade() -> None:
    op.create_index(
        _NEW,
        _TABLE,
        ["store_id", "user_id", "created_dtm", "id"],
        postgresql_include=["type", "result"],
    )
    op.drop_index(_OLD, table_name=_TABLE)


def downgrade() -> None:
    op.create_index(_OLD, _TABLE, ["user_id", "created_dtm", "id"])
    op.drop_index(_NEW, table_name=_TABLE)
