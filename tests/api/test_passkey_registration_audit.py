"""A passkey registration's completion is an authentication attempt (spec §7, §6): one audit
record of type Passkey per completion once the user is known, success or refusal, in the same
transaction as its effect; its wrong responses count towards the Passkey lock as a TOTP
registration's wrong codes do, a failure the client reports does not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.clock import ManualClock
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.webauthn_authenticator import Flag, Forgery, SoftwareAuthenticator


def _records(rp: PasskeyStore, user: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["authAuditRecord"] for item in rp.api.audit_records(rp.store, user)]


def _passkey_failures(body: dict[str, Any]) -> int:
    passkey_lock: dict[str, Any] = body["user"]["locks"]["modalities"].get("Passkey", {})
    return int(passkey_lock.get("failedAttempts", 0))


@pytest.mark.parametrize("mode", ["INTERNAL", "EXTERNAL"])
def test_a_completed_registration_is_one_successful_passkey_record(api: Api, mode: str) -> None:
    rp = PasskeyStore.create(api, sessionManagement=mode)
    user = api.create_user(rp.store)

    completed = json_of(rp.register(user, SoftwareAuthenticator(ORIGIN)), 200)

    passkey = completed["passkey"]
    [record] = _records(rp, user)
    assert record == {
        "id": completed["authenticationId"],
        "tenantId": record["tenantId"],
        "storeId": user["storeId"],
        "userId": user["id"],
        "type": "Passkey",
        "result": "SUCCESS",
        "createdDtm": passkey["createdDtm"],
        "passkeyInfo": {
            "rpId": RP_ID,
            "policyName": "default",
            "ceremony": "REGISTRATION",
            "id": passkey["id"],
            "credentialId": passkey["credentialId"],
        },
    }
    assert completed["user"]["lastSuccessfulAuthenticationDtm"] == record["createdDtm"]
    assert completed["user"]["summaryInfo"]["passkeys"] == [passkey]


def test_a_refused_registration_is_audited_and_counted_and_a_reported_failure_not_counted(
    api: Api,
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)

    no_presence = rp.register(user, SoftwareAuthenticator(ORIGIN), Forgery(flags=int(Flag.UV)))
    first = rp.assert_refused(user, no_presence, 3601, "REGISTRATION")
    ceremony = rp.ceremony(rp.start_registration(user))
    cancelled = rp.complete(
        "registrations", ceremony, ceremony.body(clientFailure={"reason": "CANCELLED"})
    )
    second = rp.assert_refused(user, cancelled, 398, "REGISTRATION")
    registered = json_of(rp.register(user, SoftwareAuthenticator(ORIGIN)), 200)

    assert (_passkey_failures(first), _passkey_failures(second)) == (1, 1)
    assert _passkey_failures(registered) == 0  # a success resets the modality's count
    refusals = _records(rp, user)[:2]
    # Refused before a passkey exists: the record names the relying party and policy only.
    assert [r["passkeyInfo"] for r in refusals] == [
        {"rpId": RP_ID, "policyName": "default", "ceremony": "REGISTRATION"}
    ] * 2
    assert rp.ceremonies(user) == [
        ("REGISTRATION", "FAILURE"),
        ("REGISTRATION", "FAILURE"),
        ("REGISTRATION", "SUCCESS"),
    ]


@pytest.mark.parametrize(
    ("first", "status", "result"),
    [(Forgery(), 200, "SUCCESS"), (Forgery(flags=int(Flag.UV)), 400, "FAILURE")],
    ids=["ok", "refused"],
)
def test_a_completion_whose_session_is_used_writes_no_record(
    api: Api, first: Forgery, status: int, result: str
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN)
    ceremony = rp.ceremony(rp.start_registration(user))
    used = rp.complete(
        "registrations", ceremony, ceremony.body(authenticator.register(ceremony.options, first))
    )
    honest = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))

    retried = rp.complete("registrations", ceremony, honest)

    assert used.status_code == status, used.text
    if status == 400:
        assert used.json()["code"] == 3601
    error_of(retried, 404, 9011)
    assert rp.ceremonies(user) == [("REGISTRATION", result)]


def test_a_late_registration_is_audited_and_not_counted(api: Api, clock: ManualClock) -> None:
    rp = PasskeyStore.create(api, registrationPolicies={"default": {"timeoutSeconds": 60}})
    user = api.create_user(rp.store)
    clock.set(clock.timestamp())
    ceremony = rp.ceremony(rp.start_registration(user))
    credential = SoftwareAuthenticator(ORIGIN).register(ceremony.options)
    clock.advance(61)

    late = rp.complete("registrations", ceremony, ceremony.body(credential))

    body = rp.assert_refused(user, late, 3606, "REGISTRATION")
    assert _passkey_failures(body) == 0
    assert body["user"]["summaryInfo"]["passkeys"] == []


def test_a_disabled_user_cannot_complete_a_registration_and_it_is_audited(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))
    json_of(api.client.post(api.user_url(rp.store, user), json={"status": "DISABLED"}), 200)

    refused = rp.complete("registrations", ceremony, body)

    rp.assert_refused(user, refused, 2102, "REGISTRATION")
    assert api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []
