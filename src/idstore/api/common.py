"""Pieces every router uses: paging parameters, and the responses each operation declares with
their examples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from idstore.api.examples.errors import error_example
from idstore.api.examples.values import Json
from idstore.api.schemas.common import SORT_PATTERN, ErrorOut
from idstore.api.schemas.users import AuthenticationErrorOut
from idstore.services.errors import (
    BodyTooLarge,
    DatabaseUnavailable,
    IdstoreError,
    InvalidField,
    InvalidJson,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    UnexpectedError,
    UnsupportedMediaType,
)
from idstore.services.paging import PageRequest

Refusal = IdstoreError | type[IdstoreError]


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


# Every operation behind a bearer token can answer these, whatever it does.
_ALWAYS: tuple[Refusal, ...] = (
    InvalidJson,
    InvalidField,
    Unauthenticated,
    PermissionDenied,
    TooManyRequests,
    BodyTooLarge,
    UnsupportedMediaType,
    UnexpectedError,
    DatabaseUnavailable,
)
# Statuses whose refusals, in an authentication attempt, carry the updated user.
_ATTEMPT_STATUSES = frozenset({400, 404, 409})

Responses = dict[int | str, dict[str, Any]]


def answers(
    success: Json | list[Json] | None, *refusals: Refusal, status: int = 200, attempt: bool = False
) -> Responses:
    """OpenAPI `responses` of an operation behind a bearer token: its success with an example
    (None for a 204), and the errors every such operation can answer plus `refusals`."""
    declared = declare(*_ALWAYS, *refusals, attempt=attempt)
    if success is not None:
        declared.update(succeeds(success, status=status))
    return declared


def succeeds(success: Json | list[Json], *, status: int = 200) -> Responses:
    """OpenAPI `responses` giving the success an example (its schema comes from the route)."""
    return {status: {"content": {"application/json": {"example": success}}}}


def declare(*refusals: Refusal, attempt: bool = False) -> Responses:
    """OpenAPI `responses` for `refusals`, by status: the error body, the codes the status can
    carry (`x-error-codes`) and an example of each. An instance among `refusals` replaces the
    class of its code, to show its own message (which field was invalid, what was not found)."""
    by_status: dict[int, dict[int, Refusal]] = {}
    for refusal in refusals:
        by_status.setdefault(refusal.http_status, {})[refusal.code] = refusal

    declared: Responses = {}
    for status, by_code in sorted(by_status.items()):
        codes = sorted(by_code)
        examples = {
            str(code): {
                "summary": f"{code}: {_meaning(by_code[code])}",
                "value": error_example(by_code[code], attempt=attempt),
            }
            for code in codes
        }
        declared[status] = {
            "model": AuthenticationErrorOut
            if attempt and status in _ATTEMPT_STATUSES
            else ErrorOut,
            "description": "; ".join(f"{_meaning(by_code[code])} ({code})" for code in codes),
            "x-error-codes": codes,
            "content": {"application/json": {"examples": examples}},
        }
    return declared


def _meaning(refusal: Refusal) -> str:
    kind = refusal if isinstance(refusal, type) else type(refusal)
    return kind.default_message[:1].upper() + kind.default_message[1:]
