"""Moving on with appkeys and faces: a user with a TOTP, an appkey and a face, made over HTTP
against a real source server, is exported by the real `idstore export`, imported by `idstore
import` into an empty database with a key ring of its own, and signs in at a real target server
with the same app and the same face. The app keeps its counter across the move, as a phone would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_export_import import STORE, STORES, Source, move, source_server
from tests.support.api import Api
from tests.support.appkey_ceremonies import RP_ID, AppkeyStore
from tests.support.checks import json_of
from tests.support.face_api import enrolled_user, latest_record, match
from tests.support.portraits import hopper_variants
from tests.support.processes import Launch
from tests.support.registration_records import without_records
from tests.support.uaf_authenticator import SoftwareUafAuthenticator

pytestmark = pytest.mark.e2e


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    """A source server with store `moving` and Ada in it, nothing registered yet."""
    with source_server(tmp_path) as (server, client, database_url):
        assert client.post(STORES, json={"name": STORE}).is_success
        ada = client.post(f"{STORES}/{STORE}/users", json={"externalId": "ada@example.org"}).json()
        yield Source(server, client, database_url, {"ada": ada}, {}, tmp_path)


def views(rp: AppkeyStore, user: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of the relying party, the user (its face and locks), its appkeys and
    their registration audits."""
    client = rp.api.client
    appkeys = json_of(client.get(rp.api.user_url(STORE, user, "appkeys")), 200)
    audits = [
        rp.api.user_url(STORE, user, f"appkeys/{item['id']}/registrationAudit")
        for item in appkeys["content"]
    ]
    return {
        "config": json_of(client.get(f"{STORES}/{STORE}/appkeyConfig/{RP_ID}"), 200),
        "user": rp.api.get_user(STORE, user),
        "appkeys": appkeys,
        "audits": [json_of(client.get(url), 200) for url in audits],
    }


def test_an_appkey_and_a_face_move_and_sign_in_at_the_target(
    source: Source, launch: Launch, fresh_database: str, tmp_path: Path
) -> None:
    ada = source.users["ada"]
    at_source = AppkeyStore.create(Api(source.client), store=STORE)
    authenticator = SoftwareUafAuthenticator()
    appkey = at_source.registered(ada, authenticator)
    assert at_source.sign_in(authenticator, user=ada).status_code == 200  # counter 1
    enrolled_user(at_source.api, STORE, ada)
    before = views(at_source, ada)

    moved = move(source, launch, fresh_database, tmp_path)

    assert "1 users, 2 authenticators" in moved.imported.stdout
    at_target = AppkeyStore(Api(moved.client), STORE, RP_ID, at_source.config)
    # The audit stays at the source: the imported appkey's registration audit keeps its own
    # fields and has no completion record at the target.
    assert views(at_target, ada) == {**before, "audits": without_records(before["audits"])}
    assert before["appkeys"]["content"][0]["signCount"] == 1
    (face,) = before["user"]["summaryInfo"]["biometrics"]

    signed_in = json_of(at_target.sign_in(authenticator, user=ada), 200)
    matched = match(at_target.api, STORE, ada, hopper_variants()["rotated"])

    assert (signed_in["appkey"]["id"], signed_in["appkey"]["signCount"]) == (appkey["id"], 2)
    assert at_target.last_audit(ada)["result"] == "SUCCESS"
    assert matched.status_code == 200, matched.text
    record = latest_record(at_target.api, STORE, ada)
    assert (record["type"], record["result"], record["faceInfo"]["biometricId"]) == (
        "Face",
        "SUCCESS",
        face["id"],
    )
