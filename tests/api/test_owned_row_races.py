"""A user's passkey, appkey or TOTP deleted or re-statused by many callers at once (spec §5.2, §9,
§10): one of them changes it and records the one admin event; the others find it gone (404 with
the kind's code) or already in the status asked for (200, no event)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from idstore.services import events
from tests.support.api import Api, segment
from tests.support.appkeys import seed_appkey
from tests.support.checks import json_of
from tests.support.parallel import Call, all_at_once
from tests.support.passkeys import PasskeyStore
from tests.support.seeding import Seeder
from tests.support.server import LiveServer
from tests.support.totp_users import totp_user

EVENTS = "/api/identity-store/events"
CALLERS = 8


def _answers(responses: list[httpx.Response]) -> Counter[tuple[int, int | None]]:
    """Each response as (status, error code), the code None for a success."""
    return Counter(
        (r.status_code, r.json()["code"] if r.status_code >= 400 else None) for r in responses
    )


@dataclass(frozen=True)
class Owned:
    """A user's passkey, appkey or TOTP: its kind, its store, its URL and its id."""

    kind: str
    store: str
    url: str
    row_id: str

    @property
    def not_found(self) -> int:
        return 3303 if self.kind == "totp" else 9011

    def events(self, api: Api, action: str) -> list[dict[str, Any]]:
        """The store's admin events `{kind}.{action}`, oldest first."""
        params = {"storeName": self.store, "kind": f"{self.kind}.{action}", "size": "200"}
        found: list[dict[str, Any]] = json_of(api.client.get(EVENTS, params=params), 200)["content"]
        return found


def _passkey(api: Api) -> Owned:
    """A passkey registered over HTTP."""
    rp = PasskeyStore.create(api)
    enrolment = rp.enrol()
    passkey_id = enrolment.passkey["id"]
    url = api.user_url(rp.store, enrolment.user, f"passkeys/{segment(passkey_id)}")
    return Owned("passkey", rp.store, url, passkey_id)


def _appkey(api: Api, seeder: Seeder) -> Owned:
    """An appkey seeded into the database."""
    store = api.create_store()
    user = api.create_user(store["name"])
    row = seed_appkey(seeder, store=store, user=user, rp_id="example.com")
    return Owned(
        "appkey",
        store["name"],
        api.user_url(store["name"], user, f"appkeys/{row['id']}"),
        row["id"],
    )


def _totp(api: Api, seeder: Seeder) -> Owned:
    """An active TOTP seeded into the database."""
    person = totp_user(api, seeder)
    return Owned("totp", person.store_name, person.url(f"totps/{person.totp_id}"), person.totp_id)


@pytest.fixture(params=["passkey", "appkey", "totp"])
def owned(
    request: pytest.FixtureRequest, api: Api, seeder: Seeder, monkeypatch: pytest.MonkeyPatch
) -> Owned:
    """The row raced for. Once it is made, each change holds its row lock a while before its
    event is written, so that the callers reach the row while the first change is still
    uncommitted (the server runs in this process); without that the race is lost only now and
    then."""
    if request.param == "passkey":
        made = _passkey(api)
    else:
        made = _appkey(api, seeder) if request.param == "appkey" else _totp(api, seeder)
    real = events.record

    async def slow(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.2)
        await real(*args, **kwargs)

    monkeypatch.setattr(events, "record", slow)
    return made


def test_parallel_deletes_of_one_row_delete_it_once(
    server: LiveServer, token: str, api: Api, owned: Owned
) -> None:
    responses = all_at_once(server, token, [Call(owned.url, method="DELETE")] * CALLERS)

    assert _answers(responses) == Counter({(204, None): 1, (404, owned.not_found): CALLERS - 1})
    assert [event["subjectId"] for event in owned.events(api, "deleted")] == [owned.row_id]
    assert json_of(api.client.get(owned.url), 404)["code"] == owned.not_found


def test_parallel_disables_of_one_row_change_it_once(
    server: LiveServer, token: str, api: Api, owned: Owned
) -> None:
    responses = all_at_once(server, token, [Call(owned.url, {"status": "DISABLED"})] * CALLERS)

    assert _answers(responses) == Counter({(200, None): CALLERS})
    shown = {(r.json()["id"], r.json()["status"]) for r in responses}
    assert shown == {(owned.row_id, "DISABLED")}
    changes = [(e["subjectId"], e["details"]) for e in owned.events(api, "statusChanged")]
    assert changes == [(owned.row_id, {"status": "DISABLED"})]
    assert json_of(api.client.get(owned.url), 200)["status"] == "DISABLED"
