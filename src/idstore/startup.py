"""What `idstore serve` does before any server process starts: checks, migrations, first key."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from idstore.clock import SystemClock
from idstore.crypto.keyring import KeyRing, SealBroken, parse_key_ring
from idstore.crypto.keysource import load_keyring
from idstore.db import tables
from idstore.db.engine import Database
from idstore.db.migrate import migrate
from idstore.services import api_keys
from idstore.settings import Settings


class UnsafeStart(Exception):
    """The service refuses to start: `problems` say what to change."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Prepared:
    """The outcome of preparing: the first API key when this start made it, else None."""

    bootstrap_api_key: str | None


def key_ring_problems(settings: Settings) -> list[str]:
    """In production the key ring must be configured on purpose, readable by us alone, and
    hold no key a person typed (all one byte, say)."""
    if settings.secret_keys:
        return _weak_keys(parse_key_ring(settings.secret_keys))
    path = settings.resolved_key_file
    if not path.exists():
        return [
            f"no key ring: set IDSTORE_SECRET_KEYS or provide the key file {path} "
            "(production never creates one silently)"
        ]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [f"the key file {path} is readable by others (mode {mode:o}); chmod 600 it"]
    return _weak_keys(parse_key_ring(path.read_text()))


def _weak_keys(ring: KeyRing) -> list[str]:
    return [
        f"key {key_id} is not random (a single byte repeated): make one with 32 random bytes"
        for key_id, key in ring.keys
        if len(set(key)) == 1
    ]


async def prepare(settings: Settings) -> Prepared:
    """Check a production start, migrate, and on an empty database make the first API key.

    Raises UnsafeStart with every problem found, before anything is changed.
    """
    if settings.is_production:
        problems = key_ring_problems(settings)
        if problems:
            raise UnsafeStart(problems)

    # A development server's first start makes the key file; nothing else ever does.
    keyring = load_keyring(settings, create=not settings.is_production)
    database = Database(settings.resolved_database_url)
    try:
        await migrate(database)
        await refuse_a_foreign_key_ring(database, keyring)
        if settings.is_production:
            await _refuse_unsafe_callers(database)
            return Prepared(bootstrap_api_key=None)
        key = await api_keys.bootstrap(
            database,
            keyring,
            now=SystemClock().now(),
            api_key=settings.bootstrap_api_key or None,
        )
    finally:
        await database.dispose()
    return Prepared(bootstrap_api_key=key)


async def refuse_a_foreign_key_ring(database: Database, keyring: KeyRing) -> None:
    """Refuse a key ring that opens nothing this database holds: a server given its own key
    file would otherwise start, answer /health, and refuse every key and secret. One sealed
    secret is opened for it: a key of the right id but other bytes fails there."""
    totps = tables.user_totps.c
    async with database.transaction(write=False) as conn:
        hashed = set(await conn.scalars(select(tables.api_keys.c.hash_key_id).distinct()))
        sample = (await conn.execute(select(totps.id, totps.secret_sealed).limit(1))).first()
    held = {key_id for key_id, _ in keyring.keys}
    used = hashed | ({keyring.sealed_key_id(sample.secret_sealed)} if sample else set())
    opens = sample is None or _opens(keyring, sample.secret_sealed, sample.id)
    if (used and not used & held) or not opens:
        raise UnsafeStart(
            [
                f"this database's keys and secrets were made with key ring keys "
                f"{', '.join(sorted(used))}, and this server holds {', '.join(sorted(held))}: give "
                "every server the same key ring (IDSTORE_SECRET_KEYS, or the same key file)"
            ]
        )


def _opens(keyring: KeyRing, sealed: bytes, context: str) -> bool:
    try:
        keyring.open(sealed, context=context)
    except SealBroken:
        return False
    return True


async def _refuse_unsafe_callers(database: Database) -> None:
    keys = tables.api_keys.c
    async with database.transaction(write=False) as conn:
        active = (
            await conn.execute(
                select(keys.is_bootstrap).where(keys.status == str(api_keys.ApiKeyStatus.ACTIVE))
            )
        ).all()
    if not active:
        raise UnsafeStart(
            ["no API key: create the first with `idstore api-key create --tenant … --permission …`"]
        )
    bootstrap = await _scalar(
        database, select(keys.id).where(keys.is_bootstrap.is_(True), keys.status != "DELETED")
    )
    if bootstrap is not None:
        raise UnsafeStart(
            [
                "the bootstrap API key still exists (a blocked key can be unblocked): create "
                "your own keys, then delete it (DELETE /api/arthr/apiKeys/{id})"
            ]
        )


async def _scalar(database: Database, query: Any) -> Any:
    async with database.transaction(write=False) as conn:
        return await conn.scalar(query)
