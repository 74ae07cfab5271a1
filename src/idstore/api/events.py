"""Route for the admin event log: who changed what, when, in which request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from idstore.api.audit import from_bound, to_bound
from idstore.api.common import answers, page_request
from idstore.api.examples import audit as examples
from idstore.api.presenters import page_out
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.common import Dtm, PageOut, ResponseBody, Storable, StrictStr
from idstore.services import events
from idstore.services.context import Context
from idstore.services.errors import StoreNotFound
from idstore.services.events import AdminEvent, EventFilter
from idstore.services.paging import PageRequest

router = APIRouter(prefix="/api/identity-store", tags=["admin events"])

# Filters, not names: a value no store, key or kind could have finds nothing rather than a 400.
StoreNameFilter = Annotated[StrictStr, Field(max_length=64), Storable]
CallerIdFilter = Annotated[StrictStr, Field(max_length=36), Storable]
KindFilter = Annotated[StrictStr, Field(max_length=48), Storable]


class AdminEventOut(ResponseBody):
    id: str
    tenant_id: str
    store_id: str | None = None
    caller_id: str
    request_id: str | None = None
    kind: str
    subject_id: str | None = None
    created_dtm: Dtm
    details: dict[str, Any]


def _out(event: AdminEvent) -> AdminEventOut:
    return AdminEventOut(**event.__dict__)


@router.get(
    "/events",
    operation_id="listEvents",
    response_model_exclude_none=True,
    responses=answers(examples.EVENTS_PAGE, StoreNotFound, examples.TIME_WITHOUT_ZONE),
)
async def list_events(
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listEvents")],
    paging: Annotated[PageRequest, Depends(page_request)],
    storeName: StoreNameFilter | None = None,
    callerId: Annotated[CallerIdFilter | None, Query(description="An API key id.")] = None,
    kind: Annotated[
        KindFilter | None, Query(description="e.g. user.created, apiKey.blocked")
    ] = None,
    created_from: Annotated[datetime | None, Query(alias="from")] = None,
    created_to: Annotated[datetime | None, Query(alias="to")] = None,
) -> PageOut[AdminEventOut]:
    """Changes callers of this tenant made: stores, policies, users, TOTPs, API keys."""
    where = EventFilter(
        store_name=storeName,
        caller_id=callerId,
        kind=kind,
        created_from=from_bound(created_from),
        created_to=to_bound(created_to),
    )
    page = await events.list_events(run.database, ctx, where=where, request=paging)
    return page_out(page, _out)
