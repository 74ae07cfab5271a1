"""Callers: exchanging an API key for a bearer token (spec §2)."""

from __future__ import annotations

from pydantic import Field

from idstore.api.schemas.common import ResponseBody


class TokenOut(ResponseBody):
    token: str = Field(description="A bearer token (JWT) for the Authorization header.")
    ttl: int = Field(description="Seconds the token stays valid.")
