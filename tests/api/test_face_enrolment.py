"""Face enrolment over HTTP (spec §11): the template sealed, the image kept only when the store
says so, every refusal with its code and nothing changed, and the 10 MiB body bound."""

from __future__ import annotations

from typing import Any

import pytest

from idstore.face import FaceTemplate
from tests.support.api import Api
from tests.support.checks import assert_dtm, assert_invalid
from tests.support.face_api import enrol, enrolled_user, face_rows, refusal_of
from tests.support.portraits import (
    astronaut_face,
    astronaut_whole,
    b64,
    camera_man,
    hopper_jpeg,
    noise_png,
)
from tests.support.seeding import Seeder

MiB = 1024 * 1024


@pytest.fixture
def store(api: Api) -> dict[str, Any]:
    return api.create_store()


@pytest.mark.parametrize("ext", [False, True], ids=["by-id", "by-ext-id"])
def test_an_enrolled_face_shows_in_the_users_summary_without_its_template(
    api: Api, store: dict[str, Any], seeder: Seeder, ext: bool
) -> None:
    user = api.create_user(store["name"], external_id="face/user%1" if ext else None)

    response = enrol(api, store["name"], user, ext=ext)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user["id"]
    [face] = body["summaryInfo"]["biometrics"]
    assert set(face) == {"id", "type", "subtype", "status", "createdDtm", "quality"}
    assert (face["type"], face["subtype"], face["status"]) == ("FACE", "PORTRAIT", "ACTIVE")
    assert_dtm(face["createdDtm"])
    assert 0.5 < face["quality"] <= 1.0
    assert api.get_user(store["name"], user)["summaryInfo"]["biometrics"] == [face]
    [row] = face_rows(seeder, user["id"])
    assert row["id"] == face["id"]
    template = seeder.keyring.open(row["template_sealed"], context=row["id"])
    assert FaceTemplate.from_bytes(template, quality=row["quality"]).quality == face["quality"]
    assert template not in row["template_sealed"]  # sealed, not merely stored beside a header


def test_a_second_enrolment_replaces_the_first_face(
    api: Api, store: dict[str, Any], seeder: Seeder
) -> None:
    user = api.create_user(store["name"])
    first = enrolled_user(api, store["name"], user)["summaryInfo"]["biometrics"][0]

    second = enrol(api, store["name"], user, astronaut_face(), subtype="PORTRAIT")

    assert second.status_code == 200, second.text
    [face] = second.json()["summaryInfo"]["biometrics"]
    assert face["id"] != first["id"]
    assert [row["id"] for row in face_rows(seeder, user["id"])] == [face["id"]]


def test_no_image_is_kept_unless_the_store_keeps_images(api: Api, seeder: Seeder) -> None:
    forgetting = api.create_store()
    keeping = api.create_store(configuration={"faceRetainImages": True})
    forgotten = api.create_user(forgetting["name"])
    kept = api.create_user(keeping["name"])

    enrolled_user(api, forgetting["name"], forgotten)
    enrolled_user(api, keeping["name"], kept)

    [forgotten_row] = face_rows(seeder, forgotten["id"])
    [kept_row] = face_rows(seeder, kept["id"])
    assert forgotten_row["image_sealed"] is None
    image = seeder.keyring.open(kept_row["image_sealed"], context=kept_row["id"])
    assert image == hopper_jpeg()
    assert hopper_jpeg()[:64] not in kept_row["image_sealed"]


@pytest.mark.parametrize(
    ("path_type", "body", "code"),
    [
        ("VOICE_TD", {"data": "aGVsbG8="}, 2005),
        ("VOICE_TI", {"data": "aGVsbG8="}, 2005),
        ("IRIS", {"data": "aGVsbG8="}, 20115),
        ("face", {"data": "aGVsbG8="}, 20115),
        ("FACE", {"subtype": "SIGNATURE", "data": "aGVsbG8="}, 2006),
        ("FACE", {}, 20114),
        ("FACE", {"data": None}, 20114),
        ("FACE", {"data": ""}, 20114),
        ("FACE", {"data": "not base64!"}, 3502),
        ("FACE", {"data": b64(b"plain text, not an image")}, 3502),
        ("FACE", {"data": b64(hopper_jpeg()[: len(hopper_jpeg()) // 2])}, 3502),
        ("FACE", {"data": b64(camera_man())}, 3501),
        ("FACE", {"data": b64(astronaut_whole())}, 3501),
    ],
    ids=[
        "voice-td",
        "voice-ti",
        "unknown-type",
        "lower-case-type",
        "subtype",
        "no-data",
        "null-data",
        "empty-data",
        "not-base64",
        "not-an-image",
        "truncated-jpeg",
        "no-frontal-face",
        "two-faces",
    ],
)
def test_a_refused_enrolment_answers_its_code_and_changes_nothing(
    api: Api, store: dict[str, Any], seeder: Seeder, path_type: str, body: Any, code: int
) -> None:
    user = api.create_user(store["name"])
    before = enrolled_user(api, store["name"], user)["summaryInfo"]["biometrics"]

    response = api.client.post(
        api.user_url(store["name"], user, f"biometrics/{path_type}"), json=body
    )

    refusal_of(response, 400, code)
    assert api.get_user(store["name"], user)["summaryInfo"]["biometrics"] == before
    assert [row["id"] for row in face_rows(seeder, user["id"])] == [before[0]["id"]]


def test_enrolment_refuses_fields_it_does_not_know(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])

    response = enrol(api, store["name"], user, quality=1.0)

    assert_invalid(response, "quality")


def test_enrolment_names_a_missing_store_or_user(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])
    ghost = {**user, "id": "no-such-user", "externalId": "no-such-user"}

    refusal_of(enrol(api, "no-such-store", user), 404, 3000)
    refusal_of(enrol(api, store["name"], ghost), 404, 3100)
    refusal_of(enrol(api, store["name"], ghost, ext=True), 404, 3100)


def test_a_biometric_body_may_hold_10_mib_and_no_more(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])
    large = noise_png(1100)  # about 3.6 MB of PNG, 4.8 MB of base64: past 64 KiB, within 10 MiB
    url = api.user_url(store["name"], user, "biometrics/FACE")
    oversized = b'{"data": "' + b"A" * (10 * MiB) + b'"}'

    within = enrol(api, store["name"], user, large)
    beyond = api.client.post(url, content=oversized, headers={"Content-Type": "application/json"})

    assert len(b64(large)) > MiB
    refusal_of(within, 400, 3501)
    refusal_of(beyond, 413, 9009)


def test_other_routes_keep_the_64_kib_bound(api: Api, store: dict[str, Any]) -> None:
    user = api.create_user(store["name"])
    url = api.user_url(store["name"], user, "biometrics/authentications/failure")
    body = {"type": "FACE", "reason": "x" * (100 * 1024)}

    refusal_of(api.client.post(url, json=body), 413, 9009)
    refusal_of(api.client.post(api.user_url(store["name"], user), json=body), 413, 9009)
