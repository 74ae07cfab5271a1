"""Passkey sessions over HTTP (spec §9; issue 7 rule 5): challenges used once, deleted on
success and on failure, refused when replayed, wrong or late, in both session modes; two
completions of one challenge at once: exactly one goes on; client-reported failures."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.parallel import Call, all_at_once
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.server import LiveServer
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator
from tests.support.webauthn_keys import b64url


def _code(response: httpx.Response) -> int:
    return 200 if response.status_code == 200 else int(response.json()["code"])


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_a_replayed_finish_body_is_refused(api: Api, mode: str) -> None:
    rp = PasskeyStore.create(api, sessionManagement=mode)
    user, authenticator, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    body = ceremony.body(authenticator.authenticate(ceremony.options))

    first = rp.complete("authentications", ceremony, body)
    replayed = rp.complete("authentications", ceremony, body)

    signed_in = json_of(first, 200)
    assert signed_in["user"]["id"] == user["id"]
    assert signed_in["authenticationId"] == rp.last_audit(user)["id"]
    error_of(replayed, 404, 9011)
    assert rp.ceremonies(user) == [("REGISTRATION", "SUCCESS"), ("AUTHENTICATION", "SUCCESS")]


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_a_wrong_challenge_is_refused_and_uses_the_session_up(api: Api, mode: str) -> None:
    rp = PasskeyStore.create(api, sessionManagement=mode)
    user, authenticator, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    wrong = authenticator.authenticate(ceremony.options, Forgery(challenge=b64url(bytes(32))))
    honest = authenticator.authenticate(ceremony.options)

    refused = rp.complete("authentications", ceremony, ceremony.body(wrong))
    retried = rp.complete("authentications", ceremony, ceremony.body(honest))

    assert (_code(refused), refused.json()["user"]["id"]) == (353, user["id"])
    error_of(retried, 404, 9011)


def test_a_late_finish_is_refused(api: Api, clock: ManualClock) -> None:
    rp = PasskeyStore.create(api, authenticationPolicies={"default": {"timeoutSeconds": 60}})
    user, authenticator, _ = rp.enrol()
    clock.set(clock.timestamp())
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assertion = authenticator.authenticate(ceremony.options)
    clock.advance(61)

    late = rp.complete("authentications", ceremony, ceremony.body(assertion))
    again = rp.complete("authentications", ceremony, ceremony.body(assertion))

    body = rp.assert_refused(user, late, 3606, "AUTHENTICATION")
    assert body["user"]["locks"]["modalities"] == {}  # audited, counted nowhere
    error_of(again, 404, 9011)
    assert rp.ceremonies(user)[-1] == ("AUTHENTICATION", "FAILURE")


def test_sessions_never_completed_are_swept_an_hour_after_they_expire(
    api: Api, clock: ManualClock
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()
    clock.set(clock.timestamp())
    forgotten = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assertion = authenticator.authenticate(forgotten.options)
    clock.advance(300 + 3601)

    rp.start_authentication(userId=user["id"])
    swept = rp.complete("authentications", forgotten, forgotten.body(assertion))

    error_of(swept, 404, 9011)


def test_a_registration_session_cannot_complete_an_authentication(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, _, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_registration(user))

    crossed = rp.complete("authentications", ceremony, ceremony.body({"id": "x"}))

    error_of(crossed, 404, 9011)


def test_a_registration_response_sent_to_authentication_is_352(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, _, _ = rp.enrol()
    registration = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(registration.options)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))

    refused = rp.complete("authentications", ceremony, ceremony.body(credential))

    assert _code(refused) == 352


def test_session_data_for_an_internal_session_is_388(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assert ceremony.session_id is not None
    url = f"{rp.base}/authentications"

    refused = api.client.post(
        url,
        json={
            "sessionData": f"{ceremony.session_id}.AAAA",
            "clientResponse": authenticator.authenticate(ceremony.options),
        },
    )

    error_of(refused, 400, 388)


@pytest.mark.parametrize(
    ("reason", "code", "counted"),
    [("FAILED", 397, 1), ("CANCELLED", 398, 0), ("TIMED_OUT", 403, 0)],
)
def test_a_failure_the_client_reports_is_audited_and_counted_only_when_it_failed(
    api: Api, reason: str, code: int, counted: int
) -> None:
    rp = PasskeyStore.create(api)
    user, _, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))

    reported = rp.complete(
        "authentications", ceremony, ceremony.body(clientFailure={"reason": reason})
    )

    # As appkeys count 1104 and not 1105: a failed check is a wrong proof, a cancel is none.
    body = json_of(reported, 400)
    assert body["code"] == code
    passkey_lock = body["user"]["locks"]["modalities"].get("Passkey", {})
    assert passkey_lock.get("failedAttempts", 0) == counted
    assert (rp.last_audit(user)["result"], rp.last_audit(user)["errorCode"]) == ("FAILURE", code)


def test_neither_a_response_nor_a_failure_is_395(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user, _, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))

    assert _code(rp.complete("authentications", ceremony, ceremony.body())) == 395


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_two_completions_of_one_challenge_at_once_exactly_one_succeeds(
    api: Api, server: LiveServer, token: str, mode: str
) -> None:
    rp = PasskeyStore.create(api, sessionManagement=mode)
    user, authenticator, _ = rp.enrol()
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    body = ceremony.body(authenticator.authenticate(ceremony.options))
    path = (
        f"{rp.base}/authentications/sessions/{ceremony.session_id}"
        if ceremony.session_id
        else f"{rp.base}/authentications"
    )

    responses = all_at_once(server, token, [Call(path, body), Call(path, body)])

    assert Counter(_code(r) for r in responses) == Counter({200: 1, 9011: 1})
    assert rp.ceremonies(user) == [("REGISTRATION", "SUCCESS"), ("AUTHENTICATION", "SUCCESS")]


def test_two_registrations_completed_at_once_register_one_passkey(
    api: Api, server: LiveServer, token: str
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))
    path = f"{rp.base}/registrations/sessions/{ceremony.session_id}"

    responses = all_at_once(server, token, [Call(path, body), Call(path, body)])

    assert Counter(_code(r) for r in responses) == Counter({200: 1, 9011: 1})
    assert len(api.get_user(rp.store, user)["summaryInfo"]["passkeys"]) == 1


def test_passkey_failures_lock_the_passkey_modality_only(api: Api) -> None:
    store_locking = {"modalityLockThreshold": 2, "userLockThreshold": 100}
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()
    json_of(
        api.client.post(
            api.store_url(rp.store), json={"configuration": {"userLocking": store_locking}}
        ),
        200,
    )
    bad = Forgery(signature=b"\x30\x00")

    first = rp.sign_in(authenticator, bad, user=user)
    second = rp.sign_in(authenticator, bad, user=user)
    locked = rp.sign_in(authenticator, user=user)

    assert [_code(first), _code(second), _code(locked)] == [3604, 3604, 2101]
    modalities = locked.json()["user"]["locks"]["modalities"]
    assert set(modalities) == {"Passkey"}
    assert modalities["Passkey"]["lockedDtm"] is not None
