"""`idstore import-totp` as an operator runs it: a real database, then a real server that
accepts codes an independent generator (pyotp) computes for the imported secrets."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

import httpx
import pyotp
import pytest

from idstore.db import tables
from tests.support.api import issue_token
from tests.support.processes import Launch
from tests.transfer.conftest import POLICY, STORE, Target
from tests.transfer.pskc_files import PskcKey, container

pytestmark = pytest.mark.e2e

USERS_URL = f"/api/identity-store/stores/{STORE}/users"
ALICE_KEY = b"alice's 20-byte key!"
BOB_KEY = bytes(range(32))
ALICE_B32 = base64.b32encode(ALICE_KEY).decode()
BOB_B32 = base64.b32encode(BOB_KEY).decode()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _client(launch: Launch, target: Target) -> httpx.Client:
    """A server on the imported database, with the key ring the import sealed under."""
    api_key = secrets.token_urlsafe(32)
    server = launch(
        data_dir=target.data_dir,
        database_url=target.database_url,
        bootstrap_api_key=api_key,
        settings={"IDSTORE_SECRET_KEYS": target.secret_keys},
    )
    token = issue_token(server.base_url, api_key)
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _authenticate(client: httpx.Client, external_id: str, code: str) -> httpx.Response:
    url = f"{USERS_URL}/{external_id}/totps/authentications/{POLICY}/ext"
    return client.post(url, json={"code": code})


def test_a_csv_import_gives_users_whose_codes_the_server_accepts(
    target: Target, launch: Launch, tmp_path: Path
) -> None:
    spaced = " ".join(ALICE_B32.lower()[i : i + 4] for i in range(0, len(ALICE_B32), 4))
    csv_file = _write(
        tmp_path,
        "tokens.csv",
        f"external_id,secret,algorithm,digits,period\nalice,{spaced}\nbob,{BOB_B32},SHA256,8,60\n",
    )

    imported = target.import_totp(csv_file)

    assert imported.returncode == 0, imported.stderr
    assert "2 users and 2 TOTPs (0 replacing one) created, 0 lines refused; imported" in (
        imported.stdout
    )
    with _client(launch, target) as client:
        alice_code = pyotp.TOTP(ALICE_B32).now()
        bob_code = pyotp.TOTP(BOB_B32, digits=8, interval=60, digest="sha256").now()
        alice = _authenticate(client, "alice", alice_code)
        bob = _authenticate(client, "bob", bob_code)
        replayed = _authenticate(client, "alice", alice_code)
        listed = client.get(f"{USERS_URL}/bob/totps/ext").json()["content"]

    assert alice.status_code == 200, alice.text
    assert bob.status_code == 200, bob.text
    assert (replayed.status_code, replayed.json()["code"]) == (400, 3402)
    assert [(t["status"], t["algorithm"], t["digits"], t["period"]) for t in listed] == [
        ("ACTIVE", "SHA256", 8, 60)
    ]


def test_a_privacyidea_export_fills_existing_and_new_users(
    target: Target, launch: Launch, tmp_path: Path
) -> None:
    target.create_user("carol@realm1")
    export = _write(
        tmp_path,
        "privacyidea.csv",
        f"carol@realm1, TOTP0001, {ALICE_KEY.hex()}, totp, 6, 30\n"
        f"dave@realm1, TOTP0002, {BOB_KEY.hex()}, totp, 6, 30\n",
    )

    imported = target.import_totp(export)

    assert imported.returncode == 0, imported.stderr
    assert "privacyidea file, policy 'default': 1 users and 2 TOTPs" in imported.stdout
    with _client(launch, target) as client:
        carol = _authenticate(client, "carol@realm1", pyotp.TOTP(ALICE_B32).now())
        dave_code = pyotp.TOTP(BOB_B32, digest="sha256").now()  # 32-byte seed: SHA256
        dave = _authenticate(client, "dave@realm1", dave_code)

    assert carol.status_code == 200, carol.text
    assert dave.status_code == 200, dave.text


def test_one_refused_line_rolls_back_the_whole_run(target: Target, tmp_path: Path) -> None:
    bad_secret = ALICE_B32[:-2] + "8!"
    text = f"alice,{ALICE_B32}\nbob,{BOB_B32}\ncarol,{bad_secret}\n"
    csv_file = _write(tmp_path, "tokens.csv", text)
    events_before = target.count(tables.admin_events)

    refused = target.import_totp(csv_file)

    assert refused.returncode == 1
    assert "refused: line 3 (carol): the secret has characters outside the base32 alphabet" in (
        refused.stdout
    )
    assert bad_secret not in refused.stdout + refused.stderr
    assert "idstore: csv file, policy 'default': nothing imported, 1 lines refused" in (
        refused.stdout
    )
    assert "created" not in refused.stdout  # nothing was: no count may say otherwise
    assert (target.count(tables.users), target.count(tables.user_totps)) == (0, 0)
    assert target.count(tables.admin_events) == events_before


def test_continue_on_error_keeps_the_good_lines_and_still_exits_non_zero(
    target: Target, tmp_path: Path
) -> None:
    forged = '"bob\nidstore: all imported",not-base32'
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\n{forged}\n")

    partial = target.import_totp(csv_file, "--continue-on-error")

    assert partial.returncode == 1
    assert "refused: line 2 (unreadable): " in partial.stdout
    assert "\nidstore: all imported" not in partial.stdout
    assert target.sealed_secrets() == {"alice": ALICE_KEY}


def test_a_dry_run_checks_every_line_and_writes_nothing(target: Target, tmp_path: Path) -> None:
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\nbob,{BOB_B32}\n")

    checked = target.import_totp(csv_file, "--dry-run")

    assert checked.returncode == 0, checked.stderr
    assert "2 users and 2 TOTPs (0 replacing one) created" in checked.stdout
    assert "dry run, nothing written" in checked.stdout
    assert (target.count(tables.users), target.count(tables.user_totps)) == (0, 0)


def test_an_active_totp_is_refused_unless_replace(target: Target, tmp_path: Path) -> None:
    first = _write(tmp_path, "first.txt", f"otpauth://totp/ACME:alice?secret={ALICE_B32}\n")
    second = _write(tmp_path, "second.txt", f"otpauth://totp/ACME:alice?secret={BOB_B32}\n")
    assert target.import_totp(first).returncode == 0

    again = target.import_totp(second)
    replaced = target.import_totp(second, "--replace")

    assert again.returncode == 1
    assert "line 1 (alice): already has a TOTP (ACTIVE) for policy 'default'" in again.stdout
    assert replaced.returncode == 0, replaced.stdout
    assert "0 users and 1 TOTPs (1 replacing one) created" in replaced.stdout
    assert target.sealed_secrets() == {"alice": BOB_KEY}


def test_an_encrypted_pskc_file_needs_its_key_and_imports_with_it(
    target: Target, tmp_path: Path
) -> None:
    key = secrets.token_bytes(16)
    pskc = _write(
        tmp_path, "tokens.xml", container([PskcKey("alice", ALICE_KEY)], pre_shared_key=key)
    )

    key_file = _write(tmp_path, "pskc.key", key.hex() + "\n")

    keyless = target.import_totp(pskc)
    dry = target.import_totp(pskc, "--pskc-key-file", str(key_file), "--dry-run")
    keyed = target.import_totp(pskc, "--pskc-key", key.hex())

    assert keyless.returncode == 2
    needs_key = "the secrets are encrypted with a pre-shared key: pass it with --pskc-key HEX"
    assert f"idstore: 9002: file: {needs_key}" in keyless.stderr
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "pskc file, policy 'default': 1 users and 1 TOTPs" in dry.stdout
    assert keyed.returncode == 0, keyed.stdout + keyed.stderr
    assert target.sealed_secrets() == {"alice": ALICE_KEY}


def test_ten_thousand_lines_import_in_one_run(target: Target, tmp_path: Path) -> None:
    lines = 10_000
    text = "".join(
        f"user-{n},{base64.b32encode(secrets.token_bytes(20)).decode()}\n" for n in range(lines)
    )
    csv_file = _write(tmp_path, "large.csv", text)

    started = time.monotonic()
    imported = target.import_totp(csv_file)
    elapsed = time.monotonic() - started

    assert imported.returncode == 0, imported.stderr
    assert f"{lines} users and {lines} TOTPs" in imported.stdout
    assert f"idstore: {lines} of {lines} TOTPs written" in imported.stderr
    assert target.count(tables.user_totps) == lines
    # A figure for the report, not a bound: machines differ.
    print(f"\nimport-totp: {lines} lines in {elapsed:.1f} s")


def test_an_unknown_store_or_policy_stops_the_run_with_its_error_code(
    target: Target, tmp_path: Path
) -> None:
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\n")

    no_policy = target.import_totp(csv_file, "--policy", "missing")
    no_store = target.import_totp(csv_file, "--store", "elsewhere")

    assert (no_policy.returncode, no_store.returncode) == (2, 2)
    assert "idstore: 3200: TOTP policy 'missing' not found" in no_policy.stderr
    assert "idstore: 3000: store 'elsewhere' not found" in no_store.stderr
    assert target.count(tables.users) == 0


def test_a_named_format_overrides_recognition(target: Target, tmp_path: Path) -> None:
    csv_file = _write(tmp_path, "tokens.csv", f"alice,{ALICE_B32}\n")

    as_uris = target.import_totp(csv_file, "--format", "uri")

    assert as_uris.returncode == 1
    assert "refused: line 1: the URI does not start with otpauth://totp/" in as_uris.stdout
    assert "uri file, policy 'default'" in as_uris.stdout
