"""The audit chain: any record altered, removed or added in the database is named."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, delete, select, text, type_coerce, update

from idstore.crypto.keyring import KeyRing, format_key_ring
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.audit_verification import Break, ChainReport, verify_store
from tests.support.ambiguous_json import repeating, spelled
from tests.support.api import RFC_SECRET, Api
from tests.support.clock import ManualClock
from tests.support.databases import async_url, is_postgresql
from tests.support.processes import idstore_command
from tests.support.seeding import Seeder, TotpSpec
from tests.support.server import LiveServer
from tests.support.totp_users import TotpUser, totp_user

T0 = 1111111109  # 081804


def _verify(server: LiveServer, store: str) -> ChainReport:
    async def run() -> ChainReport:
        database = Database(async_url(server.settings.database_url))
        try:
            return await verify_store(
                database, server.keyring, tenant_id="default", store_name=store
            )
        finally:
            await database.dispose()

    return asyncio.run(run())


@pytest.fixture
def people(api: Api, seeder: Seeder, clock: ManualClock) -> list[TotpUser]:
    """Two users of one store, each with five records: refusals of three kinds, a success."""
    first = totp_user(api, seeder)
    second_user = api.create_user(first.store_name)
    second = TotpUser(api, first.store, first.policy, second_user, "", first.secret)
    seeder.totp(store=first.store, user=second_user, policy=first.policy, spec=TotpSpec(RFC_SECRET))
    clock.set(T0)
    for person in (first, second):
        for code in ("000000", "12", "000001", "081804", "081804"):
            person.authenticate(code)
    return [first, second]


def _records(person: TotpUser) -> list[dict[str, Any]]:
    return person.audit()


def test_untouched_chains_hold(server: LiveServer, people: list[TotpUser]) -> None:
    report = _verify(server, people[0].store_name)
    assert (report.records, report.users, report.unchained, report.breaks) == (10, 2, 0, [])


def test_an_altered_record_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    victim = _records(people[0])[3]  # the success
    seeder.execute(
        update(tables.authentication_audit)
        .where(tables.authentication_audit.c.id == victim["id"])
        .values(result="FAILURE", error_code=3401)
    )

    report = _verify(server, people[0].store_name)

    assert [(b.user_id, b.record_id) for b in report.breaks] == [
        (people[0].user["id"], victim["id"])
    ]
    assert "altered" in report.breaks[0].problem


def test_a_removed_record_is_named_by_the_one_after_it(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    records = _records(people[1])
    seeder.execute(
        delete(tables.authentication_audit).where(
            tables.authentication_audit.c.id == records[1]["id"]
        )
    )

    (broken,) = _verify(server, people[0].store_name).breaks

    assert (broken.user_id, broken.record_id) == (people[1].user["id"], records[2]["id"])
    assert "gone" in broken.problem


def test_a_removed_newest_record_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    records = _records(people[0])
    seeder.execute(
        delete(tables.authentication_audit).where(
            tables.authentication_audit.c.id == records[-1]["id"]
        )
    )

    (broken,) = _verify(server, people[0].store_name).breaks

    assert broken.record_id == records[-2]["id"]
    assert "newest" in broken.problem


def test_a_record_added_behind_the_services_back_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    audit = tables.authentication_audit
    (row,) = seeder.rows(audit.select().where(audit.c.id == _records(people[0])[0]["id"]))
    forged = {**row, "id": str(uuid.uuid4()), "result": "SUCCESS"}
    seeder.execute(audit.insert().values(forged))

    (broken,) = _verify(server, people[0].store_name).breaks

    assert broken.record_id in (forged["id"], row["id"])


def test_verify_audit_names_the_break_and_exits_1(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "IDSTORE_DATABASE_URL": server.settings.database_url,
        "IDSTORE_SECRET_KEYS": format_key_ring(server.keyring),
    }
    command = [str(idstore_command()), "verify-audit", "--store", people[0].store_name]

    clean = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    victim = _records(people[1])[0]["id"]
    seeder.execute(
        update(tables.authentication_audit)
        .where(tables.authentication_audit.c.id == victim)
        .values(error_code=None)
    )
    broken = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)

    assert clean.returncode == 0, clean.stderr
    assert "10 records of 2 users checked" in clean.stdout
    assert broken.returncode == 1
    assert f"record {victim}: altered" in broken.stdout


def _one_break(server: LiveServer, person: TotpUser) -> Break:
    (broken,) = _verify(server, person.store_name).breaks
    assert broken.user_id == person.user["id"]
    return broken


def test_a_record_inserted_without_a_link_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    audit = tables.authentication_audit
    (row,) = seeder.rows(audit.select().where(audit.c.id == _records(people[0])[0]["id"]))
    forged = {**row, "id": str(uuid.uuid4()), "chain_hash": None, "chain_previous": None}
    seeder.execute(audit.insert().values({**forged, "chain_key_id": None}))

    assert "has no link" in _one_break(server, people[0]).problem


def test_a_chain_stripped_then_altered_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    audit = tables.authentication_audit
    seeder.execute(
        update(audit)
        .where(audit.c.user_id == people[0].user["id"])
        .values(chain_hash=None, chain_previous=None, chain_key_id=None)
    )
    assert "has no link" in _one_break(server, people[0]).problem


def test_a_users_whole_history_deleted_is_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    audit = tables.authentication_audit
    seeder.execute(delete(audit).where(audit.c.user_id == people[1].user["id"]))

    broken = _one_break(server, people[1])

    assert (broken.record_id, broken.problem) == (None, "every record of the user is gone")


def test_records_cut_from_the_end_with_the_head_rewound_are_named(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    audit = tables.authentication_audit
    records = _records(people[0])
    (second_newest,) = seeder.rows(audit.select().where(audit.c.id == records[-2]["id"]))
    seeder.execute(delete(audit).where(audit.c.id == records[-1]["id"]))
    seeder.execute(
        update(tables.users)
        .where(tables.users.c.id == people[0].user["id"])
        .values(audit_chain_head=second_newest["chain_hash"], audit_chain_length=4)
    )

    assert "head was rewritten" in _one_break(server, people[0]).problem


def test_a_record_linked_under_a_key_gone_from_the_ring_says_so(
    server: LiveServer, people: list[TotpUser]
) -> None:
    async def run() -> ChainReport:
        database = Database(async_url(server.settings.database_url))
        try:
            other = KeyRing((("elsewhere", bytes(32)),))
            return await verify_store(
                database, other, tenant_id="default", store_name=people[0].store_name
            )
        finally:
            await database.dispose()

    report = asyncio.run(run())

    assert len(report.breaks) == 2
    assert all("no longer in the key ring" in broken.problem for broken in report.breaks)


@pytest.mark.skipif(is_postgresql(), reason="PostgreSQL's column types refuse such values")
def test_a_record_edited_into_nonsense_is_named_and_the_walk_goes_on(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    seeder.execute(
        text("UPDATE authentication_audit SET created_dtm = 'garbage' WHERE id = :id").bindparams(
            id=_records(people[0])[0]["id"]
        )
    )

    report = _verify(server, people[0].store_name)

    assert [b.user_id for b in report.breaks] == [people[0].user["id"]]
    assert "cannot be read" in report.breaks[0].problem
    assert report.users == 2


def test_a_user_erased_with_its_whole_audit_is_not_seen_as_docs_security_says(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    # The chain is anchored in the user's row only (docs/security.md, "What the chain cannot
    # see"); if this starts failing, a store-wide anchor exists and that page must say so.
    user_id = people[1].user["id"]
    for table in (tables.authentication_audit, tables.user_totps, tables.users):
        column = table.c.id if table is tables.users else table.c.user_id
        seeder.execute(delete(table).where(column == user_id))

    report = _verify(server, people[0].store_name)

    assert (report.users, report.breaks) == (1, [])
    page = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    assert "**A user erased with its audit.**" in page


@pytest.mark.skipif(is_postgresql(), reason="JSONB keeps one member of each name, the last")
def test_details_that_name_a_member_twice_are_named_though_the_last_holds(
    server: LiveServer, seeder: Seeder, people: list[TotpUser]
) -> None:
    # A reader keeping the last member sees the record as it was linked, one keeping the first
    # sees the forgery: the chain must not vouch for either.
    victim = _records(people[0])[3]["id"]
    audit = tables.authentication_audit
    as_text = type_coerce(audit.c.details, String).label("details")
    (stored,) = seeder.rows(select(as_text).where(audit.c.id == victim))
    details = json.loads(stored["details"])
    name = next(iter(details))
    forged = spelled(repeating(details, name, "forged", honest_first=False))
    seeder.execute(
        text("UPDATE authentication_audit SET details = :d WHERE id = :id").bindparams(
            d=forged, id=victim
        )
    )

    report = _verify(server, people[0].store_name)

    assert [(b.user_id, b.record_id) for b in report.breaks] == [(people[0].user["id"], victim)]
    assert report.breaks[0].problem == f"cannot be read: its details name {name} more than once"
