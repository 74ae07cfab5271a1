"""Findings of an attack on the day's changes, now tests of their fixes: relying parties given in
a store's body take their routes' permissions and never deadlock with them, a query parameter
given twice is refused. Still open (xfail, strict): -0.0 in attributes on PostgreSQL. Findings
settled as decisions (a stale write-back unlocks or recreates; docs/decisions.md) are not here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.api import Api, unique
from tests.support.checks import json_of
from tests.support.databases import is_postgresql
from tests.support.server import LiveServer
from tests.support.tenants import bearer_client, make_api_key

STORES = "/api/identity-store/stores"
T0 = 1111111109  # the code is 081804
WRONG = "000000"


def _store_with_passkey_config(admin: httpx.Client) -> str:
    store = unique("store")
    json_of(admin.post(STORES, json={"name": store}), 201)
    origins = ["https://login.example.com"]
    config = {"rpId": "example.com", "restrictedOrigins": origins}
    json_of(admin.post(f"{STORES}/{store}/passkeyConfig", json=config), 201)
    return store


def test_relying_parties_in_a_store_body_take_their_routes_permissions(
    admin: httpx.Client, server: LiveServer
) -> None:
    store = _store_with_passkey_config(admin)
    tenant = admin.headers["X-Tenant"]
    planted = {"restrictedOrigins": ["https://attacker.example.com"]}
    facets = {"example.com": {"trustedFacets": ["https://evil.example"]}}
    new_store = unique("store")
    with bearer_client(server, make_api_key(server, tenant, "updateStore")) as updater:
        by_route = updater.post(f"{STORES}/{store}/passkeyConfig/example.com", json=planted)
        by_store = updater.post(
            f"{STORES}/{store}",
            json={"configuration": {"passkeyPolicies": {"example.com": planted}}},
        )
    with bearer_client(server, make_api_key(server, tenant, "createStore")) as creator:
        created = creator.post(
            STORES, json={"name": new_store, "configuration": {"appkeyPolicies": facets}}
        )

    assert (by_route.status_code, by_route.json()["code"]) == (403, 9004)
    config = json_of(admin.get(f"{STORES}/{store}/passkeyConfig/example.com"), 200)
    assert config["restrictedOrigins"] == ["https://login.example.com"]
    assert (by_store.status_code, by_store.json()["code"]) == (403, 9004)
    found = admin.get(f"{STORES}/{new_store}/appkeyConfig/example.com")
    assert found.status_code != 200, found.text
    assert (created.status_code, created.json()["code"]) == (403, 9004)


def test_a_store_written_back_unchanged_needs_no_configuration_permission(
    admin: httpx.Client, server: LiveServer
) -> None:
    store = _store_with_passkey_config(admin)
    read = admin.get(f"{STORES}/{store}").json()
    tenant = admin.headers["X-Tenant"]
    with bearer_client(server, make_api_key(server, tenant, "updateStore")) as updater:
        written = updater.post(f"{STORES}/{store}", json={**read, "description": "changed"})
    with bearer_client(
        server, make_api_key(server, tenant, "updateStore", "updatePasskeyConfig")
    ) as allowed:
        renamed = allowed.post(
            f"{STORES}/{store}",
            json={"configuration": {"passkeyPolicies": {"example.com": {"rpName": "Renamed"}}}},
        )

    assert json_of(written, 200)["description"] == "changed"  # the entry as stored: no write
    shown = json_of(renamed, 200)["configuration"]["passkeyPolicies"]["example.com"]
    assert shown["rpName"] == "Renamed"


NEGATIVE_ZERO: dict[str, Any] = {"delta": -0.0, "nested": [-0.0]}


@pytest.mark.xfail(
    is_postgresql(),
    strict=True,
    reason="JSONB's numeric has no negative zero: -0.0 in attributes comes back 0.0 on "
    "PostgreSQL and -0.0 on SQLite",
)
def test_negative_zero_in_attributes_keeps_its_sign(api: Api) -> None:
    store = api.create_store()["name"]

    created = api.create_user(store, attributes=NEGATIVE_ZERO)

    read = api.get_user(store, created)["attributes"]
    signs = [str(read["delta"]), str(read["nested"][0])]
    assert signs == ["-0.0", "-0.0"]


def test_a_paging_parameter_given_twice_is_refused(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    answer = api.client.get(
        api.user_url(store, user, "passkeys"), params=[("size", "500"), ("size", "1")]
    )

    assert (answer.status_code, answer.json().get("code")) == (400, 9002), answer.text


Outcome = tuple[tuple[int, Any], tuple[int, Any], int]


def _race_store_entry_and_route(api: Api, base_url: str, kind: str) -> Outcome:
    """A store update giving a new relying party and …/{kind}Config creating it, at once; each
    answer as (status, code), and then whether the configuration is there."""
    store = api.create_store()["name"]
    url = api.store_url(store)
    rp_id = f"{unique('rp')}.example.com"
    entry: dict[str, Any] = {"configuration": {f"{kind}Policies": {rp_id: {}}}}
    headers = dict(api.client.headers)
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=60) as first,
        httpx.Client(base_url=base_url, headers=headers, timeout=60) as second,
        ThreadPoolExecutor(2) as pool,
    ):
        by_store = pool.submit(first.post, url, json=entry)
        by_route = pool.submit(second.post, f"{url}/{kind}Config", json={"rpId": rp_id})
        answers = (by_store.result(), by_route.result())
    found = api.client.get(f"{url}/{kind}Config/{rp_id}").status_code
    store_answer, route_answer = ((one.status_code, one.json().get("code")) for one in answers)
    return store_answer, route_answer, found


@pytest.mark.parametrize(("kind", "exists"), [("passkey", 3600), ("appkey", 3700)])
def test_a_store_entry_racing_the_configuration_route_answers_409_not_500(
    api: Api, server: LiveServer, kind: str, exists: int
) -> None:
    # Each race deadlocked about two times in three; ten make a miss all but impossible.
    outcomes = [_race_store_entry_and_route(api, server.base_url, kind) for _ in range(10)]

    one_created: set[Outcome] = {
        ((200, None), (201, None), 200),
        ((200, None), (409, exists), 200),
        ((409, exists), (201, None), 200),
    }
    assert set(outcomes) <= one_created, outcomes
