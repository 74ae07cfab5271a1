"""The face paths of the contract (spec §11) over HTTP, and the rows behind them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from idstore.db import tables
from tests.support.api import Api
from tests.support.portraits import b64, hopper_jpeg
from tests.support.seeding import Seeder


def enrol(
    api: Api,
    store: str,
    user: dict[str, Any],
    image: bytes | None = None,
    *,
    ext: bool = False,
    biometric_type: str = "FACE",
    **body: Any,
) -> httpx.Response:
    """Enrol a face (Grace Hopper's unless `image` is given)."""
    payload = {"data": b64(image if image is not None else hopper_jpeg()), **body}
    return api.client.post(
        api.user_url(store, user, f"biometrics/{biometric_type}", ext=ext), json=payload
    )


def enrolled_user(api: Api, store: str, user: dict[str, Any]) -> dict[str, Any]:
    response = enrol(api, store, user)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def match(
    api: Api, store: str, user: dict[str, Any], image: bytes, *, ext: bool = False, **body: Any
) -> httpx.Response:
    url = api.user_url(store, user, "biometrics/authentications/face", ext=ext)
    return api.client.post(url, json={"data": b64(image), **body})


def report_failure(
    api: Api, store: str, user: dict[str, Any], *, ext: bool = False, **body: Any
) -> httpx.Response:
    url = api.user_url(store, user, "biometrics/authentications/failure", ext=ext)
    return api.client.post(url, json=body)


def refusal_of(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """An error body of the status and code, with its request id."""
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    body: dict[str, Any] = response.json()
    assert body["httpStatus"] == status
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def face_attempts(user_body: dict[str, Any]) -> int:
    """The Face modality's failure count the user body shows (0 before any)."""
    face = user_body["locks"]["modalities"].get("Face", {})
    count: int = face.get("failedAttempts", 0)
    return count


def face_rows(seeder: Seeder, user_id: str) -> list[dict[str, Any]]:
    biometrics = tables.user_biometrics
    return seeder.rows(select(biometrics).where(biometrics.c.user_id == user_id))


def latest_record(api: Api, store: str, user: dict[str, Any]) -> dict[str, Any]:
    records = api.audit_records(store, user)
    assert records, "no audit record"
    latest: dict[str, Any] = records[-1]["authAuditRecord"]
    return latest
