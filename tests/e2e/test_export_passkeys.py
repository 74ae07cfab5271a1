"""Moving on with passkeys: a user with a TOTP and a passkey, registered over HTTP with a
software authenticator against a real source server, is exported by the real `idstore export`,
imported by `idstore import` into an empty database, and signs in at a real target server.

The authenticator keeps its counter across the move, as a phone would: the target must accept its
next value and refuse an old one (372). A ceremony started at the source does not move.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.e2e.test_export_import import (
    POLICY,
    STORE,
    STORES,
    Source,
    authenticate,
    client_for,
    import_into,
    move,
    source_server,
)
from tests.support.api import Api
from tests.support.passkeys import ORIGIN, RP_ID, PasskeyStore
from tests.support.processes import Launch
from tests.support.registration_records import without_records
from tests.support.webauthn_authenticator import Forgery, SoftwareAuthenticator

pytestmark = pytest.mark.e2e

CONFIG = {
    "rpId": RP_ID,
    "rpName": "Example",
    "restrictedOrigins": [ORIGIN],
    "authenticationPolicies": {"default": {"userVerification": "required"}},
}


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    """A source server with store `moving`: a TOTP policy and the relying party's passkey
    configuration, and Ada, who has a TOTP and nothing else yet."""
    with source_server(tmp_path) as (server, client, database_url):
        configuration = {"totpPolicies": {POLICY: {"driftSteps": 3}}}
        assert client.post(STORES, json={"name": STORE, "configuration": configuration}).is_success
        configured = client.post(f"{STORES}/{STORE}/passkeyConfig", json=CONFIG)
        assert configured.status_code == 201, configured.text
        ada = client.post(f"{STORES}/{STORE}/users", json={"externalId": "ada@example.org"}).json()
        url = f"{STORES}/{STORE}/users/{ada['id']}/totps/registrations/{POLICY}"
        secret = client.post(f"{url}?qrFormat=none").json()["secret"]
        code = pyotp.TOTP(secret).at(time.time() - 60)
        assert client.post(f"{url}/complete", json={"code": code}).status_code == 200
        yield Source(server, client, database_url, {"ada": ada}, {"ada": secret}, tmp_path)


def views(rp: PasskeyStore, user: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of the relying party, the user and the user's passkeys."""
    client, user_url = rp.api.client, rp.api.user_url(STORE, user)
    passkeys = client.get(f"{user_url}/passkeys").json()["content"]
    return {
        "config": client.get(f"{STORES}/{STORE}/passkeyConfig/{RP_ID}").json(),
        "user": client.get(user_url).json(),
        "passkeys": passkeys,
        "audits": [
            client.get(f"{user_url}/passkeys/{item['id']}/registrationAudit").json()
            for item in passkeys
        ],
    }


def test_a_passkey_moves_with_its_counter_and_signs_in_at_the_target(
    source: Source, launch: Launch, fresh_database: str, tmp_path: Path
) -> None:
    ada = source.users["ada"]
    at_source = PasskeyStore(Api(source.client), STORE, RP_ID)
    authenticator = SoftwareAuthenticator(ORIGIN, is_backup_eligible=True, is_backed_up=True)
    passkey = at_source.registered(ada, authenticator)
    assert at_source.sign_in(authenticator, user=ada).status_code == 200  # counter 1
    in_flight = at_source.ceremony(at_source.start_authentication(userId=ada["id"]))
    before = views(at_source, ada)

    moved = move(source, launch, fresh_database, tmp_path)

    assert "1 users, 2 authenticators" in moved.imported.stdout
    at_target = PasskeyStore(Api(moved.client), STORE, RP_ID)
    # The audit stays at the source: the imported passkey's registration audit keeps its own
    # fields and has no completion record at the target.
    assert views(at_target, ada) == {**before, "audits": without_records(before["audits"])}
    assert before["passkeys"][0]["signCount"] == 1
    assert before["user"]["attributes"]["passkeyUsers"][RP_ID]["USER_HANDLE"]
    # The ceremony started at the source is not in the target's database.
    late = authenticator.authenticate(in_flight.options)
    answer = at_target.complete("authentications", in_flight, in_flight.body(late))
    assert (answer.status_code, answer.json()["code"]) == (404, 9011)

    signed_in = at_target.sign_in(authenticator, user=ada)
    assert signed_in.status_code == 200, signed_in.text
    assert (signed_in.json()["passkey"]["id"], signed_in.json()["passkey"]["signCount"]) == (
        passkey["id"],
        3,
    )
    record = at_target.last_audit(ada)
    assert (record["type"], record["result"]) == ("Passkey", "SUCCESS")
    replayed = at_target.sign_in(authenticator, Forgery(sign_count=1), user=ada)
    assert (replayed.status_code, replayed.json()["code"]) == (400, 372)
    code = pyotp.TOTP(source.secrets["ada"]).at(time.time() + 30)
    assert authenticate(at_target.api.client, ada, code).status_code == 200


def test_a_version_1_file_is_still_imported(
    fresh_database: str, launch: Launch, tmp_path: Path
) -> None:
    """A file the version 1 writer made (tests/transfer/fixtures, made at 437024a): its TOTP,
    the RFC 6238 key, gives codes that the target accepts."""
    data = Path(__file__).parents[1] / "transfer" / "fixtures"
    target = launch(
        data_dir=tmp_path / "target", database_url=fresh_database, bootstrap_api_key="k" * 43
    )

    imported = import_into(
        fresh_database, data / "export-v1.key", data / "export-v1.jsonl", target.data_dir
    )

    assert imported.returncode == 0, imported.stderr
    client: httpx.Client = client_for(target, "k" * 43)
    users = client.get("/api/identity-store/stores/legacy/users").json()["content"]
    assert [user["externalId"] for user in users] == ["ada"]
    code = pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").now()
    url = f"/api/identity-store/stores/legacy/users/{users[0]['id']}/totps/authentications/default"
    assert client.post(url, json={"code": code}).status_code == 200
