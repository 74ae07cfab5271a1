"""What a client reads back it can write back (spec §1), on every update route: the object as its
GET shows it, with one writable field changed, is taken; the fields the server emits are ignored
whatever their values; `{}` changes nothing; a writable field with a bad value is still 9002."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.api import Api, code_at, segment
from tests.support.appkeys import seed_appkey
from tests.support.checks import assert_invalid, json_of
from tests.support.passkeys import PasskeyStore
from tests.support.seeding import Seeder

KEYS = "/api/arthr/apiKeys"
TAMPERED = "tampered"


@dataclass(frozen=True)
class Resource:
    """One update route: the resource's URL (GET reads it, POST updates it), the fields its
    update takes, one change to them and one refused value; `beside` is a field the update's
    answer adds beside the resource as GET shows it (a relying party's configuration answers
    its store's `configuration` too, docs/decisions.md)."""

    url: str
    writable: frozenset[str]
    change: dict[str, Any]
    refused: dict[str, Any]
    beside: str | None = None


def _store(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store({"totpPolicies": {"default": {}}})["name"]
    return Resource(
        api.store_url(store),
        frozenset({"name", "description", "configuration"}),
        {"description": "changed"},
        {"description": 5},
    )


def _totp_policy(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store({"totpPolicies": {"default": {}}})["name"]
    return Resource(
        f"{api.store_url(store)}/totpPolicy/default",
        frozenset(
            {"name", "description", "algorithm", "digits", "period", "issuer", "driftSteps"}
            | {"secretLength", "registrationTimeoutSeconds", "allowSecretRetrieval"}
        ),
        {"digits": 8},
        {"digits": 5},
    )


_USER_FIELDS = {"externalId", "status", "type", "locale", "timezone", "firstName", "lastName"}


def _user(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store()["name"]
    user = api.create_user(store, firstName="Grace")
    return Resource(
        api.user_url(store, user),
        frozenset(_USER_FIELDS | {"email", "dateOfBirth", "nationalities", "attributes"}),
        {"firstName": "Ada"},
        {"email": "no address"},
    )


def _status_resource(url: str) -> Resource:
    return Resource(url, frozenset({"status"}), {"status": "DISABLED"}, {"status": "LOCKED"})


def _totp(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store({"totpPolicies": {"default": {}}})["name"]
    user = api.create_user(store)
    started = json_of(api.start_registration(store, user, "default"), 201)
    json_of(api.complete(store, user, "default", code_at(started["secret"], time.time())), 200)
    return _status_resource(api.user_url(store, user, f"totps/{segment(started['totp']['id'])}"))


def _passkey(api: Api, seeder: Seeder) -> Resource:
    rp = PasskeyStore.create(api)
    user, _, passkey = rp.enrol()
    return _status_resource(api.user_url(rp.store, user, f"passkeys/{segment(passkey['id'])}"))


def _appkey(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store()
    json_of(
        api.client.post(f"{api.store_url(store['name'])}/appkeyConfig", json={"rpId": "a.example"}),
        201,
    )
    user = api.create_user(store["name"])
    row = seed_appkey(seeder, store=store, user=user, rp_id="a.example")
    return _status_resource(api.user_url(store["name"], user, f"appkeys/{segment(row['id'])}"))


def _passkey_config(api: Api, seeder: Seeder) -> Resource:
    rp = PasskeyStore.create(api)
    return Resource(
        f"{api.store_url(rp.store)}/passkeyConfig/{rp.rp_id}",
        frozenset(
            {"rpId", "rpName", "restrictedOrigins", "sessionManagement"}
            | {"registrationPolicies", "authenticationPolicies"}
        ),
        {"rpName": "Renamed"},
        {"sessionManagement": "SOMETIMES"},
        beside="configuration",
    )


def _appkey_config(api: Api, seeder: Seeder) -> Resource:
    store = api.create_store()["name"]
    config = {"rpId": "a.example", "trustedFacets": ["https://a.example"]}
    json_of(api.client.post(f"{api.store_url(store)}/appkeyConfig", json=config), 201)
    return Resource(
        f"{api.store_url(store)}/appkeyConfig/a.example",
        frozenset(
            {"rpId", "trustedFacets", "sessionManagement", "singleShotWindowSeconds"}
            | {"registrationPolicies", "authenticationPolicies"}
        ),
        {"singleShotWindowSeconds": 60},
        {"singleShotWindowSeconds": 0},
        beside="configuration",
    )


def _api_key(api: Api, seeder: Seeder) -> Resource:
    permissions = ["TNT#default#IdentityStore:listStores"]
    created = json_of(api.client.post(KEYS, json={"permissions": permissions}), 201)
    return Resource(
        f"{KEYS}/{created['id']}",
        frozenset({"status"}),
        {"status": "BLOCKED"},
        {"status": "DELETED"},
    )


RESOURCES: dict[str, Callable[[Api, Seeder], Resource]] = {
    "store": _store,
    "totpPolicy": _totp_policy,
    "user": _user,
    "totp": _totp,
    "passkey": _passkey,
    "appkey": _appkey,
    "passkeyConfig": _passkey_config,
    "appkeyConfig": _appkey_config,
    "apiKey": _api_key,
}


@pytest.fixture(params=list(RESOURCES))
def resource(request: pytest.FixtureRequest, api: Api, seeder: Seeder) -> Resource:
    return RESOURCES[request.param](api, seeder)


def _read(api: Api, resource: Resource) -> dict[str, Any]:
    return json_of(api.client.get(resource.url), 200)


def _answered(resource: Resource, answer: httpx.Response) -> dict[str, Any]:
    """The update's answer (200) as GET shows the resource: without the field it adds beside."""
    body = json_of(answer, 200)
    if resource.beside is not None:
        assert isinstance(body.pop(resource.beside), dict), body
    return body


def _but_for_update_instant(shown: Any) -> Any:
    """The object without its update instants (`lastUpdatedDtm`), its nested objects' too: an
    update may set them even where it changes nothing else."""
    if not isinstance(shown, dict):
        return shown
    return {
        key: _but_for_update_instant(value)
        for key, value in shown.items()
        if key != "lastUpdatedDtm"
    }


def test_a_resource_read_back_is_taken_with_one_change(api: Api, resource: Resource) -> None:
    read = _read(api, resource)

    answer = api.client.post(resource.url, json={**read, **resource.change})

    expected = _but_for_update_instant({**read, **resource.change})
    assert _but_for_update_instant(_answered(resource, answer)) == expected
    assert _but_for_update_instant(_read(api, resource)) == expected


def test_an_empty_update_changes_nothing(api: Api, resource: Resource) -> None:
    read = _read(api, resource)

    answer = api.client.post(resource.url, json={})

    assert _answered(resource, answer) == read
    assert _read(api, resource) == read


def test_emitted_fields_are_ignored_whatever_their_values(api: Api, resource: Resource) -> None:
    read = _read(api, resource)
    emitted = {key: TAMPERED for key in read if key not in resource.writable}
    assert emitted, "every resource shows fields of the server's"

    answer = api.client.post(resource.url, json={**read, **emitted})

    assert _but_for_update_instant(_answered(resource, answer)) == _but_for_update_instant(read)
    assert _but_for_update_instant(_read(api, resource)) == _but_for_update_instant(read)


def test_a_writable_field_with_a_bad_value_is_refused(api: Api, resource: Resource) -> None:
    read = _read(api, resource)

    answer = api.client.post(resource.url, json={**read, **resource.refused})

    assert_invalid(answer, next(iter(resource.refused)))
    assert _read(api, resource) == read
