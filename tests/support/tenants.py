"""API keys of any tenant, written straight into the database as `idstore api-key create` does."""

from __future__ import annotations

import asyncio

from idstore.db.engine import Database
from idstore.services import api_keys
from tests.support.clock import ManualClock
from tests.support.databases import async_url
from tests.support.server import LiveServer


def make_api_key(server: LiveServer, tenant: str, *operations: str) -> str:
    """A new key of `tenant` holding `TNT#{tenant}#IdentityStore:{operation}` for each operation."""
    permissions = tuple(f"TNT#{tenant}#IdentityStore:{operation}" for operation in operations)

    async def create() -> str:
        database = Database(async_url(server.settings.database_url))
        try:
            async with database.transaction() as conn:
                _, key = await api_keys.create_api_key(
                    conn,
                    server.keyring,
                    tenant_id=tenant,
                    permissions=permissions,
                    now=ManualClock().now(),
                )
            return key
        finally:
            await database.dispose()

    return asyncio.run(create())
