"""A store, a policy and a user whose TOTP has a known secret: the arrange step of most tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tests.support.api import RFC_SECRET, Api
from tests.support.seeding import Seeder, TotpSpec, b32

POLICY = "otp"


@dataclass(frozen=True)
class TotpUser:
    """One user with one TOTP (policy `otp`) in a store of its own."""

    api: Api
    store: dict[str, Any]
    policy: dict[str, Any]
    user: dict[str, Any]
    totp_id: str
    secret: bytes

    @property
    def store_name(self) -> str:
        return str(self.store["name"])

    @property
    def secret_b32(self) -> str:
        return b32(self.secret)

    def url(self, suffix: str = "", *, ext: bool = False) -> str:
        return self.api.user_url(self.store_name, self.user, suffix, ext=ext)

    def authenticate(self, code: Any, *, policy: str = POLICY) -> httpx.Response:
        return self.api.authenticate(self.store_name, self.user, policy, code)

    def complete(self, code: Any, *, policy: str = POLICY) -> httpx.Response:
        return self.api.complete(self.store_name, self.user, policy, code)

    def current(self) -> dict[str, Any]:
        """The user as the server shows it now."""
        return self.api.get_user(self.store_name, self.user)

    def totp_lock(self) -> dict[str, Any]:
        """`locks.modalities.TOTP` of the user now (empty before any counted failure)."""
        found: dict[str, Any] = self.current()["locks"]["modalities"].get("TOTP", {})
        return found

    def audit(self) -> list[dict[str, Any]]:
        """The user's audit records, oldest first, each as its `authAuditRecord`."""
        return [
            record["authAuditRecord"]
            for record in self.api.audit_records(self.store_name, self.user)
        ]

    def update_store(self, configuration: dict[str, Any]) -> None:
        response = self.api.client.post(
            self.api.store_url(self.store_name), json={"configuration": configuration}
        )
        assert response.status_code == 200, response.text


def totp_user(
    api: Api,
    seeder: Seeder,
    *,
    spec: TotpSpec | None = None,
    policy: dict[str, Any] | None = None,
    locking: dict[str, Any] | None = None,
    now: datetime | None = None,
    **user_fields: Any,
) -> TotpUser:
    """A new store with policy `otp` (fields `policy`) and locking `locking`, and a user whose
    TOTP is seeded from `spec` (the RFC secret, SHA1, 6 digits, 30 s, ACTIVE by default)."""
    spec = spec or TotpSpec(RFC_SECRET)
    configuration: dict[str, Any] = {"totpPolicies": {POLICY: policy or {}}}
    if locking is not None:
        configuration["userLocking"] = locking
    store = api.create_store(configuration=configuration)
    user = api.create_user(store["name"], **user_fields)
    policy_out: dict[str, Any] = store["configuration"]["totpPolicies"][POLICY]
    totp_id = seeder.totp(store=store, user=user, policy=policy_out, spec=spec, now=now)
    return TotpUser(
        api=api, store=store, policy=policy_out, user=user, totp_id=totp_id, secret=spec.secret
    )
