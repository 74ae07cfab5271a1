"""What the transfer tests share: an export file held in memory with the key that opens it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from idstore.crypto.keyring import KeyRing
from idstore.db.engine import Database
from idstore.transfer.export_writer import export_store
from idstore.transfer.recipient import Identity, parse_recipient
from tests.support.databases import async_url
from tests.support.totp_users import TotpUser


@dataclass(frozen=True)
class Exported:
    lines: list[bytes]
    identity: Identity
    owner: TotpUser


def write_export(
    database_url: str,
    keyring: KeyRing,
    store_name: str,
    identity: Identity,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The export of a store of tenant `default`, sealed to `identity`, by the real writer."""
    out = io.BytesIO()

    async def write() -> None:
        database = Database(async_url(database_url))
        try:
            await export_store(
                database,
                keyring,
                tenant_id="default",
                store_name=store_name,
                recipient=parse_recipient(identity.recipient),
                out=out,
                now=datetime.now(UTC),
                progress=progress,
            )
        finally:
            await database.dispose()

    asyncio.run(write())
    return out.getvalue()
