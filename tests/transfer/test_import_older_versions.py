"""Files of the earlier export format versions still import, run in-process: version 1 (TOTPs,
made at 437024a) and version 2 (passkeys too, made at 2bb9b14), both in tests/transfer/fixtures
with the private key each was sealed to. They hold no appkeys or faces, and get none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from idstore.db import tables
from idstore.transfer.recipient import Identity
from tests.support.api import RFC_SECRET
from tests.transfer.test_import_refusals import TARGET_KEYRING, query, run_import

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = (
    tables.stores,
    tables.users,
    tables.user_totps,
    tables.passkey_configs,
    tables.user_passkeys,
    tables.appkey_configs,
    tables.user_appkeys,
    tables.user_biometrics,
)


def counts(url: str) -> list[int]:
    return [query(url, select(func.count()).select_from(table))[0][0] for table in TABLES]


@pytest.mark.parametrize(
    ("version", "authenticators", "rows"),
    [(1, 1, [1, 1, 1, 0, 0, 0, 0, 0]), (2, 2, [1, 1, 1, 1, 1, 0, 0, 0])],
)
def test_a_file_of_an_earlier_version_imports_with_its_totp_secret(
    empty_database: str, version: int, authenticators: int, rows: list[int]
) -> None:
    lines = (FIXTURES / f"export-v{version}.jsonl").read_bytes().splitlines(keepends=True)
    identity = Identity.read(FIXTURES / f"export-v{version}.key")

    summary = run_import(empty_database, identity, lines)

    assert (summary.users, summary.authenticators) == (1, authenticators)
    assert counts(empty_database) == rows
    (totp,) = query(empty_database, select(tables.user_totps))
    assert TARGET_KEYRING.open(totp.secret_sealed, context=totp.id) == RFC_SECRET
