"""Moving on: a store exported by the real `idstore export` from a running server, imported by
`idstore import` into an empty database, and used through a real server there.

The source server lives for the module; each test exports afresh. Codes come from pyotp and
oathtool. The policy allows three steps of drift so that a code used at the source (the next
step's) is still in the window (and so refused as a replay, not as wrong) two minutes later at
the target, however slowly the export and import run.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import func, select

from idstore.crypto.keyring import load_or_create_key_file, parse_key_ring
from idstore.db import tables
from idstore.db.engine import Database
from idstore.transfer.recipient import Identity
from tests.support.databases import async_url, drop_database, fresh_database_url, sealing_key_ids
from tests.support.processes import Launch, Launcher, ServerProcess, run_idstore
from tests.support.wrong_codes import wrong_code

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
STORE = "moving"
POLICY = "phone"
PEOPLE = ("alice", "bob", "carol")
DRIFT_STEPS = 3
TABLES = (tables.stores, tables.totp_policies, tables.users, tables.user_totps)


@dataclass
class Source:
    """The exporting side: its server, a client, and each person's user and TOTP secret."""

    server: ServerProcess
    client: httpx.Client
    database_url: str
    users: dict[str, dict[str, Any]]
    secrets: dict[str, str]
    folder: Path

    def user_url(self, person: str, suffix: str = "") -> str:
        return f"{STORES}/{STORE}/users/{self.users[person]['id']}{suffix}"


def client_for(server: ServerProcess, api_key: str) -> httpx.Client:
    issued = httpx.post(
        f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
    )
    assert issued.status_code == 200, issued.text
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=30)


def enrol(client: httpx.Client, person: str) -> tuple[dict[str, Any], str]:
    """A user with profile fields and an active TOTP; its registration used the code of two
    steps ago, so that later codes of the window are still to come."""
    body = {"externalId": f"{person}@example.org", "firstName": person, "attributes": {"n": 1}}
    user = client.post(f"{STORES}/{STORE}/users", json=body).json()
    url = f"{STORES}/{STORE}/users/{user['id']}/totps/registrations/{POLICY}"
    secret = client.post(f"{url}?qrFormat=none").json()["secret"]
    done = client.post(f"{url}/complete", json={"code": pyotp.TOTP(secret).at(time.time() - 60)})
    assert done.status_code == 200, done.text
    return user, secret


@contextmanager
def source_server(folder: Path) -> Iterator[tuple[ServerProcess, httpx.Client, str]]:
    """A server on a new database in `folder`, a client of it, and the database's URL; the
    server stopped and the database dropped afterwards."""
    database_url = fresh_database_url(folder / "source-database")
    (folder / "source").mkdir()
    launcher = Launcher(folder / "source")
    api_key = secrets.token_urlsafe(32)
    server = launcher(
        data_dir=folder / "source-data", database_url=database_url, bootstrap_api_key=api_key
    )
    client = client_for(server, api_key)
    try:
        yield server, client, database_url
    finally:
        client.close()
        launcher.stop_all()
        drop_database(database_url)


@dataclass(frozen=True)
class Moved:
    """The target server after a move, a client of it, and what `idstore import` printed."""

    target: ServerProcess
    client: httpx.Client
    imported: subprocess.CompletedProcess[str]


def move(source: Source, launch: Launch, database_url: str, folder: Path) -> Moved:
    """Export the source's store to a new key with `idstore export`, start a target server on
    `database_url` and import the file there with `idstore import`; both must succeed."""
    key_file = folder / "recipient.key"
    identity = Identity.generate()
    identity.write_new(key_file)

    exported = export(source, identity.recipient, folder / "moving.jsonl")
    target = launch(
        data_dir=folder / "target", database_url=database_url, bootstrap_api_key="k" * 43
    )
    imported = import_into(database_url, key_file, folder / "moving.jsonl", target.data_dir)

    assert exported.returncode == 0, exported.stderr
    assert imported.returncode == 0, imported.stderr
    return Moved(target, client_for(target, "k" * 43), imported)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    folder = tmp_path_factory.mktemp("export-source")
    with source_server(folder) as (server, client, database_url):
        configuration = {
            "totpPolicies": {POLICY: {"driftSteps": DRIFT_STEPS}},
            "userLocking": {"modalityLockThreshold": 4},
        }
        created = client.post(STORES, json={"name": STORE, "configuration": configuration})
        assert created.status_code == 201, created.text
        enrolled = {person: enrol(client, person) for person in PEOPLE}
        yield Source(
            server,
            client,
            database_url,
            {person: user for person, (user, _) in enrolled.items()},
            {person: secret for person, (_, secret) in enrolled.items()},
            folder,
        )


@pytest.fixture(scope="module")
def identity(source: Source) -> tuple[Path, str]:
    """The recipient's private key file and public key, made by `idstore export-key create`."""
    key_file = source.folder / "recipient.key"
    made = run_idstore("export-key", "create", "--out", str(key_file), environment={})
    assert made.returncode == 0, made.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    return key_file, made.stdout.strip()


def export(source: Source, recipient: str, out: Path) -> subprocess.CompletedProcess[str]:
    settings = {
        "IDSTORE_DATA_DIR": str(source.server.data_dir),
        "IDSTORE_DATABASE_URL": source.database_url,
    }
    arguments = ("export", "--store", STORE, "--recipient", recipient, "--out", str(out))
    return run_idstore(*arguments, environment=settings)


def import_into(
    database_url: str, key_file: Path, export_file: Path, data_dir: Path, *more: str
) -> subprocess.CompletedProcess[str]:
    """`idstore import` into `database_url` with the key ring of `data_dir`, made there first
    when no server has run on it."""
    load_or_create_key_file(data_dir / "keyring")
    settings = {"IDSTORE_DATA_DIR": str(data_dir), "IDSTORE_DATABASE_URL": database_url}
    arguments = ("import", "--identity", str(key_file), str(export_file), *more)
    return run_idstore(*arguments, environment=settings)


def row_counts(database_url: str) -> list[int]:
    """How many rows the store tables hold (stores, policies, users, TOTPs)."""

    async def count() -> list[int]:
        database = Database(async_url(database_url))
        try:
            async with database.transaction(write=False) as conn:
                return [
                    int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                    for table in TABLES
                ]
        finally:
            await database.dispose()

    return asyncio.run(count())


def oathtool_code(secret: str, at: float) -> str:
    result = subprocess.run(
        ["oathtool", "--totp", "--base32", f"--now=@{int(at)}", secret],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def clear_forms(secret_b32: str) -> list[str]:
    """Every way a secret could stand in a file in clear."""
    raw = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    return [
        secret_b32,
        secret_b32.lower(),
        raw.hex(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


def user_views(client: httpx.Client, users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each person's user and TOTPs as the API shows them."""
    views = {}
    for person, user in users.items():
        url = f"{STORES}/{STORE}/users/{user['id']}"
        views[person] = (client.get(url).json(), client.get(f"{url}/totps").json()["content"])
    return views


def authenticate(client: httpx.Client, user: dict[str, Any], code: str) -> httpx.Response:
    return client.post(
        f"{STORES}/{STORE}/users/{user['id']}/totps/authentications/{POLICY}", json={"code": code}
    )


def use_codes_at_source(source: Source) -> str:
    """Alice signs in (her last used step moves on), Bob types a wrong code (his lock count
    goes up); return Alice's code, the next step's: it stays in the window for 120 to 150 s."""
    used = pyotp.TOTP(source.secrets["alice"]).at(time.time() + 30)
    accepted = authenticate(source.client, source.users["alice"], used)
    assert accepted.status_code == 200, accepted.text
    bob = pyotp.TOTP(source.secrets["bob"])
    wrong = authenticate(source.client, source.users["bob"], wrong_code(bob, steps=DRIFT_STEPS + 1))
    assert wrong.json()["code"] == 3401, wrong.text
    return used


def assert_codes_work_at_target(client: httpx.Client, source: Source, used: str) -> None:
    """Alice's used code is a replay there too; new codes from oathtool and pyotp work."""
    alice, carol = source.users["alice"], source.users["carol"]
    replayed = authenticate(client, alice, used)
    assert (replayed.status_code, replayed.json()["code"]) == (400, 3402)
    # Two steps ahead: later than the used code even if no step has passed since.
    fresh = authenticate(client, alice, oathtool_code(source.secrets["alice"], time.time() + 60))
    assert fresh.status_code == 200, fresh.text
    code = pyotp.TOTP(source.secrets["carol"]).at(time.time() + 30)
    assert authenticate(client, carol, code).status_code == 200


def test_a_round_trip_keeps_users_codes_replay_protection_and_locks(
    source: Source, identity: tuple[Path, str], launch: Launch, fresh_database: str, tmp_path: Path
) -> None:
    key_file, recipient = identity
    target = launch(
        data_dir=tmp_path / "target", database_url=fresh_database, bootstrap_api_key="k" * 43
    )
    used = use_codes_at_source(source)
    before = user_views(source.client, source.users)
    export_file = tmp_path / "moving.jsonl"

    exported = export(source, recipient, export_file)
    imported = import_into(fresh_database, key_file, export_file, target.data_dir)

    assert exported.returncode == 0, exported.stderr
    assert "exported 3 of 3 users" in exported.stderr
    assert imported.returncode == 0, imported.stderr
    assert "imported store 'moving'" in imported.stdout
    text = export_file.read_text()
    for person in PEOPLE:
        assert [form for form in clear_forms(source.secrets[person]) if form in text] == []
    client = client_for(target, "k" * 43)
    assert user_views(client, source.users) == before
    assert before["bob"][0]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1
    target_ring = parse_key_ring((target.data_dir / "keyring").read_text())
    assert sealing_key_ids(fresh_database) == {target_ring.current_key_id}
    assert_codes_work_at_target(client, source, used)
    # The audit stayed behind: the chains of alice (a replay, a success) and carol start afresh.
    settings = {"IDSTORE_DATA_DIR": str(target.data_dir), "IDSTORE_DATABASE_URL": fresh_database}
    verified = run_idstore("verify-audit", "--store", STORE, environment=settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "3 records of 2 users checked, 0 written before chaining; 0 broken" in verified.stdout


@pytest.fixture(scope="module")
def export_file(source: Source, identity: tuple[Path, str]) -> Path:
    """One export of the source store, for the tests that alter it or import it wrongly."""
    out = source.folder / "for-refusals.jsonl"
    exported = export(source, identity[1], out)
    assert exported.returncode == 0, exported.stderr
    return out


def import_altered(
    change: Callable[[list[str]], list[str]],
    export_file: Path,
    identity: tuple[Path, str],
    database_url: str,
    folder: Path,
) -> subprocess.CompletedProcess[str]:
    """Import a copy of the export whose lines `change` rewrote."""
    lines = export_file.read_text().splitlines(keepends=True)
    copy = folder / "altered.jsonl"
    copy.write_text("".join(change(lines)))
    return import_into(database_url, identity[0], copy, folder / "data")


def flip_one_sealed_byte(lines: list[str]) -> list[str]:
    user_line = lines[2]
    start = user_line.index('"sealed":"') + len('"sealed":"') + 20
    swapped = "A" if user_line[start] != "A" else "B"
    return [*lines[:2], user_line[:start] + swapped + user_line[start + 1 :], *lines[3:]]


def test_one_altered_byte_of_a_sealed_secret_fails_the_import_with_nothing_written(
    export_file: Path, identity: tuple[Path, str], fresh_database: str, tmp_path: Path
) -> None:
    result = import_altered(flip_one_sealed_byte, export_file, identity, fresh_database, tmp_path)

    assert result.returncode == 1, result.stderr
    assert "line 3 authenticator 0: the sealed secret does not open" in result.stderr
    assert row_counts(fresh_database) == [0, 0, 0, 0]


def test_a_lowered_last_used_step_is_refused_as_an_altered_file(
    export_file: Path, identity: tuple[Path, str], fresh_database: str, tmp_path: Path
) -> None:
    # Rolling back the replay guard would let a used code in again: the file's HMAC covers it.
    def lower_step(lines: list[str]) -> list[str]:
        return [re.sub(r'"lastUsedStep":\d+', '"lastUsedStep":-1', line) for line in lines]

    result = import_altered(lower_step, export_file, identity, fresh_database, tmp_path)

    assert result.returncode == 1, result.stderr
    assert "its HMAC does not match" in result.stderr
    assert row_counts(fresh_database) == [0, 0, 0, 0]


def test_another_private_key_is_refused_with_status_3(
    export_file: Path, fresh_database: str, tmp_path: Path
) -> None:
    other = tmp_path / "other.key"
    Identity.generate().write_new(other)

    result = import_into(fresh_database, other, export_file, tmp_path / "data")

    assert result.returncode == 3, result.stderr
    assert "the file is sealed to 'idstore-recipient-1:" in result.stderr
    assert row_counts(fresh_database) == [0, 0, 0, 0]


def test_an_unknown_version_is_refused_with_status_4(
    export_file: Path, identity: tuple[Path, str], fresh_database: str, tmp_path: Path
) -> None:
    def next_version(lines: list[str]) -> list[str]:
        return [lines[0].replace('"version":3', '"version":4'), *lines[1:]]

    result = import_altered(next_version, export_file, identity, fresh_database, tmp_path)

    assert result.returncode == 4, result.stderr
    assert "version 4 of the export format; this idstore reads versions 1, 2 and 3" in (
        result.stderr
    )


def test_a_store_already_there_is_refused_with_status_5_and_left_as_it_was(
    export_file: Path, identity: tuple[Path, str], fresh_database: str, tmp_path: Path
) -> None:
    first = import_into(fresh_database, identity[0], export_file, tmp_path / "data")
    again = import_into(fresh_database, identity[0], export_file, tmp_path / "data")
    renamed = import_into(
        fresh_database, identity[0], export_file, tmp_path / "data", "--store-name", "copy"
    )
    copied = import_into(
        fresh_database,
        identity[0],
        export_file,
        tmp_path / "data",
        "--store-name",
        "copy",
        "--new-ids",
    )

    assert first.returncode == 0, first.stderr
    assert (again.returncode, renamed.returncode) == (5, 5)
    assert "has a store 'moving' already" in again.stderr
    assert "import a copy with --new-ids" in renamed.stderr
    assert copied.returncode == 0, copied.stderr
    assert row_counts(fresh_database) == [2, 2, 6, 6]
