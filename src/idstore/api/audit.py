"""Routes for the authentication audit (spec §7), each with its `/ext` twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from idstore.api.common import answers, page_request
from idstore.api.examples import audit as examples
from idstore.api.examples.errors import PAGE_TOO_LARGE
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import audit_record_out, page_out
from idstore.api.routing import PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.audit import AuditRecordOut
from idstore.api.schemas.common import PageOut
from idstore.services import audit
from idstore.services.audit import AuditFilter
from idstore.services.context import Context, UserRef
from idstore.services.errors import InvalidField, ResourceNotFound, StoreNotFound, UserNotFound
from idstore.services.models import AuditResult, AuditType
from idstore.services.paging import PageRequest
from idstore.timestamps import millisecond_end, millisecond_start

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["authentication audit"], route_class=JsonBodyRoute
)

AUTHENTICATIONS = f"/{segment('storeName')}/users/{{user}}/authentications"


def aware(moment: datetime | None, field: str) -> datetime | None:
    """The instant in UTC. Raises InvalidField (9002) without a zone or beyond the calendar."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidField.of(field, "needs a time zone (e.g. Z)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidField.of(field, "lies outside the years 1 to 9999 in UTC") from None


# Records are stored to the microsecond but shown to the millisecond, and both bounds include
# their instant: `to` set to a record's own createdDtm must list it and its millisecond's peers.
def from_bound(moment: datetime | None) -> datetime | None:
    """The `from` filter: from the first microsecond of its millisecond, in UTC."""
    instant = aware(moment, "from")
    return None if instant is None else millisecond_start(instant)


def to_bound(moment: datetime | None) -> datetime | None:
    """The `to` filter: up to the last microsecond of its millisecond, in UTC."""
    instant = aware(moment, "to")
    return None if instant is None else millisecond_end(instant)


@user_route(
    router,
    "GET",
    AUTHENTICATIONS,
    operation_id="listAuthentications",
    ext_param="extId",
    response_model_exclude_none=True,
    responses=answers(examples.AUDIT_PAGE, StoreNotFound, UserNotFound, PAGE_TOO_LARGE),
)
async def list_authentications(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listAuthentications")],
    paging: Annotated[PageRequest, Depends(page_request)],
    type: AuditType | None = None,
    result: Literal["SUCCESS", "FAILURE"] | None = None,
    created_from: Annotated[datetime | None, Query(alias="from")] = None,
    created_to: Annotated[datetime | None, Query(alias="to")] = None,
) -> PageOut[AuditRecordOut]:
    """The user's authentication records, oldest first unless `sort=createdDtm,desc`."""
    where = AuditFilter(
        type=type,
        result=None if result is None else AuditResult(result),
        created_from=from_bound(created_from),
        created_to=to_bound(created_to),
    )
    page = await audit.list_records(
        run.database, ctx, store_name=storeName, ref=user, where=where, request=paging
    )
    return page_out(page, audit_record_out)


@user_route(
    router,
    "GET",
    AUTHENTICATIONS + "/" + segment("id"),
    operation_id="getAuthentication",
    ext_param="extId",
    response_model_exclude_none=True,
    responses=answers(
        examples.AUDIT_RECORD,
        StoreNotFound,
        UserNotFound,
        ResourceNotFound("authentication audit record not found"),
        examples.NUL_IN_ID,
    ),
)
async def get_authentication(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getAuthentication")],
) -> AuditRecordOut:
    """One authentication record of the user."""
    record = await audit.get_record(run.database, ctx, store_name=storeName, ref=user, record_id=id)
    return audit_record_out(record)
