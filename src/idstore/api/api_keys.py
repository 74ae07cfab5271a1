"""Routes for callers: API keys and the bearer tokens issued for them (spec §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, Security
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection

from idstore.api.common import answers, declare, page_request, succeeds
from idstore.api.examples import callers as examples
from idstore.api.examples.errors import PAGE_TOO_LARGE
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import page_out
from idstore.api.routing import PathText, segment
from idstore.api.runtime import RuntimeDep, caller_for, context_of, refuse_repeated_header
from idstore.api.schemas.api_keys import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyStatusIn,
    TokenOut,
)
from idstore.api.schemas.common import PageOut
from idstore.services import api_keys
from idstore.services.api_keys import ApiKey, ApiKeyStatus
from idstore.services.callers import Caller
from idstore.services.errors import (
    BodyTooLarge,
    DatabaseUnavailable,
    InvalidJson,
    Unauthenticated,
    UnexpectedError,
    UnsupportedMediaType,
)
from idstore.services.paging import PageRequest

router = APIRouter(prefix="/api/arthr/apiKeys", tags=["API keys"], route_class=JsonBodyRoute)

KEY = "/" + segment("id")
MAX_API_KEY_LENGTH = 256
_KEY_LOOKUP = (examples.KEY_NOT_FOUND, examples.NUL_IN_KEY_ID)


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        tenant_id=key.tenant_id,
        name=key.name,
        permissions=list(key.permissions),
        status=key.status,
        created_dtm=key.created_dtm,
        last_updated_dtm=key.last_updated_dtm,
    )


class _OneApiKey(APIKeyHeader):
    """APIKeyHeader that refuses a request carrying two or more X-Api-Key headers."""

    async def __call__(self, request: HTTPConnection) -> str | None:
        refuse_repeated_header(request, "X-Api-Key")
        return await super().__call__(request)


_api_key_header = _OneApiKey(
    name="X-Api-Key",
    auto_error=False,
    scheme_name="APIKeyHeader",
    description="An API key, as created or bootstrapped.",
)


@router.post(
    "/issue",
    operation_id="issueToken",
    responses={
        **succeeds(examples.TOKEN),
        # No token yet, so none of the bearer token's refusals (403, 429).
        **declare(
            InvalidJson,
            examples.API_KEY_MISSING,
            BodyTooLarge,
            UnsupportedMediaType,
            UnexpectedError,
            DatabaseUnavailable,
        ),
    },
)
async def issue_token(
    run: RuntimeDep,
    x_api_key: Annotated[str | None, Security(_api_key_header)],
) -> TokenOut:
    """Exchange an API key (header `X-Api-Key`) for a bearer token."""
    if not x_api_key or len(x_api_key) > MAX_API_KEY_LENGTH:
        raise Unauthenticated("the X-Api-Key header must hold an API key")
    issued = await api_keys.issue_token(
        run.database,
        run.keyring,
        api_key=x_api_key,
        now=run.clock.now(),
        ttl_seconds=run.settings.token_ttl_seconds,
    )
    return TokenOut(token=issued.token, ttl=issued.ttl_seconds)


@router.post(
    "",
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(examples.API_KEY_CREATED, examples.PERMISSION_MALFORMED, status=201),
    operation_id="createApiKey",
)
async def create_api_key(
    body: Annotated[ApiKeyIn, Body(openapi_examples=examples.API_KEY_IN)],
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("createApiKey")],
) -> ApiKeyCreatedOut:
    """Create a key in the caller's tenant. The key is in this answer only, never again."""
    key, secret = await api_keys.create_for_caller(
        run.database,
        run.keyring,
        caller,
        context_of(caller, request, run),
        name=body.name,
        permissions=tuple(body.permissions),
    )
    return ApiKeyCreatedOut(**_out(key).model_dump(), key=secret)


@router.get(
    "",
    response_model_exclude_none=True,
    responses=answers(examples.API_KEYS_PAGE, PAGE_TOO_LARGE),
    operation_id="listApiKeys",
)
async def list_api_keys(
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("listApiKeys")],
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[ApiKeyOut]:
    """The keys of the caller's tenant."""
    return page_out(await api_keys.list_api_keys(run.database, caller, paging), _out)


@router.get(
    KEY,
    response_model_exclude_none=True,
    responses=answers(examples.API_KEY_OUT, *_KEY_LOOKUP),
    operation_id="getApiKey",
)
async def get_api_key(
    id: PathText, run: RuntimeDep, caller: Annotated[Caller, caller_for("getApiKey")]
) -> ApiKeyOut:
    """One key of the caller's tenant (9011 for another tenant's)."""
    return _out(await api_keys.get_api_key(run.database, caller, id))


async def _set_status(
    request: Request, run: RuntimeDep, caller: Caller, key_id: str, status: ApiKeyStatus | None
) -> ApiKey:
    return await api_keys.set_status(
        run.database,
        caller,
        context_of(caller, request, run),
        key_id,
        status=status,
        revocations=run.revocations,
    )


@router.post(
    KEY,
    response_model_exclude_none=True,
    responses=answers(examples.BLOCKED_API_KEY, *_KEY_LOOKUP),
    operation_id="updateApiKey",
)
async def update_api_key(
    id: PathText,
    body: Annotated[ApiKeyStatusIn, Body(openapi_examples=examples.API_KEY_STATUS_IN)],
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("updateApiKey")],
) -> ApiKeyOut:
    """Block (`{"status": "BLOCKED"}`) or unblock (`"ACTIVE"`) a key, as `…/block` and
    `…/unblock` do; `{}` changes nothing and answers the key."""
    status = None if body.status is None else ApiKeyStatus(body.status)
    return _out(await _set_status(request, run, caller, id, status))


@router.post(
    KEY + "/block",
    response_model_exclude_none=True,
    responses=answers(examples.BLOCKED_API_KEY, *_KEY_LOOKUP),
    operation_id="blockApiKey",
)
async def block_api_key(
    id: PathText,
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("updateApiKey")],
) -> ApiKeyOut:
    """Block a key: it is refused at once, and its tokens stop within seconds everywhere."""
    return _out(await _set_status(request, run, caller, id, ApiKeyStatus.BLOCKED))


@router.post(
    KEY + "/unblock",
    response_model_exclude_none=True,
    responses=answers(examples.UNBLOCKED_API_KEY, *_KEY_LOOKUP),
    operation_id="unblockApiKey",
)
async def unblock_api_key(
    id: PathText,
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("updateApiKey")],
) -> ApiKeyOut:
    """Unblock a key; tokens issued before now stay void: exchange the key for a new one."""
    return _out(await _set_status(request, run, caller, id, ApiKeyStatus.ACTIVE))


@router.delete(
    KEY,
    status_code=204,
    response_class=Response,
    responses=answers(None, *_KEY_LOOKUP),
    operation_id="deleteApiKey",
)
async def delete_api_key(
    id: PathText,
    request: Request,
    run: RuntimeDep,
    caller: Annotated[Caller, caller_for("deleteApiKey")],
) -> Response:
    """Delete a key: refused at once, its tokens stop within seconds on every process."""
    await _set_status(request, run, caller, id, ApiKeyStatus.DELETED)
    return Response(status_code=204)
