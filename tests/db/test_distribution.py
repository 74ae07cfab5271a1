"""The Citus distribution (idstore.db.distribution) checked against the schema (db/tables/).

Citus distributes a table by one column and can enforce a primary key or unique constraint only
when it includes that column, and a foreign key between distributed tables only when both sides
include it; a reference table cannot point at a distributed one. The checks below find every
break of those rules; the ones the schema has today are listed in KNOWN_VIOLATIONS.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from idstore.db import tables
from idstore.db.distribution import (
    DISTRIBUTION_COLUMN,
    KNOWN_VIOLATIONS,
    PLACEMENTS,
    Placement,
    distributed_tables,
)

Placements = dict[str, Placement]


def _columns(names: Iterable[str]) -> str:
    return ", ".join(names)


def _unique_keys(table: Table) -> Iterator[tuple[str, list[str]]]:
    """(what, columns) of the primary key and of every unique constraint or unique index."""
    yield "primary key", [column.name for column in table.primary_key.columns]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            yield "unique", [column.name for column in constraint.columns]
    for index in table.indexes:
        if isinstance(index, Index) and index.unique:
            yield "unique index", [column.name for column in index.columns]


def _key_violations(table: Table) -> Iterator[str]:
    for what, columns in _unique_keys(table):
        if DISTRIBUTION_COLUMN not in columns:
            yield f"{table.name}: {what} ({_columns(columns)}) lacks {DISTRIBUTION_COLUMN}"


def _foreign_key_violations(table: Table, placements: Placements) -> Iterator[str]:
    placement = placements[table.name]
    for constraint in table.constraints:
        if not isinstance(constraint, ForeignKeyConstraint):
            continue
        target = constraint.referred_table.name
        target_placement = placements.get(target)
        columns = [column.name for column in constraint.columns]
        described = f"{table.name}: foreign key ({_columns(columns)}) -> {target}"
        if target_placement is Placement.REFERENCE:
            continue  # any table may point at a copy every node holds
        if placement is Placement.DISTRIBUTED and target_placement is Placement.DISTRIBUTED:
            referred = [element.column.name for element in constraint.elements]
            if DISTRIBUTION_COLUMN not in columns or DISTRIBUTION_COLUMN not in referred:
                yield f"{described} lacks {DISTRIBUTION_COLUMN}"
        elif placement is not target_placement:
            target_kind = target_placement.value if target_placement else "unplaced"
            yield f"{described}: a {placement.value} table cannot point at a {target_kind}"


def schema_violations(
    metadata: MetaData = tables.metadata, placements: Placements = PLACEMENTS
) -> set[str]:
    """Every break of Citus's rules in `metadata` with its tables placed as `placements` says."""
    found: set[str] = set()
    for table in metadata.sorted_tables:
        if placements.get(table.name) is Placement.DISTRIBUTED:
            found.update(_key_violations(table))
        if table.name in placements:
            found.update(_foreign_key_violations(table, placements))
    return found


def test_every_table_is_placed() -> None:
    unplaced = sorted(set(tables.metadata.tables) - set(PLACEMENTS))

    assert not unplaced, (
        f"tables {unplaced} have no placement on Citus: add each to PLACEMENTS in "
        "src/idstore/db/distribution.py (DISTRIBUTED by store_id if it grows with a store's "
        "users, REFERENCE if small and joined by requests, COORDINATOR otherwise) and say why"
    )


def test_every_placed_table_exists() -> None:
    assert sorted(set(PLACEMENTS) - set(tables.metadata.tables)) == []


def test_every_distributed_table_has_a_store_id_that_is_never_empty() -> None:
    missing = [
        name
        for name in distributed_tables()
        if DISTRIBUTION_COLUMN not in tables.metadata.tables[name].columns
        or tables.metadata.tables[name].columns[DISTRIBUTION_COLUMN].nullable
    ]

    assert missing == [], "Citus needs a NOT NULL distribution column"


def test_the_hot_tables_are_distributed_and_the_store_is_a_reference_table() -> None:
    assert {"users", "user_totps", "authentication_audit"} <= set(distributed_tables())
    assert PLACEMENTS["stores"] is Placement.REFERENCE
    assert PLACEMENTS["totp_policies"] is Placement.REFERENCE


def test_the_schema_breaks_citus_rules_exactly_where_known() -> None:
    found = schema_violations()

    new = sorted(found - KNOWN_VIOLATIONS)
    fixed = sorted(KNOWN_VIOLATIONS - found)
    assert new == [], (
        f"the schema breaks Citus's rules in new places: {new}. Include store_id in the key "
        "(or the foreign key), or place the table otherwise in src/idstore/db/distribution.py"
    )
    assert fixed == [], f"no longer broken: remove {fixed} from KNOWN_VIOLATIONS"


def test_the_checks_find_each_kind_of_break_in_a_small_schema() -> None:
    metadata = MetaData()
    Table("shop", metadata, Column("id", String, primary_key=True))
    Table(
        "member",
        metadata,
        Column("store_id", String, ForeignKey("shop.id"), nullable=False),
        Column("id", String),
        Column("email", String, unique=True),
        PrimaryKeyConstraint("store_id", "id"),
    )
    Table(
        "card",
        metadata,
        Column("store_id", String, nullable=False),
        Column("id", String, primary_key=True),
        Column("member_id", String, ForeignKey("member.id")),
    )
    Table("note", metadata, Column("id", String, primary_key=True), Column("card_id", String))
    metadata.tables["note"].append_constraint(ForeignKeyConstraint(["card_id"], ["card.id"]))
    placements = {
        "shop": Placement.REFERENCE,
        "member": Placement.DISTRIBUTED,
        "card": Placement.DISTRIBUTED,
        "note": Placement.REFERENCE,
    }

    assert schema_violations(metadata, placements) == {
        "member: unique (email) lacks store_id",
        "card: primary key (id) lacks store_id",
        "card: foreign key (member_id) -> member lacks store_id",
        "note: foreign key (card_id) -> card: a reference table cannot point at a distributed",
    }
