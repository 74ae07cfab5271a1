"""Stores over HTTP (spec §3): create, list, get, update (merging), delete, missing store."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tests.support import openapi
from tests.support.api import BASE, Api, unique
from tests.support.checks import (
    ENVELOPE_KEYS,
    assert_invalid,
    error_of,
    in_parallel,
    iso_ms,
    json_of,
)
from tests.support.clock import ManualClock

STORE_KEYS = {"id", "tenantId", "name", "description", "configuration", "createdDtm"}
DEFAULT_LOCKING = {
    "enabled": True,
    "modalityLockThreshold": 5,
    "modalityLockSeconds": 300,
    "userLockThreshold": 10,
    "userTempLockSeconds": 900,
    "maxTempLocks": 3,
}
DEFAULT_CONFIGURATION = {
    "defaultUserStatus": "ACTIVE",
    "userLocking": DEFAULT_LOCKING,
    "totpPolicies": {},
    "passkeyPolicies": {},
    "appkeyPolicies": {},
    "faceMatchThreshold": 0.5,
    "faceRetainImages": False,
}
FULL_CONFIGURATION = {
    "defaultUserStatus": "PENDING_ACTIVE",
    "defaultUserLocale": "en-GB",
    "defaultUserTimezone": "Europe/London",
    "userLocking": {
        "enabled": False,
        "modalityLockThreshold": 3,
        "modalityLockSeconds": 0,
        "userLockThreshold": 7,
        "userTempLockSeconds": 60,
        "maxTempLocks": 2,
    },
    "passkeyPolicies": {},
    "appkeyPolicies": {},
    "faceMatchThreshold": 0.75,
    "faceRetainImages": True,
}


def _policy_fields(policy: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if k not in ("id", "createdDtm", "lastUpdatedDtm")}


def _default_policy(name: str, issuer: str, **changed: Any) -> dict[str, Any]:
    return {
        "name": name,
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
        "issuer": issuer,
        "driftSteps": 1,
        "secretLength": 20,
        "registrationTimeoutSeconds": 600,
        "allowSecretRetrieval": False,
        **changed,
    }


# Create


def test_a_store_created_with_a_name_only_has_the_default_configuration(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_750_000_000.5)
    name = unique("store")

    store = json_of(api.client.post(BASE, json={"name": name}), 201)

    assert set(store) == STORE_KEYS - {"description"} | {"lastUpdatedDtm"}
    assert store["name"] == name
    assert store["tenantId"] == "default"
    assert isinstance(store["id"], str) and store["id"]
    assert store["configuration"] == DEFAULT_CONFIGURATION
    assert store["createdDtm"] == store["lastUpdatedDtm"] == iso_ms(1_750_000_000.5)


def test_a_created_store_reads_back_what_was_written_plus_defaults(api: Api) -> None:
    name = unique("store")
    body = {
        "name": name,
        "description": "Retail customers",
        "configuration": {
            **FULL_CONFIGURATION,
            "totpPolicies": {"main": {"digits": 8, "period": 60}, "backup": {}},
        },
    }

    created = json_of(api.client.post(BASE, json=body), 201)
    read = json_of(api.client.get(api.store_url(name)), 200)

    assert read == created
    assert set(created) == STORE_KEYS | {"lastUpdatedDtm"}
    assert created["description"] == "Retail customers"
    configuration = dict(created["configuration"])
    policies = configuration.pop("totpPolicies")
    assert configuration == FULL_CONFIGURATION
    assert {key: _policy_fields(value) for key, value in policies.items()} == {
        "main": _default_policy("main", name, digits=8, period=60),
        "backup": _default_policy("backup", name),
    }


def test_policies_of_the_configuration_map_are_real_policies(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"main": {"algorithm": "SHA256"}}})

    policy = json_of(api.client.get(f"{api.store_url(store['name'])}/totpPolicy/main"), 200)

    assert policy == store["configuration"]["totpPolicies"]["main"]
    assert (policy["algorithm"], policy["secretLength"]) == ("SHA256", 32)


def test_a_partial_locking_configuration_at_create_keeps_the_other_defaults(api: Api) -> None:
    store = api.create_store(configuration={"userLocking": {"maxTempLocks": 9}})

    assert store["configuration"]["userLocking"] == {**DEFAULT_LOCKING, "maxTempLocks": 9}


def test_a_duplicate_store_name_is_409_3001_and_leaves_the_first(api: Api) -> None:
    first = api.create_store(description="first")

    again = api.client.post(BASE, json={"name": first["name"], "description": "second"})

    error_of(again, 409, 3001)
    assert json_of(api.client.get(api.store_url(first["name"])), 200) == first


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "has space"}, "name"),
        ({"name": "slash/in"}, "name"),
        ({"name": 7}, "name"),
        ({"description": "d" * 1025}, "description"),
        ({"configuration": {"defaultUserStatus": "DISABLED"}}, "configuration.defaultUserStatus"),
        (
            {"configuration": {"defaultUserLocale": "not a locale"}},
            "configuration.defaultUserLocale",
        ),
        (
            {"configuration": {"defaultUserTimezone": "Mars/Base"}},
            "configuration.defaultUserTimezone",
        ),
        ({"configuration": {"faceMatchThreshold": 1.5}}, "configuration.faceMatchThreshold"),
        ({"configuration": {"faceMatchThreshold": "0.5"}}, "configuration.faceMatchThreshold"),
        ({"configuration": {"faceRetainImages": "yes"}}, "configuration.faceRetainImages"),
        (
            {"configuration": {"userLocking": {"modalityLockThreshold": 0}}},
            "configuration.userLocking.modalityLockThreshold",
        ),
        (
            {"configuration": {"userLocking": {"enabled": "true"}}},
            "configuration.userLocking.enabled",
        ),
        (
            {"configuration": {"totpPolicies": {"p": {"digits": 9}}}},
            "configuration.totpPolicies.p.digits",
        ),
        ({"configuration": {"totpPolicies": {"ext": {}}}}, "configuration.totpPolicies.ext"),
        ({"configuration": {"totpPolicies": {"a b": {}}}}, "configuration.totpPolicies.a b"),
        (
            {"configuration": {"totpPolicies": {"p": {"name": "q"}}}},
            "configuration.totpPolicies.p.name",
        ),
    ],
)
def test_an_invalid_store_is_400_9002_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = api.client.post(BASE, json={"name": unique("store"), **body})

    assert_invalid(response, field)


def test_a_store_without_a_name_is_400_9002(api: Api) -> None:
    assert_invalid(api.client.post(BASE, json={"description": "nameless"}), "name")


@pytest.mark.parametrize("name", [".", ".."])
def test_a_dot_segment_is_no_store_name_at_creation_or_rename(api: Api, name: str) -> None:
    store = api.create_store()["name"]

    created = api.client.post(BASE, json={"name": name})
    renamed = api.client.post(api.store_url(store), json={"name": name})

    for refused in (created, renamed):
        assert_invalid(refused, "name")
        assert "'.' and '..' are not names" in refused.json()["fieldErrors"][0]["message"]
    assert json_of(api.client.get(api.store_url(store)), 200)["name"] == store
    encoded = name.replace(".", "%2E")  # how a client could still reach such a store
    error_of(api.client.get(f"{BASE}/{encoded}"), 404, 3000)


def test_concurrent_creates_of_one_name_make_one_store(api: Api) -> None:
    name = unique("race")

    responses = in_parallel(
        8, lambda i: api.client.post(BASE, json={"name": name, "description": str(i)})
    )

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code != 201):
        error_of(refused, 409, 3001)
    assert json_of(api.client.get(api.store_url(name)), 200) == created[0].json()


# List


def _page(api: Api, **params: Any) -> dict[str, Any]:
    page = json_of(api.client.get(BASE, params=params), 200)
    assert set(page) == ENVELOPE_KEYS
    return page


def _all_store_names(api: Api, **params: Any) -> list[str]:
    names: list[str] = []
    number = 0
    while True:
        page = _page(api, page=number, size=200, **params)
        names += [store["name"] for store in page["content"]]
        if page["last"]:
            return names
        number += 1


def test_the_store_list_envelope_is_exact(api: Api) -> None:
    for _ in range(3):
        api.create_store()

    first = _page(api, size=2)
    total = first["totalElements"]
    pages = math.ceil(total / 2)
    last = _page(api, size=2, page=pages - 1)
    beyond = _page(api, size=2, page=pages)

    assert total >= 3
    assert {k: v for k, v in first.items() if k != "content"} == {
        "number": 0,
        "size": 2,
        "numberOfElements": 2,
        "totalElements": total,
        "totalPages": pages,
        "first": True,
        "last": pages == 1,
        "empty": False,
    }
    assert len(first["content"]) == 2
    assert last["numberOfElements"] == len(last["content"]) == total - 2 * (pages - 1)
    assert (last["number"], last["first"], last["last"], last["empty"]) == (
        pages - 1,
        False,
        True,
        False,
    )
    assert beyond["content"] == []
    assert (beyond["numberOfElements"], beyond["empty"], beyond["last"]) == (0, True, True)
    assert beyond["totalElements"] == total


def test_stores_list_in_creation_order_by_default_and_by_name_on_request(
    api: Api, clock: ManualClock
) -> None:
    prefix = unique("order")
    clock.set(1_760_000_000)
    for suffix in ("c", "a", "b"):
        json_of(api.client.post(BASE, json={"name": f"{prefix}-{suffix}"}), 201)
        clock.advance(1)

    def mine(names: list[str]) -> list[str]:
        return [name[-1] for name in names if name.startswith(prefix)]

    assert mine(_all_store_names(api)) == ["c", "a", "b"]
    assert mine(_all_store_names(api, sort="name,asc")) == ["a", "b", "c"]
    assert mine(_all_store_names(api, sort="name,desc")) == ["c", "b", "a"]
    assert mine(_all_store_names(api, sort="createdDtm,desc")) == ["b", "a", "c"]


def test_every_listed_store_is_the_full_store_object(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})

    listed = _page(api, size=200, sort="createdDtm,desc")["content"]

    found = [item for item in listed if item["name"] == store["name"]]
    assert found == [store]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 0}, "size"),
        ({"size": 201}, "size"),
        ({"page": -1}, "page"),
        ({"size": "ten"}, "size"),
        ({"sort": "colour,asc"}, "sort"),
        ({"sort": "name,sideways"}, "sort"),
        ({"sort": "tenantId"}, "sort"),
    ],
)
def test_bad_paging_of_stores_is_400_9002(api: Api, params: dict[str, Any], field: str) -> None:
    assert_invalid(api.client.get(BASE, params=params), field)


# Get and update


def test_a_store_is_read_by_name(api: Api) -> None:
    store = api.create_store(description="d")

    assert json_of(api.client.get(api.store_url(store["name"])), 200) == store


def test_an_update_changes_only_what_it_gives(api: Api, clock: ManualClock) -> None:
    clock.set(1_770_000_000)
    store = api.create_store(description="before", configuration=dict(FULL_CONFIGURATION))
    clock.advance(5)

    updated = json_of(
        api.client.post(
            api.store_url(store["name"]), json={"configuration": {"faceMatchThreshold": 0.9}}
        ),
        200,
    )

    assert updated["description"] == "before"
    assert updated["configuration"] == {**store["configuration"], "faceMatchThreshold": 0.9}
    assert updated["createdDtm"] == store["createdDtm"]
    assert updated["lastUpdatedDtm"] == iso_ms(1_770_000_005)
    assert json_of(api.client.get(api.store_url(store["name"])), 200) == updated


def test_a_partial_user_locking_update_keeps_the_other_locking_fields(api: Api) -> None:
    store = api.create_store(
        configuration={"userLocking": {"modalityLockThreshold": 3, "userLockThreshold": 7}}
    )

    updated = json_of(
        api.client.post(
            api.store_url(store["name"]),
            json={"configuration": {"userLocking": {"enabled": False}}},
        ),
        200,
    )

    assert updated["configuration"]["userLocking"] == {
        **DEFAULT_LOCKING,
        "modalityLockThreshold": 3,
        "userLockThreshold": 7,
        "enabled": False,
    }


def test_the_policy_map_merges_by_name(api: Api, clock: ManualClock) -> None:
    clock.set(1_780_000_000)
    store = api.create_store(
        configuration={"totpPolicies": {"a": {"digits": 8}, "b": {"period": 60}}}
    )
    before = store["configuration"]["totpPolicies"]
    clock.advance(10)

    response = api.client.post(
        api.store_url(store["name"]),
        json={"configuration": {"totpPolicies": {"a": {"period": 45}, "c": {}}}},
    )

    after = json_of(response, 200)["configuration"]["totpPolicies"]
    assert set(after) == {"a", "b", "c"}
    assert _policy_fields(after["a"]) == _default_policy("a", store["name"], digits=8, period=45)
    assert after["a"]["id"] == before["a"]["id"]
    assert after["a"]["lastUpdatedDtm"] == iso_ms(1_780_000_010)
    assert after["b"] == before["b"]
    assert _policy_fields(after["c"]) == _default_policy("c", store["name"])
    assert after["c"]["createdDtm"] == iso_ms(1_780_000_010)


def test_a_description_can_be_changed_and_cleared(api: Api) -> None:
    store = api.create_store(description="old")
    url = api.store_url(store["name"])

    changed = json_of(api.client.post(url, json={"description": "new"}), 200)
    cleared = json_of(api.client.post(url, json={"description": None}), 200)

    assert changed["description"] == "new"
    assert "description" not in cleared
    assert cleared["configuration"] == store["configuration"]


def test_an_optional_configuration_value_can_be_cleared_with_null(api: Api) -> None:
    store = api.create_store(configuration={"defaultUserLocale": "de-DE"})

    response = api.client.post(
        api.store_url(store["name"]), json={"configuration": {"defaultUserLocale": None}}
    )

    assert json_of(response, 200)["configuration"] == DEFAULT_CONFIGURATION


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        (None, "configuration"),
        ({"userLocking": None}, "configuration.userLocking"),
        ({"defaultUserStatus": None}, "configuration.defaultUserStatus"),
        ({"totpPolicies": {"p": None}}, "configuration.totpPolicies.p"),
    ],
)
def test_null_for_a_required_configuration_part_is_400_9002(
    api: Api, configuration: dict[str, Any] | None, field: str
) -> None:
    store = api.create_store()

    response = api.client.post(api.store_url(store["name"]), json={"configuration": configuration})

    assert_invalid(response, field)
    assert json_of(api.client.get(api.store_url(store["name"])), 200) == store


def test_renaming_a_store_is_refused_with_9002(api: Api) -> None:
    store = api.create_store()
    other = unique("store")

    renamed = api.client.post(api.store_url(store["name"]), json={"name": other})
    same = api.client.post(api.store_url(store["name"]), json={"name": store["name"]})

    assert_invalid(renamed, "name")
    assert json_of(same, 200)["name"] == store["name"]
    error_of(api.client.get(api.store_url(other)), 404, 3000)


def test_an_invalid_update_changes_nothing(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})

    response = api.client.post(
        api.store_url(store["name"]),
        json={"description": "new", "configuration": {"totpPolicies": {"p": {"digits": 5}}}},
    )

    assert_invalid(response, "configuration.totpPolicies.p.digits")
    assert json_of(api.client.get(api.store_url(store["name"])), 200) == store


# Delete


def test_an_empty_store_is_deleted_with_204(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})

    response = api.client.delete(api.store_url(store["name"]))

    assert response.status_code == 204
    assert response.content == b""
    error_of(api.client.get(api.store_url(store["name"])), 404, 3000)
    error_of(api.client.delete(api.store_url(store["name"])), 404, 3000)


def test_a_store_holding_users_is_not_deleted_without_force(api: Api) -> None:
    store = api.create_store()
    user = api.create_user(store["name"])

    refused = api.client.delete(api.store_url(store["name"]))
    not_forced = api.client.delete(api.store_url(store["name"]), params={"force": "false"})

    error_of(refused, 409, 3002)
    error_of(not_forced, 409, 3002)
    assert json_of(api.client.get(api.store_url(store["name"])), 200) == store
    assert api.get_user(store["name"], user)["id"] == user["id"]


def test_a_forced_delete_removes_the_store_and_its_users(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})
    user = api.create_user(store["name"])
    assert api.start_registration(store["name"], user, "p").status_code == 201

    response = api.client.delete(api.store_url(store["name"]), params={"force": "true"})

    assert response.status_code == 204
    error_of(api.client.get(api.store_url(store["name"])), 404, 3000)
    recreated = json_of(api.client.post(BASE, json={"name": store["name"]}), 201)
    assert recreated["id"] != store["id"]
    assert recreated["configuration"]["totpPolicies"] == {}
    error_of(api.client.get(api.user_url(store["name"], user)), 404, 3100)
    error_of(api.client.get(api.user_url(store["name"], user, ext=True)), 404, 3100)
    users = json_of(api.client.get(f"{api.store_url(store['name'])}/users"), 200)
    assert users["totalElements"] == 0


# Missing store on every store-scoped route


def _store_scoped(client: httpx.Client) -> list[tuple[str, str, Any]]:
    document = openapi.fetch(client)
    found = []
    for operation in openapi.operations(document):
        if operation.path.startswith(f"{BASE}/{{storeName}}"):
            body = openapi.sample_body(document, operation)
            found.append((operation.method, operation.path, body))
    return found


def test_every_store_scoped_route_answers_404_3000_for_a_missing_store(api: Api) -> None:
    missing = unique("missing")
    routes = _store_scoped(api.client)
    assert len(routes) >= 20

    for method, path, body in routes:
        url = openapi.Operation(method, path, {}).url({"storeName": missing})
        response = api.client.request(method, url, json=body)
        assert (response.status_code, response.json().get("code")) == (404, 3000), (
            method,
            path,
            response.text,
        )
        error_of(response, 404, 3000)


def test_a_store_written_back_unchanged_leaves_its_totp_policies_as_they_were(api: Api) -> None:
    store = api.create_store(
        configuration={"totpPolicies": {"default": {}, "strict": {"digits": 8, "driftSteps": 0}}}
    )
    events_before = api.client.get(
        "/api/identity-store/events", params={"storeName": store["name"], "size": 200}
    ).json()["content"]

    written = api.client.post(api.store_url(store["name"]), json=store)

    assert written.status_code == 200, written.text
    assert written.json()["configuration"]["totpPolicies"] == store["configuration"]["totpPolicies"]
    events = api.client.get(
        "/api/identity-store/events", params={"storeName": store["name"], "size": 200}
    ).json()["content"][len(events_before) :]
    assert [event["kind"] for event in events] == ["store.updated"]
