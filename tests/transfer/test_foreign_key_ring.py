"""Commands that seal or re-seal refuse a key ring that is not the database's, writing nothing:
TOTPs sealed under it would answer every sign-in with a broken seal."""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
from pathlib import Path

from idstore.db import tables
from tests.support.processes import idstore_command
from tests.transfer.conftest import Target

ALICE_KEY = b"alice's 20-byte key!"
BOB_KEY = bytes(range(32))
FOREIGN_RING = "kforeign:" + base64.b64encode(bytes(range(100, 132))).decode()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_totp_refuses_a_key_ring_that_is_not_the_databases(
    target: Target, tmp_path: Path
) -> None:
    first = _write(tmp_path, "first.csv", f"alice,{base64.b32encode(ALICE_KEY).decode()}\n")
    second = _write(tmp_path, "second.csv", f"bob,{base64.b32encode(BOB_KEY).decode()}\n")
    assert target.import_totp(first).returncode == 0
    foreign = dataclasses.replace(target, secret_keys=FOREIGN_RING)

    refused = foreign.import_totp(second)

    assert refused.returncode == 2
    assert "idstore: nothing imported: this database's keys and secrets were made with" in (
        refused.stderr
    )
    assert "kimport" in refused.stderr
    assert (target.count(tables.users), target.count(tables.user_totps)) == (1, 1)
    assert target.sealed_secrets() == {"alice": ALICE_KEY}


def test_rotate_keys_leaves_a_foreign_key_file_as_it_was(target: Target, tmp_path: Path) -> None:
    first = _write(tmp_path, "first.csv", f"alice,{base64.b32encode(ALICE_KEY).decode()}\n")
    assert target.import_totp(first).returncode == 0
    key_file = target.data_dir / "keys"
    key_file.write_text(FOREIGN_RING + "\n")
    key_file.chmod(0o600)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IDSTORE_")}

    rotated = subprocess.run(
        [str(idstore_command()), "rotate-keys", "--wait", "0"],
        env={
            **environment,
            "IDSTORE_DATABASE_URL": target.database_url,
            "IDSTORE_DATA_DIR": str(target.data_dir),
            "IDSTORE_KEY_FILE": str(key_file),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert rotated.returncode == 2, rotated.stdout + rotated.stderr
    assert "idstore: nothing re-sealed: this database's keys and secrets" in rotated.stderr
    assert key_file.read_text() == FOREIGN_RING + "\n"
    assert target.sealed_secrets() == {"alice": ALICE_KEY}
