"""TOTP policies over HTTP (spec §5.1): defaults, bounds, create/read/update/delete, in use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, unique
from tests.support.checks import assert_invalid, content_of, error_of, in_parallel, iso_ms, json_of
from tests.support.clock import ManualClock

POLICY_KEYS = {
    "id",
    "name",
    "algorithm",
    "digits",
    "period",
    "issuer",
    "driftSteps",
    "secretLength",
    "registrationTimeoutSeconds",
    "allowSecretRetrieval",
    "createdDtm",
    "lastUpdatedDtm",
}


def _policies_url(api: Api, store: str) -> str:
    return f"{api.store_url(store)}/totpPolicy"


def _policy_url(api: Api, store: str, policy: str) -> str:
    return f"{api.store_url(store)}/totpPolicy/{policy}"


def _store_policies(api: Api, store: str) -> dict[str, Any]:
    read = json_of(api.client.get(api.store_url(store)), 200)
    policies: dict[str, Any] = read["configuration"]["totpPolicies"]
    return policies


# Create and defaults


def test_a_policy_created_with_only_a_name_takes_every_default(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_790_000_000)
    store = api.create_store()["name"]
    name = unique("policy")

    policy = json_of(api.client.post(_policies_url(api, store), json={"name": name}), 201)

    assert set(policy) == POLICY_KEYS
    assert {k: v for k, v in policy.items() if k != "id"} == {
        "name": name,
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
        "issuer": store,
        "driftSteps": 1,
        "secretLength": 20,
        "registrationTimeoutSeconds": 600,
        "allowSecretRetrieval": False,
        "createdDtm": iso_ms(1_790_000_000),
        "lastUpdatedDtm": iso_ms(1_790_000_000),
    }


@pytest.mark.parametrize(("algorithm", "length"), [("SHA1", 20), ("SHA256", 32), ("SHA512", 64)])
def test_the_default_secret_length_follows_the_algorithm(
    api: Api, algorithm: str, length: int
) -> None:
    store = api.create_store()["name"]

    policy = api.create_policy(store, algorithm=algorithm)

    assert (policy["algorithm"], policy["secretLength"]) == (algorithm, length)


def test_a_policy_created_with_every_field_echoes_them(api: Api) -> None:
    store = api.create_store()["name"]
    fields = {
        "name": unique("policy"),
        "description": "for the mobile app",
        "algorithm": "SHA512",
        "digits": 8,
        "period": 60,
        "issuer": "Example Bank",
        "driftSteps": 0,
        "secretLength": 40,
        "registrationTimeoutSeconds": 120,
        "allowSecretRetrieval": True,
    }

    policy = json_of(api.client.post(_policies_url(api, store), json=fields), 201)

    assert {k: policy[k] for k in fields} == fields


def test_a_created_policy_shows_in_the_store_configuration(api: Api) -> None:
    store = api.create_store()["name"]

    policy = api.create_policy(store, digits=7)

    assert _store_policies(api, store) == {policy["name"]: policy}
    assert json_of(api.client.get(_policy_url(api, store, policy["name"])), 200) == policy


def test_the_default_issuer_is_the_store_name(api: Api) -> None:
    store = api.create_store()["name"]

    policy = api.create_policy(store)
    registration = json_of(
        api.start_registration(store, api.create_user(store), policy["name"]), 201
    )

    assert policy["issuer"] == store
    assert registration["totp"]["issuer"] == store


# Bounds


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digits", 5),
        ("digits", 9),
        ("digits", 0),
        ("digits", "6"),
        ("digits", True),
        ("digits", 6.5),
        ("digits", None),
        ("period", 9),
        ("period", 301),
        ("period", "30"),
        ("period", 30.5),
        ("driftSteps", -1),
        ("driftSteps", 11),
        ("driftSteps", False),
        ("secretLength", 19),
        ("secretLength", 65),
        ("secretLength", "20"),
        ("algorithm", "MD5"),
        ("algorithm", "sha-1"),
        ("algorithm", 1),
        ("issuer", "Example:Bank"),
        ("issuer", ":"),
        ("issuer", ""),
        ("issuer", "i" * 256),
        ("issuer", 5),
        ("registrationTimeoutSeconds", 0),
        ("registrationTimeoutSeconds", -600),
        ("registrationTimeoutSeconds", "600"),
        ("allowSecretRetrieval", "true"),
        ("allowSecretRetrieval", 1),
        ("description", 42),
        ("description", "d" * 1025),
    ],
)
def test_a_policy_field_out_of_bounds_is_400_9002_naming_it(
    api: Api, field: str, value: Any
) -> None:
    store = api.create_store()["name"]
    name = unique("policy")

    response = api.client.post(_policies_url(api, store), json={"name": name, field: value})

    assert_invalid(response, field)
    error_of(api.client.get(_policy_url(api, store, name)), 404, 3200)


@pytest.mark.parametrize(
    "name", ["ext", ".", "..", "has space", "p" * 65, "", "slash/in", "colon:in", "ümlaut", None, 6]
)
def test_an_invalid_policy_name_is_400_9002(api: Api, name: Any) -> None:
    store = api.create_store()["name"]

    response = api.client.post(_policies_url(api, store), json={"name": name})

    assert_invalid(response, "name")
    assert _store_policies(api, store) == {}


def test_a_policy_without_a_name_is_400_9002(api: Api) -> None:
    store = api.create_store()["name"]

    assert_invalid(api.client.post(_policies_url(api, store), json={"digits": 6}), "name")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digits", 6),
        ("digits", 8),
        ("period", 10),
        ("period", 300),
        ("driftSteps", 0),
        ("driftSteps", 10),
        ("secretLength", 20),
        ("secretLength", 64),
    ],
)
def test_the_bounds_themselves_are_accepted(api: Api, field: str, value: int) -> None:
    store = api.create_store()["name"]

    assert api.create_policy(store, **{field: value})[field] == value


def test_a_policy_name_of_64_allowed_characters_is_accepted(api: Api) -> None:
    store = api.create_store()["name"]
    name = ("Az09._-" * 10)[:64]

    policy = json_of(api.client.post(_policies_url(api, store), json={"name": name}), 201)

    assert json_of(api.client.get(_policy_url(api, store, name)), 200) == policy


def test_a_duplicate_policy_name_is_409_3201(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store, digits=8)

    again = api.client.post(_policies_url(api, store), json={"name": policy["name"], "digits": 6})

    error_of(again, 409, 3201)
    assert json_of(api.client.get(_policy_url(api, store, policy["name"])), 200) == policy


def test_concurrent_creates_of_one_policy_name_make_one_policy(api: Api) -> None:
    store = api.create_store()["name"]
    name = unique("race")

    responses = in_parallel(
        8,
        lambda i: api.client.post(
            _policies_url(api, store), json={"name": name, "digits": 6 + i % 3}
        ),
    )

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code != 201):
        error_of(refused, 409, 3201)
    assert _store_policies(api, store) == {name: created[0].json()}


def test_concurrent_store_updates_adding_policies_keep_them_all(api: Api) -> None:
    store = api.create_store()["name"]
    names = [f"p{i}" for i in range(6)]

    responses = in_parallel(
        6,
        lambda i: api.client.post(
            api.store_url(store), json={"configuration": {"totpPolicies": {names[i]: {}}}}
        ),
    )

    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert set(_store_policies(api, store)) == set(names)


def test_the_same_policy_name_may_exist_in_two_stores(api: Api) -> None:
    first, second = api.create_store()["name"], api.create_store()["name"]

    api.create_policy(first, name="shared", digits=8)
    api.create_policy(second, name="shared", digits=7)

    assert json_of(api.client.get(_policy_url(api, first, "shared")), 200)["digits"] == 8
    assert json_of(api.client.get(_policy_url(api, second, "shared")), 200)["digits"] == 7


# Read, update, delete


def test_an_update_changes_only_the_given_fields(api: Api, clock: ManualClock) -> None:
    clock.set(1_791_000_000)
    store = api.create_store()["name"]
    policy = api.create_policy(store, description="d", digits=7, issuer="Bank")
    clock.advance(30)

    response = api.client.post(
        _policy_url(api, store, policy["name"]), json={"period": 60, "algorithm": "SHA256"}
    )

    updated = json_of(response, 200)
    assert updated == {
        **policy,
        "period": 60,
        "algorithm": "SHA256",
        "secretLength": 32,
        "lastUpdatedDtm": iso_ms(1_791_000_030),
    }
    assert json_of(api.client.get(_policy_url(api, store, policy["name"])), 200) == updated
    assert _store_policies(api, store)[policy["name"]] == updated


def test_null_clears_an_optional_policy_field_back_to_its_default(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store, description="d", issuer="Bank", secretLength=40)

    response = api.client.post(
        _policy_url(api, store, policy["name"]),
        json={"description": None, "issuer": None, "secretLength": None},
    )

    updated = json_of(response, 200)
    assert "description" not in updated
    assert (updated["issuer"], updated["secretLength"]) == (store, 20)


@pytest.mark.parametrize(
    ("field", "value"),
    [("digits", 9), ("period", 301), ("issuer", "a:b"), ("algorithm", "MD5"), ("digits", None)],
)
def test_an_invalid_update_is_400_9002_and_changes_nothing(
    api: Api, field: str, value: Any
) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)

    response = api.client.post(_policy_url(api, store, policy["name"]), json={field: value})

    assert_invalid(response, field)
    assert json_of(api.client.get(_policy_url(api, store, policy["name"])), 200) == policy


def test_an_update_cannot_rename_a_policy(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)

    renamed = api.client.post(_policy_url(api, store, policy["name"]), json={"name": "other"})
    same = api.client.post(
        _policy_url(api, store, policy["name"]), json={"name": policy["name"], "digits": 8}
    )

    assert_invalid(renamed, "name")
    assert json_of(same, 200)["digits"] == 8
    assert set(_store_policies(api, store)) == {policy["name"]}


def test_a_policy_is_deleted_with_204(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)
    kept = api.create_policy(store)

    response = api.client.delete(_policy_url(api, store, policy["name"]))

    assert (response.status_code, response.content) == (204, b"")
    error_of(api.client.get(_policy_url(api, store, policy["name"])), 404, 3200)
    assert _store_policies(api, store) == {kept["name"]: kept}


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_missing_policy_is_404_3200(api: Api, method: str) -> None:
    store = api.create_store(configuration={"totpPolicies": {"other": {}}})["name"]

    response = api.client.request(
        method, _policy_url(api, store, "missing"), json={} if method == "POST" else None
    )

    error_of(response, 404, 3200)


def test_a_policy_of_another_store_is_404_3200(api: Api) -> None:
    owner = api.create_store()["name"]
    policy = api.create_policy(owner)
    other = api.create_store()["name"]

    error_of(api.client.get(_policy_url(api, other, policy["name"])), 404, 3200)


def test_a_policy_with_a_user_totp_is_not_deleted_without_force(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)
    user = api.create_user(store)
    assert api.start_registration(store, user, policy["name"]).status_code == 201

    refused = api.client.delete(_policy_url(api, store, policy["name"]))
    not_forced = api.client.delete(_policy_url(api, store, policy["name"]), params={"force": False})

    error_of(refused, 409, 3202)
    error_of(not_forced, 409, 3202)
    assert json_of(api.client.get(_policy_url(api, store, policy["name"])), 200) == policy
    assert [t["policyName"] for t in api.get_user(store, user)["summaryInfo"]["totps"]] == [
        policy["name"]
    ]


def test_a_forced_delete_removes_the_policy_and_its_user_totps(api: Api) -> None:
    store = api.create_store()["name"]
    policy, kept = api.create_policy(store), api.create_policy(store)
    user = api.create_user(store)
    for name in (policy["name"], kept["name"]):
        assert api.start_registration(store, user, name).status_code == 201

    response = api.client.delete(_policy_url(api, store, policy["name"]), params={"force": True})

    assert response.status_code == 204
    error_of(api.client.get(_policy_url(api, store, policy["name"])), 404, 3200)
    totps = api.get_user(store, user)["summaryInfo"]["totps"]
    assert [totp["policyName"] for totp in totps] == [kept["name"]]
    listed = content_of(api.client.get(api.user_url(store, user, "totps")))
    assert [totp["policyName"] for totp in listed] == [kept["name"]]


def test_a_policy_recreated_after_a_forced_delete_starts_without_totps(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)
    user = api.create_user(store)
    assert api.start_registration(store, user, policy["name"]).status_code == 201
    assert (
        api.client.delete(
            _policy_url(api, store, policy["name"]), params={"force": "true"}
        ).status_code
        == 204
    )

    api.create_policy(store, name=policy["name"])

    assert api.get_user(store, user)["summaryInfo"]["totps"] == []
    assert api.client.delete(_policy_url(api, store, policy["name"])).status_code == 204


def test_a_policy_written_back_unchanged_pins_none_of_the_defaults_it_shows(api: Api) -> None:
    store = api.create_store()["name"]
    policy = api.create_policy(store)
    url = _policy_url(api, store, policy["name"])
    assert (policy["secretLength"], policy["issuer"]) == (20, store)  # defaults, as shown

    written = api.client.post(url, json=policy)
    to_sha256 = api.client.post(url, json={"algorithm": "SHA256"})

    assert written.status_code == 200 and written.json() == policy  # lastUpdatedDtm included
    # The secret length still follows the algorithm: the write-back did not pin 20.
    assert to_sha256.json()["secretLength"] == 32
