"""Key rotation while the service answers: every secret re-sealed, nothing refused meanwhile."""

from __future__ import annotations

import secrets
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pyotp
import pytest

from idstore.crypto.keyring import format_key_ring, parse_key_ring
from tests.support.api import unique
from tests.support.databases import sealing_key_ids
from tests.support.portraits import b64, hopper_jpeg, hopper_variants
from tests.support.processes import Launch, idstore_command

pytestmark = pytest.mark.e2e

STORES = "/api/identity-store/stores"
USERS = 30


def _client(base_url: str, api_key: str) -> httpx.Client:
    issued = httpx.post(f"{base_url}/api/arthr/apiKeys/issue", headers={"X-Api-Key": api_key})
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    # Not httpx's 5 s: an authentication may wait on the rotation's writes on a loaded machine.
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60)


def _enrol(client: httpx.Client, store: str, count: int) -> list[tuple[str, pyotp.TOTP]]:
    enrolled = []
    for number in range(count):
        user = client.post(f"{STORES}/{store}/users", json={"externalId": f"u{number}"}).json()
        url = f"{STORES}/{store}/users/{user['id']}/totps"
        secret = client.post(f"{url}/registrations/p?qrFormat=none").json()["secret"]
        totp = pyotp.TOTP(secret)
        done = client.post(f"{url}/registrations/p/complete", json={"code": totp.now()})
        assert done.status_code == 200, done.text
        enrolled.append((url, totp))
    return enrolled


def test_rotation_reseals_every_secret_while_authentications_go_on(
    launch: Launch, tmp_path: Path, fresh_database: str
) -> None:
    data_dir = tmp_path / "data"
    api_key = secrets.token_urlsafe(32)
    server = launch(data_dir=data_dir, database_url=fresh_database, bootstrap_api_key=api_key)
    client = _client(server.base_url, api_key)
    store = unique("store")
    configuration = {"totpPolicies": {"p": {}}, "faceRetainImages": True}
    client.post(STORES, json={"name": store, "configuration": configuration})
    *enrolled, spare = _enrol(client, store, USERS + 1)
    # The spare user's face: its template and kept image are sealed too.
    face_url = spare[0].removesuffix("/totps") + "/biometrics"
    # The first face request of a server starts its face workers, which load the model: slow.
    enrolment = client.post(f"{face_url}/FACE", json={"data": b64(hopper_jpeg())}, timeout=120)
    assert enrolment.status_code == 200, enrolment.text
    (first_key,) = [key_id for key_id, _ in parse_key_ring((data_dir / "keyring").read_text()).keys]
    assert sealing_key_ids(fresh_database) == {first_key}

    environment = {"IDSTORE_DATA_DIR": str(data_dir), "IDSTORE_DATABASE_URL": fresh_database}
    rotation = subprocess.Popen(
        [str(idstore_command()), "rotate-keys", "--wait", "3"],
        env={**environment, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answers: list[int] = []

    def authenticate_all() -> None:
        # One correct code per user, spread over the rotation's ~6 s.
        for url, totp in enrolled:
            later = totp.at(time.time() + 30)  # the next step: accepted within the window
            answers.append(
                client.post(f"{url}/authentications/p", json={"code": later}).status_code
            )
            time.sleep(0.25)  # pacing the load across the rotation, not waiting on a rule

    worker = threading.Thread(target=authenticate_all)
    worker.start()
    output, _ = rotation.communicate(timeout=120)
    worker.join()

    assert rotation.returncode == 0, output
    new_key = parse_key_ring((data_dir / "keyring").read_text()).current_key_id
    assert new_key != first_key
    assert f"re-sealed 33 of 33 secrets under key {new_key}" in output
    progress = [line for line in output.splitlines() if "re-sealing secrets:" in line]
    assert progress and progress[-1].endswith("33/33")
    assert len(progress) == len(set(progress))  # each step told once, none repeated
    assert answers == [200] * USERS
    assert sealing_key_ids(fresh_database) == {new_key}
    assert "API keys still hashed under them: 1 (they move when next used)" in output
    _client(server.base_url, api_key).close()  # using the API key moves its hash to the new key

    # With the old key gone from the ring, a new server still opens every secret.
    server.stop()
    key_file = data_dir / "keyring"
    ring = parse_key_ring(key_file.read_text())
    key_file.write_text(format_key_ring(type(ring)(ring.keys[:1])))
    restarted = launch(data_dir=data_dir, database_url=fresh_database, bootstrap_api_key=api_key)
    fresh = _client(restarted.base_url, api_key)
    url, totp = spare  # a user whose last accepted code is its registration's
    answer = fresh.post(f"{url}/authentications/p", json={"code": totp.at(time.time() + 30)})
    assert answer.status_code == 200, answer.text
    matched = fresh.post(
        f"{face_url}/authentications/face",
        json={"data": b64(hopper_variants()["cropped"])},
        timeout=120,
    )
    assert matched.status_code == 200, matched.text
