"""Prometheus metrics at /metrics: open to scrapers, counting what the service decided."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.api import Api
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

T0 = 1111111109  # 081804


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text (0 when it is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def scrape(server: LiveServer) -> str:
    answer = httpx.get(f"{server.base_url}/metrics")  # no token: scrapers have none
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def test_authentications_and_locks_are_counted_by_outcome(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, locking={"modalityLockThreshold": 2, "userLockThreshold": 99})
    clock.set(T0)
    before = scrape(server)

    person.authenticate("081804")
    for _ in range(3):
        person.authenticate("000000")
    after = scrape(server)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    totp = {"modality": "TOTP"}
    assert grew("idstore_authentications_total", **totp, result="SUCCESS", code="0") == 1
    assert grew("idstore_authentications_total", **totp, result="FAILURE", code="3401") == 2
    assert grew("idstore_authentications_total", **totp, result="FAILURE", code="2101") == 1
    assert grew("idstore_locks_total", lock="modality:TOTP") == 1


@pytest.mark.parametrize(("max_temp_locks", "kind"), [(3, "TEMPORARY"), (0, "PERMANENT")])
def test_a_user_lock_is_counted_by_its_kind(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock, max_temp_locks: int, kind: str
) -> None:
    locking = {"modalityLockThreshold": 99, "userLockThreshold": 2, "maxTempLocks": max_temp_locks}
    person = totp_user(api, seeder, locking=locking)
    clock.set(T0)
    before = scrape(server)

    for _ in range(3):
        person.authenticate("000000")
    after = scrape(server)

    lock = f"user:{kind}"
    assert (
        sample(after, "idstore_locks_total", lock=lock)
        - sample(before, "idstore_locks_total", lock=lock)
        == 1
    )
    refused_locked = {"modality": "TOTP", "result": "FAILURE", "code": "2100"}
    assert (
        sample(after, "idstore_authentications_total", **refused_locked)
        - sample(before, "idstore_authentications_total", **refused_locked)
        == 1
    )


def test_latency_is_labelled_by_route_template_never_by_path(server: LiveServer, api: Api) -> None:
    store = api.create_store()["name"]
    api.create_user(store, "mallory-secret-id")
    api.client.get(f"/api/identity-store/stores/{store}/users/mallory-secret-id/ext")

    text = scrape(server)

    assert "mallory-secret-id" not in text and store not in text
    route = "/api/identity-store/stores/{storeName}/users/{extId}/ext"
    count = sample(
        text, "idstore_request_duration_seconds_count", method="GET", route=route, status="200"
    )
    assert count >= 1
    assert "idstore_database_connections_in_use" in text


def test_the_description_and_its_pages_are_labelled_by_their_routes(server: LiveServer) -> None:
    before = scrape(server)
    for path in ("/openapi.json", "/docs", "/docs/assets/swagger-ui.css", "/no/such/path"):
        httpx.get(f"{server.base_url}{path}")

    after = scrape(server)

    def grew(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        name = "idstore_request_duration_seconds_count"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("/openapi.json", "200") == 1
    assert grew("/docs", "200") == 1
    assert grew("/docs/assets/{path}", "200") == 1
    assert grew("unmatched", "404") == 1
