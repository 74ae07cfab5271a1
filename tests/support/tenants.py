"""API keys of any tenant, written straight into the database as `idstore api-key create` does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from idstore.db.engine import Database
from idstore.services import api_keys
from tests.support.api import issue_token, unique
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


def bearer_client(server: LiveServer, api_key: str) -> httpx.Client:
    """A client of the server sending a bearer token issued for `api_key`."""
    token = issue_token(server.base_url, api_key)
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def tenant_admin(server: LiveServer) -> Iterator[httpx.Client]:
    """A client of a new tenant of its own holding every permission, so that a test may block
    its keys; the tenant's name is in its `X-Tenant` header (the test's bookkeeping only)."""
    tenant = unique("tenant")
    with bearer_client(server, make_api_key(server, tenant, "*")) as client:
        client.headers["X-Tenant"] = tenant
        yield client
