"""Signing in with an appkey over HTTP (spec §10): by INTERNAL session and by EXTERNAL
`sessionData`, each refusal with its code, the updated user and audit record, and counters
that a refusal leaves as they were."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.appkey_ceremonies import (
    FACET,
    RP_ID,
    AppkeyStore,
    refused,
    set_user_status,
)
from tests.support.checks import DTM, json_of
from tests.support.uaf_authenticator import HONEST, SoftwareUafAuthenticator, Tamper


def _enrolled(
    api: Api, authenticator: SoftwareUafAuthenticator | None = None, **config: Any
) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator, dict[str, Any]]:
    rp = AppkeyStore.create(api, **config)
    user = api.create_user(rp.store)
    authenticator = authenticator or SoftwareUafAuthenticator()
    appkey = rp.registered(user, authenticator)
    return rp, user, authenticator, appkey


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_a_signed_in_user_gets_the_updated_appkey_and_an_audit_record(api: Api, mode: str) -> None:
    rp, user, authenticator, appkey = _enrolled(api, sessionManagement=mode)

    body = json_of(rp.sign_in(authenticator, user=user), 200)

    used = body["appkey"]
    assert (used["id"], used["signCount"]) == (appkey["id"], 1)
    assert DTM.match(used["lastAuthenticatedWithDtm"])
    assert body["user"]["summaryInfo"]["appkeys"] == [used]
    record = rp.last_audit(user)
    assert (record["id"], record["result"]) == (body["authenticationId"], "SUCCESS")
    assert record["appkeyInfo"]["ceremony"] == "AUTHENTICATION"
    assert record["appkeyInfo"]["keyId"] == appkey["keyId"]


def test_a_sign_in_started_without_a_user_is_answered_by_the_keys_owner(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api)

    body = json_of(rp.sign_in(authenticator), 200)

    assert (body["user"]["id"], body["appkey"]["id"]) == (user["id"], appkey["id"])


def test_a_start_by_external_id_offers_the_users_active_keys(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api)

    ceremony = rp.ceremony(rp.start_authentication(userExtId=user["externalId"]))

    (accepted,) = ceremony.request[0]["policy"]["accepted"]
    assert accepted[0]["keyIDs"] == [appkey["keyId"]]
    assert accepted[0]["aaid"] == [authenticator.aaid]
    assert (
        ceremony.request[0]["header"]["appID"] == f"https://{RP_ID}/.well-known/uaf-trusted-facets"
    )


def test_a_transaction_text_travels_in_the_request_and_its_hash_is_signed(api: Api) -> None:
    rp, user, authenticator, _ = _enrolled(api)
    ceremony = rp.ceremony(
        rp.start_authentication(userId=user["id"], transactionText="Pay 25.00 EUR")
    )

    (transaction,) = ceremony.request[0]["transaction"]
    response = authenticator.authenticate(ceremony.request, FACET)
    signed_in = rp.complete("authentications", ceremony, ceremony.body(response))

    assert transaction["contentType"] == "text/plain"
    assert json_of(signed_in, 200)["user"]["id"] == user["id"]


def _with_transaction(request: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """The request as a client that shows `text` (None: nothing) instead of the server's."""
    message = copy.deepcopy(request[0])
    message.pop("transaction", None)
    if text is not None:
        content = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
        message["transaction"] = [{"contentType": "text/plain", "content": content}]
    return [message]


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("Pay 25.00 EUR to Alice", None),
        ("Pay 25.00 EUR to Alice", "Pay 9999.00 EUR to Mallory"),
        (None, "Pay 9999.00 EUR to Mallory"),
    ],
)
def test_an_assertion_not_confirming_the_transaction_text_is_3723_and_counted(
    api: Api, sent: str | None, shown: str | None
) -> None:
    rp, user, authenticator, appkey = _enrolled(api)
    fields = {} if sent is None else {"transactionText": sent}
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"], **fields))
    response = authenticator.authenticate(_with_transaction(ceremony.request, shown), FACET)

    refusal = refused(rp.complete("authentications", ceremony, ceremony.body(response)), 3723)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 1
    assert rp.appkey(user, appkey["id"])["signCount"] == appkey["signCount"]
    record = rp.last_audit(user)
    assert (record["result"], record["errorCode"]) == ("FAILURE", 3723)


def test_a_user_without_an_active_appkey_cannot_start_a_sign_in(api: Api) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)

    answer = json_of(rp.start_authentication(userId=user["id"]), 400)

    assert answer["code"] == 3722


@pytest.mark.parametrize(
    ("tamper", "facet", "code", "counted"),
    [
        (Tamper(bad_signature=True), FACET, 3710, 1),
        (Tamper(challenge="d3Jvbmc"), FACET, 1029, 1),
        (Tamper(challenge="\ud800"), FACET, 1029, 1),
        (HONEST, "https://evil.example.net", 1026, 1),
        (Tamper(other_fc_params=True), FACET, 3718, 1),
        (Tamper(app_id="https://other.example.org/facets"), FACET, 3717, 1),
        (Tamper(trailing_bytes=True), FACET, 1091, 0),
        (Tamper(wrong_length=True), FACET, 1091, 0),
        (Tamper(duplicate_tag=True), FACET, 1091, 0),
        (Tamper(assertions=0), FACET, 1092, 0),
        (Tamper(assertions=2), FACET, 1093, 0),
        (Tamper(op="Reg"), FACET, 1017, 0),
    ],
)
def test_a_refused_response_answers_its_code_and_leaves_the_counter(
    api: Api, tamper: Tamper, facet: str, code: int, counted: int
) -> None:
    rp, user, authenticator, appkey = _enrolled(api)
    json_of(rp.sign_in(authenticator, user=user), 200)

    refusal = refused(rp.sign_in(authenticator, user=user, tamper=tamper, facet=facet), code)

    assert AppkeyStore.failed_attempts(refusal["user"]) == counted
    assert rp.appkey(user, appkey["id"])["signCount"] == 1
    record = rp.last_audit(user)
    assert (record["result"], record["errorCode"]) == ("FAILURE", code)


def test_a_sign_counter_going_backwards_is_1061(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api)
    for _ in range(3):
        json_of(rp.sign_in(authenticator, user=user), 200)
    authenticator.set_sign_counter(appkey["keyId"], 1)  # signs 2, under the stored 3

    refusal = refused(rp.sign_in(authenticator, user=user), 1061)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 1
    assert rp.appkey(user, appkey["id"])["signCount"] == 3
    assert rp.last_audit(user)["errorCode"] == 1061


def test_an_authenticator_without_counters_is_accepted_every_time(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api, SoftwareUafAuthenticator(zero_counters=True))

    first = json_of(rp.sign_in(authenticator, user=user), 200)
    second = json_of(rp.sign_in(authenticator, user=user), 200)

    assert first["appkey"]["signCount"] == second["appkey"]["signCount"] == 0
    assert appkey["signCount"] == 0


def test_an_unknown_key_is_1058_and_counted_for_the_sessions_user(api: Api) -> None:
    rp, user, _, _ = _enrolled(api)
    stranger = SoftwareUafAuthenticator(aaid="FFFF#0002")
    ceremony = rp.ceremony(rp.start_registration(user))
    stranger.register(ceremony.request, FACET)  # a key the server never kept

    refusal = refused(rp.sign_in(stranger, user=user), 1058)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 1
    assert rp.last_audit(user)["errorCode"] == 1058


def test_another_users_key_is_1059(api: Api) -> None:
    rp, alice, _, _ = _enrolled(api)
    bob = api.create_user(rp.store)
    bobs = SoftwareUafAuthenticator()
    bobs_appkey = rp.registered(bob, bobs)
    ceremony = rp.ceremony(rp.start_authentication(userId=alice["id"]))
    (bobs_key,) = bobs.keys

    response = bobs.authenticate(ceremony.request, FACET, key_id=bobs_key)
    refusal = refused(rp.complete("authentications", ceremony, ceremony.body(response)), 1059)

    assert refusal["user"]["id"] == alice["id"]
    record = rp.last_audit(alice)
    assert (record["errorCode"], record["appkeyInfo"].get("id")) == (1059, None)
    assert rp.appkey(bob, bobs_appkey["id"])["signCount"] == 0


def test_a_disabled_appkey_is_1060_and_not_counted(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api)
    url = api.user_url(rp.store, user, f"appkeys/{appkey['id']}")
    assert json_of(api.client.post(url, json={"status": "DISABLED"}), 200)["status"] == "DISABLED"
    ceremony = rp.ceremony(rp.start_authentication())  # no user: the disabled key still answers

    response = authenticator.authenticate(ceremony.request, FACET)
    refusal = refused(rp.complete("authentications", ceremony, ceremony.body(response)), 1060)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 0
    assert rp.last_audit(user)["errorCode"] == 1060


def test_a_key_type_the_authentication_policy_refuses_is_1035(api: Api) -> None:
    rp, user, authenticator, _ = _enrolled(
        api, authenticationPolicies={"strong": {"keyTypes": ["BIOMETRIC"]}}
    )

    # No user named: any key of the relying party may answer, and only its answer shows its type.
    refusal = refused(rp.sign_in(authenticator, policy="strong"), 1035)

    assert AppkeyStore.failed_attempts(refusal["user"]) == 0
    assert rp.last_audit(user)["appkeyInfo"]["policyName"] == "strong"


def test_a_named_user_without_a_key_the_policy_accepts_is_refused_at_the_start(api: Api) -> None:
    rp, user, _, _ = _enrolled(api, authenticationPolicies={"strong": {"keyTypes": ["BIOMETRIC"]}})
    audited = len(rp.audits(user))

    started = rp.start_authentication("strong", userId=user["id"])

    assert json_of(started, 400)["code"] == 3722
    assert len(rp.audits(user)) == audited  # a start is no attempt: nothing audited


@pytest.mark.parametrize(
    ("failure", "code", "counted"),
    [
        ({"reason": "FAILED", "message": "fingerprint not recognised"}, 1104, 1),
        ({"reason": "CANCELLED"}, 1105, 0),
        ({"reason": "SOMETHING"}, 1102, 0),
        ({"reason": "FAILED", "extra": 1}, 1102, 0),
        ("FAILED", 1102, 0),
    ],
)
def test_a_failure_the_client_reports_is_audited_and_counted_only_when_it_failed(
    api: Api, failure: Any, code: int, counted: int
) -> None:
    rp, user, _, _ = _enrolled(api)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))

    answer = rp.complete("authentications", ceremony, ceremony.body(clientFailure=failure))

    refusal = refused(answer, code)
    assert AppkeyStore.failed_attempts(refusal["user"]) == counted
    assert rp.last_audit(user)["errorCode"] == code


def test_neither_a_response_nor_a_failure_is_1115(api: Api) -> None:
    rp, user, _, _ = _enrolled(api)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))

    refused(rp.complete("authentications", ceremony, ceremony.body()), 1115)


def test_a_disabled_or_locked_user_is_refused_before_the_response_is_read(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    response = authenticator.authenticate(ceremony.request, FACET)
    set_user_status(api, rp.store, user, "DISABLED")

    refusal = refused(rp.complete("authentications", ceremony, ceremony.body(response)), 2102)

    assert refusal["user"]["id"] == user["id"]
    assert rp.appkey(user, appkey["id"])["signCount"] == appkey["signCount"]
    assert rp.last_audit(user)["errorCode"] == 2102
