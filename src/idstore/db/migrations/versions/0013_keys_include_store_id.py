"""Every key of a table distributed by store includes `store_id` (Citus, docs/scaling.md).

Citus enforces a primary key or unique constraint of a distributed table only when it includes
the distribution column, and a foreign key between two distributed tables only when both sides
do. So the primary keys of the tables that grow with a store's users become (store_id, id), their
unique constraints gain store_id first, and their foreign keys to `users` and `user_appkeys`
become (store_id, <column>) -> (store_id, id), ON DELETE CASCADE as before. No row changes: ids
are unique on their own, so no row breaks a key that also names the store.

PostgreSQL changes the keys in place: the foreign keys onto the old keys go first, then each
table's keys change, parents before children. SQLite rebuilds each table (batch mode) with its
foreign key enforcement off for the migration (idstore.db.migrate checks the rows against every
foreign key before the commit), so that dropping a parent's old table takes no child row with it.
Dropping the old `users` table drops its triggers (0008) too; they are read first and made again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STORE = "store_id"
# Parents before children: a foreign key needs its parent's new key in place.
_PRIMARY_KEYS: dict[str, list[str]] = {
    "users": ["id"],
    "user_appkeys": ["id"],
    "user_totps": ["id"],
    "user_passkeys": ["id"],
    "user_biometrics": ["id"],
    "passkey_sessions": ["id"],
    "appkey_sessions": ["id"],
    "appkey_single_shot_challenges": ["appkey_id", "challenge"],
    "authentication_audit": ["id"],
}
_UNIQUE: dict[str, list[str]] = {
    "user_totps": ["user_id", "policy_id"],
    "user_biometrics": ["user_id", "type", "subtype"],
}
# The column pointing at the parent's id, and the parent.
_FOREIGN_KEYS: dict[str, tuple[str, str]] = {
    "user_appkeys": ("user_id", "users"),
    "user_totps": ("user_id", "users"),
    "user_passkeys": ("user_id", "users"),
    "user_biometrics": ("user_id", "users"),
    "passkey_sessions": ("user_id", "users"),
    "appkey_sessions": ("user_id", "users"),
    "appkey_single_shot_challenges": ("appkey_id", "user_appkeys"),
}


def _keyed(columns: list[str], *, by_store: bool) -> list[str]:
    return [STORE, *columns] if by_store else columns


def _foreign_key_name(table: str, *, by_store: bool) -> str:
    column, parent = _FOREIGN_KEYS[table]
    return f"fk_{table}_{STORE if by_store else column}_{parent}"


def _change_keys(*, by_store: bool) -> None:
    """Make the keys name the store (`by_store`), or take the store out of them again."""
    on_sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite drops a table's triggers with it (those of 0008 on `users`): kept to be made again.
    triggers = _sqlite_triggers() if on_sqlite else []
    if not on_sqlite:
        # PostgreSQL: a foreign key holds on to its parent's key until it is dropped.
        for table in _FOREIGN_KEYS:
            op.drop_constraint(
                _foreign_key_name(table, by_store=not by_store), table, type_="foreignkey"
            )

    for table, primary_key in _PRIMARY_KEYS.items():
        with op.batch_alter_table(table) as batch:
            if on_sqlite and table in _FOREIGN_KEYS:
                batch.drop_constraint(
                    _foreign_key_name(table, by_store=not by_store), type_="foreignkey"
                )
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", _keyed(primary_key, by_store=by_store))
            if table in _UNIQUE:
                old, new = (_keyed(_UNIQUE[table], by_store=b) for b in (not by_store, by_store))
                batch.drop_constraint(f"uq_{table}_{'_'.join(old)}", type_="unique")
                batch.create_unique_constraint(f"uq_{table}_{'_'.join(new)}", new)
            if table in _FOREIGN_KEYS:
                column, parent = _FOREIGN_KEYS[table]
                batch.create_foreign_key(
                    _foreign_key_name(table, by_store=by_store),
                    parent,
                    _keyed([column], by_store=by_store),
                    _keyed(["id"], by_store=by_store),
                    ondelete="CASCADE",
                )

    for name, statement in triggers:
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        op.execute(statement)


def _sqlite_triggers() -> list[tuple[str, str]]:
    """(name, CREATE statement) of every trigger on the tables rebuilt here."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
    )
    return [(str(name), str(sql)) for name, table, sql in rows if table in _PRIMARY_KEYS]


def upgrade() -> None:
    _change_keys(by_store=True)


def downgrade() -> None:
    _change_keys(by_store=False)
