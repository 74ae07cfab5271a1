"""HOTP and TOTP codes against the RFC vectors, our issue's vectors and pyotp."""

import base64
import hashlib
import hmac
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
import pytest

from idstore.otp import codes
from idstore.otp.codes import (
    Algorithm,
    MalformedCode,
    generate_secret,
    hotp,
    matching_steps,
    normalize_code,
    time_step,
)

# RFC 4226 Appendix D and RFC 6238 Appendix B seeds: the ASCII digits repeated to the hash size.
RFC_SECRET_SHA1 = b"12345678901234567890"
RFC_SECRET_SHA256 = b"12345678901234567890123456789012"
RFC_SECRET_SHA512 = b"1234567890123456789012345678901234567890123456789012345678901234"
RFC_SECRETS = {
    Algorithm.SHA1: RFC_SECRET_SHA1,
    Algorithm.SHA256: RFC_SECRET_SHA256,
    Algorithm.SHA512: RFC_SECRET_SHA512,
}

# RFC 4226 Appendix D: the codes of counters 0 to 9.
RFC4226_CODES = "755224 287082 359152 969429 338314 254676 287922 162583 399871 520489".split()

# Our issue uses the 20-byte secret with every algorithm.
ISSUE_SECRET = RFC_SECRET_SHA1
ISSUE_STEP = 37037036  # time_step(1111111095, 30)

# Steps 37079356 and 37079357 of ISSUE_SECRET (SHA1, 6 digits) share their code.
SHARED_CODE = "186519"
SHARED_CODE_STEPS = [37079356, 37079357]

PYOTP_DIGESTS: dict[Algorithm, Callable[..., object]] = {
    Algorithm.SHA1: hashlib.sha1,
    Algorithm.SHA256: hashlib.sha256,
    Algorithm.SHA512: hashlib.sha512,
}


def match_issue_code(code: str, *, now: float, drift_steps: int) -> list[int]:
    """The matching steps of a code of our issue's secret: SHA1, 6 digits, 30 seconds."""
    return matching_steps(
        ISSUE_SECRET,
        code,
        now=now,
        period=30,
        digits=6,
        algorithm=Algorithm.SHA1,
        drift_steps=drift_steps,
    )


def pyotp_totp(secret: bytes, *, algorithm: Algorithm, digits: int, period: int) -> pyotp.TOTP:
    return pyotp.TOTP(
        base64.b32encode(secret).decode("ascii"),
        digits=digits,
        digest=PYOTP_DIGESTS[algorithm],
        interval=period,
    )


@pytest.mark.parametrize(
    ("counter", "expected"),
    list(enumerate(RFC4226_CODES)),
)
def test_hotp_gives_the_rfc4226_appendix_d_values(counter: int, expected: str) -> None:
    assert hotp(RFC_SECRET_SHA1, counter, digits=6, algorithm=Algorithm.SHA1) == expected


@pytest.mark.parametrize(
    ("unix_time", "algorithm", "expected"),
    [
        (59, Algorithm.SHA1, "94287082"),
        (59, Algorithm.SHA256, "46119246"),
        (59, Algorithm.SHA512, "90693936"),
        (1111111109, Algorithm.SHA1, "07081804"),
        (1111111109, Algorithm.SHA256, "68084774"),
        (1111111109, Algorithm.SHA512, "25091201"),
        (1111111111, Algorithm.SHA1, "14050471"),
        (1111111111, Algorithm.SHA256, "67062674"),
        (1111111111, Algorithm.SHA512, "99943326"),
        (1234567890, Algorithm.SHA1, "89005924"),
        (1234567890, Algorithm.SHA256, "91819424"),
        (1234567890, Algorithm.SHA512, "93441116"),
        (2000000000, Algorithm.SHA1, "69279037"),
        (2000000000, Algorithm.SHA256, "90698825"),
        (2000000000, Algorithm.SHA512, "38618901"),
        (20000000000, Algorithm.SHA1, "65353130"),
        (20000000000, Algorithm.SHA256, "77737706"),
        (20000000000, Algorithm.SHA512, "47863826"),
    ],
)
def test_totp_gives_the_rfc6238_appendix_b_values(
    unix_time: int, algorithm: Algorithm, expected: str
) -> None:
    step = time_step(unix_time, 30)

    code = hotp(RFC_SECRETS[algorithm], step, digits=8, algorithm=algorithm)

    assert code == expected


@pytest.mark.parametrize(
    ("unix_time", "algorithm", "digits", "period", "expected"),
    [
        (1234567890, Algorithm.SHA1, 6, 30, "005924"),
        (1111111109, Algorithm.SHA1, 6, 30, "081804"),
        (59, Algorithm.SHA256, 6, 30, "247374"),
        (59, Algorithm.SHA512, 6, 30, "342147"),
        (59, Algorithm.SHA1, 6, 60, "755224"),
        (59, Algorithm.SHA1, 8, 30, "94287082"),
        (2000000000, Algorithm.SHA1, 6, 30, "279037"),
        (20000000000, Algorithm.SHA1, 6, 30, "353130"),
        (128849019030, Algorithm.SHA1, 6, 30, "250721"),
    ],
)
def test_totp_gives_the_issue_values_with_the_20_byte_secret(
    unix_time: int, algorithm: Algorithm, digits: int, period: int, expected: str
) -> None:
    step = time_step(unix_time, period)

    code = hotp(ISSUE_SECRET, step, digits=digits, algorithm=algorithm)

    assert code == expected


def test_hotp_accepts_the_largest_64_bit_counter() -> None:
    code = hotp(ISSUE_SECRET, 2**64 - 1, digits=6, algorithm=Algorithm.SHA1)

    assert code == pyotp.HOTP(base64.b32encode(ISSUE_SECRET).decode()).at(2**64 - 1)


@pytest.mark.parametrize("counter", [-1, 2**64])
def test_hotp_refuses_a_counter_outside_64_unsigned_bits(counter: int) -> None:
    with pytest.raises(ValueError, match="64-bit"):
        hotp(ISSUE_SECRET, counter, digits=6, algorithm=Algorithm.SHA1)


@pytest.mark.parametrize("digits", [0, 5, 11])
def test_hotp_refuses_digits_outside_6_to_10(digits: int) -> None:
    with pytest.raises(ValueError, match="digits"):
        hotp(ISSUE_SECRET, 0, digits=digits, algorithm=Algorithm.SHA1)


@pytest.mark.parametrize(
    ("unix_time", "period", "expected"),
    [
        (0, 30, 0),
        (29.999, 30, 0),
        (30, 30, 1),
        (59, 60, 0),
        (1111111095.5, 30, 37037036),
        (128849019030, 30, 4294967301),
        (2**53 + 0.0, 7, 2**53 // 7),
        (-1, 30, -1),
    ],
)
def test_time_step_is_the_exact_floor_of_time_over_period(
    unix_time: float, period: int, expected: int
) -> None:
    assert time_step(unix_time, period) == expected


@pytest.mark.parametrize("period", [0, -30])
def test_time_step_refuses_a_period_that_is_not_positive(period: int) -> None:
    with pytest.raises(ValueError, match="period"):
        time_step(1111111109, period)


@pytest.mark.parametrize("unix_time", [float("nan"), float("inf"), float("-inf")])
def test_time_step_refuses_a_time_that_is_not_finite(unix_time: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        time_step(unix_time, 30)


@pytest.mark.parametrize("submitted", ["081804", "081 804", " 081804 ", "081-804", "0-8 1-8 0-4"])
def test_normalize_code_drops_spaces_and_hyphens(submitted: str) -> None:
    assert normalize_code(submitted, digits=6) == "081804"


def test_normalize_code_keeps_leading_zeros() -> None:
    assert normalize_code("00 59 24", digits=6) == "005924"


@pytest.mark.parametrize(
    "submitted",
    [
        "4",
        "04",
        "804",
        "5924",
        "05924",
        "1081804",
        "",
        " - ",
        "\uff10\uff18\uff11\uff18\uff10\uff14",  # full-width digits
        "٠٨١٨٠٤",
        "²81804",
        "08180a",
        "081\t804",
        "081\u00a0804",
        "+81804",
    ],
)
def test_normalize_code_refuses_anything_but_the_expected_ascii_digits(submitted: str) -> None:
    with pytest.raises(MalformedCode, match="exactly 6 ASCII digits"):
        normalize_code(submitted, digits=6)


def test_normalize_code_honours_eight_digits() -> None:
    assert normalize_code("9428 7082", digits=8) == "94287082"

    with pytest.raises(MalformedCode):
        normalize_code("287082", digits=8)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("731029", [ISSUE_STEP - 1]),
        ("081804", [ISSUE_STEP]),
        ("050471", [ISSUE_STEP + 1]),
        ("150727", []),
        ("266759", []),
    ],
)
def test_a_drift_of_one_matches_only_the_neighbouring_steps(code: str, expected: list[int]) -> None:
    steps = match_issue_code(code, now=1111111095, drift_steps=1)

    assert steps == expected


@pytest.mark.parametrize(
    ("code", "expected"), [("150727", [ISSUE_STEP - 2]), ("266759", [ISSUE_STEP + 2])]
)
def test_a_drift_of_two_matches_two_steps_away(code: str, expected: list[int]) -> None:
    steps = match_issue_code(code, now=1111111095, drift_steps=2)

    assert steps == expected


def test_a_drift_of_zero_matches_the_current_step_only() -> None:
    def match(code: str) -> list[int]:
        return match_issue_code(code, now=1111111095, drift_steps=0)

    assert (match("081804"), match("731029"), match("050471")) == ([ISSUE_STEP], [], [])


def test_matching_steps_returns_every_matching_step_in_ascending_order() -> None:
    totp = pyotp_totp(ISSUE_SECRET, algorithm=Algorithm.SHA1, digits=6, period=30)
    assert [totp.generate_otp(step) for step in SHARED_CODE_STEPS] == [SHARED_CODE] * 2

    steps = match_issue_code(SHARED_CODE, now=SHARED_CODE_STEPS[1] * 30 + 29, drift_steps=1)

    assert steps == SHARED_CODE_STEPS


def test_matching_steps_skips_steps_before_the_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "hotp", lambda *_args, **_kwargs: "000000")

    steps = match_issue_code("000000", now=45, drift_steps=3)

    assert steps == [0, 1, 2, 3, 4]


def test_matching_steps_accepts_the_first_code_at_the_epoch() -> None:
    steps = match_issue_code("755224", now=0, drift_steps=1)

    assert steps == [0]


def test_matching_steps_refuses_a_negative_drift() -> None:
    with pytest.raises(ValueError, match="drift_steps"):
        match_issue_code("081804", now=1111111109, drift_steps=-1)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("150727", [ISSUE_STEP - 2]), ("266759", [ISSUE_STEP + 2]), ("000000", [])],
    ids=["first-candidate-matches", "last-candidate-matches", "none-matches"],
)
def test_every_candidate_is_computed_and_compared_whatever_matches(
    monkeypatch: pytest.MonkeyPatch, code: str, expected: list[int]
) -> None:
    computed: list[int] = []
    compared: list[bool] = []
    real_hotp = codes.hotp
    real_compare_digest = hmac.compare_digest

    def counting_hotp(secret: bytes, counter: int, *, digits: int, algorithm: Algorithm) -> str:
        computed.append(counter)
        return real_hotp(secret, counter, digits=digits, algorithm=algorithm)

    def counting_compare_digest(left: bytes, right: bytes) -> bool:
        compared.append(real_compare_digest(left, right))
        return compared[-1]

    monkeypatch.setattr(codes, "hotp", counting_hotp)
    monkeypatch.setattr("idstore.otp.codes.hmac.compare_digest", counting_compare_digest)

    steps = match_issue_code(code, now=1111111109, drift_steps=2)

    assert steps == expected
    assert computed == list(range(ISSUE_STEP - 2, ISSUE_STEP + 3))
    assert len(compared) == 2 * 2 + 1


@pytest.mark.parametrize("case", range(200))
def test_matching_steps_agrees_with_pyotp(case: int) -> None:
    rng = random.Random(case)
    secret = rng.randbytes(rng.choice([20, 32, 64]))
    algorithm = rng.choice(list(Algorithm))
    digits = rng.choice([6, 7, 8])
    period = rng.choice([10, 30, 60, 90, 120])  # pyotp refuses periods over 120 s
    drift = rng.randint(0, 3)
    now = rng.uniform(10_000, 2**34)
    totp = pyotp_totp(secret, algorithm=algorithm, digits=digits, period=period)

    at = datetime.fromtimestamp(now, UTC)
    code = totp.at(at, counter_offset=rng.randint(-drift - 1, drift + 1))
    current = totp.timecode(at)
    expected = [
        step
        for step in range(current - drift, current + drift + 1)
        if totp.generate_otp(step) == code
    ]

    steps = matching_steps(
        secret,
        code,
        now=now,
        period=period,
        digits=digits,
        algorithm=algorithm,
        drift_steps=drift,
    )

    assert steps == expected


def test_generate_secret_gives_a_new_value_every_time() -> None:
    secrets = {generate_secret(20) for _ in range(100)}

    assert len(secrets) == 100


@pytest.mark.parametrize("length", [20, 32, 64])
def test_generate_secret_gives_the_requested_length(length: int) -> None:
    assert len(generate_secret(length)) == length


@pytest.mark.parametrize("length", [0, 10, 19])
def test_generate_secret_refuses_fewer_than_20_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="at least 20 bytes"):
        generate_secret(length)
