"""What `idstore serve` does before any server process starts: checks, migrations, first key."""

from __future__ import annotations

import stat
from dataclasses import dataclass

from sqlalchemy import select

from idstore.app import load_keyring
from idstore.clock import SystemClock
from idstore.crypto.keyring import KeyRing
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
    """In production the key ring must be configured on purpose and readable by us alone."""
    if settings.secret_keys:
        return []
    path = settings.resolved_key_file
    if not path.exists():
        return [
            f"no key ring: set IDSTORE_SECRET_KEYS or provide the key file {path} "
            "(production never creates one silently)"
        ]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [f"the key file {path} is readable by others (mode {mode:o}); chmod 600 it"]
    return []


async def prepare(settings: Settings) -> Prepared:
    """Check a production start, migrate, and on an empty database make the first API key.

    Raises UnsafeStart with every problem found, before anything is changed.
    """
    if settings.is_production:
        problems = key_ring_problems(settings)
        if problems:
            raise UnsafeStart(problems)

    keyring = load_keyring(settings)
    database = Database(settings.resolved_database_url)
    try:
        await migrate(database)
        await _refuse_a_foreign_key_ring(database, keyring)
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


async def _refuse_a_foreign_key_ring(database: Database, keyring: KeyRing) -> None:
    """Refuse a key ring that opens nothing this database holds: a server given its own key
    file would otherwise start, answer /health, and refuse every key and secret."""
    async with database.transaction(write=False) as conn:
        hashed = set(await conn.scalars(select(tables.api_keys.c.hash_key_id).distinct()))
        sealed = await conn.scalar(select(tables.user_totps.c.secret_sealed).limit(1))
    held = {key_id for key_id, _ in keyring.keys}
    used = hashed | ({keyring.sealed_key_id(sealed)} if sealed is not None else set())
    if used and not used & held:
        raise UnsafeStart(
            [
                f"this database's keys and secrets were made with key ring keys "
                f"{', '.join(sorted(used))}, and this server holds {', '.join(sorted(held))}: give "
                "every server the same key ring (IDSTORE_SECRET_KEYS, or the same key file)"
            ]
        )


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
    if any(row.is_bootstrap for row in active):
        raise UnsafeStart(
            [
                "the bootstrap API key is still active: create your own keys, then delete it "
                "(DELETE /api/arthr/apiKeys/{id})"
            ]
        )
