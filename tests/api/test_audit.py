"""The authentication audit over HTTP (spec §7): one record per attempt, its exact fields, list
filters, reading by id in both id forms, and what it never holds."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from idstore.logs import JsonFormatter
from tests.support.api import Api, code_at
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder

POLICY = "otp"
REGISTERED, ACTIVATED, AUTHENTICATED = 1_700_000_000, 1_700_000_100, 1_700_000_200


def dtm(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def assert_error(response: httpx.Response, http_status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (http_status, code), response.text


class Scenario:
    """A user who registered at REGISTERED and completed at ACTIVATED (policy `otp`, SHA256)."""

    def __init__(self, api: Api, clock: ManualClock) -> None:
        self.api, self.clock = api, clock
        clock.set(REGISTERED)
        self.store_body = api.create_store(
            configuration={
                "totpPolicies": {POLICY: {"algorithm": "SHA256"}},
                "userLocking": {"modalityLockThreshold": 3, "userLockThreshold": 100},
            }
        )
        self.store = str(self.store_body["name"])
        self.user = api.create_user(self.store)
        start = api.start_registration(self.store, self.user, POLICY).json()
        self.secret, self.totp_id = str(start["secret"]), str(start["totp"]["id"])
        clock.set(ACTIVATED)
        self.completion = api.complete(self.store, self.user, POLICY, self.code())
        assert self.completion.status_code == 200, self.completion.text

    def code(self) -> str:
        return code_at(self.secret, self.clock.timestamp(), algorithm="SHA256")

    def authenticate(self, code: str) -> httpx.Response:
        return self.api.authenticate(self.store, self.user, POLICY, code)

    def records(self, *, ext: bool = False, **params: Any) -> list[dict[str, Any]]:
        url = self.api.user_url(self.store, self.user, "authentications", ext=ext)
        response = self.api.client.get(url, params={"size": 200, **params})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["content"]
        return found


def test_every_attempt_writes_one_record_in_order(api: Api, clock: ManualClock) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    code = person.code()

    answers = [person.authenticate(code), person.authenticate(code)]
    answers += [person.authenticate(attempt) for attempt in ("12", "000000", "000000")]
    answers += [person.authenticate(person.code())]
    answers += [api.complete(person.store, person.user, POLICY, "000000")]
    answers += [api.authenticate(person.store, person.user, "nope", code)]

    expected = [None, None, 3402, 3400, 3401, 3401, 2101, 3301, 3200]
    assert [answer.json().get("code") for answer in answers] == expected[1:]
    records = [record["authAuditRecord"] for record in person.records()]
    assert [record.get("errorCode") for record in records] == expected
    assert [record["result"] for record in records] == ["SUCCESS"] * 2 + ["FAILURE"] * 7
    assert answers[0].json()["authenticationId"] == records[1]["id"]
    assert person.completion.json()["authenticationId"] == records[0]["id"]
    assert len({record["id"] for record in records}) == 9


def test_a_success_record_holds_the_totp_and_its_dates(api: Api, clock: ManualClock) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    success = person.authenticate(person.code())

    record_id = success.json()["authenticationId"]
    record = api.client.get(api.user_url(person.store, person.user, f"authentications/{record_id}"))

    assert record.status_code == 200, record.text
    assert record.json() == {
        "authAuditRecord": {
            "id": record_id,
            "tenantId": "default",
            "storeId": person.store_body["id"],
            "userId": person.user["id"],
            "type": "TOTP",
            "result": "SUCCESS",
            "createdDtm": dtm(AUTHENTICATED),
            "totpInfo": {
                "id": person.totp_id,
                "policyName": POLICY,
                "algorithm": "SHA256",
                "registrationCreatedDtm": dtm(REGISTERED),
                "registrationActivatedDtm": dtm(ACTIVATED),
            },
        },
        "authAuditDisplayInfo": {
            "totpAuditInfo": {
                "policyName": POLICY,
                "algorithm": "SHA256",
                "registrationCreatedDtm": dtm(REGISTERED),
                "registrationActivatedDtm": dtm(ACTIVATED),
                "authenticationDtm": dtm(AUTHENTICATED),
            }
        },
    }


def test_a_failed_completion_record_has_no_activation_date(api: Api, clock: ManualClock) -> None:
    clock.set(REGISTERED)
    store = api.create_store(configuration={"totpPolicies": {POLICY: {}}})
    user = api.create_user(store["name"])
    totp_id = api.start_registration(store["name"], user, POLICY).json()["totp"]["id"]
    clock.set(ACTIVATED)

    refused = api.complete(store["name"], user, POLICY, "000000")

    assert_error(refused, 400, 3401)
    (record,) = api.audit_records(store["name"], user)
    assert record["authAuditRecord"] == {
        "id": record["authAuditRecord"]["id"],
        "tenantId": "default",
        "storeId": store["id"],
        "userId": user["id"],
        "type": "TOTP",
        "result": "FAILURE",
        "errorCode": 3401,
        "createdDtm": dtm(ACTIVATED),
        "totpInfo": {
            "id": totp_id,
            "policyName": POLICY,
            "algorithm": "SHA1",
            "registrationCreatedDtm": dtm(REGISTERED),
        },
    }
    assert record["authAuditDisplayInfo"]["totpAuditInfo"] == {
        "policyName": POLICY,
        "algorithm": "SHA1",
        "registrationCreatedDtm": dtm(REGISTERED),
        "authenticationDtm": dtm(ACTIVATED),
    }


def test_an_attempt_without_a_totp_is_recorded_with_its_policy_name(
    api: Api, clock: ManualClock
) -> None:
    clock.set(REGISTERED)
    store = api.create_store(configuration={"totpPolicies": {POLICY: {}}})
    user = api.create_user(store["name"])

    assert_error(api.authenticate(store["name"], user, POLICY, "123456"), 404, 3300)

    (record,) = api.audit_records(store["name"], user)
    assert record["authAuditRecord"]["errorCode"] == 3300
    assert record["authAuditRecord"]["totpInfo"] == {"policyName": POLICY}
    assert record["authAuditDisplayInfo"]["totpAuditInfo"] == {
        "policyName": POLICY,
        "authenticationDtm": dtm(REGISTERED),
    }


def test_the_list_filters_by_type_result_and_time(api: Api, clock: ManualClock) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    person.authenticate("000000")
    clock.set(AUTHENTICATED + 60)
    person.authenticate(person.code())

    def ids(**params: Any) -> list[str]:
        return [record["authAuditRecord"]["createdDtm"] for record in person.records(**params)]

    every = [dtm(ACTIVATED), dtm(AUTHENTICATED), dtm(AUTHENTICATED + 60)]
    assert ids() == every
    assert ids(type="TOTP") == every
    # Every audit type of §7 is a filter value; voice has no records until voice exists.
    for other in ("Passkey", "Appkey", "Face", "Voice_TD", "Voice_TI"):
        assert ids(type=other) == [], other
    assert ids(result="SUCCESS") == [every[0], every[2]]
    assert ids(result="FAILURE") == [every[1]]
    assert ids(**{"from": dtm(AUTHENTICATED)}) == every[1:]
    assert ids(to=dtm(AUTHENTICATED)) == every[:2]
    assert ids(**{"from": dtm(AUTHENTICATED), "to": dtm(AUTHENTICATED)}) == [every[1]]
    assert ids(**{"from": "2023-11-14T22:16:00+00:00", "result": "SUCCESS"}) == [every[2]]
    assert ids(sort="createdDtm,desc") == every[::-1]
    assert [record["authAuditRecord"]["createdDtm"] for record in person.records(ext=True)] == every


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "SMS"}, "type"),
        # The biometric type of §11 is not the audit type's spelling (`Voice_TD`).
        ({"type": "VOICE_TD"}, "type"),
        ({"type": "totp"}, "type"),
        ({"result": "OK"}, "result"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2023-11-14T22:15:00"}, "to"),
    ],
)
def test_an_invalid_filter_is_a_validation_error_naming_it(
    api: Api, clock: ManualClock, params: dict[str, str], field: str
) -> None:
    person = Scenario(api, clock)

    response = api.client.get(
        api.user_url(person.store, person.user, "authentications"), params=params
    )

    assert_error(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == [field]


def test_the_list_is_paged(api: Api, clock: ManualClock) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    for _ in range(2):
        person.authenticate("000000")

    url = api.user_url(person.store, person.user, "authentications")
    page = api.client.get(url, params={"size": 2, "page": 1}).json()

    assert {key: value for key, value in page.items() if key != "content"} == {
        "number": 1,
        "size": 2,
        "numberOfElements": 1,
        "totalElements": 3,
        "totalPages": 2,
        "first": False,
        "last": True,
        "empty": False,
    }
    assert page["content"][0]["authAuditRecord"]["createdDtm"] == dtm(AUTHENTICATED)


@pytest.mark.parametrize("ext", [False, True])
def test_a_record_is_read_by_id_in_both_id_forms(api: Api, clock: ManualClock, ext: bool) -> None:
    person = Scenario(api, clock)
    record_id = person.completion.json()["authenticationId"]

    response = api.client.get(
        api.user_url(person.store, person.user, f"authentications/{record_id}", ext=ext)
    )

    assert response.status_code == 200, response.text
    assert response.json() == person.records()[0]


@pytest.mark.parametrize("ext", [False, True])
def test_an_unknown_record_or_another_users_record_is_9011(
    api: Api, clock: ManualClock, ext: bool
) -> None:
    person = Scenario(api, clock)
    other = api.create_user(person.store)
    record_id = person.completion.json()["authenticationId"]

    unknown = api.client.get(
        api.user_url(person.store, person.user, "authentications/no-such-record", ext=ext)
    )
    not_theirs = api.client.get(
        api.user_url(person.store, other, f"authentications/{record_id}", ext=ext)
    )

    assert_error(unknown, 404, 9011)
    assert_error(not_theirs, 404, 9011)
    assert "audit record" in unknown.json()["message"]


def test_records_stay_after_the_user_is_deleted(
    api: Api, clock: ManualClock, seeder: Seeder
) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    person.authenticate("000000")

    assert api.client.delete(api.user_url(person.store, person.user)).status_code == 204

    rows = seeder.audit_rows(person.user["id"])
    assert sorted((row["result"], row["error_code"]) for row in rows) == [
        ("FAILURE", 3401),
        ("SUCCESS", None),
    ]
    assert {row["store_id"] for row in rows} == {person.store_body["id"]}
    again = api.create_user(person.store, person.user["externalId"])
    assert api.audit_records(person.store, again) == []


def test_no_record_or_response_holds_the_secret_or_a_submitted_code(
    api: Api, clock: ManualClock, seeder: Seeder
) -> None:
    person = Scenario(api, clock)
    clock.set(AUTHENTICATED)
    right = person.code()
    submitted = [right, right, "987 123", "98-7124", "9871255"]

    answers = [person.authenticate(code) for code in submitted]

    stored = json.dumps([row["details"] for row in seeder.audit_rows(person.user["id"])])
    listed = api.client.get(api.user_url(person.store, person.user, "authentications")).text
    singles = [
        api.client.get(
            api.user_url(
                person.store, person.user, f"authentications/{record['authAuditRecord']['id']}"
            )
        ).text
        for record in person.records()
    ]
    for text in [stored, listed, *singles, *(answer.text for answer in answers)]:
        assert person.secret not in text
        for code in [right, "987123", "987 123", "987124", "9871255"]:
            assert code not in text


def test_no_log_line_holds_the_secret_the_uri_or_a_submitted_code(
    api: Api, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        person = Scenario(api, clock)
        clock.set(AUTHENTICATED)
        right = person.code()
        for code in [right, right, "987 123", "98-7124", "9871255"]:
            person.authenticate(code)
        api.client.get(api.user_url(person.store, person.user, f"totps/registrations/{POLICY}"))

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    events = {record.getMessage() for record in caplog.records if record.name.startswith("idstore")}
    assert {"request", "totp.accepted", "totp.refused"} <= events
    for line in lines:
        assert person.secret not in line and "otpauth" not in line
        for code in [right, "987123", "987 123", "987124", "9871255"]:
            assert code not in line, line


def test_both_time_bounds_include_their_whole_millisecond(api: Api, clock: ManualClock) -> None:
    # Records keep microseconds but show milliseconds: a bound written as a record's own
    # createdDtm must list it and every record of that millisecond, and none of the next.
    person = Scenario(api, clock)
    for microseconds in (556_000, 556_381, 556_999, 557_000):
        clock.set(AUTHENTICATED + microseconds / 1_000_000)
        person.authenticate("000000")
    shown = dtm(AUTHENTICATED)[:-5] + ".556Z"

    def times(**params: Any) -> list[str]:
        return [record["authAuditRecord"]["createdDtm"] for record in person.records(**params)]

    assert times(**{"from": shown, "to": shown}) == [shown] * 3
    assert times(to=shown)[-3:] == [shown] * 3
    assert times(**{"from": shown})[:3] == [shown] * 3
    assert times(**{"from": shown[:-1] + "4999Z", "to": shown[:-1] + "0001Z"}) == [shown] * 3
    assert times(**{"from": shown[:-5] + ".557Z"}) == [shown[:-5] + ".557Z"]
