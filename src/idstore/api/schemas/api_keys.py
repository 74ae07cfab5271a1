"""Callers: API keys and the bearer tokens issued for them (spec §2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from idstore.api.schemas.common import Dtm, RequestBody, ResponseBody, Text

PERMISSION_PATTERN = r"^TNT#[A-Za-z0-9._-]{1,64}#IdentityStore:(\*|[A-Za-z]{1,64})$"
Permission = Annotated[Text, Field(pattern=PERMISSION_PATTERN, max_length=160)]


class TokenOut(ResponseBody):
    token: str = Field(description="A bearer token (JWT) for the Authorization header.")
    ttl: int = Field(description="Seconds the token stays valid.")


class ApiKeyOut(ResponseBody):
    id: str
    tenant_id: str
    name: str | None = None
    permissions: list[str]
    status: Literal["ACTIVE", "BLOCKED"]
    created_dtm: Dtm
    last_updated_dtm: Dtm


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The API key itself. It is shown this once and never again.")


class ApiKeyIn(RequestBody):
    emitted_as = (ApiKeyCreatedOut,)

    name: Annotated[Text, Field(min_length=1, max_length=128)] | None = None
    permissions: Annotated[
        list[Permission],
        Field(
            min_length=1,
            max_length=64,
            description="`TNT#{tenant}#IdentityStore:{operation}` or `…:*`, within the "
            "caller's own tenant and permissions.",
        ),
    ]
