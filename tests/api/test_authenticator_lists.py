"""A user's TOTPs and passkeys as lists (spec §1 "Lists are paged"): the envelope, `page`, `size`
and `sort` as for appkeys, by internal id and by external id (`/ext`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.checks import ENVELOPE_KEYS, assert_invalid, json_of
from tests.support.clock import ManualClock
from tests.support.passkeys import ORIGIN, PasskeyStore
from tests.support.webauthn_authenticator import SoftwareAuthenticator

POLICIES = ("c", "a", "b")


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["content"]]


def _pending_totps(api: Api, clock: ManualClock) -> tuple[str, dict[str, Any], list[str]]:
    """A user with a pending TOTP for each policy, one second apart (oldest first)."""
    clock.set(1_700_000_000)
    store = api.create_store({"totpPolicies": {name: {} for name in POLICIES}})["name"]
    user = api.create_user(store)
    ids = []
    for name in POLICIES:
        ids.append(json_of(api.start_registration(store, user, name), 201)["totp"]["id"])
        clock.advance(1)
    return store, user, ids


@pytest.mark.parametrize("ext", [False, True])
def test_a_users_totps_are_paged_oldest_first(api: Api, clock: ManualClock, ext: bool) -> None:
    store, user, ids = _pending_totps(api, clock)
    url = api.user_url(store, user, "totps", ext=ext)

    first = json_of(api.client.get(url, params={"size": 2}), 200)
    second = json_of(api.client.get(url, params={"size": 2, "page": 1}), 200)

    assert set(first) == ENVELOPE_KEYS
    assert _ids(first) == ids[:2]
    assert _ids(second) == ids[2:]
    assert (first["number"], first["size"], first["numberOfElements"]) == (0, 2, 2)
    assert (first["totalElements"], first["totalPages"], first["first"], first["last"]) == (
        3,
        2,
        True,
        False,
    )
    assert (second["numberOfElements"], second["first"], second["last"]) == (1, False, True)


def test_a_users_totps_sort_by_policy_name_and_refuse_other_fields(
    api: Api, clock: ManualClock
) -> None:
    store, user, ids = _pending_totps(api, clock)
    url = api.user_url(store, user, "totps")

    by_policy = json_of(api.client.get(url, params={"sort": "policyName,desc"}), 200)
    newest = json_of(api.client.get(url, params={"sort": "createdDtm,desc"}), 200)

    assert [item["policyName"] for item in by_policy["content"]] == ["c", "b", "a"]
    assert _ids(newest) == ids[::-1]
    assert_invalid(api.client.get(url, params={"sort": "secret"}), "sort")
    assert_invalid(api.client.get(url, params={"size": 0}), "size")
    assert_invalid(api.client.get(url, params={"size": 201}), "size")


def test_pending_totps_past_their_deadline_are_not_counted(api: Api, clock: ManualClock) -> None:
    clock.set(1_700_000_000)
    policies = {"short": {"registrationTimeoutSeconds": 60}, "long": {}}
    store = api.create_store({"totpPolicies": policies})["name"]
    user = api.create_user(store)
    json_of(api.start_registration(store, user, "short"), 201)
    kept = json_of(api.start_registration(store, user, "long"), 201)["totp"]["id"]

    clock.advance(60)
    page = json_of(api.client.get(api.user_url(store, user, "totps")), 200)

    assert _ids(page) == [kept]
    assert (page["totalElements"], page["totalPages"]) == (1, 1)


@pytest.mark.parametrize("ext", [False, True])
def test_a_users_passkeys_are_paged_oldest_first_and_sortable(api: Api, ext: bool) -> None:
    rp = PasskeyStore.create(api)
    user, _, first_key = rp.enrol()
    later = [rp.registered(user, SoftwareAuthenticator(ORIGIN)) for _ in range(2)]
    # Registered within one millisecond, two passkeys tie on createdDtm: then the id decides.
    oldest_first = sorted([first_key, *later], key=lambda key: (key["createdDtm"], key["id"]))
    url = api.user_url(rp.store, user, "passkeys", ext=ext)

    first = json_of(api.client.get(url, params={"size": 2}), 200)
    second = json_of(api.client.get(url, params={"size": 2, "page": 1}), 200)
    newest = json_of(api.client.get(url, params={"sort": "createdDtm,desc"}), 200)
    by_rp = json_of(api.client.get(url, params={"sort": "rpId"}), 200)

    assert set(first) == ENVELOPE_KEYS
    assert first["content"] + second["content"] == oldest_first
    assert (first["totalElements"], first["totalPages"], second["last"]) == (3, 2, True)
    assert newest["content"] == oldest_first[::-1]
    assert [item["rpId"] for item in by_rp["content"]] == [rp.rp_id] * 3
    assert_invalid(api.client.get(url, params={"sort": "publicKey"}), "sort")
    assert_invalid(api.client.get(url, params={"size": 0}), "size")
