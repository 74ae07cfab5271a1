"""Users over HTTP (spec §4): create, list, read, update, delete, by id and by external id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, code_at, segment, unique
from tests.support.checks import (
    ENVELOPE_KEYS,
    assert_invalid,
    content_of,
    error_of,
    in_parallel,
    iso_ms,
    json_of,
)
from tests.support.clock import ManualClock

USER_KEYS = {
    "id",
    "externalId",
    "storeId",
    "status",
    "createdDtm",
    "lastUpdatedDtm",
    "lockCount",
    "locks",
    "summaryInfo",
}
SLIM_KEYS = {"id", "externalId", "status", "storeId", "createdDtm", "lastUpdatedDtm"}
EMPTY_SUMMARY: dict[str, list[Any]] = {"biometrics": [], "appkeys": [], "passkeys": [], "totps": []}
PROFILE: dict[str, Any] = {
    "status": "PENDING_ACTIVE",
    "type": "customer",
    "locale": "fr-FR",
    "timezone": "Europe/Paris",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.org",
    "dateOfBirth": "1815-12-10",
    "nationalities": ["GB", "FR"],
    "attributes": {"tier": "gold", "visits": 3, "flags": {"vip": True, "tags": ["a", "b"]}},
}
ODD_EXTERNAL_IDS = [
    "a/b",
    "/leading/and/trailing/",
    "100%",
    "50%25",
    "with space",
    "plus+sign",
    "query?and#hash",
    "ünïcødé 名前 🙂",
    "ext",
    "a/ext",
    "ext/ext",
    "%2F",
    "semi;colon,comma",
    "back\\slash",
]


def _users_url(api: Api, store: str) -> str:
    return f"{api.store_url(store)}/users"


def _ext_url(api: Api, store: str, external_id: str, suffix: str = "") -> str:
    tail = f"/{suffix}" if suffix else ""
    return f"{_users_url(api, store)}/{segment(external_id)}{tail}/ext"


# Create


def test_a_created_user_echoes_every_field(api: Api, clock: ManualClock) -> None:
    clock.set(1_795_000_000)
    store = api.create_store()
    external_id = unique("user")

    response = api.client.post(
        _users_url(api, store["name"]), json={"externalId": external_id, **PROFILE}
    )

    user = json_of(response, 201)
    assert set(user) == USER_KEYS | set(PROFILE)
    assert {key: user[key] for key in PROFILE} == PROFILE
    assert user["externalId"] == external_id
    assert user["storeId"] == store["id"]
    assert user["createdDtm"] == user["lastUpdatedDtm"] == iso_ms(1_795_000_000)
    assert (user["lockCount"], user["locks"]) == (0, {"modalities": {}})
    assert user["summaryInfo"] == EMPTY_SUMMARY
    assert api.get_user(store["name"], user) == user


def test_a_minimal_user_takes_the_store_defaults(api: Api) -> None:
    store = api.create_store()

    user = api.create_user(store["name"])

    assert set(user) == USER_KEYS
    assert user["status"] == "ACTIVE"
    assert user["summaryInfo"] == EMPTY_SUMMARY


def test_status_locale_and_timezone_default_from_the_store_configuration(api: Api) -> None:
    store = api.create_store(
        configuration={
            "defaultUserStatus": "PENDING_ACTIVE",
            "defaultUserLocale": "de-DE",
            "defaultUserTimezone": "Europe/Berlin",
        }
    )["name"]

    defaulted = api.create_user(store)
    explicit = api.create_user(store, status="ACTIVE", locale="en-US", timezone="America/Chicago")

    assert (defaulted["status"], defaulted["locale"], defaulted["timezone"]) == (
        "PENDING_ACTIVE",
        "de-DE",
        "Europe/Berlin",
    )
    assert (explicit["status"], explicit["locale"], explicit["timezone"]) == (
        "ACTIVE",
        "en-US",
        "America/Chicago",
    )


def test_a_duplicate_external_id_is_409_3101(api: Api) -> None:
    store = api.create_store()["name"]
    first = api.create_user(store, firstName="First")

    again = api.client.post(
        _users_url(api, store), json={"externalId": first["externalId"], "firstName": "Second"}
    )

    error_of(again, 409, 3101)
    assert api.get_user(store, first) == first


def test_concurrent_creates_of_one_external_id_make_one_user(api: Api) -> None:
    store = api.create_store()["name"]
    external_id = unique("race")

    responses = in_parallel(
        8,
        lambda i: api.client.post(
            _users_url(api, store), json={"externalId": external_id, "firstName": str(i)}
        ),
    )

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code != 201):
        error_of(refused, 409, 3101)
    assert _page(api, store)["totalElements"] == 1


def test_the_same_external_id_may_live_in_two_stores(api: Api) -> None:
    first, second = api.create_store()["name"], api.create_store()["name"]
    external_id = unique("user")

    one = api.create_user(first, external_id)
    two = api.create_user(second, external_id)

    assert one["id"] != two["id"]


def test_external_ids_differing_only_in_case_are_two_users(api: Api) -> None:
    store = api.create_store()["name"]
    base = unique("user")

    lower = api.create_user(store, base.lower())
    upper = api.create_user(store, base.upper())

    assert lower["id"] != upper["id"]
    assert json_of(api.client.get(_ext_url(api, store, base.upper())), 200)["id"] == upper["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"externalId": ""}, "externalId"),
        ({"externalId": "x" * 256}, "externalId"),
        ({"externalId": None}, "externalId"),
        ({"externalId": 42}, "externalId"),
        ({"status": "SLEEPING"}, "status"),
        ({"status": "TEMP_LOCKED"}, "status"),
        ({"status": None}, "status"),
        ({"email": "not-an-email"}, "email"),
        ({"locale": "not a locale"}, "locale"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"dateOfBirth": "1990-13-01"}, "dateOfBirth"),
        ({"dateOfBirth": "yesterday"}, "dateOfBirth"),
        ({"dateOfBirth": 0}, "dateOfBirth"),
        ({"dateOfBirth": "2000-01-01T00:00:00"}, "dateOfBirth"),
        ({"dateOfBirth": "20000101"}, "dateOfBirth"),
        ({"nationalities": "GB"}, "nationalities"),
        ({"nationalities": ["gb"]}, "nationalities.0"),
        ({"attributes": ["a"]}, "attributes"),
        ({"firstName": "n" * 256}, "firstName"),
        ({"firstName": 7}, "firstName"),
    ],
)
def test_an_invalid_user_is_400_9002_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    store = api.create_store()["name"]

    response = api.client.post(_users_url(api, store), json={"externalId": unique("u"), **body})

    assert_invalid(response, field)
    listed = json_of(api.client.get(_users_url(api, store)), 200)
    assert listed["totalElements"] == 0


def test_an_external_id_of_255_characters_is_accepted(api: Api) -> None:
    store = api.create_store()["name"]
    external_id = "é" * 255

    user = api.create_user(store, external_id)

    assert json_of(api.client.get(_ext_url(api, store, external_id)), 200) == user


# List


def _three_users(api: Api, clock: ManualClock, store: str) -> list[dict[str, Any]]:
    clock.set(1_796_000_000)
    made = []
    for external_id, status in (("bravo", "ACTIVE"), ("alpha", "DISABLED"), ("charlie", "ACTIVE")):
        made.append(api.create_user(store, external_id, status=status))
        clock.advance(1)
    return made


def _page(api: Api, store: str, **params: Any) -> dict[str, Any]:
    page = json_of(api.client.get(_users_url(api, store), params=params), 200)
    assert set(page) == ENVELOPE_KEYS
    return page


def test_users_list_in_creation_order_with_an_exact_envelope(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    made = _three_users(api, clock, store)

    page = _page(api, store)

    assert [item["id"] for item in page["content"]] == [user["id"] for user in made]
    assert {k: v for k, v in page.items() if k != "content"} == {
        "number": 0,
        "size": 20,
        "numberOfElements": 3,
        "totalElements": 3,
        "totalPages": 1,
        "first": True,
        "last": True,
        "empty": False,
    }


def test_list_items_are_slim(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    made = api.create_user(store, **PROFILE)

    item = _page(api, store)["content"][0]

    assert set(item) == SLIM_KEYS
    assert item == {key: made[key] for key in SLIM_KEYS}


def test_users_are_paged(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    made = _three_users(api, clock, store)

    first = _page(api, store, size=2)
    second = _page(api, store, size=2, page=1)
    beyond = _page(api, store, size=2, page=2)

    assert [item["externalId"] for item in first["content"]] == ["bravo", "alpha"]
    assert (first["totalPages"], first["first"], first["last"]) == (2, True, False)
    assert [item["id"] for item in second["content"]] == [made[2]["id"]]
    assert (second["number"], second["numberOfElements"]) == (1, 1)
    assert (second["first"], second["last"], second["empty"]) == (False, True, False)
    assert (beyond["content"], beyond["empty"], beyond["numberOfElements"]) == ([], True, 0)


def test_an_empty_store_lists_an_empty_page(api: Api) -> None:
    store = api.create_store()["name"]

    page = _page(api, store)

    assert {k: v for k, v in page.items()} == {
        "content": [],
        "number": 0,
        "size": 20,
        "numberOfElements": 0,
        "totalElements": 0,
        "totalPages": 0,
        "first": True,
        "last": True,
        "empty": True,
    }


def test_users_are_filtered_by_external_id_and_status(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    _three_users(api, clock, store)

    by_id = _page(api, store, externalId="alpha")
    by_status = _page(api, store, status="ACTIVE")
    both = _page(api, store, status="ACTIVE", externalId="alpha")
    none = _page(api, store, externalId="ALPHA")

    assert [item["externalId"] for item in by_id["content"]] == ["alpha"]
    assert by_id["totalElements"] == 1
    assert [item["externalId"] for item in by_status["content"]] == ["bravo", "charlie"]
    assert (both["totalElements"], none["totalElements"]) == (0, 0)


def test_users_sort_by_external_id_descending(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    _three_users(api, clock, store)

    descending = _page(api, store, sort="externalId,desc")
    ascending = _page(api, store, sort="externalId,asc")
    bare = _page(api, store, sort="externalId")
    shouted = _page(api, store, sort="externalId,DESC")

    assert [u["externalId"] for u in descending["content"]] == ["charlie", "bravo", "alpha"]
    assert [u["externalId"] for u in ascending["content"]] == ["alpha", "bravo", "charlie"]
    assert bare["content"] == ascending["content"]
    assert shouted["content"] == descending["content"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "password,asc"}, "sort"),
        ({"sort": "externalId,up"}, "sort"),
        ({"sort": ",asc"}, "sort"),
        ({"sort": "email"}, "sort"),
        ({"size": 0}, "size"),
        ({"size": 201}, "size"),
        ({"size": -1}, "size"),
        ({"page": -1}, "page"),
        ({"page": "first"}, "page"),
        ({"status": "SLEEPING"}, "status"),
    ],
)
def test_bad_list_parameters_are_400_9002(api: Api, params: dict[str, Any], field: str) -> None:
    store = api.create_store()["name"]

    assert_invalid(api.client.get(_users_url(api, store), params=params), field)


def test_a_birth_date_in_the_future_is_400_9002(api: Api, clock: ManualClock) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store, dateOfBirth="1990-05-17")
    clock.set(1_800_000_000)  # 2027-01-15

    created = api.client.post(
        _users_url(api, store), json={"externalId": "x", "dateOfBirth": "2027-01-16"}
    )
    updated = api.client.post(api.user_url(store, user), json={"dateOfBirth": "2027-01-16"})
    today = api.client.post(api.user_url(store, user), json={"dateOfBirth": "2027-01-15"})

    assert_invalid(created, "dateOfBirth")
    assert_invalid(updated, "dateOfBirth")
    assert (today.status_code, today.json()["dateOfBirth"]) == (200, "2027-01-15")


def test_sizes_1_and_200_are_accepted(api: Api) -> None:
    store = api.create_store()["name"]
    api.create_user(store)

    assert _page(api, store, size=1)["size"] == 1
    assert _page(api, store, size=200)["size"] == 200


# Read, update, delete by id and by external id


@pytest.mark.parametrize("ext", [False, True])
def test_a_user_is_read_by_either_id(api: Api, ext: bool) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store, **PROFILE)

    assert json_of(api.client.get(api.user_url(store, user, ext=ext)), 200) == user


@pytest.mark.parametrize("ext", [False, True])
def test_a_partial_update_keeps_absent_fields(api: Api, clock: ManualClock, ext: bool) -> None:
    clock.set(1_797_000_000)
    store = api.create_store()["name"]
    user = api.create_user(store, **PROFILE)
    clock.advance(7)

    response = api.client.post(api.user_url(store, user, ext=ext), json={"firstName": "Augusta"})

    updated = json_of(response, 200)
    assert updated == {**user, "firstName": "Augusta", "lastUpdatedDtm": iso_ms(1_797_000_007)}
    assert api.get_user(store, user) == updated


@pytest.mark.parametrize("ext", [False, True])
def test_null_clears_an_optional_field(api: Api, ext: bool) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store, **PROFILE)
    cleared_fields = ("firstName", "email", "attributes", "nationalities", "dateOfBirth", "type")

    response = api.client.post(
        api.user_url(store, user, ext=ext), json=dict.fromkeys(cleared_fields)
    )

    updated = json_of(response, 200)
    for field in cleared_fields:
        assert field not in updated
    assert updated["lastName"] == PROFILE["lastName"]
    assert api.get_user(store, user) == updated


@pytest.mark.parametrize("field", ["externalId", "status"])
def test_null_for_a_required_field_is_400_9002(api: Api, field: str) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    assert_invalid(api.client.post(api.user_url(store, user), json={field: None}), field)
    assert api.get_user(store, user) == user


def test_the_external_id_can_be_changed(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    new_id = unique("renamed")

    updated = json_of(api.client.post(api.user_url(store, user), json={"externalId": new_id}), 200)

    assert (updated["id"], updated["externalId"]) == (user["id"], new_id)
    error_of(api.client.get(_ext_url(api, store, user["externalId"])), 404, 3100)
    assert json_of(api.client.get(_ext_url(api, store, new_id)), 200) == updated


def test_changing_the_external_id_to_a_taken_one_is_409_3101(api: Api) -> None:
    store = api.create_store()["name"]
    first, second = api.create_user(store), api.create_user(store)

    response = api.client.post(
        api.user_url(store, second), json={"externalId": first["externalId"]}
    )

    error_of(response, 409, 3101)
    assert api.get_user(store, second) == second


@pytest.mark.parametrize("ext", [False, True])
def test_a_user_is_deleted_with_204_by_either_id(api: Api, ext: bool) -> None:
    store = api.create_store()["name"]
    user, kept = api.create_user(store), api.create_user(store)

    response = api.client.delete(api.user_url(store, user, ext=ext))

    assert (response.status_code, response.content) == (204, b"")
    error_of(api.client.get(api.user_url(store, user)), 404, 3100)
    error_of(api.client.get(api.user_url(store, user, ext=True)), 404, 3100)
    assert [item["id"] for item in _page(api, store)["content"]] == [kept["id"]]


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_missing_user_is_404_3100(api: Api, ext: bool, method: str) -> None:
    store = api.create_store()["name"]
    ghost = {"id": "00000000-0000-0000-0000-000000000000", "externalId": unique("ghost")}

    response = api.client.request(
        method, api.user_url(store, ghost, ext=ext), json={} if method == "POST" else None
    )

    error_of(response, 404, 3100)


def test_an_external_id_sent_where_an_id_goes_is_404_3100_pointing_at_the_ext_route(
    api: Api,
) -> None:
    store = api.create_store()["name"]
    alice = api.create_user(store, "alice")
    ghost = {"id": "00000000-0000-0000-0000-000000000000"}

    by_external_id = api.client.get(api.user_url(store, {"id": alice["externalId"]}))
    by_unknown_id = api.client.get(api.user_url(store, ghost))

    assert "/ext" in error_of(by_external_id, 404, 3100)["message"]
    assert "alice" not in by_external_id.text  # an external id may be personal data
    assert error_of(by_unknown_id, 404, 3100)["message"] == "user not found"


def test_a_user_of_another_store_is_404_3100(api: Api) -> None:
    owner, other = api.create_store()["name"], api.create_store()["name"]
    user = api.create_user(owner)

    error_of(api.client.get(api.user_url(other, user)), 404, 3100)
    error_of(api.client.get(api.user_url(other, user, ext=True)), 404, 3100)
    error_of(api.client.delete(api.user_url(other, user)), 404, 3100)
    assert api.get_user(owner, user) == user


# External ids with any character


@pytest.mark.parametrize("external_id", ODD_EXTERNAL_IDS)
def test_any_external_id_works_on_every_twin(api: Api, external_id: str) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}}})["name"]
    user = api.create_user(store, external_id)

    read = api.client.get(_ext_url(api, store, external_id))
    updated = api.client.post(_ext_url(api, store, external_id), json={"firstName": "F"})
    started = api.client.post(_ext_url(api, store, external_id, "totps/registrations/p"))
    registration = api.client.get(_ext_url(api, store, external_id, "totps/registrations/p"))
    unlocked = api.client.post(_ext_url(api, store, external_id, "unlock"))
    totps = api.client.get(_ext_url(api, store, external_id, "totps"))
    audit = api.client.get(_ext_url(api, store, external_id, "authentications"))
    filtered = _page(api, store, externalId=external_id)
    deleted = api.client.delete(_ext_url(api, store, external_id))

    assert json_of(read, 200) == user
    assert json_of(updated, 200)["firstName"] == "F"
    assert json_of(started, 201)["totp"]["username"] == external_id
    assert json_of(registration, 200)["totp"]["id"] == started.json()["totp"]["id"]
    assert json_of(unlocked, 200)["id"] == user["id"]
    assert [totp["policyName"] for totp in content_of(totps)] == ["p"]
    assert audit.status_code == 200, audit.text
    assert [item["id"] for item in filtered["content"]] == [user["id"]]
    assert deleted.status_code == 204
    error_of(api.client.get(api.user_url(store, user)), 404, 3100)


def test_an_external_id_ext_does_not_hide_the_internal_id_route(api: Api) -> None:
    store = api.create_store()["name"]
    named_ext = api.create_user(store, "ext")
    other = api.create_user(store)

    by_id = api.client.get(api.user_url(store, other))
    by_ext = api.client.get(f"{_users_url(api, store)}/ext/ext")

    assert json_of(by_id, 200) == other
    assert json_of(by_ext, 200) == named_ext


def test_an_encoded_slash_is_not_a_path_separator(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store, "a/b")
    api.create_user(store, "a")

    response = api.client.get(f"{_users_url(api, store)}/a%2Fb/ext")
    unencoded = api.client.get(f"{_users_url(api, store)}/a/b/ext")

    assert json_of(response, 200) == user
    assert unencoded.status_code == 404


# Status


@pytest.mark.parametrize("ext", [False, True])
def test_a_user_can_be_disabled_and_re_enabled(api: Api, ext: bool) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)
    url = api.user_url(store, user, ext=ext)

    disabled = json_of(api.client.post(url, json={"status": "DISABLED"}), 200)
    listed = _page(api, store, status="DISABLED")
    enabled = json_of(api.client.post(url, json={"status": "ACTIVE"}), 200)

    assert disabled["status"] == "DISABLED"
    assert [item["id"] for item in listed["content"]] == [user["id"]]
    assert enabled["status"] == "ACTIVE"


@pytest.mark.parametrize("status", ["ACTIVE", "PENDING_ACTIVE", "DISABLED"])
def test_a_user_can_be_created_with_an_administrative_status(api: Api, status: str) -> None:
    store = api.create_store()["name"]

    assert api.create_user(store, status=status)["status"] == status


def test_temp_locked_is_never_set_by_an_administrator(api: Api) -> None:
    store = api.create_store()["name"]
    user = api.create_user(store)

    response = api.client.post(api.user_url(store, user), json={"status": "TEMP_LOCKED"})

    assert_invalid(response, "status")
    assert api.get_user(store, user) == user


# Deleting removes the user's authenticators


def test_a_user_re_created_with_the_same_external_id_has_no_totps(api: Api) -> None:
    store = api.create_store(configuration={"totpPolicies": {"p": {}, "q": {}}})["name"]
    user = api.create_user(store)
    for policy in ("p", "q"):
        assert api.start_registration(store, user, policy).status_code == 201
    assert len(api.get_user(store, user)["summaryInfo"]["totps"]) == 2

    assert api.client.delete(api.user_url(store, user)).status_code == 204
    again = api.create_user(store, user["externalId"])

    assert again["id"] != user["id"]
    assert again["summaryInfo"] == EMPTY_SUMMARY
    assert content_of(api.client.get(api.user_url(store, again, "totps"))) == []
    registration = api.client.get(api.user_url(store, again, "totps/registrations/p"))
    error_of(registration, 404, 3300)
    error_of(api.client.get(api.user_url(store, user, "totps")), 404, 3100)


def test_the_status_filter_sees_locks_as_the_user_object_shows_them(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_798_000_000)
    locking = {"userLockThreshold": 1, "userTempLockSeconds": 60, "modalityLockThreshold": 5}
    store = api.create_store(configuration={"userLocking": locking, "totpPolicies": {"p": {}}})[
        "name"
    ]
    temp, admin, plain = api.create_user(store), api.create_user(store), api.create_user(store)
    secret = json_of(api.start_registration(store, temp, "p"), 201)["secret"]
    valid = {code_at(secret, clock.timestamp() + drift) for drift in (-30, 0, 30)}
    wrong = api.complete(store, temp, "p", min({"000000", "111111", "222222", "333333"} - valid))
    assert wrong.json()["user"]["status"] == "TEMP_LOCKED", wrong.text
    api.client.post(api.user_url(store, admin), json={"status": "LOCKED"})

    def ids(status: str) -> set[str]:
        return {item["id"] for item in _page(api, store, status=status)["content"]}

    assert ids("TEMP_LOCKED") == {temp["id"]}
    assert ids("LOCKED") == {admin["id"]}
    assert ids("ACTIVE") == {plain["id"]}
    clock.advance(61)
    assert ids("TEMP_LOCKED") == set()
    assert ids("ACTIVE") == {plain["id"], temp["id"]}
