"""Passkey ceremonies over HTTP with a software authenticator, so tests read as the rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from tests.support.api import Api, segment
from tests.support.ceremonies import RP_ID as RP_ID  # the tests import it from here
from tests.support.ceremonies import CeremonyStore, StartedCeremony
from tests.support.checks import json_of
from tests.support.webauthn_authenticator import HONEST, Forgery, SoftwareAuthenticator

ORIGIN = "https://login.example.com"


@dataclass
class Ceremony(StartedCeremony):
    """A started ceremony: how to complete it, and the options for the authenticator."""

    options: dict[str, Any]


class Enrolment(NamedTuple):
    """A user with one passkey: the authenticator holding it, and the passkey as registered."""

    user: dict[str, Any]
    authenticator: SoftwareAuthenticator
    passkey: dict[str, Any]


@dataclass
class PasskeyStore(CeremonyStore):
    """A store with one relying party's configuration, and the calls of spec §9 on it."""

    KEYS = "passkeys"
    CONFIG = "passkeyConfig"

    @classmethod
    def create(cls, api: Api, rp_id: str = RP_ID, **config: Any) -> PasskeyStore:
        return cls.configured(api, api.create_store()["name"], {"rpId": rp_id, **config})

    def ceremony(self, started: httpx.Response) -> Ceremony:
        body = json_of(started, 200)
        return Ceremony(body.get("sessionId"), body.get("sessionData"), body["options"])

    def register(
        self,
        user: dict[str, Any],
        authenticator: SoftwareAuthenticator,
        forgery: Forgery = HONEST,
        policy: str = "default",
    ) -> httpx.Response:
        """A whole registration: start, the authenticator's answer, complete."""
        ceremony = self.ceremony(self.start_registration(user, policy))
        credential = authenticator.register(ceremony.options, forgery)
        return self.complete("registrations", ceremony, ceremony.body(credential))

    def registered(
        self, user: dict[str, Any], authenticator: SoftwareAuthenticator, policy: str = "default"
    ) -> dict[str, Any]:
        """Register and answer the new passkey."""
        passkey: dict[str, Any] = json_of(self.register(user, authenticator, policy=policy), 200)[
            "passkey"
        ]
        return passkey

    def enrol(self, authenticator: SoftwareAuthenticator | None = None) -> Enrolment:
        """A new user of the store with a passkey registered by `authenticator` (by default a
        new one for ORIGIN)."""
        user = self.api.create_user(self.store)
        authenticator = authenticator or SoftwareAuthenticator(ORIGIN)
        return Enrolment(user, authenticator, self.registered(user, authenticator))

    def sign_in(
        self,
        authenticator: SoftwareAuthenticator,
        forgery: Forgery = HONEST,
        *,
        user: dict[str, Any] | None = None,
        policy: str = "default",
    ) -> httpx.Response:
        """A whole sign-in, for the user (allowCredentials) or discoverable without one."""
        who = {} if user is None else {"userId": user["id"]}
        ceremony = self.ceremony(self.start_authentication(policy, **who))
        assertion = authenticator.authenticate(ceremony.options, forgery)
        return self.complete("authentications", ceremony, ceremony.body(assertion))

    def passkey(self, user: dict[str, Any], passkey_id: str) -> dict[str, Any]:
        url = self.api.user_url(self.store, user, f"passkeys/{segment(passkey_id)}")
        return json_of(self.api.client.get(url), 200)

    def last_audit(self, user: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = self.api.audit_records(self.store, user)[-1]["authAuditRecord"]
        return record

    def ceremonies(self, user: dict[str, Any]) -> list[tuple[str, str]]:
        """The user's audit records as (ceremony, result), oldest first."""
        records = [item["authAuditRecord"] for item in self.api.audit_records(self.store, user)]
        return [(record["passkeyInfo"]["ceremony"], record["result"]) for record in records]

    def assert_refused(
        self, user: dict[str, Any], response: httpx.Response, code: int, ceremony: str
    ) -> dict[str, Any]:
        """400 with the code and the updated user, and the last audit record a FAILURE of type
        Passkey with that code, of the ceremony (REGISTRATION or AUTHENTICATION). The body."""
        body = json_of(response, 400)
        assert (body["code"], body["user"]["id"]) == (code, user["id"])
        record = self.last_audit(user)
        assert (record["type"], record["result"], record["errorCode"]) == (
            "Passkey",
            "FAILURE",
            code,
        )
        assert (record["passkeyInfo"]["rpId"], record["passkeyInfo"]["ceremony"]) == (
            self.rp_id,
            ceremony,
        )
        return body
