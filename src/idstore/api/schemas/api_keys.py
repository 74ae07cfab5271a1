"""Callers: API keys and the bearer tokens issued for them (spec §2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from idstore.api.schemas.common import (
    Dtm,
    NotNull,
    RequestBody,
    ResponseBody,
    Storable,
    StrictStr,
)
from idstore.services import api_key_rules
from idstore.services.api_key_rules import MAX_PERMISSIONS, PERMISSION_PATTERN


def _held(permissions: list[str]) -> list[str]:
    # Each item was checked as a Permission already: what is left of permissions_held is the
    # de-duplication.
    return list(api_key_rules.each_once(permissions))


# Each permission checked on its own too, so that a refusal names it (`permissions.1`).
Permission = Annotated[
    StrictStr,
    Field(pattern=PERMISSION_PATTERN, max_length=160),
    Storable,
    AfterValidator(api_key_rules.check_permission),
]
KeyName = Annotated[
    StrictStr,
    Field(min_length=1, max_length=128),
    Storable,
    AfterValidator(api_key_rules.check_key_name),
]


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

    name: KeyName | None = None
    permissions: Annotated[
        # The count holds for what is given, before duplicates are dropped (_held after it).
        Annotated[list[Permission], Field(max_length=MAX_PERMISSIONS)],
        AfterValidator(_held),
        Field(
            min_length=1,
            max_length=MAX_PERMISSIONS,
            description="`TNT#{tenant}#IdentityStore:{operation}` or `…:*`, within the "
            "caller's own tenant and permissions.",
        ),
    ]


class ApiKeyStatusIn(RequestBody):
    """A key update, `POST /api/arthr/apiKeys/{id}`: its status, or nothing (`{}` changes
    nothing); the key as read back may be sent, its other fields ignored (spec §1)."""

    emitted_as = (ApiKeyCreatedOut,)

    status: Annotated[Literal["ACTIVE", "BLOCKED"] | None, NotNull] = None
