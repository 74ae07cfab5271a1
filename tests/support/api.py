"""A thin client for the contract, so that tests read as the behaviour they check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pyotp

BASE = "/api/identity-store/stores"

# RFC 6238 / issue test secret: the ASCII bytes 12345678901234567890.
RFC_SECRET = b"12345678901234567890"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def segment(value: str) -> str:
    """Percent-encode one path segment, `/` included, as clients must for external ids."""
    return quote(value, safe="")


def code_at(
    secret_b32: str, at: float, *, digits: int = 6, period: int = 30, algorithm: str = "SHA1"
) -> str:
    """The TOTP code an independent generator (pyotp) computes for `at`."""
    digest = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}[algorithm]
    generator = pyotp.TOTP(secret_b32, digits=digits, interval=period, digest=digest)
    return str(generator.at(int(at)))


@dataclass
class Api:
    """The contract over HTTP with a bearer token for tenant `default`."""

    client: httpx.Client

    def store_url(self, store: str) -> str:
        return f"{BASE}/{segment(store)}"

    def user_url(
        self, store: str, user: dict[str, Any], suffix: str = "", *, ext: bool = False
    ) -> str:
        """A user-scoped URL by internal id, or its /ext twin by external id."""
        tail = f"/{suffix}" if suffix else ""
        if ext:
            return f"{self.store_url(store)}/users/{segment(user['externalId'])}{tail}/ext"
        return f"{self.store_url(store)}/users/{segment(user['id'])}{tail}"

    def create_store(
        self, configuration: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": unique("store"), **fields}
        if configuration is not None:
            body["configuration"] = configuration
        response = self.client.post(BASE, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def create_policy(self, store: str, **fields: Any) -> dict[str, Any]:
        body = {"name": unique("policy"), **fields}
        response = self.client.post(f"{self.store_url(store)}/totpPolicy", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def create_user(
        self, store: str, external_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {"externalId": external_id or unique("user"), **fields}
        response = self.client.post(f"{self.store_url(store)}/users", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def get_user(self, store: str, user: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get(self.user_url(store, user))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def start_registration(
        self, store: str, user: dict[str, Any], policy: str, **body: Any
    ) -> httpx.Response:
        return self.client.post(
            self.user_url(store, user, f"totps/registrations/{policy}"), json=body or None
        )

    def complete(self, store: str, user: dict[str, Any], policy: str, code: Any) -> httpx.Response:
        url = self.user_url(store, user, f"totps/registrations/{policy}/complete")
        return self.client.post(url, json={"code": code})

    def authenticate(
        self, store: str, user: dict[str, Any], policy: str, code: Any
    ) -> httpx.Response:
        url = self.user_url(store, user, f"totps/authentications/{policy}")
        return self.client.post(url, json={"code": code})

    def audit_records(self, store: str, user: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.client.get(
            self.user_url(store, user, "authentications"), params={"size": 200}
        )
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()["content"]
        return records


def issue_token(base_url: str, api_key: str) -> str:
    response = httpx.post(f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token
