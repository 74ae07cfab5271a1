"""Every statement of a passkey, appkey or face attempt and registration, read as Citus would
route it (docs/scaling.md), as tests/api/test_distribution_statements.py reads the TOTP attempt's.

A ceremony's start and completion are captured together: both are requests of one store, and a
statement of either that reaches a distributed table without naming the store would go to every
worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.api import Api
from tests.support.appkey_ceremonies import AppkeyStore
from tests.support.checks import json_of
from tests.support.clock import ManualClock
from tests.support.face_api import enrol, enrolled_user, face_attempts, match, report_failure
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.portraits import astronaut_face, hopper_variants
from tests.support.routing import reached, unrouted, verb
from tests.support.server import LiveServer
from tests.support.uaf_authenticator import HONEST, SoftwareUafAuthenticator, Tamper
from tests.support.webauthn_authenticator import Flag, Forgery, SoftwareAuthenticator

ATTEMPT = {"users", "authentication_audit"}  # what every attempt reads or writes
NOW = datetime(2026, 12, 4, 15, 2, 11, 123000, tzinfo=UTC)  # the single-shot's clock
NO_UP = Forgery(flags=int(Flag.UV))  # a registration without user presence: 3601


def assert_routed(statements: list[str], tables: set[str]) -> None:
    assert tables <= reached(statements), statements
    assert unrouted(statements) == [], statements


def user_of(
    response: httpx.Response, error_code: int | None, user: dict[str, Any]
) -> dict[str, Any]:
    """The updated user in a success (no error code) or in a refusal with that code."""
    body = json_of(response, 200 if error_code is None else 400)
    assert (body.get("code"), body["user"]["id"]) == (error_code, user["id"]), body
    updated: dict[str, Any] = body["user"]
    return updated


# Passkeys


@pytest.mark.parametrize(
    ("forgery", "error_code"), [(Forgery(), None), (NO_UP, 3601)], ids=["accepted", "refused"]
)
def test_every_statement_of_a_passkey_registration_names_its_store(
    server: LiveServer, api: Api, forgery: Forgery, error_code: int | None
) -> None:
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)

    with server.statements.capture() as statements:
        response = rp.register(user, SoftwareAuthenticator(ORIGIN), forgery)

    registered = user_of(response, error_code, user)["summaryInfo"].get("passkeys", [])
    assert len(registered) == (0 if error_code else 1)
    assert_routed(statements, {"user_passkeys", "passkey_sessions"} | ATTEMPT)


@pytest.mark.parametrize(
    ("forgery", "known", "error_code"),
    [
        (Forgery(), True, None),
        (Forgery(), False, None),
        (Forgery(signature=b"\x30\x00"), True, 3604),
    ],
    ids=["known-user", "discoverable", "bad-signature"],
)
def test_every_statement_of_a_passkey_authentication_names_its_store(
    server: LiveServer, api: Api, forgery: Forgery, known: bool, error_code: int | None
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, passkey = rp.enrol()

    with server.statements.capture() as statements:
        response = rp.sign_in(authenticator, forgery, user=user if known else None)

    modalities = user_of(response, error_code, user)["locks"]["modalities"]
    assert modalities.get("Passkey", {}).get("failedAttempts", 0) == (1 if error_code else 0)
    assert rp.passkey(user, passkey["id"])["signCount"] == (0 if error_code else 1)
    assert_routed(statements, {"user_passkeys", "passkey_sessions"} | ATTEMPT)


# Appkeys


@pytest.mark.parametrize(
    ("tamper", "error_code"),
    [(HONEST, None), (Tamper(bad_signature=True), 3710)],
    ids=["accepted", "refused"],
)
def test_every_statement_of_an_appkey_registration_names_its_store(
    server: LiveServer, api: Api, tamper: Tamper, error_code: int | None
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)

    with server.statements.capture() as statements:
        response = rp.register(user, SoftwareUafAuthenticator(), tamper=tamper)

    registered = user_of(response, error_code, user)["summaryInfo"].get("appkeys", [])
    assert len(registered) == (0 if error_code else 1)
    assert_routed(statements, {"user_appkeys", "appkey_sessions"} | ATTEMPT)


@pytest.mark.parametrize(
    ("tamper", "known", "error_code"),
    [(HONEST, True, None), (HONEST, False, None), (Tamper(bad_signature=True), True, 3710)],
    ids=["known-user", "any-key", "bad-signature"],
)
def test_every_statement_of_an_appkey_authentication_names_its_store(
    server: LiveServer, api: Api, tamper: Tamper, known: bool, error_code: int | None
) -> None:
    rp = AppkeyStore.create(api)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator()
    appkey = rp.registered(user, authenticator)

    with server.statements.capture() as statements:
        response = rp.sign_in(authenticator, user=user if known else None, tamper=tamper)

    updated = user_of(response, error_code, user)
    assert AppkeyStore.failed_attempts(updated) == (1 if error_code else 0)
    assert rp.appkey(user, appkey["id"])["signCount"] == (0 if error_code else 1)
    assert_routed(statements, {"user_appkeys", "appkey_sessions"} | ATTEMPT)


@pytest.mark.parametrize(("times", "error_code"), [(1, None), (2, 1090)], ids=["first", "replay"])
def test_every_statement_of_a_single_shot_appkey_authentication_names_its_store(
    server: LiveServer, api: Api, clock: ManualClock, times: int, error_code: int | None
) -> None:
    clock.set(NOW.timestamp())
    rp = AppkeyStore.create(api, singleShotWindowSeconds=60)
    user = api.create_user(rp.store)
    authenticator = SoftwareUafAuthenticator()
    rp.registered(user, authenticator)
    for _ in range(times - 1):
        json_of(rp.single_shot(authenticator, NOW), 200)

    with server.statements.capture() as statements:
        response = rp.single_shot(authenticator, NOW)

    updated = user_of(response, error_code, user)
    assert AppkeyStore.failed_attempts(updated) == (1 if error_code else 0)
    assert_routed(statements, {"user_appkeys", "appkey_single_shot_challenges"} | ATTEMPT)


# Faces


@pytest.mark.parametrize("again", [False, True], ids=["first", "re-enrolment"])
def test_every_statement_of_a_face_enrolment_names_its_store(
    server: LiveServer, api: Api, again: bool
) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    before = enrolled_user(api, store, user)["summaryInfo"]["biometrics"] if again else []

    with server.statements.capture() as statements:
        enrolled = json_of(enrol(api, store, user), 200)

    (face,) = enrolled["summaryInfo"]["biometrics"]
    assert face["id"] not in [old["id"] for old in before]
    assert_routed(statements, {"users", "user_biometrics"})
    assert any(verb(s) == "DELETE" for s in statements) is again, statements


@pytest.mark.parametrize(
    ("image", "error_code"),
    [(hopper_variants()["cropped"], None), (astronaut_face(), 3500)],
    ids=["genuine", "impostor"],
)
def test_every_statement_of_a_face_authentication_names_its_store(
    server: LiveServer, api: Api, image: bytes, error_code: int | None
) -> None:
    store = api.create_store()["name"]
    user = enrolled_user(api, store, api.create_user(store))

    with server.statements.capture() as statements:
        response = match(api, store, user, image)

    assert face_attempts(user_of(response, error_code, user)) == (1 if error_code else 0)
    assert_routed(statements, {"user_biometrics"} | ATTEMPT)


def test_every_statement_of_a_reported_face_failure_names_its_store(
    server: LiveServer, api: Api
) -> None:
    store = api.create_store()["name"]
    user = enrolled_user(api, store, api.create_user(store))

    with server.statements.capture() as statements:
        response = report_failure(api, store, user, type="FACE", reason="liveness")

    assert face_attempts(json_of(response, 200)) == 1
    assert_routed(statements, {"user_biometrics"} | ATTEMPT)
