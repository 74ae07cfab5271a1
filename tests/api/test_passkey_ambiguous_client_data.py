"""clientDataJSON that two parsers could read differently is refused (3604), correctly signed or
not: a member named twice (which of the two is the challenge, the type, the origin?) or a
constant that is no JSON. py_webauthn parses clientDataJSON itself with `json.loads`, which
keeps the last of two members; a verifier keeping the first would judge another document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ambiguous_json import (
    NOT_JSON_CONSTANTS,
    Raw,
    adding,
    both_orders,
    repeating,
    spelled,
)
from tests.support.api import Api
from tests.support.checks import json_of
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator
from tests.support.webauthn_keys import b64url

OTHER_VALUES = {
    "challenge": b64url(b"a challenge this server never issued"),
    "type": "webauthn.create",
    "origin": "https://evil.example.net",
}
REPEATS = both_orders(OTHER_VALUES)


def _repeating(name: str, *, honest_first: bool) -> Callable[[bytes], bytes]:
    other = OTHER_VALUES[name]

    def rewrite(honest: bytes) -> bytes:
        collected = json.loads(honest)
        return spelled(repeating(collected, name, other, honest_first=honest_first)).encode()

    return rewrite


def _adding(constant: str) -> Callable[[bytes], bytes]:
    return lambda honest: spelled(adding(json.loads(honest), "extra", Raw(constant))).encode()


def _refused_changing_nothing(api: Api, forgery: Forgery) -> dict[str, Any]:
    """A correctly signed sign-in with this client data: refused with 3604, audited and counted
    as every malformed clientDataJSON is, and the passkey as it was. The refusal's body."""
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()
    before = api.get_user(rp.store, user)

    refused = rp.sign_in(authenticator, forgery, user=user)

    body = rp.assert_refused(user, refused, 3604, "AUTHENTICATION")
    assert body["user"]["locks"]["modalities"]["Passkey"]["failedAttempts"] == 1
    last_success = "lastSuccessfulAuthenticationDtm"
    assert body["user"][last_success] == before[last_success]
    assert rp.passkey(user, passkey["id"]) == passkey
    return body


@pytest.mark.parametrize(("name", "honest_first"), REPEATS)
def test_a_signed_sign_in_whose_client_data_names_a_member_twice_is_refused(
    api: Api, name: str, honest_first: bool
) -> None:
    forgery = Forgery(rewrite_client_data=_repeating(name, honest_first=honest_first))

    body = _refused_changing_nothing(api, forgery)

    assert name in body["message"]


@pytest.mark.parametrize("constant", NOT_JSON_CONSTANTS)
def test_a_signed_sign_in_whose_client_data_holds_no_json_number_is_refused(
    api: Api, constant: str
) -> None:
    _refused_changing_nothing(api, Forgery(rewrite_client_data=_adding(constant)))


@pytest.mark.parametrize(("name", "honest_first"), REPEATS)
def test_a_registration_whose_client_data_names_a_member_twice_registers_nothing(
    api: Api, name: str, honest_first: bool
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    forgery = Forgery(rewrite_client_data=_repeating(name, honest_first=honest_first))

    refused = rp.register(user, SoftwareAuthenticator(ORIGIN), forgery)

    body = json_of(refused, 400)
    assert (body["code"], name in body["message"]) == (3604, True)
    assert api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-32-le"),
        lambda text: b"\xef\xbb\xbf" + text.encode(),
    ],
    ids=["utf-16", "utf-32", "utf-8 with a byte order mark"],
)
def test_a_signed_sign_in_whose_client_data_is_not_plain_utf8_is_refused(
    api: Api, encode: Callable[[str], bytes]
) -> None:
    # WebAuthn's clientDataJSON is UTF-8; json.loads would guess the others, another verifier not.
    forgery = Forgery(rewrite_client_data=lambda honest: encode(honest.decode()))

    body = _refused_changing_nothing(api, forgery)

    assert "UTF-8" in body["message"]
