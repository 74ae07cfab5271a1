"""Routes for callers: exchanging an API key for a bearer token (spec §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from idstore.api.common import errors
from idstore.api.runtime import RuntimeDep
from idstore.api.schemas.api_keys import TokenOut
from idstore.services import api_keys
from idstore.services.errors import Unauthenticated

router = APIRouter(prefix="/api/arthr/apiKeys", tags=["API keys"])


@router.post("/issue", responses=errors(), operation_id="issueToken")
async def issue_token(
    run: RuntimeDep,
    x_api_key: Annotated[str | None, Header(description="The API key.", max_length=256)] = None,
) -> TokenOut:
    """Exchange an API key (header `X-Api-Key`) for a bearer token."""
    if not x_api_key:
        raise Unauthenticated("the X-Api-Key header is required")
    issued = await api_keys.issue_token(
        run.database,
        run.keyring,
        api_key=x_api_key,
        now=run.clock.now(),
        ttl_seconds=run.settings.token_ttl_seconds,
    )
    return TokenOut(token=issued.token, ttl=issued.ttl_seconds)
