"""Face matching over HTTP (spec §11, §6, §7): genuine altered copies match, impostors do not
and count, the Face modality locks, and every attempt leaves one audit record with faceInfo."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from idstore.db import tables
from idstore.face import DEFAULT_MATCH_THRESHOLD, MODEL_NAME, MODEL_VERSION
from tests.support.api import Api
from tests.support.checks import assert_invalid, in_parallel
from tests.support.face_api import (
    enrol,
    enrolled_user,
    face_attempts,
    face_rows,
    latest_record,
    match,
    refusal_of,
)
from tests.support.portraits import astronaut_face, camera_man, hopper_variants
from tests.support.seeding import Seeder

GENUINE = hopper_variants()


@pytest.fixture
def store(api: Api) -> dict[str, Any]:
    return api.create_store()


@pytest.fixture
def enrolled(api: Api, store: dict[str, Any]) -> dict[str, Any]:
    user = api.create_user(store["name"], external_id="face/matcher%1")
    return enrolled_user(api, store["name"], user)


@pytest.mark.parametrize("variant", sorted(GENUINE))
def test_an_altered_copy_of_the_enrolled_face_matches(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any], variant: str
) -> None:
    response = match(api, store["name"], enrolled, GENUINE[variant])

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "score", "authenticationId"}
    assert DEFAULT_MATCH_THRESHOLD < body["score"] <= 1.0
    assert body["user"]["lastSuccessfulAuthenticationDtm"]
    record = latest_record(api, store["name"], enrolled)
    assert record["id"] == body["authenticationId"]
    assert (record["type"], record["result"]) == ("Face", "SUCCESS")
    assert record["faceInfo"] == {
        "biometricId": enrolled["summaryInfo"]["biometrics"][0]["id"],
        "score": body["score"],
        "threshold": DEFAULT_MATCH_THRESHOLD,
        "model": MODEL_NAME,
        "modelVersion": MODEL_VERSION,
    }


def test_the_ext_twin_matches_by_external_id(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    response = match(api, store["name"], enrolled, GENUINE["cropped"], ext=True)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == enrolled["id"]


def test_another_persons_face_is_refused_counted_and_audited(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    response = match(api, store["name"], enrolled, astronaut_face())

    body = refusal_of(response, 400, 3500)
    assert body["user"]["id"] == enrolled["id"]
    assert face_attempts(body["user"]) == 1
    record = latest_record(api, store["name"], enrolled)
    assert (record["result"], record["errorCode"]) == ("FAILURE", 3500)
    assert 0 <= record["faceInfo"]["score"] < DEFAULT_MATCH_THRESHOLD
    assert record["faceInfo"]["threshold"] == DEFAULT_MATCH_THRESHOLD


def test_a_request_may_ask_for_a_stricter_threshold_than_the_stores(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    by_store = match(api, store["name"], enrolled, GENUINE["brightened"])
    stricter = match(api, store["name"], enrolled, GENUINE["brightened"], matchThreshold=0.9999)

    assert by_store.status_code == 200, by_store.text
    assert by_store.json()["score"] < 0.9999
    refusal_of(stricter, 400, 3500)
    assert latest_record(api, store["name"], enrolled)["faceInfo"]["threshold"] == 0.9999


@pytest.mark.parametrize("laxer", [0.0, 0.6])
def test_a_laxer_threshold_in_the_request_is_raised_to_the_stores_floor(
    api: Api, laxer: float
) -> None:
    strict = api.create_store(configuration={"faceMatchThreshold": 0.99})
    user = enrolled_user(api, strict["name"], api.create_user(strict["name"]))

    impostor = match(api, strict["name"], user, astronaut_face(), matchThreshold=laxer)
    genuine = match(api, strict["name"], user, GENUINE["brightened"], matchThreshold=laxer)

    assert face_attempts(refusal_of(impostor, 400, 3500)["user"]) == 1
    # The genuine but altered copy scores under 0.99: the floor holds for it too, and counts.
    assert face_attempts(refusal_of(genuine, 400, 3500)["user"]) == 2
    assert latest_record(api, strict["name"], user)["faceInfo"]["threshold"] == 0.99


def test_the_face_modality_locks_after_its_threshold_of_failures(api: Api) -> None:
    locking = {"modalityLockThreshold": 2, "userLockThreshold": 10}
    store = api.create_store(configuration={"userLocking": locking})
    user = enrolled_user(api, store["name"], api.create_user(store["name"]))

    first = match(api, store["name"], user, astronaut_face())
    second = match(api, store["name"], user, astronaut_face())
    genuine = match(api, store["name"], user, GENUINE["cropped"])

    assert face_attempts(refusal_of(first, 400, 3500)["user"]) == 1
    locked = refusal_of(second, 400, 3500)["user"]["locks"]["modalities"]["Face"]
    assert (locked["failedAttempts"], "lockedDtm" in locked) == (2, True)
    refusal_of(genuine, 400, 2101)
    record = latest_record(api, store["name"], user)
    # Refused on the lock alone: the model was not asked, so the record holds no score.
    assert (record["errorCode"], "score" in record["faceInfo"]) == (2101, False)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"matchingAlgorithm": "SOME_OTHER_ALGORITHM"}, 8),
        ({"matchThreshold": 1.5}, 20125),
        ({"matchThreshold": -0.01}, 20125),
        ({"data": None}, 20114),
        ({"data": ""}, 20114),
        ({"data": "%%% not base64"}, 3502),
        ({"data": "aGVsbG8sIG5vdCBhbiBpbWFnZQ=="}, 3502),
    ],
    ids=["algorithm", "threshold-high", "threshold-low", "null-data", "empty", "bad-b64", "text"],
)
def test_a_refused_request_is_audited_and_not_counted(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any], body: dict[str, Any], code: int
) -> None:
    url = api.user_url(store["name"], enrolled, "biometrics/authentications/face")

    response = api.client.post(url, json={"data": "aGVsbG8=", **body})

    refused = refusal_of(response, 400, code)
    assert face_attempts(refused["user"]) == 0
    record = latest_record(api, store["name"], enrolled)
    assert (record["type"], record["result"], record["errorCode"]) == ("Face", "FAILURE", code)


@pytest.mark.parametrize("image", [camera_man(), GENUINE["png"][:2000]], ids=["no-face", "cut"])
def test_an_image_without_one_readable_face_is_audited_and_not_counted(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any], image: bytes
) -> None:
    response = match(api, store["name"], enrolled, image)

    code = 3501 if image == camera_man() else 3502
    assert face_attempts(refusal_of(response, 400, code)["user"]) == 0
    record = latest_record(api, store["name"], enrolled)
    assert record["errorCode"] == code
    assert record["faceInfo"]["model"] == MODEL_NAME
    assert "score" not in record["faceInfo"]


def test_a_user_without_a_face_is_refused_with_20122(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])

    refused = refusal_of(match(api, store["name"], user, GENUINE["cropped"]), 400, 20122)

    assert face_attempts(refused["user"]) == 0
    assert latest_record(api, store["name"], user)["errorCode"] == 20122


def test_a_disabled_face_is_refused_with_2103(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any], seeder: Seeder
) -> None:
    biometrics = tables.user_biometrics
    seeder.execute(
        update(biometrics).where(biometrics.c.user_id == enrolled["id"]).values(status="DISABLED")
    )

    response = match(api, store["name"], enrolled, GENUINE["cropped"])

    assert face_attempts(refusal_of(response, 400, 2103)["user"]) == 0


def test_a_threshold_that_is_not_a_number_is_a_validation_error(
    api: Api, store: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    url = api.user_url(store["name"], enrolled, "biometrics/authentications/face")

    response = api.client.post(url, json={"data": "aGVsbG8=", "matchThreshold": "0.5"})

    assert_invalid(response, "matchThreshold")


def test_impostors_sent_at_once_are_counted_exactly(api: Api, seeder: Seeder) -> None:
    store = api.create_store(configuration={"userLocking": {"modalityLockThreshold": 3}})
    user = enrolled_user(api, store["name"], api.create_user(store["name"]))
    impostor = astronaut_face()

    answers = in_parallel(6, lambda _: match(api, store["name"], user, impostor))

    codes = sorted(answer.json()["code"] for answer in answers)
    assert codes == [2101, 2101, 2101, 3500, 3500, 3500]
    assert face_attempts(api.get_user(store["name"], user)) == 3
    assert len(seeder.audit_rows(user["id"])) == 6


def test_enrolments_sent_at_once_leave_one_face(
    api: Api, store: dict[str, Any], seeder: Seeder
) -> None:
    user = api.create_user(store["name"])

    answers = in_parallel(4, lambda _: enrol(api, store["name"], user))

    assert [answer.status_code for answer in answers] == [200] * 4
    [row] = face_rows(seeder, user["id"])
    assert api.get_user(store["name"], user)["summaryInfo"]["biometrics"][0]["id"] == row["id"]
