"""Code rules over HTTP (issue 3, rules 1-8): strings, length, separators, replay by time step,
drift, registered parameters, 64-bit time steps, and the RFC 4226 / RFC 6238 vectors."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from idstore.otp import codes
from tests.support.api import RFC_SECRET, Api, issue_token
from tests.support.clock import ManualClock
from tests.support.seeding import RFC_SEEDS, Seeder, TotpSpec
from tests.support.server import LiveServer
from tests.support.totp_users import TotpUser, totp_user


def assert_refused(response: Any, http_status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (http_status, code), response.text


def assert_accepted(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["totp"]["status"] == "ACTIVE"


def failed_attempts(person: TotpUser) -> int:
    return int(person.totp_lock().get("failedAttempts", 0))


# Rule 1: codes are strings.


def test_a_code_with_its_leading_zeros_is_accepted(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(1234567890)

    assert_accepted(person.authenticate("005924"))


@pytest.mark.parametrize("code", ["5924", "05924"])
def test_a_code_without_its_leading_zeros_is_malformed(
    api: Api, seeder: Seeder, clock: ManualClock, code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(1234567890)

    assert_refused(person.authenticate(code), 400, 3400)
    assert_accepted(person.authenticate("005924"))


def test_a_code_sent_as_a_json_number_is_a_validation_error_naming_the_field(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(1234567890)

    response = person.authenticate(5924)

    assert_refused(response, 400, 9002)
    assert [item["field"] for item in response.json()["fieldErrors"]] == ["code"]
    # A request the schema refuses never becomes an attempt: nothing is audited or counted.
    assert person.audit() == []
    assert_accepted(person.authenticate("005924"))


# Rule 2: the length is the registered digits, checked before any HMAC.


@pytest.fixture
def hotp_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counters of every HOTP the in-process server computes while the test runs."""
    calls: list[int] = []
    real: Callable[..., str] = codes.hotp

    def counting(secret: bytes, counter: int, **options: Any) -> str:
        calls.append(counter)
        return real(secret, counter, **options)

    monkeypatch.setattr(codes, "hotp", counting)
    return calls


@pytest.mark.parametrize("code", ["4", "04", "804", "1081804", ""])
def test_a_code_of_the_wrong_length_is_refused_before_any_hmac(
    api: Api, seeder: Seeder, clock: ManualClock, hotp_calls: list[int], code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    response = person.authenticate(code)

    assert_refused(response, 400, 3400)
    assert hotp_calls == []
    assert response.json()["user"]["locks"]["modalities"] == {}


# Rule 3: spaces and hyphens inside are ignored; nothing else is.


@pytest.mark.parametrize("code", ["081 804", " 081804 ", "081-804", "0 8-1 8-0 4", "081804"])
def test_spaces_and_hyphens_in_a_code_are_ignored(
    api: Api, seeder: Seeder, clock: ManualClock, code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    assert_accepted(person.authenticate(code))


@pytest.mark.parametrize(
    "code",
    [
        "０８１８０４",  # full-width digits  # noqa: RUF001
        "٠٨١٨٠٤",  # Arabic-Indic digits
        "۰۸۱۸۰۴",  # Extended Arabic-Indic digits
        "²81804",
        "081\t804",
        "081_804",
        "081.804",
        "+81804",
        "08180٤",
        "081804\n",
        "081\x00804",
        "081\u200b804",
    ],
)
def test_any_other_character_in_a_code_is_malformed_never_a_server_error(
    api: Api, seeder: Seeder, clock: ManualClock, hotp_calls: list[int], code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    response = person.authenticate(code)

    assert_refused(response, 400, 3400)
    assert hotp_calls == []
    assert failed_attempts(person) == 0


def test_a_lone_surrogate_in_a_code_is_malformed(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111109)

    response = api.client.post(
        person.url("totps/authentications/otp"),
        content=b'{"code": "\\ud800081804"}',
        headers={"Content-Type": "application/json"},
    )

    assert_refused(response, 400, 3400)


# Rule 4: replay is tracked by time step.


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (1111111105, "081804"),
        (1111111105, " 081804"),
        (1111111105, "081 804"),
        (1111111100, "081-804"),
        (1111111135, "081804"),
    ],
)
def test_a_code_of_a_time_step_already_accepted_is_refused_as_used(
    api: Api, seeder: Seeder, clock: ManualClock, at: int, code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111100)
    assert_accepted(person.authenticate("081804"))

    clock.set(at)
    response = person.authenticate(code)

    assert_refused(response, 400, 3402)
    assert response.json()["user"]["locks"]["modalities"]["TOTP"]["failedAttempts"] == 1


def test_a_code_of_an_earlier_step_is_refused_once_a_later_step_was_accepted(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder)
    clock.set(1111111100)

    assert_accepted(person.authenticate("050471"))
    assert_refused(person.authenticate("081804"), 400, 3402)


def test_the_code_that_completes_a_registration_cannot_then_authenticate(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, status="PENDING"))
    clock.set(1111111109)

    assert_accepted(person.complete("081804"))
    assert_refused(person.authenticate("081804"), 400, 3402)


# Rule 5: drift.


@pytest.mark.parametrize("code", ["731029", "081804", "050471"])
def test_drift_of_one_step_accepts_the_neighbouring_steps(
    api: Api, seeder: Seeder, clock: ManualClock, code: str
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 1})
    clock.set(1111111095)

    assert_accepted(person.authenticate(code))


@pytest.mark.parametrize("code", ["150727", "266759"])
def test_drift_of_one_step_refuses_codes_two_steps_away(
    api: Api, seeder: Seeder, clock: ManualClock, code: str
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 1})
    clock.set(1111111095)

    assert_refused(person.authenticate(code), 400, 3401)


@pytest.mark.parametrize("code", ["150727", "266759"])
def test_drift_of_two_steps_accepts_codes_two_steps_away(
    api: Api, seeder: Seeder, clock: ManualClock, code: str
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 2})
    clock.set(1111111095)

    assert_accepted(person.authenticate(code))


def test_drift_of_zero_accepts_only_the_current_step(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 0})
    clock.set(1111111095)

    assert_refused(person.authenticate("731029"), 400, 3401)
    assert_refused(person.authenticate("050471"), 400, 3401)
    assert_accepted(person.authenticate("081804"))


# Rule 8: every step of the window is computed and compared, match or not.


@pytest.mark.parametrize("code", ["731029", "081804", "050471", "999999"])
def test_every_step_of_the_window_is_compared_whatever_matches(
    api: Api,
    seeder: Seeder,
    clock: ManualClock,
    hotp_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
    code: str,
) -> None:
    compared: list[bytes] = []

    def counting(expected: bytes, submitted: bytes) -> bool:
        compared.append(expected)
        return hmac.compare_digest(expected, submitted)

    person = totp_user(api, seeder, policy={"driftSteps": 2})
    # Only the code module's view of hmac: the bearer token check compares digests too.
    proxy = SimpleNamespace(digest=hmac.digest, compare_digest=counting)
    monkeypatch.setattr(codes, "hmac", proxy)
    clock.set(1111111095)

    person.authenticate(code)

    step = 1111111095 // 30
    assert hotp_calls == [step - 2, step - 1, step, step + 1, step + 2]
    assert len(compared) == 5


# Rule 6: the registered parameters.


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (TotpSpec(RFC_SECRET, algorithm="SHA256"), "247374"),
        (TotpSpec(RFC_SECRET, algorithm="SHA512"), "342147"),
        (TotpSpec(RFC_SECRET, period=60), "755224"),
        (TotpSpec(RFC_SECRET, digits=8), "94287082"),
        (TotpSpec(RFC_SECRET), "287082"),
    ],
    ids=["sha256", "sha512", "period-60", "digits-8", "sha1"],
)
def test_a_code_is_checked_with_the_registered_parameters(
    api: Api, seeder: Seeder, clock: ManualClock, spec: TotpSpec, code: str
) -> None:
    person = totp_user(api, seeder, spec=spec)
    clock.set(59)

    response = person.authenticate(code)

    assert_accepted(response)
    totp = response.json()["totp"]
    assert (totp["algorithm"], totp["digits"], totp["period"]) == (
        spec.algorithm,
        spec.digits,
        spec.period,
    )


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (TotpSpec(RFC_SECRET, algorithm="SHA256"), "287082"),
        (TotpSpec(RFC_SECRET, algorithm="SHA512"), "287082"),
        (TotpSpec(RFC_SECRET, period=60), "287082"),
        (TotpSpec(RFC_SECRET), "247374"),
    ],
    ids=["sha256", "sha512", "period-60", "sha1"],
)
def test_a_code_of_other_parameters_is_incorrect(
    api: Api, seeder: Seeder, clock: ManualClock, spec: TotpSpec, code: str
) -> None:
    # No drift: at 60 s a period the 30 s code of t=59 is the next step's code.
    person = totp_user(api, seeder, spec=spec, policy={"driftSteps": 0})
    clock.set(59)

    assert_refused(person.authenticate(code), 400, 3401)


def test_a_six_digit_code_is_malformed_for_an_eight_digit_totp(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    person = totp_user(api, seeder, spec=TotpSpec(RFC_SECRET, digits=8))
    clock.set(59)

    assert_refused(person.authenticate("287082"), 400, 3400)
    assert failed_attempts(person) == 0


def test_a_sha1_code_does_not_complete_a_sha256_registration_which_stays_pending(
    api: Api, seeder: Seeder, clock: ManualClock
) -> None:
    clock.set(59)
    spec = TotpSpec(RFC_SECRET, algorithm="SHA256", status="PENDING")
    person = totp_user(api, seeder, spec=spec, policy={"algorithm": "SHA256"}, now=clock.now())

    refused = person.complete("287082")

    assert_refused(refused, 400, 3401)
    registration = api.client.get(person.url("totps/registrations/otp"))
    assert registration.json()["totp"]["status"] == "PENDING"
    assert_accepted(person.complete("247374"))


# Rule 7: a 64-bit time step from Unix time, whatever the time zone.


@pytest.mark.parametrize(
    ("at", "code"), [(2000000000, "279037"), (20000000000, "353130"), (128849019030, "250721")]
)
def test_far_future_times_give_the_rfc_time_step(
    server: LiveServer, api: Api, seeder: Seeder, clock: ManualClock, at: int, code: str
) -> None:
    person = totp_user(api, seeder)
    clock.set(at)
    # A token issued now outlives any clock the test sets; the session's may not reach year 6053.
    headers = {"Authorization": f"Bearer {issue_token(server.base_url, server.api_key)}"}

    response = api.client.post(
        person.url("totps/authentications/otp"), json={"code": code}, headers=headers
    )

    assert_accepted(response)


def test_the_process_time_zone_changes_nothing(
    api: Api, seeder: Seeder, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = totp_user(api, seeder, timezone="Pacific/Kiritimati", locale="en")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        clock.set(2000000000)
        response = person.authenticate("279037")
    finally:
        monkeypatch.undo()
        time.tzset()

    assert_accepted(response)


# RFC 6238 Appendix B and RFC 4226 Appendix D through the authentication endpoint.

RFC_6238_VECTORS = [
    (59, "94287082", "SHA1"),
    (59, "46119246", "SHA256"),
    (59, "90693936", "SHA512"),
    (1111111109, "07081804", "SHA1"),
    (1111111109, "68084774", "SHA256"),
    (1111111109, "25091201", "SHA512"),
    (1111111111, "14050471", "SHA1"),
    (1111111111, "67062674", "SHA256"),
    (1111111111, "99943326", "SHA512"),
    (1234567890, "89005924", "SHA1"),
    (1234567890, "91819424", "SHA256"),
    (1234567890, "93441116", "SHA512"),
    (2000000000, "69279037", "SHA1"),
    (2000000000, "90698825", "SHA256"),
    (2000000000, "38618901", "SHA512"),
    (20000000000, "65353130", "SHA1"),
    (20000000000, "77737706", "SHA256"),
    (20000000000, "47863826", "SHA512"),
]


@pytest.mark.parametrize(("at", "code", "algorithm"), RFC_6238_VECTORS)
def test_rfc_6238_appendix_b_vectors_authenticate(
    api: Api, seeder: Seeder, clock: ManualClock, at: int, code: str, algorithm: str
) -> None:
    spec = TotpSpec(RFC_SEEDS[algorithm], algorithm=algorithm, digits=8)
    person = totp_user(api, seeder, spec=spec, policy={"algorithm": algorithm, "digits": 8})
    clock.set(at)

    assert_accepted(person.authenticate(code))


RFC_4226_VALUES = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]


@pytest.mark.parametrize(("counter", "code"), list(enumerate(RFC_4226_VALUES)))
def test_rfc_4226_appendix_d_values_authenticate_at_their_time_step(
    api: Api, seeder: Seeder, clock: ManualClock, counter: int, code: str
) -> None:
    person = totp_user(api, seeder, policy={"driftSteps": 0})
    clock.set(counter * 30)

    assert_accepted(person.authenticate(code))
