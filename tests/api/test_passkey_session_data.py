"""Passkey session data on the wrong route or incomplete (the changelog's 384, 386, 387, 388,
394): `sessionData` sent to a session's own route, an EXTERNAL session completed by its id, and
a sealed state that lacks the challenge, the relying party id or the policy name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.passkeys import ORIGIN, Ceremony, PasskeyStore
from tests.support.server import TEST_KEYRING
from tests.support.webauthn_authenticator import SoftwareAuthenticator
from tests.support.webauthn_keys import b64url, b64url_decode


def _started(rp: PasskeyStore, kind: str) -> tuple[dict[str, Any], Ceremony, dict[str, Any]]:
    """A user, a ceremony of `kind` started for them, and the response that completes it."""
    if kind == "registrations":
        user = rp.api.create_user(rp.store)
        ceremony = rp.ceremony(rp.start_registration(user))
        return user, ceremony, SoftwareAuthenticator(ORIGIN).register(ceremony.options)
    user, authenticator, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    return user, ceremony, authenticator.authenticate(ceremony.options)


@pytest.mark.parametrize("kind", ["registrations", "authentications"])
@pytest.mark.parametrize("session_data", ["x", {"any": "value"}])
def test_session_data_sent_to_a_session_route_is_388_and_leaves_it_usable(
    api: Api, kind: str, session_data: Any
) -> None:
    rp = PasskeyStore.create(api)
    user, ceremony, response = _started(rp, kind)

    refused = rp.complete(kind, ceremony, {"clientResponse": response, "sessionData": session_data})
    completed = rp.complete(kind, ceremony, {"clientResponse": response})

    assert "internal" in error_of(refused, 400, 388)["message"]
    assert json_of(completed, 200)["user"]["id"] == user["id"]


@pytest.mark.parametrize("kind", ["registrations", "authentications"])
def test_an_external_session_completed_by_its_id_is_384_and_stays_usable(
    api: Api, kind: str
) -> None:
    rp = PasskeyStore.create(api, sessionManagement="EXTERNAL")
    user, ceremony, response = _started(rp, kind)
    assert ceremony.session_data is not None
    session_id = ceremony.session_data.partition(".")[0]

    by_id = api.client.post(
        f"{rp.base}/{kind}/sessions/{session_id}", json={"clientResponse": response}
    )
    completed = rp.complete(kind, ceremony, ceremony.body(response))

    error_of(by_id, 400, 384)
    assert json_of(completed, 200)["user"]["id"] == user["id"]


@pytest.mark.parametrize(
    ("dropped", "code"), [("challenge", 386), ("rp_id", 387), ("policy_name", 394)]
)
@pytest.mark.parametrize("kind", ["registrations", "authentications"])
def test_a_sealed_state_missing_a_field_answers_its_code(
    api: Api, kind: str, dropped: str, code: int
) -> None:
    rp = PasskeyStore.create(api, sessionManagement="EXTERNAL")
    _, ceremony, response = _started(rp, kind)
    assert ceremony.session_data is not None
    session_id, _, sealed = ceremony.session_data.partition(".")
    # As a service version that did not keep the field would have sealed it.
    context = f"passkey-session:{session_id}"
    state = json.loads(TEST_KEYRING.open(b64url_decode(sealed), context=context))
    del state[dropped]
    resealed = TEST_KEYRING.seal(json.dumps(state).encode(), context=context)

    refused = api.client.post(
        f"{rp.base}/{kind}",
        json={"clientResponse": response, "sessionData": f"{session_id}.{b64url(resealed)}"},
    )

    error_of(refused, 400, code)
