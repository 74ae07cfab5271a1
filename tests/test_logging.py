"""Log lines: JSON with the request id, one per request, and never a secret, code, key or token."""

from __future__ import annotations

import json
import logging

import pytest

from idstore.logs import JsonFormatter
from tests.support.api import Api, code_at
from tests.support.clock import ManualClock
from tests.support.server import LiveServer


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records]


def test_no_log_line_carries_a_secret_uri_code_api_key_or_token(
    api: Api, clock: ManualClock, server: LiveServer, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})["name"]
    user = api.create_user(store)
    clock.set(1_800_000_000)

    registration = api.start_registration(store, user, "p").json()
    secret, uri = registration["secret"], registration["otpauthUri"]
    first = code_at(secret, clock.timestamp())
    api.complete(store, user, "p", first)
    api.authenticate(store, user, "p", first)  # a replay
    clock.advance(30)
    second = code_at(secret, clock.timestamp())
    api.authenticate(store, user, "p", second)
    api.authenticate(store, user, "p", "000000" if second != "000000" else "111111")

    lines = _lines(caplog)
    assert len(lines) >= 6
    for forbidden in (secret, uri, first, second, server.api_key, token, f"Bearer {token}"):
        leaking = [line for line in lines if forbidden in line]
        assert leaking == [], f"a log line carries a secret value: {leaking[:1]}"


def test_every_request_logs_one_json_line_with_its_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = api.client.get("/api/identity-store/stores", headers={"X-Request-Id": "trace-42.a"})

    requests = [json.loads(line) for line in _lines(caplog) if '"event": "request"' in line]
    ours = [line for line in requests if line.get("request_id") == "trace-42.a"]
    assert response.headers["X-Request-Id"] == "trace-42.a"
    assert len(ours) == 1
    assert ours[0]["method"] == "GET"
    assert ours[0]["route"] == "/api/identity-store/stores"
    assert ours[0]["status"] == 200
    assert set(ours[0]) >= {"time", "level", "logger", "event", "duration_ms"}
