"""/metrics counts the service, not one process: with two workers, any scrape sees every one."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Launch
from tests.test_metrics import sample

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
ATTEMPTS = 24


def test_every_scrape_counts_the_attempts_of_both_workers(
    launch: Launch, tmp_path: Path, fresh_database: str
) -> None:
    api_key = secrets.token_urlsafe(32)
    server = launch(
        data_dir=tmp_path / "data",
        database_url=fresh_database,
        bootstrap_api_key=api_key,
        settings={"IDSTORE_WORKERS": "2"},
    )
    token = httpx.post(
        f"{server.base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    config = {"totpPolicies": {"p": {}}, "userLocking": {"enabled": False}}
    httpx.post(
        f"{server.base_url}{STORES}", headers=headers, json={"name": "m", "configuration": config}
    )
    user = httpx.post(
        f"{server.base_url}{STORES}/m/users", headers=headers, json={"externalId": "u"}
    ).json()
    url = f"{server.base_url}{STORES}/m/users/{user['id']}/totps"
    httpx.post(f"{url}/registrations/p?qrFormat=none", headers=headers)

    for _ in range(ATTEMPTS):  # each on a new connection: the two workers share them
        httpx.post(f"{url}/authentications/p", headers=headers, json={"code": "000000"})
    scrapes = [httpx.get(f"{server.base_url}/metrics").text for _ in range(6)]

    counted = {
        sample(
            text, "idstore_authentications_total", modality="TOTP", result="FAILURE", code="3304"
        )
        for text in scrapes
    }
    assert counted == {float(ATTEMPTS)}
