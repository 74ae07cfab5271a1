"""Passkeys as a relying party's page makes them: Debian's chromium, the real `idstore serve`.

The page on http://localhost:PORT hands the service's `options` to the browser's own
parseCreationOptionsFromJSON / parseRequestOptionsFromJSON untouched, and the credential's
toJSON() back; a virtual CTAP2 authenticator (DevTools WebAuthn domain) holds the passkeys.
Every call to the service goes over HTTP to a separate server process, in both session modes.
The tests are sync: Playwright's sync API cannot run inside an event loop.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser

from tests.support.browser import (
    BrowserRefused,
    PasskeyBrowser,
    passkey_browser,
)
from tests.support.databases import drop_database, fresh_database_url
from tests.support.processes import Launcher, ServerProcess

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
RP_ID = "localhost"
MODES = ["INTERNAL", "EXTERNAL"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One `idstore serve` process on a fresh database for the module, and a client with a token."""
    folder = tmp_path_factory.mktemp("passkeys-browser")
    database_url = fresh_database_url(folder / "database")
    launcher = Launcher(folder)
    api_key = secrets.token_urlsafe(32)
    try:
        server = launcher(
            data_dir=folder / "data", database_url=database_url, bootstrap_api_key=api_key
        )
        headers = {"Authorization": f"Bearer {_token(server, api_key)}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            yield client
    finally:
        launcher.stop_all()
        drop_database(database_url)


@pytest.fixture
def browser(service: httpx.Client, chromium: Browser, origin: str) -> Iterator[PasskeyBrowser]:
    # After `service`: its PostgreSQL database is made with asyncio.run(), which cannot run
    # once Playwright has started.
    with passkey_browser(chromium, origin) as opened:
        assert opened.parses_json_options(), "this chromium lacks parse*OptionsFromJSON"
        yield opened


def _token(server: ServerProcess, api_key: str) -> str:
    issued = httpx.post(
        f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
    )
    assert issued.status_code == 200, issued.text
    token: str = issued.json()["token"]
    return token


def _json(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class RelyingParty:
    """A relying party's back end: a store, its passkey configuration for `localhost`, a user."""

    client: httpx.Client
    store: str
    user: dict[str, Any]

    @classmethod
    def create(cls, client: httpx.Client, origin: str, mode: str) -> RelyingParty:
        store = _json(client.post(STORES, json={"name": f"pk-{secrets.token_hex(5)}"}), 201)
        required = {"default": {"userVerification": "required", "residentKey": "required"}}
        config = {
            "rpId": RP_ID,
            "rpName": "idstore browser test",
            "restrictedOrigins": [origin],
            "sessionManagement": mode,
            "registrationPolicies": required,
            "authenticationPolicies": {"default": {"userVerification": "required"}},
        }
        created = _json(client.post(f"{STORES}/{store['name']}/passkeyConfig", json=config), 201)
        assert (created["restrictedOrigins"], created["sessionManagement"]) == ([origin], mode)
        user = _json(
            client.post(f"{STORES}/{store['name']}/users", json={"externalId": "ada/lovelace"}),
            201,
        )
        return cls(client, store["name"], user)

    @property
    def user_url(self) -> str:
        return f"{STORES}/{self.store}/users/{quote(self.user['id'], safe='')}"

    def start(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A ceremony's start: `sessionId` or `sessionData`, and the options for the browser."""
        return _json(self.client.post(path, json=body), 200)

    def complete(
        self, kind: str, started: dict[str, Any], outcome: dict[str, Any]
    ) -> httpx.Response:
        """Complete the ceremony `kind` (registrations, authentications) with the browser's
        credential ({"clientResponse": …}) or its failure ({"clientFailure": …})."""
        base = f"{STORES}/{self.store}/passkeys/{kind}"
        if "sessionId" in started:
            return self.client.post(f"{base}/sessions/{started['sessionId']}", json=outcome)
        return self.client.post(base, json={"sessionData": started["sessionData"], **outcome})

    def register(self, browser: PasskeyBrowser) -> httpx.Response:
        started = self.start(
            f"{self.user_url}/passkeys/registrations/relyingParties/{RP_ID}",
            {"policyName": "default", "userName": "ada", "displayName": "Ada Lovelace"},
        )
        credential = browser.create_parsed(started["options"])
        return self.complete("registrations", started, {"clientResponse": credential})

    def start_sign_in(self, *, known_user: bool) -> dict[str, Any]:
        body = {"policyName": "default"}
        if known_user:
            body["userExtId"] = self.user["externalId"]
        path = f"{STORES}/{self.store}/passkeys/authentications/relyingParties/{RP_ID}"
        return self.start(path, body)

    def sign_in(self, browser: PasskeyBrowser, *, known_user: bool) -> httpx.Response:
        started = self.start_sign_in(known_user=known_user)
        assertion = browser.get_parsed(started["options"])
        return self.complete("authentications", started, {"clientResponse": assertion})

    def audit(self) -> list[dict[str, Any]]:
        listed = _json(self.client.get(f"{self.user_url}/authentications?size=200"), 200)
        return [item["authAuditRecord"] for item in listed["content"]]

    def current_user(self) -> dict[str, Any]:
        return _json(self.client.get(self.user_url), 200)


@pytest.mark.parametrize("mode", MODES)
def test_a_browser_registers_a_passkey_and_signs_in_with_and_without_a_user(
    service: httpx.Client, browser: PasskeyBrowser, origin: str, mode: str
) -> None:
    party = RelyingParty.create(service, origin, mode)

    registered = _json(party.register(browser), 200)
    [held] = browser.credentials()
    passkey = registered["passkey"]
    handle = registered["user"]["attributes"]["passkeyUsers"][RP_ID]["USER_HANDLE"]
    assert (passkey["credentialId"], passkey["rpId"], passkey["status"]) == (
        _b64url(held.credential_id),
        RP_ID,
        "ACTIVE",
    )
    assert passkey["userHandle"] == handle == _b64url(held.user_handle)
    assert (passkey["signCount"], held.is_resident) == (held.sign_count, True)
    audit_url = f"{party.user_url}/passkeys/{passkey['id']}/registrationAudit"
    how = _json(service.get(audit_url), 200)
    assert (how["origin"], how["attestationFormat"], how["userVerified"]) == (origin, "none", True)

    counts = []
    for known_user in (True, False):
        signed_in = _json(party.sign_in(browser, known_user=known_user), 200)
        [held] = browser.credentials()
        counts.append(held.sign_count)
        assert signed_in["passkey"]["id"] == passkey["id"]
        assert signed_in["passkey"]["signCount"] == held.sign_count
        assert signed_in["user"]["id"] == party.user["id"]
        assert signed_in["user"]["lastSuccessfulAuthenticationDtm"]

    assert passkey["signCount"] < counts[0] < counts[1]
    [stored] = party.current_user()["summaryInfo"]["passkeys"]
    assert (stored["signCount"], stored["lastAuthenticatedWithDtm"]) == (
        counts[1],
        signed_in["passkey"]["lastAuthenticatedWithDtm"],
    )
    records = [r for r in party.audit() if r["id"] == signed_in["authenticationId"]]
    assert [(r["type"], r["result"], r["passkeyInfo"]["id"]) for r in records] == [
        ("Passkey", "SUCCESS", passkey["id"])
    ]
    audited = [(r["type"], r["passkeyInfo"]["ceremony"], r["result"]) for r in party.audit()]
    assert audited == [
        ("Passkey", "REGISTRATION", "SUCCESS"),
        ("Passkey", "AUTHENTICATION", "SUCCESS"),
        ("Passkey", "AUTHENTICATION", "SUCCESS"),
    ]
    assert party.audit()[0]["id"] == registered["authenticationId"]


@pytest.mark.parametrize("mode", MODES)
def test_a_second_device_registers_a_second_passkey_for_the_same_user(
    service: httpx.Client, chromium: Browser, origin: str, mode: str
) -> None:
    party = RelyingParty.create(service, origin, mode)
    with passkey_browser(chromium, origin) as phone, passkey_browser(chromium, origin) as laptop:
        first = _json(party.register(phone), 200)["passkey"]
        # The second start excludes the first passkey: the laptop does not hold it.
        second = _json(party.register(laptop), 200)["passkey"]
        offered = party.start_sign_in(known_user=True)["options"]["allowCredentials"]
        by_laptop = _json(party.sign_in(laptop, known_user=True), 200)
        by_phone = _json(party.sign_in(phone, known_user=False), 200)
        [phone_held], [laptop_held] = phone.credentials(), laptop.credentials()

    assert first["id"] != second["id"]
    assert first["userHandle"] == second["userHandle"]
    assert {item["id"] for item in offered} == {first["credentialId"], second["credentialId"]}
    assert (by_laptop["passkey"]["id"], by_phone["passkey"]["id"]) == (second["id"], first["id"])
    stored = {p["id"]: p["signCount"] for p in party.current_user()["summaryInfo"]["passkeys"]}
    assert stored == {first["id"]: phone_held.sign_count, second["id"]: laptop_held.sign_count}


@pytest.mark.parametrize("mode", MODES)
def test_without_user_verification_a_sign_in_is_refused_and_audited(
    service: httpx.Client, browser: PasskeyBrowser, origin: str, mode: str
) -> None:
    party = RelyingParty.create(service, origin, mode)
    _json(party.register(browser), 200)
    browser.set_user_verified(False)

    # As the service asks (userVerification required), the browser itself gives up.
    started = party.start_sign_in(known_user=True)
    with pytest.raises(BrowserRefused) as refused:
        browser.get_parsed(started["options"])
    reported = party.complete("authentications", started, {"clientFailure": {"reason": "FAILED"}})
    # A page that asks for less than the policy: the browser answers without UV, the service
    # refuses the flags.
    started = party.start_sign_in(known_user=False)
    lowered = browser.get_parsed({**started["options"], "userVerification": "discouraged"})
    without_uv = party.complete("authentications", started, {"clientResponse": lowered})

    assert refused.value.name == "NotAllowedError"
    assert (reported.status_code, reported.json()["code"]) == (400, 397)
    assert (without_uv.status_code, without_uv.json()["code"]) == (400, 3601)
    locks = without_uv.json()["user"]["locks"]["modalities"]["Passkey"]
    # The wrong proof counts, and so does the failure the client reported (§6).
    assert locks["failedAttempts"] == 2
    assert [(r["type"], r["result"], r.get("errorCode")) for r in party.audit()] == [
        ("Passkey", "SUCCESS", None),  # the registration
        ("Passkey", "FAILURE", 397),
        ("Passkey", "FAILURE", 3601),
    ]
