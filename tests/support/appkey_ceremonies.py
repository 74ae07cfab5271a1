"""Appkey ceremonies over HTTP with the software UAF authenticator, so tests read as the rule."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tests.support.api import Api, segment
from tests.support.ceremonies import RP_ID as RP_ID  # the tests import it from here
from tests.support.ceremonies import CeremonyStore, StartedCeremony
from tests.support.checks import json_of
from tests.support.uaf_authenticator import HONEST, SoftwareUafAuthenticator, Tamper, b64url

FACET = "https://login.example.com"
APP_ID = f"https://{RP_ID}/.well-known/uaf-trusted-facets"


def single_shot_challenge(at: datetime) -> str:
    """The challenge a single-shot client signs: base64url of its UTC time, ms and `Z`."""
    text = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return b64url(text.encode("ascii"))


@dataclass
class UafCeremony(StartedCeremony):
    """A started ceremony: how to complete it, and the UAF request for the authenticator."""

    request: list[dict[str, Any]]


@dataclass
class AppkeyStore(CeremonyStore):
    """A store with one relying party's appkey configuration, and the calls of spec §10 on it."""

    KEYS = "appkeys"
    CONFIG = "appkeyConfig"

    @classmethod
    def create(cls, api: Api, *, store: str | None = None, **config: Any) -> AppkeyStore:
        name = store or api.create_store()["name"]
        return cls.configured(api, name, {"rpId": RP_ID, "trustedFacets": [FACET], **config})

    @staticmethod
    def roots(*authenticators: SoftwareUafAuthenticator) -> list[str]:
        """The authenticators' test roots, as `attestationRootCertificates` holds them."""
        return [base64.b64encode(a.root_der).decode("ascii") for a in authenticators]

    def ceremony(self, started: httpx.Response) -> UafCeremony:
        body = json_of(started, 200)
        return UafCeremony(body.get("sessionId"), body.get("sessionData"), body["request"])

    def register(
        self,
        user: dict[str, Any],
        authenticator: SoftwareUafAuthenticator,
        *,
        policy: str = "default",
        facet: str = FACET,
        **options: Any,
    ) -> httpx.Response:
        """A whole registration: start, the authenticator's answer, complete. `options` go to
        the authenticator (key_type, attestation: BASIC_SURROGATE unless given, tamper)."""
        options.setdefault("attestation", "BASIC_SURROGATE")
        ceremony = self.ceremony(self.start_registration(user, policy))
        response = authenticator.register(ceremony.request, facet, **options)
        return self.complete("registrations", ceremony, ceremony.body(response))

    def registered(
        self, user: dict[str, Any], authenticator: SoftwareUafAuthenticator, **options: Any
    ) -> dict[str, Any]:
        """Register and answer the new appkey."""
        appkey: dict[str, Any] = json_of(self.register(user, authenticator, **options), 200)[
            "appkey"
        ]
        return appkey

    def sign_in(
        self,
        authenticator: SoftwareUafAuthenticator,
        *,
        user: dict[str, Any] | None = None,
        policy: str = "default",
        facet: str = FACET,
        tamper: Tamper = HONEST,
        key_id: str | None = None,
    ) -> httpx.Response:
        """A whole sign-in by session, for the user's keys or, with no user, for any key."""
        who = {} if user is None else {"userId": user["id"]}
        ceremony = self.ceremony(self.start_authentication(policy, **who))
        response = authenticator.authenticate(ceremony.request, facet, key_id=key_id, tamper=tamper)
        return self.complete("authentications", ceremony, ceremony.body(response))

    def single_shot(
        self,
        authenticator: SoftwareUafAuthenticator,
        at: datetime,
        *,
        tamper: Tamper = HONEST,
        key_id: str | None = None,
    ) -> httpx.Response:
        """A single-shot sign-in: the authenticator signs its clock `at`, no start call."""
        response = authenticator.authenticate(
            single_shot_challenge(at), FACET, app_id=APP_ID, key_id=key_id, tamper=tamper
        )
        return self.api.client.post(
            f"{self.base}/authentications", json={"clientResponse": response}
        )

    def appkey(self, user: dict[str, Any], appkey_id: str) -> dict[str, Any]:
        url = self.api.user_url(self.store, user, f"appkeys/{segment(appkey_id)}")
        return json_of(self.api.client.get(url), 200)

    def audits(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        """The user's Appkey audit records, oldest first."""
        records = [r["authAuditRecord"] for r in self.api.audit_records(self.store, user)]
        return [record for record in records if record["type"] == "Appkey"]

    def last_audit(self, user: dict[str, Any]) -> dict[str, Any]:
        return self.audits(user)[-1]

    @staticmethod
    def failed_attempts(user: dict[str, Any]) -> int:
        """The Appkey modality's failure count on a user as an answer shows it."""
        count: int = user["locks"]["modalities"].get("Appkey", {}).get("failedAttempts", 0)
        return count


def refused(response: httpx.Response, code: int, status: int = 400) -> dict[str, Any]:
    """An attempt's refusal: its status and code, and the updated user it carries."""
    body = json_of(response, status)
    assert body["code"] == code, body
    assert "user" in body, body
    return body


def set_user_status(api: Api, store: str, user: dict[str, Any], status: str) -> None:
    url = api.user_url(store, user)
    assert json_of(api.client.post(url, json={"status": status}), 200)["status"] == status
