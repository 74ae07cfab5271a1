"""The working path over HTTP: store, policy, user, registration, completion, authentication."""

from __future__ import annotations

from tests.support.api import Api, code_at
from tests.support.clock import ManualClock


def test_a_registered_totp_authenticates_once_per_code(api: Api, clock: ManualClock) -> None:
    store = api.create_store(configuration={"totpPolicies": {"default": {}}})["name"]
    user = api.create_user(store)
    clock.set(1_700_000_000)

    started = api.start_registration(store, user, "default")
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    completed = api.complete(store, user, "default", code_at(secret, clock.timestamp()))
    assert completed.status_code == 200, completed.text

    clock.advance(30)
    code = code_at(secret, clock.timestamp())
    first = api.authenticate(store, user, "default", code)
    again = api.authenticate(store, user, "default", code)

    assert first.status_code == 200, first.text
    assert first.json()["totp"]["status"] == "ACTIVE"
    assert (again.status_code, again.json()["code"]) == (400, 3402)
    assert again.json()["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1
    results = [r["authAuditRecord"]["result"] for r in api.audit_records(store, user)]
    assert results == ["SUCCESS", "SUCCESS", "FAILURE"]
