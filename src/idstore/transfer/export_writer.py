"""`idstore export`: one store's configuration, users and authenticators (TOTPs, passkeys,
appkeys and faces), written as a stream.

Users are read in batches inside one read-only snapshot, so a store of any size is written with
a batch in memory at a time and the file shows the store as of one instant. Every secret is
opened with the server's key ring only to be sealed at once to the recipient (recipient.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from idstore import __version__
from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.db.engine import Database
from idstore.services.rows import find_store
from idstore.transfer import appkey_records
from idstore.transfer import export_format as fmt
from idstore.transfer.export_format import SecretOwner, SecretUnreadable
from idstore.transfer.face_records import face_record, faces_of, kept_image
from idstore.transfer.passkey_records import config_record, passkey_record
from idstore.transfer.recipient import SCHEME, FileKeys, encode

BATCH_SIZE = 500


@dataclass(frozen=True)
class ExportSummary:
    users: int
    authenticators: int
    sha256: str  # of the whole file, for the recipient to compare over another channel


class _Lines:
    """Writes one JSON document per line, feeding the file's HMAC and its SHA-256."""

    def __init__(self, out: BinaryIO, keys: FileKeys) -> None:
        self._out = out
        self._mac = keys.file_mac()
        self._digest = hashlib.sha256()

    def write(self, record: dict[str, Any]) -> None:
        # ASCII escapes: a lone surrogate a client stored still makes a valid line.
        encoded = json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
        self._mac.update(encoded)
        self._out_write(encoded)

    def finish(self, record: dict[str, Any]) -> str:
        """Write the end line, carrying the HMAC of everything before it; return the SHA-256."""
        record["mac"] = encode(self._mac.digest())
        self._out_write(json.dumps(record, separators=(",", ":")).encode("utf-8") + b"\n")
        return self._digest.hexdigest()

    def _out_write(self, encoded: bytes) -> None:
        self._digest.update(encoded)
        self._out.write(encoded)


async def export_store(
    database: Database,
    keyring: KeyRing,
    *,
    tenant_id: str,
    store_name: str,
    recipient: X25519PublicKey,
    out: BinaryIO,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write the store to `out`, every secret sealed to `recipient`; `progress(done, total)`
    after each batch of users.

    Raises StoreNotFound (3000), or SecretUnreadable when a secret does not open.
    """
    keys = FileKeys.for_recipient(recipient)
    lines = _Lines(out, keys)
    async with database.transaction(write=False, snapshot=True) as conn:
        store = await find_store(conn, tenant_id=tenant_id, name=store_name)
        total = int(
            await conn.scalar(
                select(func.count())
                .select_from(tables.users)
                .where(tables.users.c.store_id == store.id)
            )
            or 0
        )
        lines.write(_header(keys, now))
        lines.write(await _store_record(conn, store))

        users = authenticators = 0
        async for batch in _user_batches(conn, store.id):
            async for record in _user_records(conn, batch, keyring, keys, store_id=store.id):
                authenticators += len(record["authenticators"])
                lines.write(record)
            users += len(batch.users)
            if progress is not None:
                progress(users, total)

    end = {"kind": "end", "users": users, "authenticators": authenticators}
    return ExportSummary(users, authenticators, lines.finish(end))


def _header(keys: FileKeys, now: datetime) -> dict[str, Any]:
    return {
        "format": fmt.FORMAT,
        "version": fmt.VERSION,
        "exportedDtm": now.isoformat().replace("+00:00", "Z"),
        "exportedBy": f"idstore {__version__}",
        "sealing": {
            "scheme": SCHEME,
            "recipient": keys.recipient,
            "ephemeralPublicKey": encode(keys.ephemeral_public),
            "keyCheck": keys.key_check(),
        },
    }


async def _store_record(conn: AsyncConnection, store: Row[Any]) -> dict[str, Any]:
    policies = await conn.execute(
        select(tables.totp_policies)
        .where(tables.totp_policies.c.store_id == store.id)
        .order_by(tables.totp_policies.c.id)
    )
    return {
        "kind": "store",
        **fmt.to_json(fmt.STORE_FIELDS, store._mapping),
        "totpPolicies": [fmt.to_json(fmt.POLICY_FIELDS, row._mapping) for row in policies],
        "passkeyConfigs": [
            config_record(row._mapping)
            for row in await _of_store(conn, tables.passkey_configs, store.id)
        ],
        "appkeyConfigs": [
            appkey_records.config_record(row._mapping)
            for row in await _of_store(conn, tables.appkey_configs, store.id)
        ],
    }


async def _of_store(conn: AsyncConnection, table: Any, store_id: str) -> Sequence[Row[Any]]:
    """The store's rows of a configuration table, in id order."""
    rows = await conn.execute(
        select(table).where(table.c.store_id == store_id).order_by(table.c.id)
    )
    return rows.all()


@dataclass(frozen=True)
class _Batch:
    users: Sequence[Row[Any]]
    totps: dict[str, list[Row[Any]]]
    passkeys: dict[str, list[Row[Any]]]
    appkeys: dict[str, list[Row[Any]]]
    challenges: dict[str, list[Row[Any]]]  # by appkey
    faces: dict[str, list[Row[Any]]]


async def _user_batches(conn: AsyncConnection, store_id: str) -> AsyncIterator[_Batch]:
    """The store's users in id order, BATCH_SIZE at a time, with their authenticators."""
    users = tables.users
    after = ""
    while True:
        batch = (
            await conn.execute(
                select(users)
                .where(users.c.store_id == store_id, users.c.id > after)
                .order_by(users.c.id)
                .limit(BATCH_SIZE)
            )
        ).all()
        if not batch:
            return
        user_ids = [row.id for row in batch]
        appkeys = await _by_user(conn, tables.user_appkeys, user_ids)
        appkey_ids = [row.id for rows in appkeys.values() for row in rows]
        yield _Batch(
            batch,
            totps=await _by_user(conn, tables.user_totps, user_ids),
            passkeys=await _by_user(conn, tables.user_passkeys, user_ids),
            appkeys=appkeys,
            challenges=await appkey_records.accepted_challenges(conn, appkey_ids),
            faces=await faces_of(conn, user_ids),
        )
        after = batch[-1].id


async def _by_user(
    conn: AsyncConnection, table: Any, user_ids: list[str]
) -> dict[str, list[Row[Any]]]:
    """The rows of `table` that belong to these users, by user, in id order."""
    by_user: dict[str, list[Row[Any]]] = {user_id: [] for user_id in user_ids}
    rows = await conn.execute(
        select(table).where(table.c.user_id.in_(user_ids)).order_by(table.c.id)
    )
    for row in rows:
        by_user[row.user_id].append(row)
    return by_user


async def _user_records(
    conn: AsyncConnection, batch: _Batch, keyring: KeyRing, keys: FileKeys, *, store_id: str
) -> AsyncIterator[dict[str, Any]]:
    """The batch's user records, one at a time: a kept face image is read as its user's turn
    comes, so the batch never holds more than one."""
    for user in batch.users:
        owner = SecretOwner(fmt.VERSION, store_id, user.id)
        authenticators = [
            _totp_record(totp, keyring, keys, store_id=store_id) for totp in batch.totps[user.id]
        ]
        authenticators += [passkey_record(row._mapping) for row in batch.passkeys[user.id]]
        authenticators += [
            appkey_records.appkey_record(row._mapping, batch.challenges[row.id])
            for row in batch.appkeys[user.id]
        ]
        for face in batch.faces[user.id]:
            image = await kept_image(conn, face)
            authenticators.append(face_record(face._mapping, keyring, keys, owner, image))
        yield {
            "kind": "user",
            **fmt.to_json(fmt.USER_FIELDS, user._mapping),
            "locks": fmt.to_json(fmt.LOCK_FIELDS, user._mapping),
            "authenticators": authenticators,
        }


def _totp_record(
    totp: Row[Any], keyring: KeyRing, keys: FileKeys, *, store_id: str
) -> dict[str, Any]:
    try:
        secret = keyring.open(totp.secret_sealed, context=totp.id)
    except SealBroken as exc:
        raise SecretUnreadable(
            f"the secret of TOTP {totp.id} does not open with this server's key ring"
        ) from exc
    binding = fmt.secret_binding(
        "totp.secret",
        version=fmt.VERSION,
        store_id=store_id,
        user_id=totp.user_id,
        authenticator_id=totp.id,
    )
    return {
        "type": fmt.TOTP,
        **fmt.to_json(fmt.TOTP_FIELDS, totp._mapping),
        "secret": {"sealed": keys.seal(secret, binding=binding)},
    }
