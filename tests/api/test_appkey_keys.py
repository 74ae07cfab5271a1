"""A user's appkeys over HTTP (spec §10): list, read, status, delete, registration audit,
deregistration, deletion by key id, the preferred device and summaryInfo, each by internal id
and by external id (`/ext`). The keys are seeded into the database (tests/support/appkeys.py)."""

from __future__ import annotations

from typing import Any

import pytest

from idstore.uaf import deregistration_request
from tests.support.api import Api
from tests.support.appkeys import appkey_rows, seed_appkey
from tests.support.checks import assert_invalid, error_of, in_parallel, json_of
from tests.support.seeding import Seeder

RP = "example.com"
OTHER_RP = "other.example.com"
APP_ID = f"https://{RP}/.well-known/uaf-trusted-facets"
SHOWN = {
    "id",
    "keyId",
    "aaid",
    "rpId",
    "type",
    "deviceId",
    "deviceName",
    "status",
    "signCount",
    "attestationType",
    "createdDtm",
    "preferred",
}


@pytest.fixture
def owner(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A store and a user of it, with an appkey configuration for RP."""
    store = api.create_store()
    json_of(api.client.post(f"{api.store_url(store['name'])}/appkeyConfig", json={"rpId": RP}), 201)
    return store, api.create_user(store["name"])


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The appkey as the contract shows a seeded row that was never used."""
    return {
        "id": row["id"],
        "keyId": row["key_id"],
        "aaid": row["aaid"],
        "rpId": row["rp_id"],
        "type": row["key_type"],
        "deviceId": row["device_id"],
        "deviceName": row["device_name"],
        "status": row["status"],
        "signCount": row["sign_count"],
        "attestationType": row["attestation_type"],
        "createdDtm": row["created_dtm"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "preferred": row["preferred"],
    }


def _dereg(keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return deregistration_request(app_id=APP_ID, keys=sorted(keys))


@pytest.mark.parametrize("ext", [False, True])
def test_an_appkey_is_shown_listed_and_in_the_user_summary(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], ext: bool
) -> None:
    store, user = owner
    row = seed_appkey(seeder, store=store, user=user, rp_id=RP, sign_count=7, preferred=True)
    name = store["name"]

    shown = json_of(api.client.get(api.user_url(name, user, f"appkeys/{row['id']}", ext=ext)), 200)
    listed = json_of(api.client.get(api.user_url(name, user, "appkeys", ext=ext)), 200)
    summary = json_of(api.client.get(api.user_url(name, user, ext=ext)), 200)["summaryInfo"]

    assert set(shown) == SHOWN
    assert shown == _shown(row)
    assert (shown["signCount"], shown["preferred"]) == (7, True)
    assert listed["content"] == [shown]
    assert (listed["totalElements"], listed["number"], listed["first"], listed["last"]) == (
        1,
        0,
        True,
        True,
    )
    assert summary["appkeys"] == [shown]


def test_the_list_is_paged_oldest_first_and_sortable(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    rows = [
        seed_appkey(seeder, store=store, user=user, rp_id=RP, age_seconds=30 - index, device_id=d)
        for index, d in enumerate(["c", "a", "b"])
    ]
    url = api.user_url(store["name"], user, "appkeys")

    first = json_of(api.client.get(url, params={"size": 2}), 200)
    second = json_of(api.client.get(url, params={"size": 2, "page": 1}), 200)
    by_device = json_of(api.client.get(url, params={"sort": "deviceId,desc"}), 200)

    assert [item["id"] for item in first["content"]] == [rows[0]["id"], rows[1]["id"]]
    assert [item["id"] for item in second["content"]] == [rows[2]["id"]]
    assert (first["totalElements"], first["totalPages"], first["last"]) == (3, 2, False)
    assert (second["numberOfElements"], second["last"]) == (1, True)
    assert [item["deviceId"] for item in by_device["content"]] == ["c", "b", "a"]
    assert_invalid(api.client.get(url, params={"sort": "publicKey"}), "sort")
    assert_invalid(api.client.get(url, params={"size": 201}), "size")


def test_another_users_appkey_is_not_found(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    stranger = api.create_user(store["name"])
    row = seed_appkey(seeder, store=store, user=user, rp_id=RP)
    url = api.user_url(store["name"], stranger, f"appkeys/{row['id']}")

    assert "appkey" in error_of(api.client.get(url), 404, 9011)["message"]
    error_of(api.client.post(url, json={"status": "DISABLED"}), 404, 9011)
    error_of(api.client.delete(url), 404, 9011)
    error_of(api.client.get(f"{url}/registrationAudit"), 404, 9011)
    assert (
        json_of(api.client.get(api.user_url(store["name"], stranger, "appkeys")), 200)["content"]
        == []
    )
    assert [r["status"] for r in appkey_rows(seeder, user["id"])] == ["ACTIVE"]


@pytest.mark.parametrize("ext", [False, True])
def test_an_appkey_is_disabled_enabled_and_deleted(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], ext: bool
) -> None:
    store, user = owner
    row = seed_appkey(seeder, store=store, user=user, rp_id=RP)
    kept = seed_appkey(seeder, store=store, user=user, rp_id=RP)
    url = api.user_url(store["name"], user, f"appkeys/{row['id']}", ext=ext)

    disabled = json_of(api.client.post(url, json={"status": "DISABLED"}), 200)
    stored = {r["id"]: r["status"] for r in appkey_rows(seeder, user["id"])}
    enabled = json_of(api.client.post(url, json={"status": "ACTIVE"}), 200)
    refused = api.client.post(url, json={"status": "PENDING"})
    deleted = api.client.delete(url)

    assert disabled == {**_shown(row), "status": "DISABLED"}
    assert stored == {row["id"]: "DISABLED", kept["id"]: "ACTIVE"}
    assert enabled == _shown(row)
    assert_invalid(refused, "status")
    assert deleted.status_code == 204
    error_of(api.client.get(url), 404, 9011)
    assert [r["id"] for r in appkey_rows(seeder, user["id"])] == [kept["id"]]


@pytest.mark.parametrize("ext", [False, True])
def test_the_registration_audit_says_how_it_was_registered(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], ext: bool
) -> None:
    store, user = owner
    audit = {
        "aaid": "ABCD#0002",
        "attestationType": "BASIC_FULL",
        "attestationSubject": "CN=Example authenticator",
        "facetId": "android:apk-key-hash:AAECAwQFBgcICQoLDA0ODxAREhM",
        "deviceId": "device-9",
        "deviceName": "Tablet",
        "authenticatorVersion": 2,
    }
    row = seed_appkey(seeder, store=store, user=user, rp_id=RP, registration_audit=audit)
    url = api.user_url(store["name"], user, f"appkeys/{row['id']}/registrationAudit", ext=ext)

    assert json_of(api.client.get(url), 200) == audit


def _three_keys(
    seeder: Seeder, store: dict[str, Any], user: dict[str, Any]
) -> list[dict[str, Any]]:
    """A device key and a biometric key on p1, a device key of another AAID on p2, and a key
    for another relying party on p1 (which no deregistration for RP may touch), oldest first."""
    specs: list[dict[str, Any]] = [
        {"rp_id": RP, "key_type": "DEVICE", "device_id": "p1"},
        {"rp_id": RP, "key_type": "BIOMETRIC", "device_id": "p1"},
        {"rp_id": RP, "key_type": "DEVICE", "device_id": "p2", "aaid": "ABCD#0002"},
        {"rp_id": OTHER_RP, "key_type": "DEVICE", "device_id": "p1"},
    ]
    return [
        seed_appkey(seeder, store=store, user=user, age_seconds=40 - 10 * index, **spec)
        for index, spec in enumerate(specs)
    ]


@pytest.mark.parametrize(
    ("body", "removed"),
    [
        ({"type": "DEVICE"}, [0, 2]),
        ({"type": "BIOMETRIC"}, [1]),
        ({"type": "ALL"}, [0, 1, 2]),
        ({"type": "ALL", "deviceId": "p1"}, [0, 1]),
        ({"type": "DEVICE", "deviceId": "p2"}, [2]),
    ],
)
@pytest.mark.parametrize("ext", [False, True])
def test_deregistration_removes_the_matching_keys_and_answers_the_uaf_request(
    api: Api,
    seeder: Seeder,
    owner: tuple[dict[str, Any], dict[str, Any]],
    body: dict[str, Any],
    removed: list[int],
    ext: bool,
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/deregistrations", ext=ext)

    answer = json_of(api.client.post(url, json=body), 200)

    gone = [keys[index] for index in removed]
    left = [key["id"] for key in keys if key not in gone]
    assert answer["deregistrationRequest"] == _dereg([(k["aaid"], k["key_id"]) for k in gone])
    assert answer["deregistrationRequest"][0]["header"]["op"] == "Dereg"
    assert answer["user"]["id"] == user["id"]
    assert [key["id"] for key in answer["user"]["summaryInfo"]["appkeys"]] == left
    assert [row["id"] for row in appkey_rows(seeder, user["id"])] == left


@pytest.mark.parametrize(
    "body",
    [{"type": "BIOMETRIC", "deviceId": "p2"}, {"type": "ALL", "deviceId": "p3"}],
)
def test_a_deregistration_that_matches_nothing_is_3701_and_removes_nothing(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], body: dict[str, Any]
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/deregistrations")

    error_of(api.client.post(url, json=body), 404, 3701)
    assert [row["id"] for row in appkey_rows(seeder, user["id"])] == [key["id"] for key in keys]


def test_a_deregistration_for_a_relying_party_without_keys_is_3701(
    api: Api, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    url = api.user_url(store["name"], user, "appkeys/relyingParties/none.example/deregistrations")

    error_of(api.client.post(url, json={"type": "ALL"}), 404, 3701)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "type"),
        ({"type": "FACE"}, "type"),
        ({"type": "ALL", "deviceId": ""}, "deviceId"),
        ({"type": "ALL", "deviceId": 7}, "deviceId"),
        ({"type": "ALL", "keyId": "x"}, "keyId"),
    ],
)
def test_a_malformed_deregistration_is_9002_and_removes_nothing(
    api: Api,
    seeder: Seeder,
    owner: tuple[dict[str, Any], dict[str, Any]],
    body: dict[str, Any],
    field: str,
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/deregistrations")

    assert_invalid(api.client.post(url, json=body), field)
    assert len(appkey_rows(seeder, user["id"])) == len(keys)


@pytest.mark.parametrize("ext", [False, True])
def test_deletion_by_key_id_removes_that_key_only(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], ext: bool
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    target = keys[1]
    suffix = f"appkeys/relyingParties/{RP}/registrations/keyIds/{target['key_id']}"
    url = api.user_url(store["name"], user, suffix, ext=ext)

    answer = json_of(api.client.delete(url), 200)
    again = api.client.delete(url)

    assert answer["deregistrationRequest"] == _dereg([(target["aaid"], target["key_id"])])
    left = [key["id"] for key in keys if key is not target]
    assert [key["id"] for key in answer["user"]["summaryInfo"]["appkeys"]] == left
    error_of(again, 404, 3701)
    assert [row["id"] for row in appkey_rows(seeder, user["id"])] == left


def test_a_key_id_of_another_relying_party_is_not_deleted(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    other = keys[3]
    suffix = f"appkeys/relyingParties/{RP}/registrations/keyIds/{other['key_id']}"

    error_of(api.client.delete(api.user_url(store["name"], user, suffix)), 404, 3701)
    assert len(appkey_rows(seeder, user["id"])) == 4


@pytest.mark.parametrize("ext", [False, True])
def test_the_preferred_device_is_marked_and_the_others_cleared(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]], ext: bool
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(
        store["name"], user, f"appkeys/relyingParties/{RP}/preferredDevices", ext=ext
    )

    to_p2 = json_of(api.client.post(url, json={"deviceId": "p2"}), 200)
    after_p2 = {row["id"]: row["preferred"] for row in appkey_rows(seeder, user["id"])}
    to_p1 = json_of(api.client.post(url, json={"deviceId": "p1"}), 200)
    after_p1 = {row["id"]: row["preferred"] for row in appkey_rows(seeder, user["id"])}

    ids = [key["id"] for key in keys]
    assert after_p2 == {ids[0]: False, ids[1]: False, ids[2]: True, ids[3]: False}
    assert after_p1 == {ids[0]: True, ids[1]: True, ids[2]: False, ids[3]: False}
    assert {k["id"]: k["preferred"] for k in to_p2["summaryInfo"]["appkeys"]} == after_p2
    assert {k["id"]: k["preferred"] for k in to_p1["summaryInfo"]["appkeys"]} == after_p1


def test_an_unknown_preferred_device_is_3702_and_changes_nothing(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/preferredDevices")
    json_of(api.client.post(url, json={"deviceId": "p2"}), 200)

    error_of(api.client.post(url, json={"deviceId": "p9"}), 404, 3702)
    assert_invalid(api.client.post(url, json={}), "deviceId")
    # p1 has a key, but only for the other relying party.
    other = api.user_url(
        store["name"], user, "appkeys/relyingParties/nothing.example/preferredDevices"
    )
    error_of(api.client.post(other, json={"deviceId": "p1"}), 404, 3702)
    preferred = {row["id"]: row["preferred"] for row in appkey_rows(seeder, user["id"])}
    assert preferred == {
        keys[0]["id"]: False,
        keys[1]["id"]: False,
        keys[2]["id"]: True,
        keys[3]["id"]: False,
    }


def test_an_unknown_user_or_store_is_refused_on_every_route(
    api: Api, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, _ = owner
    ghost = {"id": "no-such-user", "externalId": "no-such-user"}
    name = store["name"]
    base = f"appkeys/relyingParties/{RP}"

    error_of(api.client.get(api.user_url(name, ghost, "appkeys")), 404, 3100)
    error_of(api.client.get(api.user_url(name, ghost, "appkeys", ext=True)), 404, 3100)
    error_of(
        api.client.post(api.user_url(name, ghost, f"{base}/deregistrations"), json={"type": "ALL"}),
        404,
        3100,
    )
    error_of(
        api.client.post(
            api.user_url(name, ghost, f"{base}/preferredDevices"), json={"deviceId": "x"}
        ),
        404,
        3100,
    )
    error_of(
        api.client.delete(api.user_url(name, ghost, f"{base}/registrations/keyIds/k")), 404, 3100
    )
    error_of(api.client.get(api.user_url("no-such-store", ghost, "appkeys")), 404, 3000)


def test_deleting_the_user_or_the_store_removes_its_appkeys(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    other = api.create_user(store["name"])
    seed_appkey(seeder, store=store, user=user, rp_id=RP)
    seed_appkey(seeder, store=store, user=other, rp_id=RP)

    assert api.client.delete(api.user_url(store["name"], user)).status_code == 204
    assert appkey_rows(seeder, user["id"]) == []
    assert len(appkey_rows(seeder, other["id"])) == 1
    deleted = api.client.delete(api.store_url(store["name"]), params={"force": "true"})
    assert deleted.status_code == 204
    assert appkey_rows(seeder, other["id"]) == []


def test_concurrent_preferred_device_calls_leave_exactly_one_device_preferred(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/preferredDevices")

    answers = in_parallel(
        8, lambda index: api.client.post(url, json={"deviceId": ["p1", "p2"][index % 2]})
    )

    assert [answer.status_code for answer in answers] == [200] * 8
    rows = [row for row in appkey_rows(seeder, user["id"]) if row["rp_id"] == RP]
    preferred_devices = {row["device_id"] for row in rows if row["preferred"]}
    assert len(preferred_devices) == 1
    # Every key of the preferred device is marked, and none of the other's.
    assert {row["device_id"] for row in rows if not row["preferred"]}.isdisjoint(preferred_devices)


def test_two_concurrent_deregistrations_of_the_same_keys_remove_them_once(
    api: Api, seeder: Seeder, owner: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    store, user = owner
    keys = _three_keys(seeder, store, user)
    url = api.user_url(store["name"], user, f"appkeys/relyingParties/{RP}/deregistrations")

    answers = in_parallel(2, lambda _index: api.client.post(url, json={"type": "BIOMETRIC"}))

    assert sorted(answer.status_code for answer in answers) == [200, 404]
    done = next(answer for answer in answers if answer.status_code == 200)
    error_of(next(answer for answer in answers if answer.status_code == 404), 404, 3701)
    assert done.json()["deregistrationRequest"] == _dereg([(keys[1]["aaid"], keys[1]["key_id"])])
    assert [row["id"] for row in appkey_rows(seeder, user["id"])] == [
        keys[0]["id"],
        keys[2]["id"],
        keys[3]["id"],
    ]
