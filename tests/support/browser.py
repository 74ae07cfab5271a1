"""A real browser for passkey tests: Debian's chromium under Playwright, a virtual authenticator.

The test serves a tiny page on http://localhost:PORT (127.0.0.1, a free port), a secure context
for WebAuthn; Chromium's DevTools WebAuthn domain adds a CTAP2 platform authenticator with
resident keys and user verification. `PasskeyBrowser.create` and `.get` take the options JSON a
relying party sends, call navigator.credentials.create()/get() in the page and return the
credential's toJSON(). Nothing is downloaded: Playwright only drives /usr/bin/chromium.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, CDPSession, Page, sync_playwright

from tests.support.webauthn_authenticator import public_key_options

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The page's only job is to turn the JSON options into the ArrayBuffers the API takes and hand
# back the credential's toJSON(); a refusal comes back as the DOMException's name.
_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>passkey test page</title></head><body><script>
function bytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - base64.length % 4) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}
function descriptors(list) {
  return (list || []).map((descriptor) => ({...descriptor, id: bytes(descriptor.id)}));
}
async function settle(promise) {
  try {
    return {credential: (await promise).toJSON()};
  } catch (error) {
    return {refusal: error.name, message: error.message};
  }
}
function createCredential(options) {
  const publicKey = {...options, challenge: bytes(options.challenge),
    user: {...options.user, id: bytes(options.user.id)},
    excludeCredentials: descriptors(options.excludeCredentials)};
  return settle(navigator.credentials.create({publicKey}));
}
function getCredential(options) {
  const publicKey = {...options, challenge: bytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials)};
  return settle(navigator.credentials.get({publicKey}));
}
// The browser's own parsers, as a relying party's page calls them: a member they refuse (a
// wrong type, bad base64url) is a TypeError, reported like any refusal.
async function settleParsed(parse, call) {
  let publicKey;
  try {
    publicKey = parse();
  } catch (error) {
    return {refusal: error.name, message: error.message};
  }
  return settle(call(publicKey));
}
function createParsed(options) {
  return settleParsed(() => PublicKeyCredential.parseCreationOptionsFromJSON(options),
    (publicKey) => navigator.credentials.create({publicKey}));
}
function getParsed(options) {
  return settleParsed(() => PublicKeyCredential.parseRequestOptionsFromJSON(options),
    (publicKey) => navigator.credentials.get({publicKey}));
}
function parsesJson() {
  return typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
    && typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
}
</script></body></html>
"""


class BrowserRefused(Exception):
    """navigator.credentials refused the call; `name` is the DOMException's (NotAllowedError...)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class VirtualCredential:
    """A credential as the virtual authenticator holds it (DevTools WebAuthn.Credential)."""

    credential_id: bytes
    rp_id: str
    user_handle: bytes
    sign_count: int
    is_resident: bool


def chromium_or_skip() -> Path:
    """The chromium executable, or skip the test saying how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            "chromium is not installed and could not be installed here: "
            "apt-get install chromium chromium-driver (scripts/ensure-test-tools does it as root)"
        )
    return CHROMIUM


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per page load would only clutter the test output


@contextmanager
def serve_test_page() -> Iterator[str]:
    """Serve the test page on 127.0.0.1 at a free port; yield its origin http://localhost:PORT."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Headless Debian chromium under Playwright, skipping the test when chromium is missing.

    Playwright's sync API refuses to start inside a running event loop: use it from sync tests.
    """
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class PasskeyBrowser:
    """One page of the test origin with one virtual platform authenticator attached."""

    def __init__(self, page: Page, devtools: CDPSession, authenticator_id: str, origin: str):
        self.page = page
        self.origin = origin
        self._devtools = devtools
        self._authenticator_id = authenticator_id

    def create(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """navigator.credentials.create() with these creation options; the credential's JSON.

        Raises BrowserRefused with the DOMException's name when the browser refuses.
        """
        return self._settled(
            self.page.evaluate("options => createCredential(options)", public_key_options(options))
        )

    def get(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """navigator.credentials.get() with these request options; the assertion's JSON.

        Raises BrowserRefused with the DOMException's name when the browser refuses.
        """
        return self._settled(
            self.page.evaluate("options => getCredential(options)", public_key_options(options))
        )

    def parses_json_options(self) -> bool:
        """Whether this browser has PublicKeyCredential.parseCreation/RequestOptionsFromJSON."""
        return bool(self.page.evaluate("() => parsesJson()"))

    def create_parsed(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """As `create`, but the options go through parseCreationOptionsFromJSON untouched, as a
        relying party's page hands them on; the parser's TypeError is a BrowserRefused too."""
        return self._settled(self.page.evaluate("options => createParsed(options)", options))

    def get_parsed(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """As `get`, through parseRequestOptionsFromJSON with the options untouched."""
        return self._settled(self.page.evaluate("options => getParsed(options)", options))

    def credentials(self) -> list[VirtualCredential]:
        """The credentials the virtual authenticator holds, with their signature counters."""
        listed = self._devtools.send(
            "WebAuthn.getCredentials", {"authenticatorId": self._authenticator_id}
        )
        return [_virtual_credential(item) for item in listed["credentials"]]

    def set_user_verified(self, is_user_verified: bool) -> None:
        """Whether the next user verification the authenticator performs succeeds."""
        self._devtools.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self._authenticator_id, "isUserVerified": is_user_verified},
        )

    @staticmethod
    def _settled(outcome: dict[str, Any]) -> dict[str, Any]:
        if "refusal" in outcome:
            raise BrowserRefused(outcome["refusal"], outcome["message"])
        credential: dict[str, Any] = outcome["credential"]
        return credential


@contextmanager
def passkey_browser(browser: Browser, origin: str) -> Iterator[PasskeyBrowser]:
    """A fresh browser context on the test page with a CTAP2 internal authenticator added."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(origin + "/")
        devtools = context.new_cdp_session(page)
        devtools.send("WebAuthn.enable", {"enableUI": False})
        added = devtools.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        yield PasskeyBrowser(page, devtools, added["authenticatorId"], origin)
    finally:
        context.close()


def _virtual_credential(item: Mapping[str, Any]) -> VirtualCredential:
    # DevTools sends binary fields in standard base64 with padding, not base64url.
    return VirtualCredential(
        credential_id=base64.b64decode(item["credentialId"]),
        rp_id=str(item.get("rpId", "")),
        user_handle=base64.b64decode(item.get("userHandle", "")),
        sign_count=int(item["signCount"]),
        is_resident=bool(item["isResidentCredential"]),
    )
