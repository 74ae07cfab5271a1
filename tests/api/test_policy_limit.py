"""A store holds at most 100 TOTP policies (docs/decisions.md); one more is 400 9002."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idstore.services.policies import MAX_POLICIES_PER_STORE
from tests.support.api import BASE, Api, unique
from tests.support.checks import assert_invalid, error_of, json_of
from tests.support.server import LiveServer

LIMIT = 100


def _policies(count: int, prefix: str = "p") -> dict[str, Any]:
    return {f"{prefix}-{number:03}": {} for number in range(count)}


def _full_store(api: Api) -> str:
    store = api.create_store(configuration={"totpPolicies": _policies(LIMIT)})
    assert len(store["configuration"]["totpPolicies"]) == LIMIT
    return str(store["name"])


def _policy_names(api: Api, store: str) -> set[str]:
    read = json_of(api.client.get(api.store_url(store)), 200)
    return set(read["configuration"]["totpPolicies"])


def test_the_documented_limit_is_the_one_enforced() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "decisions.md").read_text()

    assert MAX_POLICIES_PER_STORE == LIMIT
    assert f"A store holds at most {LIMIT} TOTP policies" in page


def test_creating_a_policy_in_a_full_store_is_400_9002_and_adds_nothing(api: Api) -> None:
    store = _full_store(api)

    response = api.client.post(f"{api.store_url(store)}/totpPolicy", json={"name": "one-more"})

    error_of(response, 400, 9002)
    assert_invalid(response, "name")
    assert "at most 100 TOTP policies" in response.json()["message"]
    assert _policy_names(api, store) == set(_policies(LIMIT))
    error_of(api.client.get(f"{api.store_url(store)}/totpPolicy/one-more"), 404, 3200)


def test_a_store_update_past_the_limit_is_400_9002_and_changes_nothing(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": _policies(LIMIT - 1)})

    response = api.client.post(
        api.store_url(store["name"]),
        json={"description": "changed", "configuration": {"totpPolicies": _policies(2, "q")}},
    )

    error_of(response, 400, 9002)
    assert_invalid(response, "configuration.totpPolicies")
    read = json_of(api.client.get(api.store_url(store["name"])), 200)
    assert set(read["configuration"]["totpPolicies"]) == set(_policies(LIMIT - 1))
    assert read.get("description") != "changed"


def test_a_store_created_past_the_limit_is_400_9002_and_not_created(api: Api) -> None:
    name = unique("store")

    response = api.client.post(
        BASE, json={"name": name, "configuration": {"totpPolicies": _policies(LIMIT + 1)}}
    )

    error_of(response, 400, 9002)
    assert_invalid(response, "configuration.totpPolicies")
    error_of(api.client.get(api.store_url(name)), 404, 3000)


def test_a_full_store_still_updates_its_policies_and_takes_one_after_a_delete(api: Api) -> None:
    store = _full_store(api)
    url = api.store_url(store)

    updated = api.client.post(
        url, json={"configuration": {"totpPolicies": {"p-000": {"digits": 8}}}}
    )
    deleted = api.client.delete(f"{url}/totpPolicy/p-001")
    created = api.client.post(f"{url}/totpPolicy", json={"name": "replacement"})

    assert json_of(updated, 200)["configuration"]["totpPolicies"]["p-000"]["digits"] == 8
    assert deleted.status_code == 204
    assert json_of(created, 201)["name"] == "replacement"
    assert len(_policy_names(api, store)) == LIMIT


WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]


def test_a_refusal_for_the_limit_comes_before_any_write(server: LiveServer, api: Api) -> None:
    store = _full_store(api)
    url = api.store_url(store)
    one_more: dict[str, Any] = {"configuration": {"totpPolicies": {"one-more": {}}}}
    too_many = {"name": unique("store"), "configuration": {"totpPolicies": _policies(LIMIT + 1)}}

    with server.statements.capture() as statements:
        created = api.client.post(f"{url}/totpPolicy", json={"name": "one-more"})
        updated = api.client.post(url, json={"description": "changed", **one_more})
        made = api.client.post(BASE, json=too_many)

    assert [response.json()["code"] for response in (created, updated, made)] == [9002] * 3
    assert _writes(statements) == []


def test_a_name_the_full_store_has_already_is_still_409_3201(api: Api) -> None:
    store = _full_store(api)

    response = api.client.post(f"{api.store_url(store)}/totpPolicy", json={"name": "p-000"})

    error_of(response, 409, 3201)
    assert _policy_names(api, store) == set(_policies(LIMIT))
