"""What `idstore import` refuses, and where it puts what it accepts, run in-process.

A store made over HTTP on the session's server is exported with the real writer; the file is
then altered and read by the real reader into a fresh database of the engine under test.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import new_id
from idstore.services.policies import MAX_POLICIES_PER_STORE
from idstore.transfer import export_writer, import_reader
from idstore.transfer.import_file import FileRefused, ImportRefused, UnknownFormat
from idstore.transfer.import_reader import ImportOptions, ImportSummary, import_store
from idstore.transfer.recipient import Identity
from tests.support.api import RFC_SECRET, Api
from tests.support.databases import async_url
from tests.support.exports import Exported, write_export
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

TARGET_KEYRING = KeyRing((("target", bytes(range(100, 132))),))
EMPTY = [0, 0, 0, 0]


def run_import(
    url: str, identity: Identity, lines: list[bytes], options: ImportOptions | None = None
) -> ImportSummary:
    async def read() -> ImportSummary:
        database = Database(async_url(url))
        try:
            source = io.BytesIO(b"".join(lines))
            return await import_store(
                database, TARGET_KEYRING, identity, source, options=options or ImportOptions()
            )
        finally:
            await database.dispose()

    return asyncio.run(read())


def query(url: str, statement: Any) -> list[Any]:
    async def read() -> list[Any]:
        database = Database(async_url(url))
        try:
            async with database.transaction(write=False) as conn:
                return list((await conn.execute(statement)).all())
        finally:
            await database.dispose()

    return asyncio.run(read())


def row_counts(url: str) -> list[int]:
    tables_of_a_store = (tables.stores, tables.totp_policies, tables.users, tables.user_totps)
    return [
        query(url, select(func.count()).select_from(table))[0][0] for table in tables_of_a_store
    ]


def with_user_line(exported: Exported, change: Callable[[dict[str, Any]], None]) -> list[bytes]:
    """The file with its user line (line 3) rewritten by `change`."""
    user = json.loads(exported.lines[2])
    change(user)
    changed = json.dumps(user, separators=(",", ":")).encode() + b"\n"
    return [*exported.lines[:2], changed, *exported.lines[3:]]


def refusal(
    url: str, exported: Exported, lines: list[bytes], kind: type[ImportRefused] = FileRefused
) -> str:
    """The message of the refusal, after checking its kind and that nothing was written."""
    with pytest.raises(kind) as refused:
        run_import(url, exported.identity, lines)
    assert row_counts(url) == EMPTY
    return str(refused.value)


def test_an_imported_secret_opens_with_the_targets_key_ring_only(
    exported: Exported, empty_database: str
) -> None:
    summary = run_import(empty_database, exported.identity, exported.lines)

    (totp,) = query(empty_database, select(tables.user_totps))
    assert (summary.users, summary.authenticators) == (1, 1)
    assert TARGET_KEYRING.open(totp.secret_sealed, context=totp.id) == RFC_SECRET
    assert totp.id == exported.owner.totp_id
    assert b"".join(exported.lines).find(RFC_SECRET) == -1


def test_tenant_and_store_name_given_place_the_store(
    exported: Exported, empty_database: str
) -> None:
    options = ImportOptions(tenant_id="elsewhere", store_name="renamed")

    summary = run_import(empty_database, exported.identity, exported.lines, options)

    (store,) = query(empty_database, select(tables.stores))
    assert (store.tenant_id, store.name, store.id) == ("elsewhere", "renamed", summary.store_id)
    assert summary.store_id == exported.owner.store["id"]


def test_a_file_cut_short_is_refused(exported: Exported, empty_database: str) -> None:
    message = refusal(empty_database, exported, exported.lines[:-1])

    assert "without its end line" in message


def test_a_line_after_the_end_is_refused(exported: Exported, empty_database: str) -> None:
    message = refusal(empty_database, exported, [*exported.lines, exported.lines[2]])

    assert "goes on after its end line" in message


def test_an_authenticator_of_a_type_this_version_does_not_know_is_refused(
    exported: Exported, empty_database: str
) -> None:
    lines = with_user_line(exported, lambda user: user["authenticators"].append({"type": "X"}))

    message = refusal(empty_database, exported, lines)

    assert message == "line 3 authenticator 1: a type this idstore version does not import"


def test_a_status_this_version_does_not_know_is_refused_naming_the_field(
    exported: Exported, empty_database: str
) -> None:
    lines = with_user_line(exported, lambda user: user.update(status="SLEEPING"))

    message = refusal(empty_database, exported, lines)

    assert message == "line 3: field 'status': is not one of the values this version knows"


def test_a_secret_moved_to_another_user_does_not_open(
    exported: Exported, empty_database: str
) -> None:
    another = "00000000-0000-7000-8000-000000000000"
    lines = with_user_line(exported, lambda user: user.update(id=another))

    message = refusal(empty_database, exported, lines)

    assert "the sealed secret does not open" in message


def test_an_altered_key_check_is_told_apart_from_a_wrong_key(
    exported: Exported, empty_database: str
) -> None:
    header = json.loads(exported.lines[0])
    header["sealing"]["keyCheck"] = header["sealing"]["keyCheck"][::-1]
    lines = [json.dumps(header).encode() + b"\n", *exported.lines[1:]]

    message = refusal(empty_database, exported, lines)

    assert "the header was altered" in message


def test_a_file_that_is_no_export_is_refused_as_an_unknown_format(
    exported: Exported, empty_database: str
) -> None:
    message = refusal(empty_database, exported, [b'{"format":"csv"}\n'], UnknownFormat)

    assert message.startswith("this is not an idstore export")


def test_a_store_of_several_batches_moves_whole_and_reports_progress(
    api: Api,
    seeder: Seeder,
    server: LiveServer,
    database_url: str,
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_writer, "BATCH_SIZE", 2)
    monkeypatch.setattr(import_reader, "BATCH_SIZE", 2)
    owner = totp_user(api, seeder)
    more = [api.create_user(owner.store_name) for _ in range(4)]  # four users without a TOTP
    identity = Identity.generate()
    progress: list[tuple[int, int]] = []

    written = write_export(
        database_url,
        server.keyring,
        owner.store_name,
        identity,
        lambda *done: progress.append(done),
    )
    summary = run_import(empty_database, identity, written.splitlines(keepends=True))

    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert (summary.users, summary.authenticators) == (5, 1)
    imported = {row.id for row in query(empty_database, select(tables.users.c.id))}
    assert imported == {owner.user["id"], *(user["id"] for user in more)}


def test_a_store_with_more_policies_than_a_store_holds_is_refused_writing_nothing(
    api: Api, seeder: Seeder, server: LiveServer, database_url: str, empty_database: str
) -> None:
    full: dict[str, Any] = {f"p-{number:03}": {} for number in range(MAX_POLICIES_PER_STORE)}
    store = api.create_store(configuration={"totpPolicies": full})
    policies = tables.totp_policies
    [first] = seeder.rows(select(policies).where(policies.c.store_id == store["id"]).limit(1))
    # One more than the API lets a store have: a store from before the limit.
    seeder.execute(insert(policies).values({**first, "id": new_id(), "name": "p-100"}))
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, store["name"], identity)

    with pytest.raises(FileRefused) as refused:
        run_import(empty_database, identity, written.splitlines(keepends=True))

    assert str(refused.value) == (
        "line 2: the store has 101 TOTP policies; a store holds at most 100 (docs/decisions.md)"
    )
    assert row_counts(empty_database) == EMPTY
