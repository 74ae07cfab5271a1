"""Which user each WebAuthn user handle names, per store and relying party, enforced by a key.

A handle names one user: discoverable sign-in finds the user by it. It was checked in Python at
the start of a registration, so two registrations completing at once in two processes could
give two users one handle. `passkey_user_handles` keys (store_id, rp_id, user_handle) and says
whose it is; a registration's completion claims its handle there in its own transaction.

The table is filled from the passkeys there are. Should two users already share a handle (the
race above, or an import), the user whose passkey with it came first keeps it; the other's
passkeys stay as they are, but its next registration for that relying party is refused (3608).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the live schema, as 0001 explains.
ID = sa.String(36)
_TABLE = "passkey_user_handles"

# Per handle, the user of its first passkey (row_number: both engines have window functions).
_FILL = """
INSERT INTO passkey_user_handles (store_id, rp_id, user_handle, user_id)
SELECT store_id, rp_id, user_handle, user_id FROM (
    SELECT store_id, rp_id, user_handle, user_id,
        row_number() OVER (
            PARTITION BY store_id, rp_id, user_handle ORDER BY created_dtm, id
        ) AS position
    FROM user_passkeys
) AS first_passkeys
WHERE position = 1
"""


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column(
            "store_id",
            ID,
            sa.ForeignKey("stores.id", ondelete="CASCADE", name=f"fk_{_TABLE}_store_id_stores"),
            nullable=False,
        ),
        sa.Column("rp_id", sa.String(253), nullable=False),
        sa.Column("user_handle", sa.String(64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("store_id", "rp_id", "user_handle", name=f"pk_{_TABLE}"),
        sa.ForeignKeyConstraint(
            ["store_id", "user_id"],
            ["users.store_id", "users.id"],
            ondelete="CASCADE",
            name=f"fk_{_TABLE}_store_id_users",
        ),
    )
    op.create_index(f"ix_{_TABLE}_store_id_user_id", _TABLE, ["store_id", "user_id"])
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_index(f"ix_{_TABLE}_store_id_user_id", table_name=_TABLE)
    op.drop_table(_TABLE)
