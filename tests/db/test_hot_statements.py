"""A HotStatement reads and writes what SQLAlchemy would, in the same transaction, on both
engines: on PostgreSQL it runs on the asyncpg connection directly, on SQLite through SQLAlchemy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.errors import Violation, violation_of
from idstore.db.hot import HotStatement, HotWrites
from idstore.db.migrate import migrate
from tests.support.databases import async_url, drop_database, fresh_database_url, is_postgresql

T = TypeVar("T")
NOW = datetime(2026, 12, 4, 8, 30, 15, 123456, tzinfo=UTC)
USERS = tables.users.c

_READ_USER = HotStatement(
    select(tables.users, tables.stores.c.configuration.label("store_configuration"))
    .select_from(tables.users.join(tables.stores, tables.stores.c.id == USERS.store_id))
    .where(USERS.id == bindparam("user_id"))
    .with_for_update(of=tables.users)
)
_COUNT_FAILURE = HotStatement(
    update(tables.users).where(USERS.id == bindparam("b_id")),
    column_keys=("failed_attempts", "locked_dtm", "modality_locks"),
)
# Two writes in one: a store's row (bound by its columns' names) and a user's counter.
_STORE_AND_COUNTER = HotWrites(
    update(tables.users)
    .where(USERS.id == bindparam("b_id"))
    .values(failed_attempts=bindparam("failed_attempts")),
    insert(tables.stores).values(
        {
            **{name: bindparam(name) for name in ("id", "tenant_id", "name", "configuration")},
            "created_dtm": bindparam("created_dtm"),
            "last_updated_dtm": bindparam("created_dtm_again"),
        }
    ),
)
_INSERT_STORE = HotStatement(
    insert(tables.stores),
    column_keys=("id", "tenant_id", "name", "configuration", "created_dtm", "last_updated_dtm"),
)


@pytest.fixture
def database_url() -> Iterator[str]:
    url = fresh_database_url()
    _run(url, migrate)
    yield url
    drop_database(url)


def _run(url: str, body: Callable[[Database], Awaitable[T]], **options: Any) -> T:
    """`body` on a Database of its own, in one event loop (a pooled connection keeps its loop)."""

    async def run() -> T:
        database = Database(async_url(url), **options)
        try:
            return await body(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _store() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": "default",
        "name": f"store-{uuid.uuid4().hex[:8]}",
        "configuration": {"userLocking": {"enabled": True}},
        "created_dtm": NOW,
        "last_updated_dtm": NOW,
    }


async def _seed(database: Database) -> str:
    """A user with a value in every kind of column the hot path reads."""
    store, user_id = _store(), str(uuid.uuid4())
    async with database.transaction() as conn:
        await conn.execute(insert(tables.stores), store)
        await conn.execute(
            insert(tables.users),
            {
                "id": user_id,
                "store_id": store["id"],
                "external_id": "ext-1",
                "status": "ACTIVE",
                "date_of_birth": date(1990, 5, 17),
                "nationalities": ["FR", "CH"],
                "attributes": {"tier": "gold", "n": 3},
                "created_dtm": NOW,
                "last_updated_dtm": NOW,
                "failed_attempts": 2,
                "lock_count": 0,
                "temp_lock_streak": 0,
                "unlock_dtm": None,
                "modality_locks": {"TOTP": {"failedAttempts": 2}},
                "attempt_tokens": 38.5,
                "attempt_tokens_dtm": NOW,
            },
        )
    return user_id


def test_a_row_reads_the_same_as_through_sqlalchemy(database_url: str) -> None:
    async def read(database: Database) -> tuple[dict[str, Any], dict[str, Any]]:
        user_id = await _seed(database)
        async with database.transaction() as conn:
            (hot,) = await _READ_USER.rows(conn, {"user_id": user_id})
            plain = (await conn.execute(_READ_USER.statement, {"user_id": user_id})).one()
        return dict(hot._mapping), dict(plain._mapping)

    hot, plain = _run(database_url, read)

    assert hot == plain
    assert {name: type(value) for name, value in hot.items()} == {
        name: type(value) for name, value in plain.items()
    }
    assert hot["created_dtm"] == NOW and hot["created_dtm"].tzinfo is UTC
    assert hot["attempt_tokens"] == 38.5
    assert hot["attributes"] == {"tier": "gold", "n": 3}
    assert hot["store_configuration"] == {"userLocking": {"enabled": True}}
    assert hot["date_of_birth"] == date(1990, 5, 17)
    assert hot["unlock_dtm"] is None


def test_a_write_counts_its_rows_and_belongs_to_the_transaction(database_url: str) -> None:
    changes = {"failed_attempts": 3, "locked_dtm": NOW, "modality_locks": {"TOTP": {"n": 3}}}

    async def write(database: Database) -> tuple[int, int, Any, Any]:
        user_id = await _seed(database)
        with pytest.raises(RuntimeError):
            async with database.transaction() as conn:
                await _COUNT_FAILURE.rowcount(conn, {**changes, "b_id": user_id})
                raise RuntimeError("rolled back")
        rolled_back = await _read(database, user_id)

        async with database.transaction() as conn:
            written = await _COUNT_FAILURE.rowcount(conn, {**changes, "b_id": user_id})
            missed = await _COUNT_FAILURE.rowcount(conn, {**changes, "b_id": "nobody"})
        return written, missed, rolled_back, await _read(database, user_id)

    written, missed, rolled_back, committed = _run(database_url, write)

    assert (written, missed) == (1, 0)
    assert rolled_back == (2, None, {"TOTP": {"failedAttempts": 2}})
    assert committed == (3, NOW, {"TOTP": {"n": 3}})


async def _read(database: Database, user_id: str) -> Any:
    async with database.transaction(write=False) as conn:
        row = (
            await conn.execute(
                select(USERS.failed_attempts, USERS.locked_dtm, USERS.modality_locks).where(
                    USERS.id == user_id
                )
            )
        ).one()
    return tuple(row)


def test_a_broken_constraint_raises_as_sqlalchemy_would_and_the_pool_recovers(
    database_url: str,
) -> None:
    store = _store()

    async def insert_twice(database: Database) -> IntegrityError:
        async with database.transaction() as conn:
            await _INSERT_STORE.rowcount(conn, store)
        with pytest.raises(IntegrityError) as raised:
            async with database.transaction() as conn:
                await _INSERT_STORE.rowcount(conn, {**store, "name": "another"})
        async with database.transaction() as conn:
            assert await _INSERT_STORE.rowcount(conn, _store()) == 1
        return raised.value

    error = _run(database_url, insert_twice)

    assert violation_of(error) is Violation.UNIQUE


def test_the_engines_statement_listeners_see_each_statement(database_url: str) -> None:
    seen: list[str] = []

    async def read(database: Database) -> None:
        @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        user_id = await _seed(database)
        seen.clear()
        async with database.transaction() as conn:
            await _READ_USER.rows(conn, {"user_id": user_id})
            await _COUNT_FAILURE.rowcount(
                conn,
                {"b_id": user_id, "failed_attempts": 0, "locked_dtm": None, "modality_locks": {}},
            )

    _run(database_url, read)

    statements = [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 2
    assert statements[0].lstrip().upper().startswith("SELECT")
    assert statements[1].lstrip().upper().startswith("UPDATE USERS")


@pytest.mark.skipif(not is_postgresql(), reason="prepared statements are PostgreSQL's")
@pytest.mark.parametrize("prepared", [True, False])
def test_statements_stay_prepared_on_the_connection_only_if_the_setting_allows(
    database_url: str, prepared: bool
) -> None:
    async def kept(database: Database) -> int:
        user_id = await _seed(database)
        async with database.transaction() as conn:
            await _READ_USER.rows(conn, {"user_id": user_id})
            await _COUNT_FAILURE.rowcount(
                conn,
                {"b_id": user_id, "failed_attempts": 1, "locked_dtm": None, "modality_locks": {}},
            )
            # Named statements of this session, those above and the seeding's among them.
            listed = text("SELECT count(*) FROM pg_prepared_statements WHERE name <> ''")
            return int((await conn.execute(listed)).scalar_one())

    url = database_url if prepared else f"{database_url}?prepared_statements=false"
    named = _run(url, kept)

    assert (named >= 2) if prepared else (named == 0)


def test_writes_sent_together_make_every_write_in_one_statement_of_the_transaction(
    database_url: str,
) -> None:
    seen: list[str] = []
    store = _store()
    values = {
        **{name: store[name] for name in ("id", "tenant_id", "name", "configuration")},
        "created_dtm": NOW,
        "created_dtm_again": NOW,
        "failed_attempts": 7,
    }

    async def write(database: Database) -> tuple[Any, Any, Any]:
        user_id = await _seed(database)
        with pytest.raises(RuntimeError):
            async with database.transaction() as conn:
                await _STORE_AND_COUNTER.run(conn, {**values, "b_id": user_id})
                raise RuntimeError("rolled back")
        rolled_back = (await _read(database, user_id), await _store_named(database, store))

        @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        async with database.transaction() as conn:
            await _STORE_AND_COUNTER.run(conn, {**values, "b_id": user_id})
        return rolled_back, await _read(database, user_id), await _store_named(database, store)

    rolled_back, counters, stored = _run(database_url, write)

    assert rolled_back == ((2, None, {"TOTP": {"failedAttempts": 2}}), None)
    assert counters[0] == 7
    assert stored == (store["id"], NOW, NOW)
    writes = [
        s.lstrip().upper()
        for s in seen
        if s.lstrip().upper().startswith(("WITH", "INSERT", "UPDATE"))
    ]
    if is_postgresql():
        assert len(writes) == 1 and writes[0].startswith("WITH WRITE_1 AS"), writes
        assert "UPDATE USERS" in writes[0] and "INSERT INTO STORES" in writes[0]
    else:
        assert [w.split()[0] for w in writes] == ["UPDATE", "INSERT"], writes


async def _store_named(database: Database, store: dict[str, Any]) -> Any:
    stores = tables.stores.c
    async with database.transaction(write=False) as conn:
        row = (
            await conn.execute(
                select(stores.id, stores.created_dtm, stores.last_updated_dtm).where(
                    stores.name == store["name"]
                )
            )
        ).first()
    return None if row is None else tuple(row)


def test_writes_sent_together_may_not_share_a_bind_name() -> None:
    counter = update(tables.users).values(failed_attempts=bindparam("n"))
    another = update(tables.users).values(lock_count=bindparam("n"))

    with pytest.raises(ValueError, match="distinct bind names"):
        HotWrites(counter, another)
