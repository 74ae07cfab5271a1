"""What every table shares: the metadata and its naming, ids, and the store-first keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

from idstore.db.types import UtcDateTime

# The tables distributed by store on Citus (db/distribution.py) name `store_id` first in every
# primary key and unique constraint, and in every foreign key between them (migration 0013).


def store_key(*columns: str) -> PrimaryKeyConstraint:
    return PrimaryKeyConstraint("store_id", *columns)


def owned_by(column: str, parent: str) -> ForeignKeyConstraint:
    """(store_id, column) -> parent (store_id, id): a row of the parent's store, deleted with it."""
    return ForeignKeyConstraint(
        ["store_id", column], [f"{parent}.store_id", f"{parent}.id"], ondelete="CASCADE"
    )


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 36  # a UUID in its text form


def store_column() -> Column[str]:
    """`store_id`: the store a row belongs to, and is deleted with."""
    return Column(
        "store_id", String(ID), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False
    )


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """When a row was made, and last changed."""
    return (
        Column("created_dtm", UtcDateTime, nullable=False),
        Column("last_updated_dtm", UtcDateTime, nullable=False),
    )


def ceremony_sessions(name: str) -> Table:
    """An authenticator kind's ceremonies under way (services/ceremony_sessions.py). INTERNAL
    sessions keep their sealed state here; EXTERNAL ones keep it in the caller's sessionData, and
    the row only makes that sessionData single use."""
    return Table(
        name,
        metadata,
        Column("id", String(ID), nullable=False),
        store_column(),
        Column("user_id", String(ID)),
        Column("rp_id", String(253), nullable=False),
        Column("ceremony", String(16), nullable=False),
        Column("state_sealed", LargeBinary),
        Column("created_dtm", UtcDateTime, nullable=False),
        Column("expiration_dtm", UtcDateTime, nullable=False),
        store_key("id"),
        # A session without a user yet (a discoverable passkey) is not checked: MATCH SIMPLE.
        owned_by("user_id", "users"),
        Index(f"ix_{name}_expiration_dtm", "expiration_dtm"),
    )
