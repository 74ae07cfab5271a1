"""Liveness and readiness, for load balancers and orchestrators; no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from idstore import metrics
from idstore.api.common import declare, succeeds
from idstore.api.examples.callers import HEALTHY, METRICS
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.runtime import RuntimeDep
from idstore.api.schemas.common import ResponseBody
from idstore.services.errors import DatabaseUnavailable

router = APIRouter(prefix="/health", tags=["health"], route_class=JsonBodyRoute)


class HealthOut(ResponseBody):
    status: str


metrics_router = APIRouter(tags=["metrics"], route_class=JsonBodyRoute)


@metrics_router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS}},
            "description": "Prometheus text format.",
        }
    },
)
async def prometheus_metrics() -> Response:
    """Authentications by modality, result and code; locks; latency by route; pool use."""
    text, content_type = metrics.exposition()
    return Response(text, media_type=content_type)


_UP = succeeds(HEALTHY)


# Load balancers often probe with HEAD (RFC 9110 §9.3.2: the status of a GET, no body; the
# server drops the body). Left out of the OpenAPI document: a second operation of the same id.
@router.get("/live", operation_id="live", responses=_UP)
@router.head("/live", include_in_schema=False)
async def live() -> HealthOut:
    """The process answers."""
    return HealthOut(status="UP")


@router.get(
    "/ready",
    operation_id="ready",
    responses={**_UP, **declare(DatabaseUnavailable)},
)
@router.head("/ready", include_in_schema=False)
async def ready(run: RuntimeDep) -> HealthOut:
    """The process answers and its database does too (503, 9010, when it does not)."""
    async with run.database.transaction(write=False) as conn:
        await conn.execute(text("SELECT 1"))
    return HealthOut(status="UP")
