"""Debian's chromium with a virtual authenticator, its passkeys judged by py_webauthn.

Proves the browser harness the passkey end-to-end tests stand on: options from a relying party
go in as JSON, the browser's own credential JSON comes out and verifies for rp_id `localhost` and
the page's exact origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tests.support.browser import (
    BrowserRefused,
    PasskeyBrowser,
    passkey_browser,
)
from tests.support.webauthn_keys import b64url, b64url_decode

RP_ID = "localhost"
USER_ID = b"browser-user-1"


@pytest.fixture
def browser(chromium: Browser, origin: str) -> Iterator[PasskeyBrowser]:
    with passkey_browser(chromium, origin) as opened:
        yield opened


def _registration_options() -> dict[str, Any]:
    return options_to_json_dict(
        generate_registration_options(
            rp_id=RP_ID,
            rp_name="idstore browser test",
            user_name="grace",
            user_id=USER_ID,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
        )
    )


def _register(browser: PasskeyBrowser) -> tuple[bytes, bytes]:
    options = _registration_options()
    credential_json = browser.create(options)
    verified = verify_registration_response(
        credential=credential_json,
        expected_challenge=b64url_decode(str(options["challenge"])),
        expected_rp_id=RP_ID,
        expected_origin=browser.origin,
        require_user_verification=True,
    )
    return verified.credential_id, verified.credential_public_key


def _sign_in(
    browser: PasskeyBrowser, public_key: bytes, stored_sign_count: int, allow: list[bytes]
) -> tuple[int, dict[str, Any]]:
    options = generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=raw) for raw in allow],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    assertion = browser.get(options_to_json_dict(options))
    verified = verify_authentication_response(
        credential=assertion,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=browser.origin,
        credential_public_key=public_key,
        credential_current_sign_count=stored_sign_count,
        require_user_verification=True,
    )
    return verified.new_sign_count, assertion


def test_a_passkey_registers_and_signs_in_with_and_without_allow_credentials(
    browser: PasskeyBrowser,
) -> None:
    credential_id, public_key = _register(browser)

    listed_count, listed = _sign_in(browser, public_key, 0, allow=[credential_id])
    discovered_count, discovered = _sign_in(browser, public_key, listed_count, allow=[])

    assert browser.origin.startswith("http://localhost:")
    assert (listed["id"], discovered["id"]) == (b64url(credential_id), b64url(credential_id))
    assert discovered["response"]["userHandle"] == b64url(USER_ID)
    assert 0 < listed_count < discovered_count
    [held] = browser.credentials()
    assert (held.credential_id, held.rp_id, held.user_handle) == (credential_id, RP_ID, USER_ID)
    assert (held.sign_count, held.is_resident) == (discovered_count, True)


def test_the_registration_json_is_the_browsers_own(browser: PasskeyBrowser) -> None:
    credential_json = browser.create(_registration_options())

    assert credential_json["type"] == "public-key"
    assert credential_json["authenticatorAttachment"] == "platform"
    assert credential_json["response"]["transports"] == ["internal"]
    assert credential_json["id"] == credential_json["rawId"]
    assert "=" not in credential_json["response"]["attestationObject"]


def test_a_refusal_names_the_browsers_error(browser: PasskeyBrowser) -> None:
    credential_id, _ = _register(browser)
    options = _registration_options()
    options["excludeCredentials"] = [{"type": "public-key", "id": b64url(credential_id)}]

    with pytest.raises(BrowserRefused) as refused:
        browser.create(options)

    assert refused.value.name == "InvalidStateError"
