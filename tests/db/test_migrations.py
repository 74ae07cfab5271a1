"""Migrations build exactly the schema the code declares, on the engine under test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from idstore.db.engine import Database
from idstore.db.migrate import alembic_config, migrate
from idstore.db.tables import metadata
from tests.support.databases import async_url, drop_database, fresh_database_url


@pytest.fixture
def empty_database() -> Iterator[str]:
    url = fresh_database_url()
    yield url
    drop_database(url)


async def _migrated_differences(url: str, times: int) -> tuple[list[Any], list[str], str]:
    database = Database(async_url(url))
    try:
        for _ in range(times):
            await migrate(database)
        async with database.engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
            tables = await conn.run_sync(lambda sync: sorted(inspect(sync).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        return differences, tables, str(version)
    finally:
        await database.dispose()


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_migrated_schema_equals_the_declared_one(empty_database: str) -> None:
    differences, tables, version = asyncio.run(_migrated_differences(empty_database, times=1))

    assert differences == []
    assert tables == sorted([*metadata.tables, "alembic_version"])
    assert version == _head()


def test_migrating_again_changes_nothing(empty_database: str) -> None:
    differences, _, version = asyncio.run(_migrated_differences(empty_database, times=3))
    assert (differences, version) == ([], _head())


def test_every_table_but_api_keys_carries_the_store_it_belongs_to() -> None:
    # Distribution by store (Citus) and per-store queries rely on this column; the stores table is
    # keyed by the store id itself, and API keys belong to a tenant, not a store.
    without = sorted(name for name, table in metadata.tables.items() if "store_id" not in table.c)
    assert without == ["api_keys", "stores"]


async def _migrated_keys(url: str) -> tuple[dict[str, Any], int | None]:
    """Each table's primary key and foreign keys as the database reports them, and (SQLite)
    whether a connection of the migrating engine enforces foreign keys afterwards."""
    database = Database(async_url(url))
    try:
        await migrate(database)
        async with database.transaction() as conn:
            keys = await conn.run_sync(_keys_of_database)
            enforced = None
            if database.dialect == "sqlite":
                enforced = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
        return keys, enforced
    finally:
        await database.dispose()


def _keys_of_database(sync: Any) -> dict[str, Any]:
    inspector = inspect(sync)
    return {
        name: (
            inspector.get_pk_constraint(name)["constrained_columns"],
            sorted(
                (key["constrained_columns"], key["referred_table"], key["referred_columns"])
                for key in inspector.get_foreign_keys(name)
            ),
        )
        for name in metadata.tables
    }


def _declared_keys() -> dict[str, Any]:
    return {
        name: (
            [column.name for column in table.primary_key.columns],
            sorted(
                (
                    [column.name for column in key.columns],
                    key.referred_table.name,
                    [element.column.name for element in key.elements],
                )
                for key in table.foreign_key_constraints
            ),
        )
        for name, table in metadata.tables.items()
    }


def test_the_migrated_primary_and_foreign_keys_are_the_declared_ones(empty_database: str) -> None:
    # compare_metadata leaves primary keys out; migration 0013 changes them (store_id first).
    keys, enforced = asyncio.run(_migrated_keys(empty_database))

    assert keys == _declared_keys()
    assert keys["users"][0] == ["store_id", "id"]
    assert (["store_id", "user_id"], "users", ["store_id", "id"]) in keys["user_totps"][1]
    assert enforced in (None, 1)  # SQLite enforces foreign keys again once migrated
