"""Commands that must not create a database refuse, creating nothing, when there is none; a
database that refuses the connection is named in one line (real `idstore` processes)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import TEST_DATABASE_URL, is_postgresql
from tests.support.processes import run_idstore

KEY_RING = "k1:" + base64.b64encode(bytes(range(32))).decode()
PERMISSION = "TNT#default#IdentityStore:*"

# Every command that reads or changes an existing store, with its arguments (FILE: a file given).
REFUSING = {
    "export-audit": ["export-audit", "--store", "main"],
    "export": ["export", "--store", "main", "--recipient", "RECIPIENT", "--out", "OUT"],
    "verify-audit": ["verify-audit", "--store", "main"],
    "import-totp": ["import-totp", "--store", "main", "FILE"],
    "rotate-keys": ["rotate-keys", "--wait", "0"],
    "api-key create": ["api-key", "create", "--tenant", "default", "--permission", PERMISSION],
}


def _arguments(command: str, folder: Path) -> list[str]:
    recipient = run_idstore("export-key", "create", "--out", str(folder / "id.key"), environment={})
    tokens = {
        "RECIPIENT": recipient.stdout.strip(),
        "OUT": str(folder / "out.idstore"),
        "FILE": str(folder / "tokens.csv"),
    }
    (folder / "tokens.csv").write_text("alice,JBSWY3DPEHPK3PXP\n", encoding="utf-8")
    return [tokens.get(argument, argument) for argument in REFUSING[command]]


def _contents(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize("command", sorted(REFUSING))
def test_a_command_on_a_missing_sqlite_database_refuses_and_creates_nothing(
    tmp_path: Path, command: str
) -> None:
    arguments = _arguments(command, tmp_path)
    before = _contents(tmp_path)
    data_dir = tmp_path / "wrong"

    result = run_idstore(
        *arguments,
        environment={"IDSTORE_DATA_DIR": str(data_dir), "IDSTORE_SECRET_KEYS": KEY_RING},
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"idstore: no database at {data_dir / 'idstore.db'} "
        "(set IDSTORE_DATA_DIR or IDSTORE_DATABASE_URL)\n"
    )
    assert _contents(tmp_path) == before


def test_the_default_data_dir_is_relative_to_the_working_directory_and_not_created(
    tmp_path: Path,
) -> None:
    result = run_idstore(
        "export-audit",
        "--store",
        "main",
        environment={"IDSTORE_SECRET_KEYS": KEY_RING},
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert "idstore: no database at data/idstore.db (set IDSTORE_DATA_DIR" in result.stderr
    assert _contents(tmp_path) == set()


def test_data_dir_option_names_where_a_maintenance_command_looks(tmp_path: Path) -> None:
    result = run_idstore(
        "verify-audit",
        "--store",
        "main",
        "--data-dir",
        str(tmp_path / "given"),
        environment={"IDSTORE_SECRET_KEYS": KEY_RING, "IDSTORE_DATA_DIR": str(tmp_path)},
    )

    assert result.returncode == 2
    assert f"no database at {tmp_path / 'given' / 'idstore.db'}" in result.stderr


def test_import_totp_checks_the_key_ring_first_and_creates_nothing(tmp_path: Path) -> None:
    arguments = _arguments("import-totp", tmp_path)
    data_dir = tmp_path / "data"
    before = _contents(tmp_path)

    result = run_idstore(*arguments, environment={"IDSTORE_DATA_DIR": str(data_dir)})

    assert result.returncode == 2
    assert f"idstore: no key file at {data_dir / 'keyring'}" in result.stderr
    assert _contents(tmp_path) == before


def test_migrate_makes_the_database_and_its_lock_private_in_an_open_directory(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    environment = {"IDSTORE_DATA_DIR": str(data_dir), "IDSTORE_SECRET_KEYS": KEY_RING}

    migrated = run_idstore("migrate", environment=environment, umask=0o022)

    assert migrated.returncode == 0, migrated.stderr
    made = {path.name: path.stat().st_mode & 0o777 for path in data_dir.iterdir()}
    assert made["idstore.db"] == 0o600
    assert made["idstore.db.migration-lock"] == 0o600
    assert set(made.values()) == {0o600}  # -wal and -shm, when left, copy the database's mode


def test_migrate_creates_the_database_the_others_then_find(tmp_path: Path) -> None:
    environment = {"IDSTORE_DATA_DIR": str(tmp_path / "data"), "IDSTORE_SECRET_KEYS": KEY_RING}

    migrated = run_idstore("migrate", environment=environment)
    created = run_idstore(*REFUSING["api-key create"], environment=environment)

    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "data" / "idstore.db").is_file()
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("idsk_")


def _missing_database_url() -> str:
    name = f"idstore_polish_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(TEST_DATABASE_URL).set(database=name, password="never-shown")
    return url.render_as_string(hide_password=False)


@pytest.mark.skipif(not is_postgresql(), reason="a missing PostgreSQL database")
@pytest.mark.parametrize(
    "arguments",
    [
        ["migrate"],
        ["serve", "--port", "1"],
        REFUSING["api-key create"],
        REFUSING["verify-audit"],
        REFUSING["export-audit"],
        REFUSING["rotate-keys"],
    ],
    ids=" ".join,
)
def test_a_missing_postgresql_database_is_named_in_one_line(
    tmp_path: Path, arguments: list[str]
) -> None:
    url = _missing_database_url()
    name = make_url(url).database

    result = run_idstore(
        *arguments,
        environment={
            "IDSTORE_DATABASE_URL": url,
            "IDSTORE_DATA_DIR": str(tmp_path),
            "IDSTORE_SECRET_KEYS": KEY_RING,
        },
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert f'database "{name}" does not exist' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "never-shown" not in result.stdout + result.stderr
