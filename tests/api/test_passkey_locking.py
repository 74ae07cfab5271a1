"""Locking counts passkey failures as a modality, as it counts TOTP codes (spec §6, issue 7):
wrong assertions and failures the client reports (397) lock the Passkey modality, then even a
correct one answers 2101; they count towards the user lock too; and 20 wrong assertions at once
against a threshold of 5 count exactly 5, on both engines."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import json_of
from tests.support.parallel import Call, all_at_once
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.server import LiveServer
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator

BAD_SIGNATURE = Forgery(signature=b"\x30\x00")  # a DER sequence with nothing in it


def _locking_store(api: Api, **locking: Any) -> PasskeyStore:
    """A passkey store whose user locking is `locking` (modality locks last 300 s)."""
    rp = PasskeyStore.create(api)
    configuration = {"userLocking": {"modalityLockSeconds": 300, **locking}}
    json_of(api.client.post(api.store_url(rp.store), json={"configuration": configuration}), 200)
    return rp


def _code(response: Any) -> int:
    return 200 if response.status_code == 200 else int(response.json()["code"])


def _passkey_lock(body: dict[str, Any]) -> dict[str, Any]:
    lock: dict[str, Any] = body["user"]["locks"]["modalities"]["Passkey"]
    return lock


def test_twenty_wrong_assertions_at_once_count_exactly_to_the_threshold(
    api: Api, server: LiveServer, token: str
) -> None:
    rp = _locking_store(api, modalityLockThreshold=5, userLockThreshold=1000)
    user, authenticator, _ = rp.enrol()
    calls = []
    for _ in range(20):
        ceremony = rp.ceremony(rp.start_authentication(userId=user["id"]))
        assertion = authenticator.authenticate(ceremony.options, BAD_SIGNATURE)
        url = f"{rp.base}/authentications/sessions/{ceremony.session_id}"
        calls.append(Call(url, ceremony.body(assertion)))

    responses = all_at_once(server, token, calls)

    assert Counter(_code(r) for r in responses) == Counter({3604: 5, 2101: 15})
    current = api.get_user(rp.store, user)
    lock = current["locks"]["modalities"]["Passkey"]
    assert lock["failedAttempts"] == 5 and "lockedDtm" in lock
    assert current["status"] == "ACTIVE"  # a modality lock leaves the status alone
    failures = [r["authAuditRecord"] for r in api.audit_records(rp.store, user)][1:]
    assert Counter((r["type"], r["errorCode"]) for r in failures) == Counter(
        {("Passkey", 3604): 5, ("Passkey", 2101): 15}
    )


def test_a_locked_modality_refuses_a_correct_assertion_and_a_registration_until_unlocked(
    api: Api,
) -> None:
    rp = _locking_store(api, modalityLockThreshold=2, userLockThreshold=100)
    user, authenticator, _ = rp.enrol()
    first = rp.sign_in(authenticator, BAD_SIGNATURE, user=user)
    second = rp.sign_in(authenticator, BAD_SIGNATURE, user=user)

    correct = rp.sign_in(authenticator, user=user)
    rp.assert_refused(user, correct, 2101, "AUTHENTICATION")
    registering = rp.register(user, SoftwareAuthenticator(ORIGIN))
    rp.assert_refused(user, registering, 2101, "REGISTRATION")
    unlock_url = api.user_url(rp.store, user, "unlock")
    json_of(api.client.post(unlock_url, json={"modalities": ["Passkey"]}), 200)
    after_unlock = json_of(rp.sign_in(authenticator, user=user), 200)

    assert [_code(first), _code(second)] == [3604, 3604]
    assert _passkey_lock(second.json())["failedAttempts"] == 2
    assert _passkey_lock(registering.json())["failedAttempts"] == 2  # a lock refusal: uncounted
    assert (
        after_unlock["user"]["locks"]["modalities"].get("Passkey", {}).get("failedAttempts", 0) == 0
    )
    assert len(after_unlock["user"]["summaryInfo"]["passkeys"]) == 1


def test_passkey_failures_count_towards_the_user_lock(api: Api) -> None:
    rp = _locking_store(api, modalityLockThreshold=100, userLockThreshold=3)
    user, authenticator, _ = rp.enrol()

    wrong = [rp.sign_in(authenticator, BAD_SIGNATURE, user=user) for _ in range(3)]
    correct = rp.sign_in(authenticator, user=user)

    assert [_code(r) for r in wrong] == [3604, 3604, 3604]
    body = rp.assert_refused(user, correct, 2100, "AUTHENTICATION")
    assert body["user"]["status"] == "TEMP_LOCKED"
    assert body["user"]["lockCount"] == 1


def _report(rp: PasskeyStore, user: dict[str, Any], reason: str, kind: str) -> Any:
    """Start a ceremony of `kind` for the user and complete it with the client's failure."""
    started = (
        rp.start_registration(user)
        if kind == "registrations"
        else rp.start_authentication(userId=user["id"])
    )
    ceremony = rp.ceremony(started)
    return rp.complete(kind, ceremony, ceremony.body(clientFailure={"reason": reason}))


@pytest.mark.parametrize("kind", ["registrations", "authentications"])
def test_failures_the_client_reports_lock_the_modality_and_then_are_refused(
    api: Api, kind: str
) -> None:
    rp = _locking_store(api, modalityLockThreshold=2, userLockThreshold=100)
    user, authenticator, _ = rp.enrol()

    reports = [_report(rp, user, "FAILED", kind) for _ in range(3)]
    # Checked as it comes: assert_refused reads the last audit record.
    ceremony = "REGISTRATION" if kind == "registrations" else "AUTHENTICATION"
    rp.assert_refused(user, _report(rp, user, "CANCELLED", kind), 2101, ceremony)
    rp.assert_refused(user, rp.sign_in(authenticator, user=user), 2101, "AUTHENTICATION")

    assert [_code(r) for r in reports] == [397, 397, 2101]
    assert [_passkey_lock(r.json())["failedAttempts"] for r in reports] == [1, 2, 2]
    assert "lockedDtm" in _passkey_lock(reports[1].json())


def test_a_cancelled_or_timed_out_ceremony_counts_nowhere(api: Api) -> None:
    rp = _locking_store(api, modalityLockThreshold=2, userLockThreshold=2)
    user, authenticator, _ = rp.enrol()

    reports = [_report(rp, user, reason, "authentications") for reason in ["CANCELLED"] * 2]
    reports += [_report(rp, user, "TIMED_OUT", "authentications") for _ in range(2)]
    signed_in = rp.sign_in(authenticator, user=user)

    assert [_code(r) for r in reports] == [398, 398, 403, 403]
    assert json_of(signed_in, 200)["user"]["status"] == "ACTIVE"


def test_failures_the_client_reports_count_towards_the_user_lock(api: Api) -> None:
    rp = _locking_store(api, modalityLockThreshold=100, userLockThreshold=2)
    user, authenticator, _ = rp.enrol()

    reports = [_report(rp, user, "FAILED", "authentications") for _ in range(2)]
    correct = rp.sign_in(authenticator, user=user)

    assert [_code(r) for r in reports] == [397, 397]
    assert reports[1].json()["user"]["status"] == "TEMP_LOCKED"
    rp.assert_refused(user, correct, 2100, "AUTHENTICATION")
