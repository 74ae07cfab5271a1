"""Pieces every router uses: paging parameters and the error responses each operation declares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from idstore.api.schemas.common import SORT_PATTERN, ErrorOut
from idstore.api.schemas.users import AuthenticationErrorOut
from idstore.services.errors import InvalidField
from idstore.services.paging import PageRequest


async def page_request(
    page: Annotated[int, Query(ge=0, le=1_000_000, description="0-based page number.")] = 0,
    size: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 20,
    sort: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[A-Za-z]+(,([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc]))?$",
            description="`field,asc` or `field,desc`.",
        ),
    ] = None,
) -> PageRequest:
    """Raises InvalidField (9002) for a `sort` that is not `field[,asc|desc]`."""
    if sort is None:
        return PageRequest(page=page, size=size)
    match = SORT_PATTERN.fullmatch(sort)
    if match is None:
        raise InvalidField.of("sort", "expected field,asc or field,desc")
    direction = (match.group(2) or "asc").lower()
    return PageRequest(page=page, size=size, sort=match.group(1), descending=direction == "desc")


_DESCRIPTIONS = {
    400: "Invalid request (9001, 9002) or a refusal with its code.",
    401: "No or invalid bearer token (9003).",
    403: "The token lacks the permission (9004).",
    404: "Not found (3000, 3100, 3200, 3300, 3303, 9006, 9011).",
    405: "Method not allowed on this route (9007).",
    409: "Conflict (3001, 3002, 3101, 3201, 3202, 3301, 3600, 3605).",
    413: "Body too large (9009).",
    415: "Body is not application/json (9008).",
    429: "Too many requests (9005).",
    500: "Unexpected server error (9099).",
    503: "Database unavailable; retry after Retry-After (9010).",
}
_ALWAYS = (400, 401, 403, 413, 415, 500, 503)


def described(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` with descriptions of one's own, e.g. `described(s503="...")`."""
    return {
        int(status.removeprefix("s")): {"model": ErrorOut, "description": text}
        for status, text in by_status.items()
    }


def errors(*statuses: int, authentication: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for an operation: the errors it can answer, all in the error body."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*_ALWAYS, *statuses}):
        model = AuthenticationErrorOut if authentication and status == 400 else ErrorOut
        declared[status] = {"model": model, "description": _DESCRIPTIONS[status]}
    return declared
