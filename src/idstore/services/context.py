"""Who is calling and when: what every use case needs besides its own arguments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Context:
    """One request's caller and instant. `now` is read once, so a use case sees one time."""

    tenant_id: str
    caller_id: str
    request_id: str
    now: datetime


@dataclass(frozen=True)
class UserRef:
    """A user named either by internal id or by external id (the `/ext` twin of a path)."""

    value: str
    is_external: bool

    @classmethod
    def by_id(cls, user_id: str) -> UserRef:
        return cls(user_id, is_external=False)

    @classmethod
    def by_external_id(cls, external_id: str) -> UserRef:
        return cls(external_id, is_external=True)
