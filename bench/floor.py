"""The floor: the smallest FastAPI + asyncpg app doing what one wrong-code authentication does.

Same route as idstore, same database, same key ring. In one transaction: read the user's TOTP
joined with the user row, locking the user row (FOR UPDATE OF users, by store, user id and
policy name as idstore's attempt query does), unseal the secret (AES-GCM, idstore's key ring),
compute and compare the codes of the drift window (idstore.otp.matching_steps), UPDATE the user
row (a failure counter), INSERT the audit record, COMMIT; answer 400 with a small JSON body.

What it leaves out on purpose, being a floor: it checks NO bearer token (anyone may call it),
keeps no audit hash chain, no lock policy, no per-user attempt rate, no request id middleware,
no logging. Not for use anywhere but `make bench`.

Run: FLOOR_DATABASE_URL=postgresql://… FLOOR_SECRET_KEYS=id:base64key python -m bench.floor
--port P [--workers N] (uvicorn with the flags `idstore serve` uses).
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]  # no type information published
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from idstore import otp
from idstore.crypto.keyring import KeyRing, parse_key_ring

TENANT = "default"
POOL_MIN, POOL_MAX = 10, 20  # idstore's pool: 10 kept, 10 more on demand

READ = """
SELECT u.id AS user_id, u.store_id, p.drift_steps, t.id AS totp_id, t.secret_sealed,
       t.algorithm, t.digits, t.period, t.last_used_step
FROM stores s
JOIN users u ON u.store_id = s.id
JOIN totp_policies p ON p.store_id = s.id AND p.name = $3
JOIN user_totps t ON t.user_id = u.id AND t.policy_id = p.id
WHERE s.tenant_id = $1 AND s.name = $2 AND u.id = $4 AND t.status = 'ACTIVE'
FOR UPDATE OF u
"""
COUNT_FAILURE = "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1"
RESET_FAILURES = "UPDATE users SET failed_attempts = 0 WHERE id = $1"
USE_STEP = "UPDATE user_totps SET last_used_step = $2 WHERE id = $1 AND last_used_step < $2"
AUDIT = """
INSERT INTO authentication_audit
    (id, tenant_id, store_id, user_id, type, result, error_code, created_dtm, details, request_id)
VALUES ($1, $2, $3, $4, 'TOTP', $5, $6, $7, $8, $9)
"""


class CodeIn(BaseModel):
    code: str


def create_app() -> FastAPI:
    """The app, configured from FLOOR_DATABASE_URL and FLOOR_SECRET_KEYS."""
    dsn = "postgresql://" + os.environ["FLOOR_DATABASE_URL"].split("://", 1)[1]
    keyring = parse_key_ring(os.environ["FLOOR_SECRET_KEYS"])
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # reset=_keep: asyncpg's default reset query on release would be a second transaction.
        pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX, reset=_keep)
        pools.append(pool)
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None)
    route = "/api/identity-store/stores/{store}/users/{user}/totps/authentications/{policy}"

    @app.post(route)
    async def authenticate(store: str, user: str, policy: str, body: CodeIn) -> JSONResponse:
        async with pools[0].acquire() as connection, connection.transaction():
            return await _attempt(connection, keyring, store, user, policy, body.code)

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "UP"}

    return app


async def _keep(_connection: asyncpg.Connection) -> None:
    """Leave a released connection as it is: the floor leaves nothing behind to reset."""


async def _attempt(
    connection: asyncpg.Connection, keyring: KeyRing, store: str, user: str, policy: str, code: str
) -> JSONResponse:
    row = await connection.fetchrow(READ, TENANT, store, policy, user)
    if row is None:
        return _error(404, 3100, "user not found")
    try:
        normalized = otp.normalize_code(code, digits=row["digits"])
    except otp.MalformedCode:
        return _error(400, 3400, "code malformed")
    steps = otp.matching_steps(
        keyring.open(row["secret_sealed"], context=row["totp_id"]),
        normalized,
        now=datetime.now(UTC).timestamp(),
        period=row["period"],
        digits=row["digits"],
        algorithm=otp.Algorithm(row["algorithm"]),
        drift_steps=row["drift_steps"],
    )
    fresh = [step for step in steps if step > row["last_used_step"]]
    if fresh and await connection.execute(USE_STEP, row["totp_id"], fresh[0]) == "UPDATE 1":
        await connection.execute(RESET_FAILURES, user)
        await _audit(connection, row, policy, error_code=None)
        return JSONResponse({"result": "SUCCESS"})
    await connection.execute(COUNT_FAILURE, user)
    error_code = 3402 if steps else 3401
    await _audit(connection, row, policy, error_code=error_code)
    return _error(400, error_code, "code already used" if steps else "code incorrect")


async def _audit(
    connection: asyncpg.Connection, row: asyncpg.Record, policy: str, *, error_code: int | None
) -> None:
    details = json.dumps({"totpInfo": {"policyName": policy, "id": row["totp_id"]}})
    result = "SUCCESS" if error_code is None else "FAILURE"
    await connection.execute(
        AUDIT,
        str(uuid.uuid4()),
        TENANT,
        row["store_id"],
        row["user_id"],
        result,
        error_code,
        datetime.now(UTC),
        details,
        str(uuid.uuid4()),
    )


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"httpStatus": status, "code": code, "message": message}, status)


def main() -> None:
    parser = argparse.ArgumentParser(description="the benchmark's floor app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    uvicorn.run(
        "bench.floor:create_app",
        factory=True,
        host="127.0.0.1",
        port=arguments.port,
        workers=arguments.workers,
        log_config=None,
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
