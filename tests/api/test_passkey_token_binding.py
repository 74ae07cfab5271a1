"""A clientDataJSON that claims a Token Binding is refused with the changelog's 356: this service
terminates no Token Binding, so a binding `present` names an id nothing here can compare, and a
`tokenBinding` without a status is what the changelog calls a missing status. `supported` (the
browser could bind, the connection did not) is no claim, and signs in."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import json_of
from tests.support.passkeys import PasskeyStore
from tests.support.webauthn_authenticator import Forgery

PRESENT = {"status": "present", "id": "c29tZSBiaW5kaW5nIGlk"}


def _with_token_binding(binding: Any) -> Callable[[bytes], bytes]:
    def rewrite(honest: bytes) -> bytes:
        return json.dumps({**json.loads(honest), "tokenBinding": binding}).encode()

    return rewrite


@pytest.mark.parametrize(
    "binding", [PRESENT, {"status": "present"}, {"id": "abc"}, {"status": "bound"}, "present"]
)
def test_a_signed_sign_in_claiming_a_token_binding_is_356(api: Api, binding: Any) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()

    refused = rp.sign_in(authenticator, Forgery(rewrite_client_data=_with_token_binding(binding)))

    body = rp.assert_refused(user, refused, 356, "AUTHENTICATION")
    assert body["user"]["locks"]["modalities"]["Passkey"]["failedAttempts"] == 1
    assert rp.passkey(user, passkey["id"]) == passkey  # counter and last use as they were


def test_a_sign_in_whose_browser_only_supports_token_binding_is_accepted(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    supported = Forgery(rewrite_client_data=_with_token_binding({"status": "supported"}))

    accepted = json_of(rp.sign_in(authenticator, supported), 200)

    assert (accepted["user"]["id"], accepted["passkey"]["id"]) == (user["id"], passkey["id"])
