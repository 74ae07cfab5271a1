"""Refusals of a discoverable sign-in made before any user is known (docs/passkeys.md): no audit
record can hold them, so each is one log line with the request's id, and a metric, and no secret
appears in either."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest

from idstore.logs import JsonFormatter
from tests.support.api import Api
from tests.support.checks import error_of
from tests.support.passkeys import Ceremony, PasskeyStore
from tests.support.server import LiveServer
from tests.support.webauthn_authenticator import Forgery
from tests.support.webauthn_keys import b64url
from tests.test_metrics import sample, scrape

_METRIC = "idstore_unattributed_refusals_total"
_EVENT = "passkey.refused_unattributed"


def _logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    return [line for line in lines if line.get("event") == _EVENT]


def _refused_unattributed(
    server: LiveServer,
    caplog: pytest.LogCaptureFixture,
    rp: PasskeyStore,
    ceremony: Ceremony,
    client_response: dict[str, Any],
    code: int,
) -> dict[str, object]:
    """Complete the discoverable sign-in with the response, check that it is refused with the
    code and counted once; the one log line it left, checked for the request id and code."""
    labels = {"modality": "Passkey", "ceremony": "AUTHENTICATION", "code": str(code)}
    before = sample(scrape(server), _METRIC, **labels)
    caplog.set_level(logging.INFO)
    request_id = f"refused-{code}"
    url = f"{rp.base}/authentications/sessions/{ceremony.session_id}"
    body = ceremony.body(client_response)

    refused = rp.api.client.post(url, json=body, headers={"X-Request-Id": request_id})

    error_of(refused, 400, code)
    assert sample(scrape(server), _METRIC, **labels) == before + 1
    [line] = _logged(caplog)
    assert (line["request_id"], line["error_code"], line["ceremony"]) == (
        request_id,
        code,
        "AUTHENTICATION",
    )
    return line


def test_an_unknown_credential_is_a_warning_with_the_request_id_and_a_metric(
    server: LiveServer, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    rp = PasskeyStore.create(api)
    user, authenticator, _ = rp.enrol()
    unknown = secrets.token_bytes(32)
    ceremony = rp.ceremony(rp.start_authentication())
    assertion = authenticator.authenticate(ceremony.options, Forgery(credential_id=unknown))

    line = _refused_unattributed(server, caplog, rp, ceremony, assertion, 362)

    store_id = api.client.get(api.store_url(rp.store)).json()["id"]
    assert (line["level"], line["store_id"]) == ("WARNING", store_id)
    assert line["credential_id"] == b64url(unknown)
    shown = json.dumps(line)
    assert assertion["response"]["signature"] not in shown
    assert assertion["response"]["clientDataJSON"] not in shown
    # The enrolled user's audit holds the registration alone: the refusal named no user.
    assert rp.ceremonies(user) == [("REGISTRATION", "SUCCESS")]


def test_an_unreadable_response_is_logged_and_counted_without_its_text(
    server: LiveServer, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    rp = PasskeyStore.create(api)
    user, _, _ = rp.enrol()
    garbage = {"id": "not-a-credential", "type": "public-key", "response": {"signature": "Zm9v"}}
    ceremony = rp.ceremony(rp.start_authentication())

    line = _refused_unattributed(server, caplog, rp, ceremony, garbage, 3604)

    assert (line["level"], line["credential_id"]) == ("INFO", None)
    assert "not-a-credential" not in json.dumps(line)
    assert rp.ceremonies(user) == [("REGISTRATION", "SUCCESS")]
