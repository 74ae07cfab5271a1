"""Re-sealing every secret at rest under the key ring's current key (`idstore rotate-keys`).

Rows are re-sealed in small batches, each its own short transaction, while the service keeps
answering; a row changed meanwhile is left for the conditional UPDATE to skip, and a later run
picks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, func, select, tuple_, update

from idstore.crypto.keyring import KeyRing, SealBroken
from idstore.db import tables
from idstore.db.engine import Database

BATCH_SIZE = 500
# Where a batch resumes: the last row's primary key, (store_id, id).
_Key = tuple[str, str]

# Every column that holds a sealed value, with the table it is in; the row id is the context.
# A face's kept image may be absent (NULL): only values present are examined.
SEALED_COLUMNS: tuple[tuple[Table, str], ...] = (
    (tables.user_totps, "secret_sealed"),
    (tables.user_biometrics, "template_sealed"),
    (tables.user_biometrics, "image_sealed"),
)


@dataclass(frozen=True)
class ResealReport:
    examined: int
    resealed: int
    api_keys_on_older_keys: int
    # Rows whose value does not open (altered, or under a key no longer held): left as they
    # are and named, so that one bad row cannot stop a rotation.
    unopenable: tuple[str, ...] = ()


async def reseal_all(
    database: Database,
    ring: KeyRing,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ResealReport:
    """Re-seal every value not sealed under `ring`'s current key; report what was done."""
    total = 0
    for table, column in SEALED_COLUMNS:
        async with database.transaction(write=False) as conn:
            total += int(
                await conn.scalar(
                    select(func.count()).select_from(table).where(table.c[column].is_not(None))
                )
                or 0
            )

    examined = resealed = 0
    unopenable: list[str] = []
    for table, column in SEALED_COLUMNS:
        last: _Key = ("", "")
        while True:
            batch, changed, last = await _reseal_batch(
                database, ring, table, column, last, unopenable
            )
            examined += batch
            resealed += changed
            if progress is not None and batch:  # a table with nothing left says nothing new
                progress(examined, total)
            if batch < BATCH_SIZE:
                break
    older = await _api_keys_on_older_keys(database, ring)
    return ResealReport(examined, resealed, older, tuple(unopenable))


async def _reseal_batch(
    database: Database,
    ring: KeyRing,
    table: Table,
    column: str,
    after: _Key,
    unopenable: list[str],
) -> tuple[int, int, _Key]:
    sealed = table.c[column]
    changed = 0
    async with database.transaction() as conn:
        rows = (
            await conn.execute(
                select(table.c.store_id, table.c.id, sealed)
                .where(tuple_(table.c.store_id, table.c.id) > tuple_(*after), sealed.is_not(None))
                .order_by(table.c.store_id, table.c.id)
                .limit(BATCH_SIZE)
            )
        ).all()
        for store_id, row_id, value in rows:
            try:
                if ring.sealed_key_id(value) == ring.current_key_id:
                    continue
                fresh = ring.seal(ring.open(value, context=row_id), context=row_id)
            except SealBroken:
                unopenable.append(row_id)
                continue
            # Only if the row still holds what was read: a concurrent change wins.
            result = await conn.execute(
                update(table)
                .where(table.c.store_id == store_id, table.c.id == row_id, sealed == value)
                .values({column: fresh})
            )
            changed += result.rowcount
    return len(rows), changed, (rows[-1][0], rows[-1][1]) if rows else after


async def _api_keys_on_older_keys(database: Database, ring: KeyRing) -> int:
    # API keys are hashed, not sealed: they move to the current key when next presented.
    async with database.transaction(write=False) as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(tables.api_keys)
            .where(tables.api_keys.c.hash_key_id != ring.current_key_id)
        )
    return int(count or 0)
