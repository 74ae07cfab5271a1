"""Appkey sessions over HTTP (spec §10): used once, on success and on refusal; session data
missing, altered or not expected; late completions; two completions of one session at once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.appkey_ceremonies import FACET, AppkeyStore, refused
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.parallel import Call, all_at_once, codes_of
from tests.support.server import LiveServer
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, Tamper

_BAD_SIGNATURE = Tamper(bad_signature=True)


def _enrolled(
    api: Api, **config: Any
) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator]:
    rp = AppkeyStore.create(api, **config)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator()
    rp.registered(user, authenticator)
    return rp, user, authenticator


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_a_replayed_completion_is_9011(api: Api, mode: str) -> None:
    rp, user, authenticator = _enrolled(api, sessionManagement=mode)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    body = ceremony.body(authenticator.authenticate(ceremony.request, FACET))

    first = rp.complete("authentications", ceremony, body)
    replayed = rp.complete("authentications", ceremony, body)

    assert json_of(first, 200)["user"]["id"] == user["id"]
    error_of(replayed, 404, 9011)
    assert [r["result"] for r in rp.audits(user)] == ["SUCCESS", "SUCCESS"]


def test_a_refused_completion_uses_the_session_up(api: Api) -> None:
    rp, user, authenticator = _enrolled(api)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    honest = authenticator.authenticate(ceremony.request, FACET)

    cancelled = ceremony.body(clientFailure={"reason": "CANCELLED"})
    refused(rp.complete("authentications", ceremony, cancelled), 1105)
    retried = rp.complete("authentications", ceremony, ceremony.body(honest))

    error_of(retried, 404, 9011)


def test_session_data_for_an_internal_session_is_1014(api: Api) -> None:
    rp, user, authenticator = _enrolled(api)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    response = authenticator.authenticate(ceremony.request, FACET)

    answer = api.client.post(
        f"{rp.base}/authentications",
        json={"sessionData": f"{ceremony.session_id}.AAAA", "clientResponse": response},
    )

    error_of(answer, 400, 1014)


@pytest.mark.parametrize("kind", ["registrations", "authentications"])
def test_session_data_sent_to_a_session_route_is_1014(api: Api, kind: str) -> None:
    rp, user, _ = _enrolled(api)
    started = (
        rp.start_registration(user)
        if kind == "registrations"
        else rp.start_authentication(userId=user["id"])
    )
    ceremony = rp.ceremony(started)

    answer = api.client.post(
        f"{rp.base}/{kind}/sessions/{ceremony.session_id}",
        json={"sessionData": f"{ceremony.session_id}.AAAA", "clientResponse": []},
    )

    error_of(answer, 400, 1014)


def test_an_external_session_without_its_data_is_1009(api: Api) -> None:
    rp, _, _ = _enrolled(api, sessionManagement="EXTERNAL")

    answer = api.client.post(
        f"{rp.base}/registrations", json={"clientFailure": {"reason": "CANCELLED"}}
    )
    nothing = api.client.post(f"{rp.base}/authentications", json={})

    error_of(answer, 400, 1009)
    error_of(nothing, 400, 1009)


def test_altered_session_data_is_1011(api: Api) -> None:
    rp, user, authenticator = _enrolled(api, sessionManagement="EXTERNAL")
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assert ceremony.session_data is not None
    session_id, _, sealed = ceremony.session_data.partition(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    response = authenticator.authenticate(ceremony.request, FACET)

    answer = api.client.post(
        f"{rp.base}/authentications",
        json={"sessionData": f"{session_id}.{flipped}", "clientResponse": response},
    )

    error_of(answer, 400, 1011)


def test_session_data_refused_as_1011_or_1014_leaves_the_session_usable(api: Api) -> None:
    internal, user, authenticator = _enrolled(api)
    external, other, other_authenticator = _enrolled(api, sessionManagement="EXTERNAL")
    by_id = internal.ceremony(internal.start_authentication(userId=user["id"]))
    by_data = external.ceremony(external.start_authentication(userId=other["id"]))
    assert by_data.session_data is not None
    session_id, _, sealed = by_data.session_data.partition(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    response = authenticator.authenticate(by_id.request, FACET)
    other_response = other_authenticator.authenticate(by_data.request, FACET)

    not_expected = api.client.post(
        f"{internal.base}/authentications",
        json={"sessionData": f"{by_id.session_id}.AAAA", "clientResponse": response},
    )
    unreadable = api.client.post(
        f"{external.base}/authentications",
        json={"sessionData": f"{session_id}.{flipped}", "clientResponse": other_response},
    )

    error_of(not_expected, 400, 1014)
    error_of(unreadable, 400, 1011)
    signed_in = internal.complete("authentications", by_id, by_id.body(response))
    other_signed_in = external.complete("authentications", by_data, by_data.body(other_response))
    assert json_of(signed_in, 200)["user"]["id"] == user["id"]
    assert json_of(other_signed_in, 200)["user"]["id"] == other["id"]


def test_a_session_whose_configuration_or_policy_went_is_1012_or_1055(api: Api) -> None:
    rp, user, authenticator = _enrolled(api, authenticationPolicies={"default": {}, "gone": {}})
    config_gone = rp.ceremony(rp.start_authentication(userId=user["id"]))
    policy_gone = rp.ceremony(rp.start_authentication("gone", userId=user["id"]))
    first = authenticator.authenticate(config_gone.request, FACET)
    second = authenticator.authenticate(policy_gone.request, FACET)
    config_url = f"{api.store_url(rp.store)}/appkeyConfig/{rp.rp_id}"

    deleted = api.client.delete(config_url)
    without_config = rp.complete("authentications", config_gone, config_gone.body(first))
    AppkeyStore.create(api, store=rp.store)  # again, with the default policies only
    without_policy = rp.complete("authentications", policy_gone, policy_gone.body(second))

    assert deleted.status_code == 204
    error_of(without_config, 400, 1012)
    error_of(without_policy, 400, 1055)


def test_a_late_sign_in_is_3720_audited_and_not_counted(api: Api, clock: ManualClock) -> None:
    rp, user, authenticator = _enrolled(
        api, authenticationPolicies={"default": {"timeoutSeconds": 60}}
    )
    clock.set(clock.timestamp())
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    response = authenticator.authenticate(ceremony.request, FACET)
    clock.advance(61)

    late = refused(rp.complete("authentications", ceremony, ceremony.body(response)), 3720)

    assert AppkeyStore.failed_attempts(late["user"]) == 0
    assert rp.last_audit(user)["errorCode"] == 3720


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_two_completions_of_one_session_at_once_exactly_one_succeeds(
    api: Api, server: LiveServer, token: str, mode: str
) -> None:
    rp, user, authenticator = _enrolled(api, sessionManagement=mode)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    body = ceremony.body(authenticator.authenticate(ceremony.request, FACET))
    path = (
        f"{rp.base}/authentications/sessions/{ceremony.session_id}"
        if ceremony.session_id
        else f"{rp.base}/authentications"
    )

    responses = all_at_once(server, token, [Call(path, body), Call(path, body)])

    assert codes_of(responses) == Counter({200: 1, 9011: 1})
    assert [r["result"] for r in rp.audits(user)] == ["SUCCESS", "SUCCESS"]


def test_two_registrations_completed_at_once_register_one_appkey(
    api: Api, server: LiveServer, token: str
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(
        SoftwareUafAuthenticator().register(ceremony.request, FACET, attestation="BASIC_SURROGATE")
    )
    path = f"{rp.base}/registrations/sessions/{ceremony.session_id}"

    responses = all_at_once(server, token, [Call(path, body), Call(path, body)])

    assert codes_of(responses) == Counter({200: 1, 9011: 1})
    assert len(api.get_user(rp.store, user)["summaryInfo"]["appkeys"]) == 1


def test_twenty_wrong_signatures_at_once_count_exactly_the_threshold(
    api: Api, server: LiveServer, token: str
) -> None:
    locking = {"userLocking": {"modalityLockThreshold": 5, "userLockThreshold": 100}}
    store = api.create_store(configuration=locking)["name"]
    rp = AppkeyStore.create(api, store=store)
    user = api.create_user(store)
    authenticator = SoftwareUafAuthenticator()
    rp.registered(user, authenticator)
    calls = []
    for _ in range(20):
        ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
        forged = authenticator.authenticate(ceremony.request, FACET, tamper=_BAD_SIGNATURE)
        url = f"{rp.base}/authentications/sessions/{ceremony.session_id}"
        calls.append(Call(url, ceremony.body(forged)))

    responses = all_at_once(server, token, calls)

    assert codes_of(responses) == Counter({3710: 5, 2101: 15})
    locks = api.get_user(store, user)["locks"]["modalities"]["Appkey"]
    assert locks["failedAttempts"] == 5
    assert "lockedDtm" in locks
    assert Counter(r["errorCode"] for r in rp.audits(user)[1:]) == Counter({3710: 5, 2101: 15})
