"""Appkey failures count toward the `Appkey` modality's lock and the user's (spec §6): the
answer shows the lock state; a locked modality refuses (2101) without judging the response;
a success resets the count; a user not yet active may register but not sign in (502)."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.appkey_ceremonies import AppkeyStore, refused
from tests.support.checks import DTM, json_of
from tests.support.uaf_authenticator import SoftwareUafAuthenticator, Tamper

BAD_SIGNATURE = Tamper(bad_signature=True)


def _enrolled(
    api: Api, **locking: Any
) -> tuple[AppkeyStore, dict[str, Any], SoftwareUafAuthenticator, dict[str, Any]]:
    configuration = {"userLocking": {"modalityLockSeconds": 300, **locking}}
    store = api.create_store(configuration=configuration)["name"]
    rp = AppkeyStore.create(api, store=store)
    user = api.create_user(store)
    authenticator = SoftwareUafAuthenticator()
    return rp, user, authenticator, rp.registered(user, authenticator)


def test_wrong_signatures_lock_the_appkey_modality_and_the_answer_shows_it(api: Api) -> None:
    rp, user, authenticator, appkey = _enrolled(api, modalityLockThreshold=2)

    first = refused(rp.sign_in(authenticator, user=user, tamper=BAD_SIGNATURE), 3710)
    second = refused(rp.sign_in(authenticator, user=user, tamper=BAD_SIGNATURE), 3710)
    honest = refused(rp.sign_in(authenticator, user=user), 2101)

    assert first["user"]["locks"]["modalities"]["Appkey"] == {"failedAttempts": 1}
    lock = second["user"]["locks"]["modalities"]["Appkey"]
    assert lock["failedAttempts"] == 2
    assert DTM.match(lock["lockedDtm"]) and DTM.match(lock["unlockDtm"])
    assert second["user"]["status"] == "ACTIVE"  # a modality lock leaves the status alone
    assert honest["user"]["locks"]["modalities"]["Appkey"]["failedAttempts"] == 2
    assert rp.appkey(user, appkey["id"])["signCount"] == 0
    assert [r.get("errorCode") for r in rp.audits(user)] == [None, 3710, 3710, 2101]


def test_a_success_resets_the_appkey_count(api: Api) -> None:
    rp, user, authenticator, _ = _enrolled(api, modalityLockThreshold=3)
    refused(rp.sign_in(authenticator, user=user, tamper=BAD_SIGNATURE), 3710)

    accepted = json_of(rp.sign_in(authenticator, user=user), 200)

    assert accepted["user"]["locks"]["modalities"]["Appkey"]["failedAttempts"] == 0


def test_appkey_failures_count_toward_the_users_lock(api: Api) -> None:
    rp, user, authenticator, _ = _enrolled(api, modalityLockThreshold=10, userLockThreshold=2)

    refused(rp.sign_in(authenticator, user=user, tamper=BAD_SIGNATURE), 3710)
    locked = refused(rp.sign_in(authenticator, user=user, tamper=BAD_SIGNATURE), 3710)
    after = refused(rp.sign_in(authenticator, user=user), 2100)

    assert locked["user"]["status"] == "TEMP_LOCKED"
    assert DTM.match(locked["user"]["locks"]["user"]["unlockDtm"])
    assert after["user"]["status"] == "TEMP_LOCKED"


def test_a_pending_user_registers_but_cannot_sign_in(api: Api) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store, status="PENDING_ACTIVE")
    authenticator = SoftwareUafAuthenticator()

    appkey = rp.registered(user, authenticator)
    refusal = refused(rp.sign_in(authenticator, user=user), 502)

    assert refusal["user"]["status"] == "PENDING_ACTIVE"
    assert rp.appkey(user, appkey["id"])["signCount"] == 0
    assert rp.last_audit(user)["errorCode"] == 502
