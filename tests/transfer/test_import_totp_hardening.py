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


def test_a_missing_database_is_named_and_nothing_is_created(target: Target, tmp_path: Path) -> None:
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\n")
    nowhere = dataclasses.replace(target, database_url=f"sqlite:///{tmp_path}/missing/idstore.db")

    unreachable = nowhere.import_totp(csv_file)

    assert unreachable.returncode == 2
    assert unreachable.stderr == (
        f"idstore: no database at {tmp_path}/missing/idstore.db "
        "(set IDSTORE_DATA_DIR or IDSTORE_DATABASE_URL)\n"
    )
    assert not (tmp_path / "missing").exists()


def _secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def test_no_refusal_of_a_csv_file_shows_any_secret_of_the_file(
    target: Target, tmp_path: Path
) -> None:
    target.create_user("taken")
    taken = _write(tmp_path, "taken.csv", f"taken,{_secret()}\n")
    assert target.import_totp(taken).returncode == 0
    s = [_secret() for _ in range(16)]
    rows = [
        f'"alice,{s[0]}\nbob,{s[1]}\n",x',  # a quoted field spanning lines
        f"{s[2]}",  # one field: a secret where the id belongs
        f"{s[3]},{s[4]},SHA1,6,30,extra",  # six fields
        f",{s[5]}",  # no external id
        f"{'i' * 256},{s[6]}",  # an external id too long
        f"carol,{s[7][:-2]}8!",  # outside base32
        f"dave,{s[8][:10]}",  # too short
        f"erin,{s[9]},MD5",
        f"frank,{s[10]},SHA1,9",
        f"grace,{s[11]},SHA1,6,5",
        f"heidi,{s[12]}",
        f"heidi,{s[13]}",  # a second TOTP
        f"taken,{s[14]}",  # an ACTIVE TOTP already
        f'"{s[15]}\x07",x',  # a control character
    ]
    csv_file = _write(tmp_path, "tokens.csv", "\n".join(rows) + "\n")

    checked = target.import_totp(csv_file, "--dry-run")
    imported = target.import_totp(csv_file, "--continue-on-error")

    for run in (checked, imported):
        assert run.returncode == 1, run.stderr
        shown = run.stdout + run.stderr
        assert [secret for secret in s if secret in shown or secret[:16] in shown] == []
        assert shown.count("refused: ") == len(rows) - 1  # heidi's first line is imported
        assert "refused: line 1 (unreadable): " in shown  # its row spans lines 1 to 3
        assert "refused: line 4: a row has 2 to 5 fields" in shown
        assert "refused: line 5: a row has 2 to 5 fields" in shown
        assert "refused: line 16 (unreadable): " in shown
    assert "refused: line 14 (heidi): a second TOTP" in imported.stdout
    assert target.count(tables.user_totps) == 2


def test_no_refusal_of_a_uri_file_shows_its_secret(target: Target, tmp_path: Path) -> None:
    secret = _secret()
    uris = _write(
        tmp_path,
        "tokens.txt",
        f"otpauth://totp/alice?{secret}&{secret}\n"
        f"otpauth://totp/bob?secret={secret}&secret={secret}\n"
        f"otpauth://hotp/carol?secret={secret}\n",
    )

    refused = target.import_totp(uris, "--continue-on-error")

    assert refused.returncode == 1
    assert "refused: line 1: the URI repeats a parameter" in refused.stdout
    assert "refused: line 2: the URI repeats the 'secret' parameter" in refused.stdout
    assert secret[:16] not in refused.stdout + refused.stderr
