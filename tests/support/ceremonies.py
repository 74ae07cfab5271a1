"""What the appkey and passkey ceremonies over HTTP share: a started session's completion body,
and the start and completion routes of one relying party of a store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import httpx

from tests.support.api import Api, segment
from tests.support.checks import json_of

RP_ID = "example.com"


@dataclass
class StartedCeremony:
    """A started ceremony's session: its id (INTERNAL) or its `sessionData` (EXTERNAL)."""

    session_id: str | None
    session_data: str | None

    def body(self, client_response: Any = None, **extra: Any) -> dict[str, Any]:
        """A completion body: `extra` fields, the client's response, the session data if any."""
        body: dict[str, Any] = dict(extra)
        if client_response is not None:
            body["clientResponse"] = client_response
        if self.session_data is not None:
            body["sessionData"] = self.session_data
        return body


@dataclass
class CeremonyStore:
    """A store with one relying party's configuration for a kind of key (`KEYS`: the routes'
    segment, appkeys or passkeys; `CONFIG`: the configuration's), and the ceremony routes on it."""

    KEYS: ClassVar[str]
    CONFIG: ClassVar[str]

    api: Api
    store: str
    rp_id: str = RP_ID
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def configured(cls, api: Api, store: str, config: dict[str, Any]) -> Self:
        """The store once the configuration `config` (its `rpId` included) is created in it."""
        url = f"{api.store_url(store)}/{cls.CONFIG}"
        created = json_of(api.client.post(url, json=config), 201)
        return cls(api, store, config["rpId"], created)

    @property
    def base(self) -> str:
        return f"{self.api.store_url(self.store)}/{self.KEYS}"

    def start_registration(
        self, user: dict[str, Any], policy: str = "default", *, ext: bool = False, **fields: Any
    ) -> httpx.Response:
        suffix = f"{self.KEYS}/registrations/relyingParties/{segment(self.rp_id)}"
        url = self.api.user_url(self.store, user, suffix, ext=ext)
        return self.api.client.post(url, json={"policyName": policy, **fields})

    def start_authentication(self, policy: str = "default", **fields: Any) -> httpx.Response:
        url = f"{self.base}/authentications/relyingParties/{segment(self.rp_id)}"
        return self.api.client.post(url, json={"policyName": policy, **fields})

    def complete(
        self, kind: str, ceremony: StartedCeremony, body: dict[str, Any]
    ) -> httpx.Response:
        """POST a completion to the session's route (`kind`: registrations or authentications)."""
        if ceremony.session_id is not None:
            url = f"{self.base}/{kind}/sessions/{segment(ceremony.session_id)}"
        else:
            url = f"{self.base}/{kind}"
        return self.api.client.post(url, json=body)
