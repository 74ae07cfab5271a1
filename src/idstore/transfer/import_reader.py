"""`idstore import`: an export file read back into a database, all or nothing.

The file is read line by line inside one write transaction: each sealed secret is opened with the
recipient's private key as its line arrives and re-sealed with this database's key ring, and the
end line's HMAC is checked against every byte read. Passkeys (version 2) carry no secret: their
rows are checked (passkey_records.py) and inserted as they stand, as are appkeys (version 3,
appkey_records.py); a face's template (version 3) is opened and re-sealed like a secret
(face_records.py, import_rows.py). Any refusal (wrong key, an altered byte, an unknown version,
a store that exists) raises before the transaction commits, so nothing stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.ids import is_id, new_id
from idstore.services import configuration, locking, passkey_user_handles
from idstore.services.policies import MAX_POLICIES_PER_STORE
from idstore.transfer import appkey_records, passkey_records
from idstore.transfer import export_format as fmt
from idstore.transfer.import_file import (
    ExportLines,
    FileRefused,
    StoreExists,
    check_end,
    expect,
    open_header,
    user_lines,
)
from idstore.transfer.import_rows import Rows, Target, UserAuthenticators, checked
from idstore.transfer.recipient import FileKeys, Identity

BATCH_SIZE = 500
# Kept face images (up to 10 MiB each) go in smaller batches: 500 of them would not fit memory.
BATCH_FACE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ImportOptions:
    """Where the store goes: the file's tenant and name unless given; `new_ids` gives the
    store, its policies, users and authenticators fresh ids (a copy beside the original)."""

    tenant_id: str | None = None
    store_name: str | None = None
    new_ids: bool = False


@dataclass(frozen=True)
class ImportSummary:
    tenant_id: str
    store_name: str
    store_id: str
    users: int
    authenticators: int
    sha256: str


@dataclass
class _Ids:
    """The file's ids, or fresh ones consistently in their place."""

    fresh: bool
    given: dict[str, str] = field(default_factory=dict)

    def __call__(self, old: str) -> str:
        if not self.fresh:
            if not is_id(old):
                # Kept, an id must be one this service makes: `ext` would name a route instead.
                raise FileRefused(f"{old[:40]!r} is not an id this service makes")
            return old
        return self.given.setdefault(old, new_id())


async def import_store(
    database: Database,
    keyring: KeyRing,
    identity: Identity,
    source: BinaryIO,
    *,
    options: ImportOptions,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read an export into the database, sealing its secrets with `keyring`.

    Raises WrongKey, UnknownFormat, FileRefused or StoreExists, having written nothing.
    """
    lines = ExportLines(source)
    keys = open_header(lines, identity)
    store_record = expect(lines, "store")
    ids = _Ids(options.new_ids)
    async with database.transaction() as conn:
        target = await _insert_store(conn, store_record, options, ids, lines)
        counts = await _insert_users(conn, lines, keys, keyring, target, ids, progress)
        check_end(lines, keys, counts)
    return ImportSummary(
        target.tenant_id,
        target.name,
        target.store_id,
        counts[0],
        counts[1],
        lines.digest.hexdigest(),
    )


async def _insert_store(
    conn: AsyncConnection,
    record: dict[str, Any],
    options: ImportOptions,
    ids: _Ids,
    lines: ExportLines,
) -> Target:
    where = lines.where()
    values = checked(fmt.from_json, fmt.STORE_FIELDS, record, f"{where} (store)")
    _check_configuration(values["configuration"], where)
    policies = _policy_records(record, where)
    file_store_id = values["id"]
    values["id"] = ids(file_store_id)
    values["tenant_id"] = options.tenant_id or values["tenant_id"]
    values["name"] = options.store_name or values["name"]

    await _refuse_existing_store(conn, values)
    try:
        await conn.execute(insert(tables.stores).values(values))
    except IntegrityError:  # made by someone else since the check
        raise StoreExists(f"the store {values['name']!r} was created meanwhile") from None
    inserted = await _insert_policies(conn, policies, values["id"], ids, where)
    for configs in (_PASSKEY_CONFIGS, _APPKEY_CONFIGS):
        await _insert_configs(conn, configs, record, values["id"], ids, lines)
    return Target(
        values["tenant_id"], values["name"], values["id"], file_store_id, inserted, lines.version
    )


def _policy_records(record: dict[str, Any], where: str) -> list[Any]:
    """The store's TOTP policies as the file gives them, refused (before anything is written)
    when they are more than a store holds here."""
    policies = record.get("totpPolicies")
    if not isinstance(policies, list):
        raise FileRefused(f"{where}: field 'totpPolicies' is not a list")
    if len(policies) > MAX_POLICIES_PER_STORE:
        raise FileRefused(
            f"{where}: the store has {len(policies)} TOTP policies; a store holds at most "
            f"{MAX_POLICIES_PER_STORE} (docs/decisions.md)"
        )
    return policies


async def _insert_policies(
    conn: AsyncConnection, policies: list[Any], store_id: str, ids: _Ids, where: str
) -> dict[str, tuple[str, str]]:
    """Insert the store's TOTP policies; return each file id's new id and the policy's name."""
    inserted = {}
    for number, policy in enumerate(policies):
        row = checked(fmt.from_json, fmt.POLICY_FIELDS, policy, f"{where} policy {number}")
        inserted[row["id"]] = (ids(row["id"]), row["name"])
        row.update(id=inserted[row["id"]][0], store_id=store_id)
        await _insert_part(conn, tables.totp_policies, row, f"{where} policy {number}", "name")
    return inserted


@dataclass(frozen=True)
class _Configs:
    """A kind of relying-party configuration in the store record: its field, the version it
    first stood in, its table, and how a record is checked into a row."""

    field: str
    since: int
    table: Any
    noun: str
    to_row: Callable[[Any, str], dict[str, Any]]


_PASSKEY_CONFIGS = _Configs(
    "passkeyConfigs",
    fmt.PASSKEYS_SINCE,
    tables.passkey_configs,
    "passkey configuration",
    passkey_records.config_row,
)
_APPKEY_CONFIGS = _Configs(
    "appkeyConfigs",
    fmt.APPKEYS_AND_FACES_SINCE,
    tables.appkey_configs,
    "appkey configuration",
    appkey_records.config_row,
)


async def _insert_configs(
    conn: AsyncConnection,
    kind: _Configs,
    record: dict[str, Any],
    store_id: str,
    ids: _Ids,
    lines: ExportLines,
) -> None:
    """Insert the store's configurations of a kind (none in a file older than the kind)."""
    where, configs = lines.where(), record.get(kind.field)
    if lines.version < kind.since:
        if configs is not None:
            raise FileRefused(f"{where}: field {kind.field!r} is not in version {lines.version}")
        return
    if not isinstance(configs, list):
        raise FileRefused(f"{where}: field {kind.field!r} is not a list")
    for number, config in enumerate(configs):
        place = f"{where} {kind.noun} {number}"
        row = checked(kind.to_row, config, place)
        row.update(id=ids(row["id"]), store_id=store_id)
        await _insert_part(conn, kind.table, row, place, "rpId")


async def _insert_part(
    conn: AsyncConnection, table: Any, row: dict[str, Any], place: str, unique: str
) -> None:
    """Insert one part of the store. Raises StoreExists when its id is taken or its `unique`
    field repeats within the store."""
    try:
        await conn.execute(insert(table).values(row))
    except IntegrityError:
        raise StoreExists(
            f"{place}: its id is in this database already, or its {unique} repeats: "
            "import a copy with --new-ids"
        ) from None


def _check_configuration(stored: Any, where: str) -> None:
    try:
        configuration.from_json(stored)
    except (AttributeError, TypeError, ValueError):
        raise FileRefused(f"{where}: the store's configuration is not one idstore reads") from None


async def _refuse_existing_store(conn: AsyncConnection, values: dict[str, Any]) -> None:
    stores = tables.stores.c
    same_name = (stores.tenant_id == values["tenant_id"]) & (stores.name == values["name"])
    found = (
        await conn.execute(
            select(stores.id, stores.name).where(or_(same_name, stores.id == values["id"]))
        )
    ).first()
    if found is None:
        return
    if found.name == values["name"]:
        raise StoreExists(
            f"tenant {values['tenant_id']!r} has a store {values['name']!r} already: delete it, "
            "or import under another name with --store-name"
        )
    raise StoreExists(
        f"this database holds the file's store id {values['id']} (as store {found.name!r}): "
        "import a copy with --new-ids"
    )


async def _insert_users(
    conn: AsyncConnection,
    lines: ExportLines,
    keys: FileKeys,
    keyring: KeyRing,
    target: Target,
    ids: _Ids,
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Insert every user line up to the end line; return the users and authenticators read."""
    rows = Rows()
    user_count = authenticator_count = 0
    for record in user_lines(lines):
        added = _user_rows(record, keys, keyring, target, ids, lines.where(), rows)
        user_count, authenticator_count = user_count + 1, authenticator_count + added
        if len(rows.users) >= BATCH_SIZE or rows.face_bytes >= BATCH_FACE_BYTES:
            await _flush(conn, rows)
            if progress is not None:
                progress(user_count)
    await _flush(conn, rows)
    if progress is not None:
        progress(user_count)
    return user_count, authenticator_count


async def _flush(conn: AsyncConnection, rows: Rows) -> None:
    try:
        for table, waiting in rows.tables():
            if waiting:
                await conn.execute(insert(table), waiting)
    except IntegrityError:
        raise StoreExists(
            "the file's user or authenticator ids are in this database already, or an external "
            "id, a passkey's credential id, an appkey's key id or a user handle of two users "
            "repeats: import a copy with --new-ids"
        ) from None
    rows.clear()


def _user_rows(
    record: dict[str, Any],
    keys: FileKeys,
    keyring: KeyRing,
    target: Target,
    ids: _Ids,
    where: str,
    rows: Rows,
) -> int:
    """Add the user's row and its authenticators' rows to `rows`; return how many
    authenticators the user has."""
    user = checked(fmt.from_json, fmt.USER_FIELDS, record, where)
    user.update(checked(fmt.from_json, fmt.LOCK_FIELDS, record.get("locks"), f"{where} locks"))
    _check_modality_locks(user["modality_locks"], where)
    file_user_id = user["id"]
    # The attempt budget refills and the audit chain starts afresh: the audit stays behind.
    user.update(id=ids(file_user_id), store_id=target.store_id)
    rows.users.append(user)

    authenticators = record.get("authenticators")
    if not isinstance(authenticators, list):
        raise FileRefused(f"{where}: field 'authenticators' is not a list")
    UserAuthenticators(keys, keyring, target, ids, file_user_id).add(authenticators, rows, where)
    # The user handles in the attributes are the server's: the passkeys' decide, so that a file
    # whose attributes lost them (an older version's attributes update) imports them back.
    carried = {
        passkey["rp_id"]: passkey["user_handle"]
        for passkey in rows.passkeys
        if passkey["user_id"] == user["id"]
    }
    user["attributes"] = passkey_user_handles.with_passkeys_handles(user["attributes"], carried)
    return len(authenticators)


def _check_modality_locks(stored: Any, where: str) -> None:
    try:
        if not isinstance(stored, dict):
            raise TypeError
        locking.modality_locks_from_json(stored)
    except (TypeError, ValueError):
        raise FileRefused(f"{where}: field 'modalityLocks' is not one idstore reads") from None
