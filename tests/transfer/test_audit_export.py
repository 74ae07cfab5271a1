"""`idstore export-audit` as an operator runs it: a real process against the server's database,
its output compared value for value with what the API shows for the same records."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from idstore.cli_export_audit import instant
from idstore.transfer.audit_formats import FORMULA_STARTS
from tests.support.api import RFC_SECRET, Api
from tests.support.clock import ManualClock
from tests.support.face_api import enrolled_user, report_failure
from tests.support.planted import VICTIM_TEXT, plant
from tests.support.processes import idstore_command, run_idstore
from tests.support.seeding import Seeder, TotpSpec
from tests.support.server import LiveServer

# A name a spreadsheet would evaluate (minus one minus one) yet a valid policy name.
POLICY = "-1-1"
T0 = 1111111109  # RFC 6238: the RFC secret's SHA1 code at T0 is 081804
MINUTE = 60


def iso(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dtm(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class AuditedStore:
    """A store whose users attempted at T0, T0 + 1 min and T0 + 2 min, as the API lists them."""

    name: str
    id: str
    records: list[dict[str, Any]]


@pytest.fixture
def audited(api: Api, seeder: Seeder, clock: ManualClock) -> AuditedStore:
    store = api.create_store(configuration={"totpPolicies": {POLICY: {}}})
    policy = store["configuration"]["totpPolicies"][POLICY]
    users = [api.create_user(store["name"]) for _ in range(3)]
    for user in users:
        seeder.totp(store=store, user=user, policy=policy, spec=TotpSpec(RFC_SECRET))
    attempts = {T0: ["081804", "081804"], T0 + MINUTE: ["12", "000000"], T0 + 2 * MINUTE: ["1"]}
    for moment, codes in attempts.items():
        clock.set(moment)
        for user in users:
            for code in codes:
                api.authenticate(store["name"], user, POLICY, code)
        api.authenticate(store["name"], users[0], "no-such-policy", "000000")
    records = [record for user in users for record in api.audit_records(store["name"], user)]
    return AuditedStore(store["name"], store["id"], records)


def export_audit(server: LiveServer, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {"IDSTORE_DATABASE_URL": server.settings.database_url}
    return run_idstore("export-audit", *arguments, environment=environment, timeout=120)


def exported_lines(server: LiveServer, *arguments: str) -> list[dict[str, Any]]:
    done = export_audit(server, *arguments)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def in_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first, ties by id: the order of the export."""
    return sorted(
        records, key=lambda r: (r["authAuditRecord"]["createdDtm"], r["authAuditRecord"]["id"])
    )


def test_the_export_holds_exactly_what_the_api_shows(
    server: LiveServer, audited: AuditedStore, tmp_path: Path
) -> None:
    out = tmp_path / "audit.jsonl"

    done = export_audit(server, "--store", audited.name, "--out", str(out))

    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(audited.records) == 3 * 5 + 3
    assert exported == in_order(audited.records)
    assert f"{len(exported)} audit records written to {out}" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["audit.jsonl"]
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_records_of_deleted_users_and_stores_are_still_exported(
    server: LiveServer, api: Api, audited: AuditedStore
) -> None:
    user_ids = {record["authAuditRecord"]["userId"] for record in audited.records}
    for user_id in user_ids:
        deleted = api.client.delete(f"{api.store_url(audited.name)}/users/{user_id}")
        assert deleted.status_code == 204, deleted.text
    assert api.client.delete(api.store_url(audited.name)).status_code == 204

    by_id = exported_lines(server, "--store-id", audited.id)
    by_name = export_audit(server, "--store", audited.name)

    assert by_id == in_order(audited.records)
    assert (by_name.returncode, by_name.stdout) == (2, "")
    assert f"no store {audited.name!r} in tenant 'default'" in by_name.stderr


def test_a_reader_that_stops_reading_gets_no_complaint(
    server: LiveServer, audited: AuditedStore
) -> None:
    # As `idstore export-audit … | head` does, with the pipe closed before the first write.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [str(idstore_command()), "export-audit", "--store", audited.name],
            env={"PATH": "/usr/bin:/bin", "IDSTORE_DATABASE_URL": server.settings.database_url},
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)

    assert (done.returncode, done.stderr) == (1, "")


def test_from_is_included_and_to_is_excluded(server: LiveServer, audited: AuditedStore) -> None:
    def created(records: list[dict[str, Any]]) -> list[str]:
        return sorted({record["authAuditRecord"]["createdDtm"] for record in records})

    middle = ["--from", iso(T0 + MINUTE), "--to", iso(T0 + 2 * MINUTE)]
    since = ["--from", iso(T0 + MINUTE)]
    before = ["--to", iso(T0 + MINUTE)]
    same_instant_as_offset = ["--from", "2005-03-18T02:58:29+01:00", "--to", "2005-03-19"]

    assert created(exported_lines(server, "--store", audited.name, *middle)) == [dtm(T0 + MINUTE)]
    assert created(exported_lines(server, "--store", audited.name, *since)) == [
        dtm(T0 + MINUTE),
        dtm(T0 + 2 * MINUTE),
    ]
    assert created(exported_lines(server, "--store", audited.name, *before)) == [dtm(T0)]
    assert created(exported_lines(server, "--store", audited.name, *same_instant_as_offset)) == [
        dtm(T0),
        dtm(T0 + MINUTE),
        dtm(T0 + 2 * MINUTE),
    ]


def csv_row_of(record: dict[str, Any]) -> dict[str, str]:
    """What the CSV row of an API record must read: every field, absent ones empty, the policy
    name a spreadsheet would evaluate behind an apostrophe."""
    totp_info = record["totpInfo"]
    policy = totp_info["policyName"]
    return {
        "id": record["id"],
        "tenantId": record["tenantId"],
        "storeId": record["storeId"],
        "userId": record["userId"],
        "type": record["type"],
        "result": record["result"],
        "errorCode": str(record.get("errorCode", "")),
        "createdDtm": record["createdDtm"],
        "totpInfo.id": totp_info.get("id", ""),
        "totpInfo.policyName": "'" + policy if policy == POLICY else policy,
        "totpInfo.algorithm": totp_info.get("algorithm", ""),
        "totpInfo.registrationCreatedDtm": totp_info.get("registrationCreatedDtm", ""),
        "totpInfo.registrationActivatedDtm": totp_info.get("registrationActivatedDtm", ""),
        # Passkey attempts fill these; a TOTP record leaves them empty.
        "passkeyInfo.rpId": "",
        "passkeyInfo.policyName": "",
        "passkeyInfo.ceremony": "",
        "passkeyInfo.id": "",
        "passkeyInfo.credentialId": "",
        # Face attempts fill these.
        "faceInfo.biometricId": "",
        "faceInfo.score": "",
        "faceInfo.threshold": "",
        "faceInfo.model": "",
        "faceInfo.modelVersion": "",
        "faceInfo.reason": "",
        # Appkey attempts fill these.
        "appkeyInfo.rpId": "",
        "appkeyInfo.ceremony": "",
        "appkeyInfo.policyName": "",
        "appkeyInfo.id": "",
        "appkeyInfo.keyId": "",
        "appkeyInfo.aaid": "",
    }


def test_csv_parses_back_with_the_csv_module_and_no_cell_reads_as_a_formula(
    server: LiveServer, audited: AuditedStore
) -> None:
    done = export_audit(server, "--store", audited.name, "--format", "csv")

    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    expected = [csv_row_of(record["authAuditRecord"]) for record in in_order(audited.records)]
    assert rows == expected
    assert {row["totpInfo.policyName"] for row in rows} == {"'-1-1", "no-such-policy"}


# Face failure reasons are free text a caller chooses: each row is (reason, its CSV cell).
REASONS = [
    ("\n=1+1", "'\n=1+1"),
    (" =1+1", "' =1+1"),
    ("\u3000@SUM(A1)", "'\u3000@SUM(A1)"),
    ("\uff1d1+1", "'\uff1d1+1"),
    ("\uff0b1", "'\uff0b1"),
    ("\uff0d1", "'\uff0d1"),
    ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
    ("liveness check failed", "liveness check failed"),
    (" spaced out", " spaced out"),
]


def test_csv_neutralises_a_formula_after_whitespace_or_in_full_width_signs(
    server: LiveServer, api: Api
) -> None:
    store = api.create_store(
        configuration={"userLocking": {"modalityLockThreshold": 50, "userLockThreshold": 100}}
    )
    user = enrolled_user(api, store["name"], api.create_user(store["name"]))
    for reason, _ in REASONS:
        response = report_failure(api, store["name"], user, type="FACE", reason=reason)
        assert response.status_code == 200, response.text

    done = export_audit(server, "--store", store["name"], "--format", "csv")

    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert [row["faceInfo.reason"] for row in rows] == [cell for _, cell in REASONS]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", iso(T0 + MINUTE), "--to", iso(T0)], "the range is empty"),
        (["--from", "2999-01-01"], "--from must come before now (the default --to)"),
        (["--to", "2026-01-01T00:00:00"], "needs a time zone"),
        (["--format", "xlsx"], "invalid choice: 'xlsx'"),
    ],
)
def test_a_bad_range_or_option_exits_2_and_writes_nothing(
    server: LiveServer, tmp_path: Path, arguments: list[str], message: str
) -> None:
    out = tmp_path / "audit.jsonl"

    done = export_audit(server, "--store", "any", "--out", str(out), *arguments)

    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T23:30:00Z", datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),
        ("2026-02-01T01:30:00.250+02:00", datetime(2026, 1, 31, 23, 30, 0, 250000, tzinfo=UTC)),
    ],
)
def test_an_instant_is_a_date_at_midnight_utc_or_a_time_with_its_zone(
    text: str, meant: datetime
) -> None:
    assert instant(text) == meant


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "is not an ISO-8601 date or time"),
        ("yesterday", "is not an ISO-8601 date or time"),
        ("2026-01-31T23:30:00", "needs a time zone"),
        ("0001-01-01T00:00:00+01:00", "lies outside the years 1 to 9999"),
    ],
)
def test_an_instant_that_is_no_date_or_time_in_a_zone_is_refused(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        instant(text)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--store", "no-such-store"], "no store 'no-such-store' in tenant 'default'"),
        (["--store-id", "no-such-id"], "no store with id 'no-such-id' in tenant 'default'"),
        (["--store", "{store}", "--tenant", "acme"], "no store '{store}' in tenant 'acme'"),
        (["--store-id", "{store_id}", "--tenant", "acme"], "with id '{store_id}' in tenant 'acme'"),
    ],
)
def test_an_unknown_store_exits_2_and_writes_nothing(
    server: LiveServer,
    audited: AuditedStore,
    tmp_path: Path,
    arguments: list[str],
    message: str,
) -> None:
    names = {"store": audited.name, "store_id": audited.id}
    out = tmp_path / "audit.csv"

    done = export_audit(
        server, *[argument.format(**names) for argument in arguments], "--out", str(out)
    )

    assert (done.returncode, done.stdout) == (2, "")
    assert message.format(**names) in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_output_file_that_cannot_be_written_is_named(
    server: LiveServer, audited: AuditedStore, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "audit.jsonl"

    done = export_audit(server, "--store", audited.name, "--out", str(out))

    assert (done.returncode, done.stdout) == (1, "")
    assert f"the export failed: [Errno 2] No such file or directory: '{out.parent}/.audit" in (
        done.stderr
    )


def test_the_docs_name_every_character_that_is_neutralised_in_csv() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "audit-export.md").read_text()
    names = {
        **{sign: f"`{sign}`" for sign in "=+-@\uff1d\uff0b\uff0d\uff20"},
        "\t": "a tab",
        "\r": "carriage return",
        "\n": "line feed",
    }

    assert set(names) == set(FORMULA_STARTS)
    assert [name for name in names.values() if name not in page] == []


def test_out_never_writes_through_a_planted_link_nor_keeps_a_planted_files_mode(
    server: LiveServer, audited: AuditedStore, tmp_path: Path
) -> None:
    victim = plant(tmp_path, link="linked.jsonl.partial", open_file="open.jsonl.partial")

    linked = export_audit(server, "--store", audited.name, "--out", str(tmp_path / "linked.jsonl"))
    opened = export_audit(server, "--store", audited.name, "--out", str(tmp_path / "open.jsonl"))

    assert (linked.returncode, opened.returncode) == (0, 0), linked.stderr + opened.stderr
    assert victim.read_text() == VICTIM_TEXT
    assert (tmp_path / "open.jsonl.partial").read_text() == ""
    for name in ("linked.jsonl", "open.jsonl"):
        out = tmp_path / name
        assert len(out.read_text().splitlines()) == len(audited.records)
        assert os.stat(out, follow_symlinks=False).st_mode & 0o777 == 0o600
