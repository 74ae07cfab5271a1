"""A passkey's or appkey's registration audit (GET …/{passkeys|appkeys}/{id}/registrationAudit,
and its /ext form) keeps its own fields and adds the authentication record of the completion that
registered the key, exactly as GET …/authentications/{id} shows it (changelog of 2025-12-01;
docs/decisions.md). Keys with no such record answer without the two fields: tests/api/
test_appkey_keys.py (seeded keys) and tests/e2e/test_export_*.py (imported keys)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.api import Api, segment
from tests.support.appkey_ceremonies import AppkeyStore
from tests.support.checks import json_of
from tests.support.clock import ManualClock
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.uaf_authenticator import SoftwareUafAuthenticator
from tests.support.webauthn_authenticator import SoftwareAuthenticator


@dataclass(frozen=True)
class Kind:
    """One kind of key: its collection in the user's URL, its audit type, the details naming it,
    some of its registration audit's own fields, and a registration of one over HTTP."""

    collection: str
    type: str
    info: str
    flat_fields: frozenset[str]
    register: Callable[[Api, dict[str, Any]], tuple[str, httpx.Response]]


def _register_passkey(api: Api, user: dict[str, Any]) -> tuple[str, httpx.Response]:
    rp = PasskeyStore.create(api)
    user.update(api.create_user(rp.store))
    return rp.store, rp.register(user, SoftwareAuthenticator(ORIGIN))


def _register_appkey(api: Api, user: dict[str, Any]) -> tuple[str, httpx.Response]:
    rp = AppkeyStore.create(api)
    user.update(api.create_user(rp.store))
    return rp.store, rp.register(user, SoftwareUafAuthenticator())


KINDS = {
    "passkey": Kind(
        "passkeys",
        "Passkey",
        "passkeyInfo",
        frozenset({"attestationFormat", "aaguid", "origin", "flags", "policyName"}),
        _register_passkey,
    ),
    "appkey": Kind(
        "appkeys",
        "Appkey",
        "appkeyInfo",
        frozenset({"aaid", "attestationType", "facetId"}),
        _register_appkey,
    ),
}


def _registration_audit(
    api: Api, store: str, user: dict[str, Any], kind: str, key_id: str, *, ext: bool = False
) -> dict[str, Any]:
    url = api.user_url(store, user, f"{kind}/{segment(key_id)}/registrationAudit", ext=ext)
    return dict(json_of(api.client.get(url), 200))


def _completed(answer: httpx.Response) -> dict[str, Any]:
    return dict(json_of(answer, 200))


@pytest.mark.parametrize("ext", [False, True], ids=["by id", "by external id"])
@pytest.mark.parametrize("name", list(KINDS))
def test_a_registration_audit_carries_its_completion_record(api: Api, name: str, ext: bool) -> None:
    kind = KINDS[name]
    user: dict[str, Any] = {}
    store, answer = kind.register(api, user)
    completed = _completed(answer)
    key = completed[name]

    audit = _registration_audit(api, store, user, kind.collection, key["id"], ext=ext)

    record_url = api.user_url(store, user, f"authentications/{completed['authenticationId']}")
    shown = json_of(api.client.get(record_url), 200)
    assert audit["authAuditRecord"] == shown["authAuditRecord"]
    assert audit["authAuditDisplayInfo"] == shown["authAuditDisplayInfo"]
    record = audit["authAuditRecord"]
    assert (record["type"], record["result"], record["createdDtm"]) == (
        kind.type,
        "SUCCESS",
        key["createdDtm"],
    )
    assert (record[kind.info]["ceremony"], record[kind.info]["id"]) == ("REGISTRATION", key["id"])
    assert kind.flat_fields <= audit.keys()


def test_keys_registered_at_one_instant_each_carry_their_own_record(
    api: Api, clock: ManualClock
) -> None:
    """Records at the key's instant that are not its registration (another key's, a sign-in
    with it, a refused attempt) are not taken for it."""
    rp = PasskeyStore.create(api)
    user = api.create_user(rp.store)
    first_authenticator = SoftwareAuthenticator(ORIGIN)
    clock.set(time.time())
    refused = rp.register(user, SoftwareAuthenticator("https://elsewhere.example"))
    assert refused.status_code == 400, refused.text
    first = _completed(rp.register(user, first_authenticator))
    second = _completed(rp.register(user, SoftwareAuthenticator(ORIGIN)))
    assert rp.sign_in(first_authenticator, user=user).status_code == 200

    for completed in (first, second):
        passkey = completed["passkey"]
        audit = _registration_audit(api, rp.store, user, "passkeys", passkey["id"])
        assert audit["authAuditRecord"]["id"] == completed["authenticationId"]
        assert audit["authAuditRecord"]["passkeyInfo"]["id"] == passkey["id"]
    assert first["passkey"]["createdDtm"] == second["passkey"]["createdDtm"]
