"""What `idstore import` does with passkeys (format version 2), run in-process.

A user with a TOTP and a passkey, registered over HTTP on the session's server, is exported with
the real writer; the file, as written or altered, is read by the real reader into a fresh database.
A passkey's public key and counter are not sealed: the file's HMAC is what protects them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from idstore.db import tables
from idstore.transfer.import_file import FileRefused
from idstore.transfer.import_reader import ImportOptions
from idstore.transfer.recipient import Identity, encode
from tests.support.api import Api
from tests.support.exports import Exported, write_export
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user
from tests.support.webauthn_authenticator import SoftwareAuthenticator
from tests.support.webauthn_keys import CoseAlgorithm, CredentialKey
from tests.transfer.test_import_refusals import query, run_import

PASSKEY_TABLES = (
    tables.stores,
    tables.users,
    tables.user_totps,
    tables.passkey_configs,
    tables.user_passkeys,
    tables.passkey_user_handles,  # filled from the passkeys: whose each user handle is
)


@pytest.fixture
def exported(api: Api, seeder: Seeder, server: LiveServer, database_url: str) -> Exported:
    """A store with a relying party and a user holding a TOTP and a passkey, exported."""
    owner = totp_user(api, seeder, firstName="Ada")
    config = {"rpId": "example.com", "restrictedOrigins": [ORIGIN]}
    created = api.client.post(f"{api.store_url(owner.store_name)}/passkeyConfig", json=config)
    assert created.status_code == 201, created.text
    rp = PasskeyStore(api, owner.store_name)
    authenticator = SoftwareAuthenticator(ORIGIN)
    rp.registered(owner.user, authenticator)
    assert rp.sign_in(authenticator, user=owner.user).status_code == 200  # signCount 1
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, owner.store_name, identity)
    return Exported(written.splitlines(keepends=True), identity, owner)


def counts(url: str) -> list[int]:
    return [query(url, select(func.count()).select_from(table))[0][0] for table in PASSKEY_TABLES]


def refused(url: str, exported: Exported, change: Callable[[bytes], bytes]) -> str:
    """Import the file with its user line (line 3) changed; check nothing was written."""
    lines = [*exported.lines[:2], change(exported.lines[2]), *exported.lines[3:]]
    with pytest.raises(FileRefused) as refusal:
        run_import(url, exported.identity, lines)
    assert counts(url) == [0, 0, 0, 0, 0, 0]
    return str(refusal.value)


def passkey_of(user_line: bytes) -> dict[str, Any]:
    authenticators: list[dict[str, Any]] = json.loads(user_line)["authenticators"]
    (passkey,) = [item for item in authenticators if item["type"] != "TOTP"]
    return passkey


def test_the_passkey_and_its_relying_party_are_imported_as_they_were(
    exported: Exported, empty_database: str, database_url: str
) -> None:
    summary = run_import(empty_database, exported.identity, exported.lines)

    assert (summary.users, summary.authenticators) == (1, 2)
    assert counts(empty_database) == [1, 1, 1, 1, 1, 1]
    store_id = exported.owner.store["id"]
    for table in (tables.passkey_configs, tables.user_passkeys):
        statement = select(table).where(table.c.store_id == store_id)
        assert query(empty_database, statement) == query(database_url, statement)
    (passkey,) = query(empty_database, select(tables.user_passkeys))
    assert (passkey.sign_count, passkey.user_id) == (1, exported.owner.user["id"])
    (handle,) = query(empty_database, select(tables.passkey_user_handles))
    assert tuple(handle) == (store_id, "example.com", passkey.user_handle, passkey.user_id)
    assert passkey_of(exported.lines[2])["type"] == "Passkey"


def test_another_public_key_is_refused_by_the_files_hmac(
    exported: Exported, empty_database: str
) -> None:
    # A well-formed key of the same algorithm: only the HMAC can tell it is not the registered one.
    other = encode(CredentialKey.generate(CoseAlgorithm.ES256).cose_public_key())
    original = passkey_of(exported.lines[2])["publicKey"]

    message = refused(
        empty_database, exported, lambda line: line.replace(original.encode(), other.encode())
    )

    assert message == "the file was altered: its HMAC does not match its contents"


def test_a_lowered_sign_count_is_refused_by_the_files_hmac(
    exported: Exported, empty_database: str
) -> None:
    # A counter rolled back would let a cloned authenticator's old assertions in again.
    def lower(line: bytes) -> bytes:
        return re.sub(rb'"signCount":1\b', b'"signCount":0', line)

    assert lower(exported.lines[2]) != exported.lines[2]
    message = refused(empty_database, exported, lower)

    assert message == "the file was altered: its HMAC does not match its contents"


def test_a_public_key_that_is_no_cose_key_is_refused_naming_the_field(
    exported: Exported, empty_database: str
) -> None:
    original = passkey_of(exported.lines[2])["publicKey"]

    message = refused(
        empty_database, exported, lambda line: line.replace(original.encode(), b"AAAA")
    )

    assert message == "line 3 authenticator 1: field 'publicKey' is not a COSE public key"


def test_a_version_1_header_on_a_file_with_passkeys_is_refused(
    exported: Exported, empty_database: str
) -> None:
    lines = [exported.lines[0].replace(b'"version":3', b'"version":1'), *exported.lines[1:]]

    with pytest.raises(FileRefused) as refusal:
        run_import(empty_database, exported.identity, lines)

    assert str(refusal.value) == "line 2: field 'passkeyConfigs' is not in version 1"
    assert counts(empty_database) == [0, 0, 0, 0, 0, 0]


def test_a_copy_with_new_ids_gives_its_passkeys_and_relying_party_to_the_copy(
    exported: Exported, empty_database: str
) -> None:
    first = run_import(empty_database, exported.identity, exported.lines)
    copy = run_import(
        empty_database,
        exported.identity,
        exported.lines,
        ImportOptions(store_name="copy", new_ids=True),
    )

    assert counts(empty_database) == [2, 2, 2, 2, 2, 2]
    passkeys = tables.user_passkeys
    copied = query(empty_database, select(passkeys).where(passkeys.c.store_id == copy.store_id))
    (users,) = query(
        empty_database, select(tables.users.c.id).where(tables.users.c.store_id == copy.store_id)
    )
    assert [(row.user_id, row.credential_id) for row in copied] == [
        (users.id, passkey_of(exported.lines[2])["credentialId"])
    ]
    assert copied[0].id != passkey_of(exported.lines[2])["id"]
    configs = query(empty_database, select(tables.passkey_configs))
    assert {row.store_id for row in configs} == {
        first.store_id,
        copy.store_id,
    }


def test_user_handles_lost_from_the_attributes_are_imported_from_the_passkeys(
    api: Api, seeder: Seeder, server: LiveServer, database_url: str, empty_database: str
) -> None:
    rp = PasskeyStore.create(api)
    user, _, passkey = rp.enrol()
    # What an attributes update of an older version left: the user handle gone from them.
    users = tables.users.c
    seeder.execute(
        update(tables.users).where(users.id == user["id"]).values(attributes={"tier": "gold"})
    )
    identity = Identity.generate()
    written = write_export(database_url, server.keyring, rp.store, identity)

    run_import(empty_database, identity, written.splitlines(keepends=True))

    (imported,) = query(empty_database, select(tables.users.c.attributes))
    handles = {rp.rp_id: {"USER_HANDLE": passkey["userHandle"]}}
    assert imported.attributes == {"tier": "gold", "passkeyUsers": handles}
