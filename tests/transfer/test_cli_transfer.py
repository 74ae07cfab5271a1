"""The commands' own refusals: each a clear message and exit status, and nothing left behind.

They run `idstore.cli.main` in this process (the end-to-end tests run the real processes) with
only the IDSTORE_* settings each test gives.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from idstore.cli import main
from idstore.transfer.recipient import Identity
from tests.support.api import Api
from tests.support.exports import Exported
from tests.support.server import LiveServer

OTHER_RING = "other:" + base64.b64encode(bytes(range(50, 82))).decode()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in [name for name in os.environ if name.startswith("IDSTORE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("IDSTORE_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def source_settings(settings: pytest.MonkeyPatch, server: LiveServer, database_url: str) -> None:
    """Point the commands at the session server's database and key ring."""
    ((key_id, key),) = server.keyring.keys
    settings.setenv("IDSTORE_DATABASE_URL", database_url)
    settings.setenv("IDSTORE_SECRET_KEYS", f"{key_id}:{base64.b64encode(key).decode()}")


def test_export_key_create_does_not_replace_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "recipient.key"
    key_file.write_text("kept\n")

    status = main(["export-key", "create", "--out", str(key_file)])

    assert status == 2
    assert "exists already" in capsys.readouterr().err
    assert key_file.read_text() == "kept\n"


def test_export_refuses_a_malformed_recipient_a_missing_store_and_an_existing_file(
    settings: pytest.MonkeyPatch,
    server: LiveServer,
    database_url: str,
    api: Api,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_settings(settings, server, database_url)
    store = api.create_store()["name"]
    recipient = Identity.generate().recipient
    out = tmp_path / "out.jsonl"
    taken = tmp_path / "taken.jsonl"
    taken.write_text("kept\n")
    busy = tmp_path / "busy.jsonl.partial"  # a file planted where the old exports wrote
    busy.write_text("another\n")

    malformed = main(["export", "--store", store, "--recipient", "x", "--out", str(out)])
    missing = main(["export", "--store", "no-such", "--recipient", recipient, "--out", str(out)])
    exists = main(["export", "--store", store, "--recipient", recipient, "--out", str(taken)])
    busy_out = str(tmp_path / "busy.jsonl")
    writing = main(["export", "--store", store, "--recipient", recipient, "--out", busy_out])

    assert (malformed, missing, exists, writing) == (2, 2, 2, 0)
    errors = capsys.readouterr().err
    assert "--recipient: a recipient starts with 'idstore-recipient-1:'" in errors
    assert "no store 'no-such' in tenant 'default'" in errors
    assert "taken.jsonl exists already" in errors
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "busy.jsonl",
        "busy.jsonl.partial",
        "taken.jsonl",
    ]
    assert (tmp_path / "busy.jsonl").stat().st_mode & 0o777 == 0o600
    assert busy.read_text() == "another\n"


def test_import_refuses_a_key_ring_that_does_not_open_the_databases_secrets(
    settings: pytest.MonkeyPatch,
    exported: Exported,
    empty_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The database already holds a secret sealed under ring 'first' (a first import).
    key_file, export_file = tmp_path / "recipient.key", tmp_path / "export.jsonl"
    exported.identity.write_new(key_file)
    export_file.write_bytes(b"".join(exported.lines))
    settings.setenv("IDSTORE_DATABASE_URL", empty_database)
    settings.setenv("IDSTORE_SECRET_KEYS", "first:" + base64.b64encode(bytes(32 * [7])).decode())
    assert main(["import", "--identity", str(key_file), str(export_file)]) == 0
    settings.setenv("IDSTORE_SECRET_KEYS", OTHER_RING)

    again = ["import", "--identity", str(key_file), "--store-name", "copy", "--new-ids"]
    status = main([*again, str(export_file)])

    assert status == 2
    assert "were made with key ring keys first, and this server holds other" in (
        capsys.readouterr().err
    )


def test_import_refuses_an_unreadable_private_key_file(
    settings: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "recipient.key"
    key_file.write_text("idstore-identity-1:c2hvcnQ\n")

    status = main(["import", "--identity", str(key_file), str(tmp_path / "export.jsonl")])

    assert status == 2
    assert "the private key is 5 bytes, not 32" in capsys.readouterr().err


def test_import_refuses_a_store_name_the_api_could_not_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["import", "--identity", str(tmp_path / "k"), "--store-name", "a/b", "file"]

    with pytest.raises(SystemExit) as refused:
        main(arguments)

    assert refused.value.code == 2
    assert "a store name is 1 to 64 of A-Z a-z 0-9 . _ -" in capsys.readouterr().err
