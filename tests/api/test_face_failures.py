"""Failures the client saw, recorded (spec §11), and what never leaves the server: a face's
template or image, in no response and no log line."""

from __future__ import annotations

import logging
from base64 import b64encode
from typing import Any

import pytest

from idstore.logs import JsonFormatter
from tests.support.api import Api, code_at
from tests.support.checks import assert_invalid
from tests.support.clock import ManualClock
from tests.support.face_api import (
    enrol,
    enrolled_user,
    face_attempts,
    face_rows,
    latest_record,
    match,
    refusal_of,
    report_failure,
)
from tests.support.portraits import astronaut_face, hopper_jpeg, hopper_variants
from tests.support.seeding import Seeder
from tests.support.totp_users import totp_user

T0 = 1_700_000_000


@pytest.fixture
def store(api: Api) -> dict[str, Any]:
    return api.create_store()


@pytest.mark.parametrize("ext", [False, True], ids=["by-id", "by-ext-id"])
def test_a_reported_failure_is_counted_audited_and_answers_the_user(
    api: Api, store: dict[str, Any], ext: bool
) -> None:
    user = enrolled_user(api, store["name"], api.create_user(store["name"]))

    response = report_failure(
        api, store["name"], user, ext=ext, type="FACE", reason="liveness check failed"
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]
    assert face_attempts(response.json()) == 1
    record = latest_record(api, store["name"], user)
    assert (record["type"], record["result"], record["errorCode"]) == ("Face", "FAILURE", 3800)
    # No model ran: the record names the face and the reason, and no score, threshold or model.
    assert record["faceInfo"] == {
        "biometricId": user["summaryInfo"]["biometrics"][0]["id"],
        "reason": "liveness check failed",
    }


def test_reported_failures_lock_the_face_modality(api: Api) -> None:
    store = api.create_store(configuration={"userLocking": {"modalityLockThreshold": 2}})
    user = api.create_user(store["name"])

    report_failure(api, store["name"], user, type="FACE")
    second = report_failure(api, store["name"], user, type="FACE")
    third = report_failure(api, store["name"], user, type="FACE")

    assert "lockedDtm" in second.json()["locks"]["modalities"]["Face"]
    assert refusal_of(third, 400, 2101)["user"]["id"] == user["id"]
    assert latest_record(api, store["name"], user)["faceInfo"] == {}


@pytest.mark.parametrize(
    ("body", "code"),
    [({"type": "VOICE_TD"}, 2005), ({"type": "VOICE_TI"}, 2005), ({"type": "IRIS"}, 20115)],
)
def test_a_reported_failure_of_another_type_is_refused(
    api: Api, store: dict[str, Any], body: dict[str, Any], code: int
) -> None:
    user = api.create_user(store["name"])

    refusal_of(report_failure(api, store["name"], user, **body), 400, code)

    assert face_attempts(api.get_user(store["name"], user)) == 0
    assert api.audit_records(store["name"], user) == []


def test_a_reported_failure_needs_its_type(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])

    assert_invalid(report_failure(api, store["name"], user, reason="no type"), "type")


def test_no_response_or_log_line_holds_a_template_or_image(
    api: Api, seeder: Seeder, caplog: pytest.LogCaptureFixture
) -> None:
    store = api.create_store(configuration={"faceRetainImages": True})
    user = api.create_user(store["name"])
    with caplog.at_level(logging.DEBUG):
        answers = [
            enrol(api, store["name"], user),
            match(api, store["name"], user, hopper_variants()["cropped"]),
            match(api, store["name"], user, astronaut_face()),
            report_failure(api, store["name"], user, type="FACE"),
            api.client.get(api.user_url(store["name"], user)),
            api.client.get(api.user_url(store["name"], user, "authentications")),
        ]

    [row] = face_rows(seeder, user["id"])
    template = seeder.keyring.open(row["template_sealed"], context=row["id"])
    secrets = [
        b64encode(template).decode(),
        b64encode(template[1:]).decode(),  # the embedding alone
        b64encode(hopper_jpeg()).decode()[:200],
        template.hex(),
    ]
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    events = {record.getMessage() for record in caplog.records if record.name.startswith("idstore")}
    assert {"request", "face.accepted", "face.refused"} <= events
    for text in [*lines, *(answer.text for answer in answers)]:
        for secret in secrets:
            assert secret not in text


def test_a_totp_authentication_shows_the_users_face_in_its_summary(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    face = enrolled_user(api, person.store_name, person.user)["summaryInfo"]["biometrics"]
    clock.set(T0)

    response = person.authenticate(code_at(person.secret_b32, T0))

    assert response.status_code == 200, response.text
    assert response.json()["user"]["summaryInfo"]["biometrics"] == face
