"""Each store's number of users, kept exact by triggers on `users` in the writing transaction.

A page of a store's users reports `totalElements`; counting a million rows for every page is
the slow part of the list. The count lives in `store_user_counts` instead, changed by the same
statement that inserts or deletes users, whoever runs it (the API, an import, COPY).

PostgreSQL: statement-level triggers with transition tables, so a bulk INSERT or COPY changes the
counter once per statement and store, not once per row. SQLite has row-level triggers only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stores are locked in id order (ORDER BY) so that two statements touching the same stores
# cannot deadlock on their counters.
_POSTGRESQL = (
    """
    CREATE FUNCTION store_user_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO store_user_counts AS counts (store_id, user_count)
        SELECT store_id, count(*) FROM added_users GROUP BY store_id ORDER BY store_id
        ON CONFLICT (store_id)
        DO UPDATE SET user_count = counts.user_count + excluded.user_count;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION store_user_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE store_user_counts AS counts SET user_count = counts.user_count - removed.total
        FROM (SELECT store_id, count(*) AS total FROM removed_users GROUP BY store_id
              ORDER BY store_id) AS removed
        WHERE counts.store_id = removed.store_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER store_user_counts_add AFTER INSERT ON users
    REFERENCING NEW TABLE AS added_users
    FOR EACH STATEMENT EXECUTE FUNCTION store_user_counts_add()
    """,
    """
    CREATE TRIGGER store_user_counts_remove AFTER DELETE ON users
    REFERENCING OLD TABLE AS removed_users
    FOR EACH STATEMENT EXECUTE FUNCTION store_user_counts_remove()
    """,
)

_SQLITE = (
    """
    CREATE TRIGGER store_user_counts_add AFTER INSERT ON users
    BEGIN
        INSERT OR IGNORE INTO store_user_counts (store_id, user_count) VALUES (NEW.store_id, 0);
        UPDATE store_user_counts SET user_count = user_count + 1 WHERE store_id = NEW.store_id;
    END
    """,
    """
    CREATE TRIGGER store_user_counts_remove AFTER DELETE ON users
    BEGIN
        UPDATE store_user_counts SET user_count = user_count - 1 WHERE store_id = OLD.store_id;
    END
    """,
)


def upgrade() -> None:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    if is_postgresql:
        # Servers may be running: no user comes or goes between the count and the triggers.
        op.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        "store_user_counts",
        sa.Column("store_id", sa.String(36), nullable=False),
        sa.Column("user_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name="fk_store_user_counts_store_id_stores",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name="pk_store_user_counts"),
    )
    op.execute(
        "INSERT INTO store_user_counts (store_id, user_count) "
        "SELECT store_id, count(*) FROM users GROUP BY store_id"
    )
    for statement in _POSTGRESQL if is_postgresql else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("store_user_counts_add", "store_user_counts_remove"):
        op.execute(f"DROP TRIGGER {name} ON users" if is_postgresql else f"DROP TRIGGER {name}")
        if is_postgresql:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("store_user_counts")
