"""`idstore api-key create` refuses what the API refuses: odd names, unknown operations."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.processes import run_idstore

CREATE = ("api-key", "create", "--tenant", "default")
KEY_RING = "k1:" + base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize("name", ["x\ny", "bell\u0007", "evil\u202etxt"])
def test_a_key_name_with_control_or_bidi_characters_is_refused(tmp_path: Path, name: str) -> None:
    environment = {"IDSTORE_DATA_DIR": str(tmp_path)}

    refused = run_idstore(
        *CREATE,
        "--permission",
        "TNT#default#IdentityStore:*",
        "--name",
        name,
        environment=environment,
    )

    assert refused.returncode == 2
    assert "a key name must not contain" in refused.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("permission", "said"),
    [
        (
            "TNT#default#IdentityStore:nosuchop",
            "permission 'TNT#default#IdentityStore:nosuchop': unknown operation 'nosuchop' "
            "(see docs/permissions.md)",
        ),
        (
            "everything",
            "permission 'everything': not of the form TNT#{tenant}#IdentityStore:{operation}",
        ),
        (
            "TNT#other#IdentityStore:listStores",
            "'TNT#other#IdentityStore:listStores' is not a permission of tenant 'default'",
        ),
    ],
    ids=["unknown-operation", "malformed", "another-tenant"],
)
def test_a_permission_the_api_would_refuse_is_refused_saying_why(
    tmp_path: Path, permission: str, said: str
) -> None:
    environment = {"IDSTORE_DATA_DIR": str(tmp_path)}
    well_formed = "TNT#default#IdentityStore:listStores"

    refused = run_idstore(
        *CREATE,
        *("--permission", well_formed, "--permission", permission),
        environment=environment,
    )

    assert refused.returncode == 2
    assert refused.stderr.strip() == f"idstore: {said}"
    assert list(tmp_path.iterdir()) == []


def test_a_permission_given_twice_is_stored_once(tmp_path: Path) -> None:
    environment = {"IDSTORE_DATA_DIR": str(tmp_path), "IDSTORE_SECRET_KEYS": KEY_RING}
    listing, reading = (f"TNT#default#IdentityStore:{op}" for op in ("listStores", "getStore"))
    granted = [argument for p in (listing, reading, listing) for argument in ("--permission", p)]

    migrated = run_idstore("migrate", environment=environment)
    created = run_idstore(*CREATE, *granted, "--name", "twice", environment=environment)

    assert (migrated.returncode, created.returncode) == (0, 0), created.stderr
    with sqlite3.connect(tmp_path / "idstore.db") as database:
        [(stored,)] = database.execute("SELECT permissions FROM api_keys WHERE name = 'twice'")
    assert json.loads(stored) == [listing, reading]


def test_more_permissions_than_a_key_may_hold_are_refused_as_the_api_does(tmp_path: Path) -> None:
    environment = {"IDSTORE_DATA_DIR": str(tmp_path)}
    many = [
        argument for _ in range(65) for argument in ("--permission", "TNT#default#IdentityStore:*")
    ]

    refused = run_idstore(*CREATE, *many, environment=environment)

    assert refused.returncode == 2
    assert refused.stderr.strip() == "idstore: 65 permissions given; a key holds at most 64"
    assert list(tmp_path.iterdir()) == []
