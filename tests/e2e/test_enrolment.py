"""Enrolment as a person does it: the real server process, the QR code read back by zbarimg,
the codes computed by oathtool from what the QR code holds, every step over HTTP.
"""

from __future__ import annotations

import base64
import re
import secrets
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.support.processes import Launch, ServerProcess

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
STORE = "e2e"
POLICY = "phone"
EXTERNAL_ID = "alice@example.org"
USER = f"{STORES}/{STORE}/users/{quote(EXTERNAL_ID, safe='')}"

# Key Uri Format: what an app assumes for a parameter the URI leaves out.
URI_DEFAULTS = {"algorithm": "SHA1", "digits": "6", "period": "30"}


@dataclass(frozen=True)
class AppEntry:
    """What an authenticator app takes from the otpauth URI it scanned."""

    secret: str
    algorithm: str
    digits: int
    period: int


@dataclass
class Enrolment:
    """What one run sent and received; nothing sensitive in it may reach a log line."""

    api_key: str
    token: str = ""
    secret: str = ""
    otpauth_uri: str = ""
    codes: list[str] = field(default_factory=list)
    responses: dict[str, httpx.Response] = field(default_factory=dict)


def read_qr_code(png: bytes, folder: Path) -> str:
    """The text zbarimg reads from a PNG image of a QR code."""
    image = folder / "registration-qr.png"
    image.write_bytes(png)
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"zbarimg read no QR code: {result.stderr}"
    return result.stdout.removesuffix("\n")


def app_entry(otpauth_uri: str) -> AppEntry:
    """Secret, algorithm, digits and period of an otpauth URI, as an app reads them."""
    parts = urlsplit(otpauth_uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), otpauth_uri
    parameters = {
        **URI_DEFAULTS,
        **{name: values[0] for name, values in parse_qs(parts.query).items()},
    }
    return AppEntry(
        secret=parameters["secret"],
        algorithm=parameters["algorithm"],
        digits=int(parameters["digits"]),
        period=int(parameters["period"]),
    )


def oathtool_code(entry: AppEntry, at: int) -> str:
    """The code oathtool computes for the app entry at unix time `at`."""
    result = subprocess.run(
        [
            "oathtool",
            f"--totp={entry.algorithm}",
            "--base32",
            f"--digits={entry.digits}",
            f"--time-step-size={entry.period}s",
            f"--now=@{at}",
            entry.secret,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"oathtool failed: {result.stderr}"
    return result.stdout.strip()


def issue_token(base_url: str, api_key: str) -> str:
    response = httpx.post(f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def set_up_store_policy_and_user(client: httpx.Client, policy_fields: dict[str, Any]) -> None:
    """A store, a TOTP policy with the given fields (name only: all defaults), a user."""
    assert created(client.post(STORES, json={"name": STORE}))["name"] == STORE
    policy = created(
        client.post(f"{STORES}/{STORE}/totpPolicy", json={"name": POLICY, **policy_fields})
    )
    # driftSteps 1 (the default) accepts the next step's code at once: no test waits 60 s.
    assert policy["driftSteps"] == 1
    user = created(client.post(f"{STORES}/{STORE}/users", json={"externalId": EXTERNAL_ID}))
    assert user["summaryInfo"]["totps"] == []


def enrol_and_sign_in(client: httpx.Client, run: Enrolment, folder: Path) -> AppEntry:
    """Register from the QR code, complete with the current step's code, then sign in twice
    with the next step's code. Returns the app entry the QR code held."""
    registration = created(client.post(f"{USER}/totps/registrations/{POLICY}/ext"))
    run.secret, run.otpauth_uri = registration["secret"], registration["otpauthUri"]
    scanned = read_qr_code(base64.b64decode(registration["qrCode"]), folder)
    assert scanned == run.otpauth_uri
    entry = app_entry(scanned)

    step = int(time.time()) // entry.period
    run.codes.append(oathtool_code(entry, step * entry.period))
    run.responses["complete"] = client.post(
        f"{USER}/totps/registrations/{POLICY}/complete/ext", json={"code": run.codes[0]}
    )

    # The next step's code: within the drift window now, and later than the one completion used.
    run.codes.append(oathtool_code(entry, (step + 1) * entry.period))
    for attempt in ("first", "again"):
        run.responses[attempt] = client.post(
            f"{USER}/totps/authentications/{POLICY}/ext", json={"code": run.codes[1]}
        )

    run.responses["audit"] = client.get(f"{USER}/authentications/ext", params={"size": 200})
    return entry


def assert_nothing_sensitive_logged(server: ServerProcess, run: Enrolment) -> None:
    """No secret, otpauth URI, code, API key or token in any line the process wrote."""
    lines = (server.stderr() + server.stdout()).splitlines()
    # The run must have been logged at all, or this check proves nothing.
    assert any("/totps/authentications/{policyName}" in line for line in lines), lines

    values = {
        "the TOTP secret": run.secret,
        "the otpauth URI": run.otpauth_uri,
        "the API key": run.api_key,
        "the bearer token": run.token,
    }
    for line in lines:
        for name, value in values.items():
            assert value.lower() not in line.lower(), f"{name} was logged: {line}"
        for code in run.codes:
            # A code stands alone: digits inside a hex id or a timestamp are not a leak.
            leak = re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", line)
            assert leak is None, f"a submitted code was logged: {line}"


@pytest.mark.parametrize(
    ("policy_fields", "expected"),
    [
        pytest.param({}, ("SHA1", 6, 30), id="policy-with-only-its-name"),
        pytest.param(
            {"algorithm": "SHA256", "digits": 8, "period": 60},
            ("SHA256", 8, 60),
            id="sha256-8-digits-60s",
        ),
    ],
)
def test_an_app_enrolled_from_the_qr_code_signs_in_and_each_code_works_once(
    debian_tools: None,
    fresh_database: str,
    launch: Launch,
    tmp_path: Path,
    policy_fields: dict[str, Any],
    expected: tuple[str, int, int],
) -> None:
    run = Enrolment(api_key=secrets.token_urlsafe(32))
    server = launch(
        data_dir=tmp_path / "data", database_url=fresh_database, bootstrap_api_key=run.api_key
    )
    run.token = issue_token(server.base_url, run.api_key)
    headers = {"Authorization": f"Bearer {run.token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        set_up_store_policy_and_user(client, policy_fields)
        entry = enrol_and_sign_in(client, run, tmp_path)
    server.stop()

    assert (entry.algorithm, entry.digits, entry.period) == expected
    complete, first, again = (run.responses[name] for name in ("complete", "first", "again"))
    assert complete.status_code == 200, complete.text
    assert complete.json()["totp"]["status"] == "ACTIVE"
    assert first.status_code == 200, first.text
    assert first.json()["totp"]["status"] == "ACTIVE"
    assert (again.status_code, again.json()["code"]) == (400, 3402)
    assert again.json()["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1
    records = [record["authAuditRecord"] for record in run.responses["audit"].json()["content"]]
    assert [(r["result"], r.get("errorCode")) for r in records] == [
        ("SUCCESS", None),
        ("SUCCESS", None),
        ("FAILURE", 3402),
    ]
    assert [r["id"] for r in records[:2]] == [
        complete.json()["authenticationId"],
        first.json()["authenticationId"],
    ]
    assert_nothing_sensitive_logged(server, run)


def test_the_first_start_prints_its_generated_key_and_keeps_it_in_a_0600_file(
    fresh_database: str, launch: Launch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    key_file = data_dir / "bootstrap-api-key"
    first = launch(data_dir=data_dir, database_url=fresh_database, bootstrap_api_key=None)
    key = key_file.read_text(encoding="utf-8").strip()
    token = issue_token(first.base_url, key)
    first.stop()

    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key in first.stdout()
    assert key not in first.stderr()
    assert token not in first.stderr() + first.stdout()


def test_a_second_start_prints_no_key_and_keeps_the_first(
    fresh_database: str, launch: Launch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    key_file = data_dir / "bootstrap-api-key"
    launch(data_dir=data_dir, database_url=fresh_database, bootstrap_api_key=None).stop()
    key = key_file.read_text(encoding="utf-8").strip()

    second = launch(data_dir=data_dir, database_url=fresh_database, bootstrap_api_key=None)
    issue_token(second.base_url, key)
    second.stop()

    assert key_file.read_text(encoding="utf-8").strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    output = second.stdout() + second.stderr()
    assert key not in output
    # Nor a new key: a key is at least 32 characters without spaces; nothing printed is.
    assert [word for word in second.stdout().split() if len(word) >= 32] == []
