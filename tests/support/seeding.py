"""TOTPs with a secret the test chooses, written straight into the server's database.

The API only makes random secrets; the RFC vectors and the issue's fixed inputs need a known one.
A seeded TOTP is the row a registration would have written, sealed with the server's key ring.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from idstore.crypto.keyring import KeyRing
from idstore.db import tables
from tests.support.databases import async_url

# RFC 6238 Appendix B seeds: the ASCII digits repeated to the hash's block size.
RFC_SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


def b32(secret: bytes) -> str:
    """The secret as an authenticator app receives it: base32, no padding."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class TotpSpec:
    """What a seeded TOTP is registered with."""

    secret: bytes
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Seeder:
    """Writes and reads rows of the server's database from the test thread (own engine)."""

    database_url: str
    keyring: KeyRing

    def totp(
        self,
        *,
        store: Mapping[str, Any],
        user: Mapping[str, Any],
        policy: Mapping[str, Any],
        spec: TotpSpec,
        now: datetime | None = None,
    ) -> str:
        """Give the user a TOTP for the policy (replacing one it has); return the TOTP's id."""
        moment = now or datetime.now(UTC)
        totp_id = str(uuid.uuid4())
        row = {
            "id": totp_id,
            "store_id": store["id"],
            "user_id": user["id"],
            "policy_id": policy["id"],
            "policy_name": policy["name"],
            "status": spec.status,
            "issuer": store["name"],
            "username": user["externalId"],
            "algorithm": spec.algorithm,
            "digits": spec.digits,
            "period": spec.period,
            "secret_sealed": self.keyring.seal(spec.secret, context=totp_id),
            "last_used_step": -1,
            "created_dtm": moment,
            "last_updated_dtm": moment,
            "activated_dtm": moment if spec.status != "PENDING" else None,
            "expiration_dtm": moment + timedelta(seconds=600) if spec.status == "PENDING" else None,
            "last_authenticated_with_dtm": None,
        }
        totps = tables.user_totps
        same = (totps.c.user_id == user["id"]) & (totps.c.policy_id == policy["id"])
        asyncio.run(self._write([delete(totps).where(same), insert(totps).values(row)]))
        return totp_id

    def execute(self, statement: Any) -> None:
        """Run and commit one statement against the server's database."""
        asyncio.run(self._write([statement]))

    def rows(self, statement: Any) -> list[dict[str, Any]]:
        """Run a SELECT against the server's database; each row as a column→value dict."""
        return asyncio.run(self._read(statement))

    def totp_rows(self, user_id: str) -> list[dict[str, Any]]:
        return self.rows(select(tables.user_totps).where(tables.user_totps.c.user_id == user_id))

    def audit_rows(self, user_id: str) -> list[dict[str, Any]]:
        audit = tables.authentication_audit
        return self.rows(select(audit).where(audit.c.user_id == user_id))

    async def _write(self, statements: Sequence[Any]) -> None:
        engine = create_async_engine(async_url(self.database_url), poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await engine.dispose()

    async def _read(self, statement: Any) -> list[dict[str, Any]]:
        engine = create_async_engine(async_url(self.database_url), poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return [dict(row._mapping) for row in await conn.execute(statement)]
        finally:
            await engine.dispose()
