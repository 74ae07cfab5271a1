"""What changes between a ceremony's start and its completion is judged at completion (issue 7
F11): a user disabled meanwhile neither registers nor signs in, and a deleted configuration ends
both ceremonies."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.checks import error_of, json_of
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator


def _set_status(rp: PasskeyStore, user: dict[str, Any], status: str) -> None:
    url = rp.api.user_url(rp.store, user)
    assert json_of(rp.api.client.post(url, json={"status": status}), 200)["status"] == status


def test_a_user_disabled_after_the_start_cannot_complete_a_registration(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    ceremony = rp.ceremony(rp.start_registration(user))
    body = ceremony.body(SoftwareAuthenticator(ORIGIN).register(ceremony.options))
    _set_status(rp, user, "DISABLED")

    refused = rp.complete("registrations", ceremony, body)
    _set_status(rp, user, "ACTIVE")
    retried = rp.complete("registrations", ceremony, body)

    assert json_of(refused, 400)["code"] == 2102
    error_of(retried, 404, 9011)  # the refused completion used the session up
    assert api.get_user(rp.store, user)["summaryInfo"]["passkeys"] == []


def test_a_user_disabled_after_the_start_cannot_complete_a_sign_in(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN)
    rp.registered(user, authenticator)
    ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
    assertion = authenticator.authenticate(ceremony.options)
    _set_status(rp, user, "DISABLED")

    refused = rp.complete("authentications", ceremony, ceremony.body(assertion))

    assert json_of(refused, 400)["code"] == 2102
    record = rp.last_audit(user)
    assert (record["type"], record["result"], record["errorCode"]) == ("Passkey", "FAILURE", 2102)


def test_a_configuration_deleted_after_the_start_ends_both_ceremonies(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareAuthenticator(ORIGIN)
    rp.registered(user, authenticator)
    registration = rp.ceremony(rp.start_registration(user))
    sign_in = rp.ceremony(rp.start_authentication(userId=user["id"]))
    credential = SoftwareAuthenticator(ORIGIN).register(registration.options)
    assertion = authenticator.authenticate(sign_in.options)
    deleted = api.client.delete(f"{api.store_url(rp.store)}/passkeyConfig/{rp.rp_id}")

    registered = rp.complete("registrations", registration, registration.body(credential))
    signed_in = rp.complete("authentications", sign_in, sign_in.body(assertion))

    assert deleted.status_code == 204
    assert error_of(registered, 404, 9011)["code"] == error_of(signed_in, 404, 9011)["code"]
    assert len(api.get_user(rp.store, user)["summaryInfo"]["passkeys"]) == 1


def test_a_disabled_user_cannot_start_a_registration(api: Api) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    _set_status(rp, user, "DISABLED")

    refused = rp.start_registration(user)

    error_of(refused, 400, 2102)
    assert api.audit_records(rp.store, user) == []  # refused before any ceremony: no attempt


def test_a_locked_user_cannot_start_a_registration_until_unlocked(api: Api) -> None:
    rp = PasskeyStore.create(api)
    locking = {"userLockThreshold": 1, "modalityLockThreshold": 100}
    store_url = api.store_url(rp.store)
    json_of(api.client.post(store_url, json={"configuration": {"userLocking": locking}}), 200)
    user, authenticator, _ = rp.enrol()
    wrong = rp.sign_in(authenticator, Forgery(signature=b"\x30\x00"), user=user)

    refused = rp.start_registration(user)
    json_of(api.client.post(api.user_url(rp.store, user, "unlock"), json={}), 200)
    registered = rp.register(user, SoftwareAuthenticator(ORIGIN))

    assert json_of(wrong, 400)["user"]["status"] == "TEMP_LOCKED"
    error_of(refused, 400, 2100)  # the code the completion gives a locked user
    assert len(json_of(registered, 200)["user"]["summaryInfo"]["passkeys"]) == 2
    assert rp.ceremonies(user) == [
        ("REGISTRATION", "SUCCESS"),
        ("AUTHENTICATION", "FAILURE"),
        ("REGISTRATION", "SUCCESS"),
    ]
