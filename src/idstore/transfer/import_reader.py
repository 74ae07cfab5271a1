"""`idstore import`: an export file read back into a database, all or nothing.

The file is read line by line inside one write transaction: each sealed secret is opened with the
recipient's private key as its line arrives and re-sealed with this database's key ring, and the
end line's HMAC is checked against every byte read. Passkeys (version 2) carry no secret: their
rows are checked (passkey_records.py) and inserted as they stand. Any refusal (wrong key, an
altered byte, an unknown version, a store that exists) raises before the transaction commits,
so nothing stays.
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
from idstore.db.ids import new_id
from idstore.services import configuration, locking
from idstore.services.policies import MAX_POLICIES_PER_STORE
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
from idstore.transfer.passkey_records import config_row, passkey_row
from idstore.transfer.recipient import FileKeys, Identity, SealedFieldBroken

BATCH_SIZE = 500


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


@dataclass(frozen=True)
class _Target:
    tenant_id: str
    name: str
    store_id: str
    file_store_id: str
    policies: dict[str, tuple[str, str]]  # the file's policy id -> the new one, and its name
    version: int  # the file's format version


async def _insert_store(
    conn: AsyncConnection,
    record: dict[str, Any],
    options: ImportOptions,
    ids: _Ids,
    lines: ExportLines,
) -> _Target:
    where = lines.where()
    values = _checked(fmt.from_json, fmt.STORE_FIELDS, record, f"{where} (store)")
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
    await _insert_passkey_configs(conn, record, values["id"], ids, lines)
    return _Target(
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
        row = _checked(fmt.from_json, fmt.POLICY_FIELDS, policy, f"{where} policy {number}")
        inserted[row["id"]] = (ids(row["id"]), row["name"])
        row.update(id=inserted[row["id"]][0], store_id=store_id)
        await _insert_part(conn, tables.totp_policies, row, f"{where} policy {number}", "name")
    return inserted


async def _insert_passkey_configs(
    conn: AsyncConnection, record: dict[str, Any], store_id: str, ids: _Ids, lines: ExportLines
) -> None:
    """Insert the store's passkey configurations (version 2; a version 1 file has none)."""
    where, configs = lines.where(), record.get("passkeyConfigs")
    if lines.version < 2:
        if configs is not None:
            raise FileRefused(f"{where}: field 'passkeyConfigs' is not in version 1")
        return
    if not isinstance(configs, list):
        raise FileRefused(f"{where}: field 'passkeyConfigs' is not a list")
    for number, config in enumerate(configs):
        row = _checked(config_row, config, f"{where} passkey configuration {number}")
        row.update(id=ids(row["id"]), store_id=store_id)
        place = f"{where} passkey configuration {number}"
        await _insert_part(conn, tables.passkey_configs, row, place, "rpId")


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


def _checked(convert: Callable[..., dict[str, Any]], *arguments: Any) -> dict[str, Any]:
    try:
        return convert(*arguments)
    except fmt.FormatError as exc:
        raise FileRefused(str(exc)) from None


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


@dataclass
class _Rows:
    """Rows waiting to be inserted, by table, in the order the foreign keys need."""

    users: list[dict[str, Any]] = field(default_factory=list)
    totps: list[dict[str, Any]] = field(default_factory=list)
    passkeys: list[dict[str, Any]] = field(default_factory=list)

    def tables(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        return [
            (tables.users, self.users),
            (tables.user_totps, self.totps),
            (tables.user_passkeys, self.passkeys),
            (tables.passkey_user_handles, self.user_handles()),
        ]

    def user_handles(self) -> list[dict[str, Any]]:
        """Whose each of the passkeys' user handles is (passkey_user_handles): a user's passkeys
        of one relying party share one; two users with one handle break the table's key."""
        owned = {
            (passkey["store_id"], passkey["rp_id"], passkey["user_handle"], passkey["user_id"])
            for passkey in self.passkeys
        }
        columns = ("store_id", "rp_id", "user_handle", "user_id")
        return [dict(zip(columns, handle, strict=True)) for handle in sorted(owned)]


async def _insert_users(
    conn: AsyncConnection,
    lines: ExportLines,
    keys: FileKeys,
    keyring: KeyRing,
    target: _Target,
    ids: _Ids,
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Insert every user line up to the end line; return the users and authenticators read."""
    rows = _Rows()
    user_count = authenticator_count = 0
    for record in user_lines(lines):
        added = _user_rows(record, keys, keyring, target, ids, lines.where(), rows)
        user_count, authenticator_count = user_count + 1, authenticator_count + added
        if len(rows.users) >= BATCH_SIZE:
            await _flush(conn, rows)
            if progress is not None:
                progress(user_count)
    await _flush(conn, rows)
    if progress is not None:
        progress(user_count)
    return user_count, authenticator_count


async def _flush(conn: AsyncConnection, rows: _Rows) -> None:
    try:
        for table, waiting in rows.tables():
            if waiting:
                await conn.execute(insert(table), waiting)
    except IntegrityError:
        raise StoreExists(
            "the file's user or authenticator ids are in this database already, or an external "
            "id, a passkey's credential id or a user handle of two users repeats: import a copy "
            "with --new-ids"
        ) from None
    for _, waiting in rows.tables():
        waiting.clear()


def _user_rows(
    record: dict[str, Any],
    keys: FileKeys,
    keyring: KeyRing,
    target: _Target,
    ids: _Ids,
    where: str,
    rows: _Rows,
) -> int:
    """Add the user's row and its authenticators' rows to `rows`; return how many
    authenticators the user has."""
    user = _checked(fmt.from_json, fmt.USER_FIELDS, record, where)
    user.update(_checked(fmt.from_json, fmt.LOCK_FIELDS, record.get("locks"), f"{where} locks"))
    _check_modality_locks(user["modality_locks"], where)
    file_user_id = user["id"]
    # The attempt budget refills and the audit chain starts afresh: the audit stays behind.
    user.update(id=ids(file_user_id), store_id=target.store_id)
    rows.users.append(user)

    authenticators = record.get("authenticators")
    if not isinstance(authenticators, list):
        raise FileRefused(f"{where}: field 'authenticators' is not a list")
    owner = {"store_id": target.store_id, "user_id": user["id"]}
    for number, authenticator in enumerate(authenticators):
        place = f"{where} authenticator {number}"
        kind = authenticator.get("type") if isinstance(authenticator, dict) else None
        if kind == fmt.TOTP:
            rows.totps.append(
                _totp_row(authenticator, keys, keyring, target, ids, file_user_id, place)
            )
        elif kind == fmt.PASSKEY and target.version >= 2:
            passkey = _checked(passkey_row, authenticator, place)
            rows.passkeys.append({**passkey, **owner, "id": ids(passkey["id"])})
        else:
            raise FileRefused(f"{place}: a type this idstore version does not import")
    return len(authenticators)


def _check_modality_locks(stored: Any, where: str) -> None:
    try:
        if not isinstance(stored, dict):
            raise TypeError
        locking.modality_locks_from_json(stored)
    except (TypeError, ValueError):
        raise FileRefused(f"{where}: field 'modalityLocks' is not one idstore reads") from None


def _totp_row(
    authenticator: dict[str, Any],
    keys: FileKeys,
    keyring: KeyRing,
    target: _Target,
    ids: _Ids,
    file_user_id: str,
    where: str,
) -> dict[str, Any]:
    row = _checked(fmt.from_json, fmt.TOTP_FIELDS, authenticator, where)
    if target.policies.get(row["policy_id"], ("", ""))[1] != row["policy_name"]:
        raise FileRefused(f"{where}: its policy is not among the store's")
    binding = fmt.secret_binding(
        "totp.secret",
        version=target.version,
        store_id=target.file_store_id,
        user_id=file_user_id,
        authenticator_id=row["id"],
    )
    sealed = authenticator.get("secret")
    try:
        if not isinstance(sealed, dict):
            raise SealedFieldBroken("no sealed secret")
        secret = keys.open(str(sealed.get("sealed", "")), binding=binding)
    except SealedFieldBroken:
        raise FileRefused(f"{where}: the sealed secret does not open (altered or moved)") from None
    row["id"] = ids(row["id"])
    row.update(
        store_id=target.store_id,
        user_id=ids(file_user_id),
        policy_id=target.policies[row["policy_id"]][0],
        secret_sealed=keyring.seal(secret, context=row["id"]),
    )
    return row
