"""Callers: API keys and the bearer tokens issued for them (spec §2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from idstore.api.schemas.common import Dtm, RequestBody, ResponseBody, Storable, StrictStr
from idstore.services import api_key_rules

PERMISSION_PATTERN = r"^TNT#[A-Za-z0-9._-]{1,64}#IdentityStore:(\*|[A-Za-z]{1,64})$"


def _known_operation(granted: str) -> str:
    operation = granted.rsplit(":", 1)[-1]
    if not api_key_rules.is_known_operation(operation):
        raise ValueError(f"unknown operation {operation!r} (see docs/permissions.md)")
    return granted


def _each_once(permissions: list[str]) -> list[str]:
    # A permission given twice grants nothing more: keep the first of each (docs/security.md).
    return list(dict.fromkeys(permissions))


Permission = Annotated[
    StrictStr,
    Field(pattern=PERMISSION_PATTERN, max_length=160),
    Storable,
    AfterValidator(_known_operation),
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
        list[Permission],
        AfterValidator(_each_once),
        Field(
            min_length=1,
            max_length=64,
            description="`TNT#{tenant}#IdentityStore:{operation}` or `…:*`, within the "
            "caller's own tenant and permissions.",
        ),
    ]
