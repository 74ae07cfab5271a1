"""`idstore import-totp` against files made to hurt it: each bad line refused on its own with a
reason (never with another line's secret), and nothing the API would refuse stored."""

from __future__ import annotations

import base64
import dataclasses
import secrets
from pathlib import Path

import pytest

from idstore.db import tables
from tests.transfer.conftest import Target
from tests.transfer.pskc_files import PskcKey, container

pytestmark = pytest.mark.e2e

ALICE_KEY = b"alice's 20-byte key!"
ALICE_B32 = base64.b32encode(ALICE_KEY).decode()
LONG_ISSUER = "I" * 300


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_issuer_the_api_refuses_is_refused_on_its_line(target: Target, tmp_path: Path) -> None:
    pskc = _write(
        tmp_path,
        "tokens.xml",
        container(
            [
                PskcKey("alice", ALICE_KEY),
                PskcKey("bob", secrets.token_bytes(20), issuer="Evil:Bank"),
                PskcKey("carol", secrets.token_bytes(20), issuer=LONG_ISSUER),
            ]
        ),
    )
    uris = _write(
        tmp_path,
        "tokens.txt",
        f"otpauth://totp/dave?secret={ALICE_B32}&issuer={LONG_ISSUER}\n"
        f"otpauth://totp/erin?secret={ALICE_B32}&issuer=Evil%3ABank\n",
    )

    from_pskc = target.import_totp(pskc, "--continue-on-error")
    from_uris = target.import_totp(uris, "--continue-on-error")

    assert (from_pskc.returncode, from_uris.returncode) == (1, 1), from_pskc.stderr
    too_long = "the issuer is not one the API accepts: String should have at most 255 characters"
    colon = "the issuer is not one the API accepts: must not contain ':'"
    assert f"refused: key package 2 (bob): {colon}" in from_pskc.stdout
    assert f"refused: key package 3 (carol): {too_long}" in from_pskc.stdout
    assert f"refused: line 1 (dave): {too_long}" in from_uris.stdout
    assert "refused: line 2: the issuer contains ':', which separates" in from_uris.stdout
    assert "cannot reach" not in from_pskc.stderr + from_uris.stderr
    assert target.sealed_secrets() == {"alice": ALICE_KEY}
    assert target.count(tables.user_totps) == 1


def test_only_a_database_that_cannot_be_opened_is_reported_unreachable(
    target: Target, tmp_path: Path
) -> None:
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\n")
    nowhere = dataclasses.replace(target, database_url=f"sqlite:///{tmp_path}/missing/idstore.db")

    unreachable = nowhere.import_totp(csv_file)

    assert unreachable.returncode == 2
    assert unreachable.stderr == "idstore: cannot reach the database: FileNotFoundError\n"
