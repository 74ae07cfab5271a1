"""Registration over HTTP (spec §5.2; issue 3, rules 9-12): start, read, replace, expire, the
otpauth URI, secrets, what an activated TOTP still shows, and what deleting a user removes."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from tests.support.api import Api, code_at
from tests.support.checks import content_of
from tests.support.clock import ManualClock
from tests.support.seeding import Seeder

POLICY = "otp"
START_KEYS = {"totp", "secret", "otpauthUri", "qrCode"}


def new_store(api: Api, **policy: Any) -> str:
    return str(api.create_store(configuration={"totpPolicies": {POLICY: policy}})["name"])


def started(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def register(api: Api, store: str, user: dict[str, Any], clock: ManualClock) -> str:
    """Start and complete a registration now; the secret (base32)."""
    secret = str(started(api.start_registration(store, user, POLICY))["secret"])
    completed = api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))
    assert completed.status_code == 200, completed.text
    return secret


def registration_url(api: Api, store: str, user: dict[str, Any], *, ext: bool = False) -> str:
    return api.user_url(store, user, f"totps/registrations/{POLICY}", ext=ext)


def b32decode(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def assert_error(response: httpx.Response, http_status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (http_status, code), response.text


# Starting and reading a registration.


def test_a_start_answers_a_pending_totp_its_secret_uri_and_png_qr_code(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api)
    user = api.create_user(store)

    body = started(api.start_registration(store, user, POLICY))

    assert set(body) == START_KEYS
    totp = body["totp"]
    assert (totp["status"], totp["policyName"], totp["username"]) == (
        "PENDING",
        POLICY,
        user["externalId"],
    )
    assert (totp["algorithm"], totp["digits"], totp["period"], totp["issuer"]) == (
        "SHA1",
        6,
        30,
        store,
    )
    assert totp["createdDtm"] == "2023-11-14T22:13:20.000Z"
    assert totp["expirationDtm"] == "2023-11-14T22:23:20.000Z"
    assert "activatedDtm" not in totp and "lastAuthenticatedWithDtm" not in totp
    assert "=" not in body["secret"] and body["secret"] == body["secret"].upper()
    assert base64.b64decode(body["qrCode"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_reading_a_pending_registration_answers_the_body_of_its_start(
    api: Api, clock: ManualClock
) -> None:
    store = new_store(api)
    user = api.create_user(store)
    first = started(api.start_registration(store, user, POLICY))

    for ext in (False, True):
        response = api.client.get(registration_url(api, store, user, ext=ext))
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == START_KEYS
        assert (body["secret"], body["otpauthUri"], body["totp"]) == (
            first["secret"],
            first["otpauthUri"],
            first["totp"],
        )


@pytest.mark.parametrize("method", ["start", "get"])
def test_qr_format_svg_gives_base64_svg_and_none_omits_the_qr_code(api: Api, method: str) -> None:
    store = new_store(api)
    user = api.create_user(store)
    url = registration_url(api, store, user)
    started(api.start_registration(store, user, POLICY))
    call = api.client.post if method == "start" else api.client.get

    svg = call(url, params={"qrFormat": "svg"})
    none = call(url, params={"qrFormat": "none"})

    assert svg.status_code in (200, 201) and none.status_code in (200, 201)
    image = base64.b64decode(svg.json()["qrCode"]).decode("utf-8")
    assert "<svg" in image and image.rstrip().endswith("</svg>")
    assert set(none.json()) == START_KEYS - {"qrCode"}


def test_an_unknown_qr_format_is_a_validation_error(api: Api) -> None:
    store = new_store(api)
    user = api.create_user(store)

    response = api.client.post(registration_url(api, store, user), params={"qrFormat": "gif"})

    assert_error(response, 400, 9002)
    assert response.json()["fieldErrors"][0]["field"] == "qrFormat"


def test_a_new_start_replaces_a_pending_registration_and_its_secret(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api)
    user = api.create_user(store)
    old = started(api.start_registration(store, user, POLICY))
    new = started(api.start_registration(store, user, POLICY))
    now = clock.timestamp()

    assert new["secret"] != old["secret"] and new["totp"]["id"] != old["totp"]["id"]
    assert_error(api.complete(store, user, POLICY, code_at(old["secret"], now)), 400, 3401)
    assert api.complete(store, user, POLICY, code_at(new["secret"], now)).status_code == 200
    totps = content_of(api.client.get(api.user_url(store, user, "totps")))
    assert [totp["id"] for totp in totps] == [new["totp"]["id"]]


@pytest.mark.parametrize("status", ["ACTIVE", "DISABLED"])
def test_a_start_over_an_activated_totp_is_refused_and_leaves_it_alone(
    api: Api, clock: ManualClock, status: str
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api)
    user = api.create_user(store)
    secret = register(api, store, user, clock)
    totp_id = api.get_user(store, user)["summaryInfo"]["totps"][0]["id"]
    api.client.post(api.user_url(store, user, f"totps/{totp_id}"), json={"status": status})

    assert_error(api.start_registration(store, user, POLICY), 409, 3301)
    assert_error(api.client.post(registration_url(api, store, user, ext=True)), 409, 3301)
    found = api.client.get(api.user_url(store, user, f"totps/{totp_id}")).json()
    assert found["status"] == status
    if status == "ACTIVE":
        clock.advance(30)
        response = api.authenticate(store, user, POLICY, code_at(secret, clock.timestamp()))
        assert response.status_code == 200


# Expiry.


def test_a_pending_registration_is_open_until_its_timeout(api: Api, clock: ManualClock) -> None:
    clock.set(1_700_000_000)
    store = new_store(api, registrationTimeoutSeconds=60)
    user = api.create_user(store)
    secret = started(api.start_registration(store, user, POLICY))["secret"]

    clock.advance(59)

    assert api.client.get(registration_url(api, store, user)).status_code == 200
    completed = api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))
    assert completed.status_code == 200, completed.text


def test_completing_an_expired_registration_is_refused_and_removes_it(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api, registrationTimeoutSeconds=60)
    user = api.create_user(store)
    secret = started(api.start_registration(store, user, POLICY))["secret"]

    clock.advance(60)
    response = api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))

    assert_error(response, 400, 3302)
    assert response.json()["user"]["summaryInfo"]["totps"] == []
    assert response.json()["user"]["locks"]["modalities"] == {}
    assert_error(api.client.get(registration_url(api, store, user)), 404, 3300)
    assert content_of(api.client.get(api.user_url(store, user, "totps"))) == []
    again = api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))
    assert_error(again, 404, 3300)
    assert started(api.start_registration(store, user, POLICY))["totp"]["status"] == "PENDING"


def test_reading_an_expired_registration_answers_3302_and_it_is_listed_nowhere(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api, registrationTimeoutSeconds=60)
    user = api.create_user(store)
    totp_id = started(api.start_registration(store, user, POLICY))["totp"]["id"]

    clock.advance(60)

    assert_error(api.client.get(registration_url(api, store, user)), 400, 3302)
    assert content_of(api.client.get(api.user_url(store, user, "totps"))) == []
    assert api.get_user(store, user)["summaryInfo"]["totps"] == []
    assert_error(api.client.get(api.user_url(store, user, f"totps/{totp_id}")), 404, 3303)


# Completion.


def test_completion_activates_the_totp_and_answers_user_totp_and_audit_id(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api)
    user = api.create_user(store)
    start = started(api.start_registration(store, user, POLICY))
    clock.set(1_700_000_100)

    response = api.complete(store, user, POLICY, code_at(start["secret"], clock.timestamp()))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "totp", "authenticationId"}
    totp = body["totp"]
    assert (totp["id"], totp["status"]) == (start["totp"]["id"], "ACTIVE")
    assert totp["activatedDtm"] == totp["lastAuthenticatedWithDtm"] == "2023-11-14T22:15:00.000Z"
    assert "expirationDtm" not in totp
    assert body["user"]["summaryInfo"]["totps"] == [totp]
    assert body["user"]["lastSuccessfulAuthenticationDtm"] == "2023-11-14T22:15:00.000Z"
    records = api.audit_records(store, user)
    assert [record["authAuditRecord"]["id"] for record in records] == [body["authenticationId"]]


def test_completing_without_a_registration_is_3300_and_an_unknown_policy_3200(
    api: Api,
) -> None:
    store = new_store(api)
    user = api.create_user(store)

    assert_error(api.complete(store, user, POLICY, "123456"), 404, 3300)
    assert_error(api.complete(store, user, "nope", "123456"), 404, 3200)
    assert_error(api.start_registration(store, user, "nope"), 404, 3200)


# Rule 9: the otpauth URI.


def uri_parts(uri: str) -> tuple[str, str, dict[str, str]]:
    """(issuer from the label, username from the label, parameters) of an otpauth URI."""
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    issuer, separator, username = parts.path.removeprefix("/").partition(":")
    assert separator == ":"
    parameters = {
        key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()
    }
    assert all(len(values) == 1 for values in parse_qs(parts.query).values())
    return unquote(issuer, errors="strict"), unquote(username, errors="strict"), parameters


@pytest.mark.parametrize(
    ("issuer", "username"),
    [
        ("Bank & Trust", "jane doe"),
        ("Zürich Bänk", "Jürgen Müller & Söhne"),
        ("a+b=c?d#e/f", "x%20y 100% \u6771\u4eac \U0001f600"),
    ],
)
def test_the_otpauth_uri_percent_encodes_issuer_and_username(
    api: Api, issuer: str, username: str
) -> None:
    store = new_store(api, issuer=issuer, algorithm="SHA256", digits=8, period=60)
    user = api.create_user(store)

    body = started(api.start_registration(store, user, POLICY, username=username))

    uri = body["otpauthUri"]
    assert "+" not in uri and " " not in uri and "%20" in uri
    assert uri.isascii()
    label_issuer, label_username, parameters = uri_parts(uri)
    assert (label_issuer, label_username) == (issuer, username)
    assert parameters == {
        "secret": body["secret"],
        "issuer": issuer,
        "algorithm": "SHA256",
        "digits": "8",
        "period": "60",
    }
    assert (body["totp"]["issuer"], body["totp"]["username"]) == (issuer, username)


def test_ampersand_and_non_ascii_are_encoded_as_percent_utf8(api: Api) -> None:
    store = new_store(api, issuer="A&B")
    user = api.create_user(store)

    uri = started(api.start_registration(store, user, POLICY, username="ü €"))["otpauthUri"]

    assert uri.startswith("otpauth://totp/A%26B:%C3%BC%20%E2%82%AC?")
    assert "&issuer=A%26B&" in uri


@pytest.mark.parametrize("issuer", ["Bank:Online", "   "])
def test_an_issuer_holding_a_colon_or_only_spaces_is_refused_naming_the_field(
    api: Api, issuer: str
) -> None:
    store = new_store(api)

    response = api.client.post(
        f"{api.store_url(store)}/totpPolicy", json={"name": "p2", "issuer": issuer}
    )

    assert_error(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == ["issuer"]


def test_a_username_holding_a_colon_is_refused_naming_the_field(api: Api) -> None:
    store = new_store(api)
    user = api.create_user(store)

    response = api.start_registration(store, user, POLICY, username="jane:doe")

    assert_error(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == ["username"]
    assert_error(api.client.get(registration_url(api, store, user)), 404, 3300)


@pytest.mark.parametrize("username", ["  ", "\t", "\u3000"])
def test_a_username_of_only_white_space_is_refused_naming_the_field(
    api: Api, username: str
) -> None:
    store = new_store(api)
    user = api.create_user(store)

    response = api.start_registration(store, user, POLICY, username=username)

    assert_error(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == ["username"]
    assert_error(api.client.get(registration_url(api, store, user)), 404, 3300)


def test_an_external_id_of_only_spaces_needs_a_username(api: Api) -> None:
    store = new_store(api)
    user = api.create_user(store, "   ")

    refused = api.start_registration(store, user, POLICY)

    assert_error(refused, 400, 9002)
    assert refused.json()["fieldErrors"] == [
        {"field": "username", "message": "the username may not be blank or hold ':'"}
    ]


def test_an_external_id_holding_a_colon_needs_a_username(api: Api) -> None:
    store = new_store(api)
    user = api.create_user(store, "corp:jane")

    refused = api.start_registration(store, user, POLICY)
    accepted = api.start_registration(store, user, POLICY, username="jane")

    assert_error(refused, 400, 9002)
    assert [item["field"] for item in refused.json()["fieldErrors"]] == ["username"]
    assert started(accepted)["totp"]["username"] == "jane"


def test_a_label_too_long_for_a_qr_code_is_refused_not_a_server_error(api: Api) -> None:
    store = new_store(api, issuer="€" * 255)
    user = api.create_user(store)

    response = api.start_registration(store, user, POLICY, username="€" * 255)

    assert_error(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == ["username"]
    assert_error(api.client.get(registration_url(api, store, user)), 404, 3300)


# Rule 10: secrets.


def test_a_hundred_registrations_give_a_hundred_distinct_secrets(api: Api) -> None:
    store = new_store(api)
    user = api.create_user(store)

    secrets = [
        b32decode(started(api.start_registration(store, user, POLICY))["secret"])
        for _ in range(100)
    ]

    assert len(set(secrets)) == 100
    assert min(len(secret) for secret in secrets) >= 20


@pytest.mark.parametrize(
    ("policy", "length"),
    [
        ({}, 20),
        ({"algorithm": "SHA256"}, 32),
        ({"algorithm": "SHA512"}, 64),
        ({"secretLength": 40}, 40),
    ],
)
def test_the_secret_has_the_policy_length(api: Api, policy: dict[str, Any], length: int) -> None:
    store = new_store(api, **policy)
    user = api.create_user(store)

    secret = started(api.start_registration(store, user, POLICY))["secret"]

    assert len(b32decode(secret)) == length


# Rule 11: after activation the secret stays inside.


def test_no_response_carries_the_secret_once_the_totp_is_active(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api)
    user = api.create_user(store)
    body = started(api.start_registration(store, user, POLICY))
    secret = body["secret"]
    completed = api.complete(store, user, POLICY, code_at(secret, clock.timestamp()))
    clock.advance(30)
    authenticated = api.authenticate(store, user, POLICY, code_at(secret, clock.timestamp()))
    totp_id = completed.json()["totp"]["id"]

    registration = api.client.get(registration_url(api, store, user))
    responses = [
        completed,
        authenticated,
        api.authenticate(store, user, POLICY, "000000"),
        registration,
        api.client.get(registration_url(api, store, user, ext=True), params={"qrFormat": "svg"}),
        api.client.get(api.user_url(store, user)),
        api.client.get(api.user_url(store, user, "totps")),
        api.client.get(api.user_url(store, user, f"totps/{totp_id}")),
        api.client.get(api.user_url(store, user, "authentications")),
        api.client.get(api.store_url(store)),
    ]

    assert set(registration.json()) == {"totp"}
    assert registration.json()["totp"]["status"] == "ACTIVE"
    for response in responses:
        assert response.status_code in (200, 400), response.text
        assert secret not in response.text and "otpauth" not in response.text
        assert body["qrCode"][:64] not in response.text


def test_a_policy_allowing_retrieval_reads_back_the_secret_and_uri(
    api: Api, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = new_store(api, allowSecretRetrieval=True)
    user = api.create_user(store)
    start = started(api.start_registration(store, user, POLICY))
    api.complete(store, user, POLICY, code_at(start["secret"], clock.timestamp()))

    response = api.client.get(registration_url(api, store, user))

    body = response.json()
    assert body["totp"]["status"] == "ACTIVE"
    assert (body["secret"], body["otpauthUri"]) == (start["secret"], start["otpauthUri"])


# Rule 12: deleting a user removes its TOTPs.


def test_deleting_a_user_removes_its_totps_and_a_recreated_user_has_none(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    clock.set(1_700_000_000)
    store = str(api.create_store(configuration={"totpPolicies": {POLICY: {}, "other": {}}})["name"])
    user = api.create_user(store)
    secret = register(api, store, user, clock)
    started(api.start_registration(store, user, "other"))
    assert len(seeder.totp_rows(user["id"])) == 2

    deleted = api.client.delete(api.user_url(store, user))

    assert deleted.status_code == 204
    assert seeder.totp_rows(user["id"]) == []
    again = api.create_user(store, user["externalId"])
    assert again["summaryInfo"]["totps"] == []
    assert content_of(api.client.get(api.user_url(store, again, "totps", ext=True))) == []
    for policy in (POLICY, "other"):
        url = api.user_url(store, again, f"totps/registrations/{policy}", ext=True)
        assert_error(api.client.get(url), 404, 3300)
    clock.advance(30)
    code = code_at(secret, clock.timestamp())
    assert_error(api.authenticate(store, again, POLICY, code), 404, 3300)
    assert_error(api.complete(store, again, POLICY, code), 404, 3300)
