"""Base32 secrets and otpauth URIs in the Key Uri Format."""

import pytest

from idstore.otp.codes import Algorithm
from idstore.otp.uri import (
    InvalidLabel,
    InvalidOtpauthUri,
    InvalidSecret,
    OtpauthParameters,
    build_otpauth_uri,
    decode_secret,
    encode_secret,
    parse_otpauth_uri,
)

SECRET = b"12345678901234567890"
SECRET_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SECRET_16_BYTES = b"0123456789abcdef"
SECRET_16_BYTES_BASE32 = "GAYTEMZUGU3DOOBZMFRGGZDFMY"  # 26 characters once unpadded


def parameters(
    *, issuer: str = "Example", username: str = "alice@example.com"
) -> OtpauthParameters:
    return OtpauthParameters(
        secret=SECRET,
        issuer=issuer,
        username=username,
        algorithm=Algorithm.SHA1,
        digits=6,
        period=30,
    )


def test_encode_secret_writes_upper_case_base32_without_padding() -> None:
    assert encode_secret(SECRET) == SECRET_BASE32
    assert encode_secret(SECRET_16_BYTES) == SECRET_16_BYTES_BASE32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SECRET_BASE32, SECRET),
        (SECRET_BASE32.lower(), SECRET),
        ("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", SECRET),
        (" gezdgnbvgy3tqojq GEZDGNBVGY3TQOJQ ", SECRET),
        (SECRET_16_BYTES_BASE32, SECRET_16_BYTES),
        (SECRET_16_BYTES_BASE32 + "======", SECRET_16_BYTES),
        ("GE======", b"1"),
    ],
)
def test_decode_secret_tolerates_case_spaces_and_padding(text: str, expected: bytes) -> None:
    assert decode_secret(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("GEZDGNBV1", "outside the base32 alphabet"),
        ("GEZDGNBV0", "outside the base32 alphabet"),
        ("GEZDG=NBV", "outside the base32 alphabet"),
        ("GEZDGNBV\t", "outside the base32 alphabet"),
        ("GEZDGNBVß", "outside the base32 alphabet"),
        ("\uff27\uff25\uff3a\uff24", "outside the base32 alphabet"),
        ("GEZDGNBVG", "whole number of bytes"),
        ("GEZ", "whole number of bytes"),
        ("GEZDGN", "whole number of bytes"),
        ("", "empty"),
        (" = ", "empty"),
    ],
)
def test_decode_secret_refuses_what_is_not_base32(text: str, reason: str) -> None:
    with pytest.raises(InvalidSecret, match=reason):
        decode_secret(text)


def test_build_writes_the_key_uri_format() -> None:
    uri = build_otpauth_uri(parameters())

    assert uri == (
        "otpauth://totp/Example:alice%40example.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example&algorithm=SHA1&digits=6&period=30"
    )


def test_build_writes_the_policy_algorithm_digits_and_period() -> None:
    sha512 = OtpauthParameters(
        secret=SECRET,
        issuer="Example",
        username="alice",
        algorithm=Algorithm.SHA512,
        digits=8,
        period=60,
    )

    uri = build_otpauth_uri(sha512)

    assert uri.endswith("&issuer=Example&algorithm=SHA512&digits=8&period=60")


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("My Company", "My%20Company"),
        ("A&B", "A%26B"),
        ("Zoë Café", "Zo%C3%AB%20Caf%C3%A9"),
        ("100% + more", "100%25%20%2B%20more"),
        ("a/b?c=d#e", "a%2Fb%3Fc%3Dd%23e"),
        ("Vault 🔐", "Vault%20%F0%9F%94%90"),
    ],
)
def test_build_percent_encodes_issuer_and_username_as_utf8(name: str, encoded: str) -> None:
    uri = build_otpauth_uri(parameters(issuer=name, username=name))

    assert uri.startswith(f"otpauth://totp/{encoded}:{encoded}?")
    assert f"&issuer={encoded}&" in uri
    assert "+" not in uri


@pytest.mark.parametrize(
    ("issuer", "username", "field"),
    [
        ("Ex:ample", "alice", "issuer"),
        ("Example", "alice:work", "username"),
        ("", "alice", "issuer"),
        ("Example", "", "username"),
    ],
)
def test_build_refuses_an_empty_label_part_or_one_with_a_colon_naming_it(
    issuer: str, username: str, field: str
) -> None:
    with pytest.raises(InvalidLabel, match=f"^the {field} ") as caught:
        build_otpauth_uri(parameters(issuer=issuer, username=username))

    assert caught.value.field == field


@pytest.mark.parametrize(
    "name",
    ["Example", "My Company", "A&B", "100%", "x+y", "Zoë Café", "Vault 🔐", "a/b?c=d#e", " pad "],
)
def test_parse_gives_back_what_build_wrote(name: str) -> None:
    original = parameters(issuer=name, username=f"{name} user")

    parsed = parse_otpauth_uri(build_otpauth_uri(original))

    assert parsed == original


def test_parse_defaults_to_sha1_six_digits_and_thirty_seconds() -> None:
    parsed = parse_otpauth_uri(f"otpauth://totp/Example:alice?secret={SECRET_BASE32}")

    assert parsed == parameters(username="alice")


def test_parse_reads_the_issuer_from_the_parameter_alone() -> None:
    parsed = parse_otpauth_uri(f"otpauth://totp/alice?secret={SECRET_BASE32}&issuer=Example")

    assert (parsed.issuer, parsed.username) == ("Example", "alice")


def test_parse_reads_an_encoded_colon_as_the_label_separator() -> None:
    parsed = parse_otpauth_uri(f"otpauth://totp/My%20Co%3Aalice?secret={SECRET_BASE32}")

    assert (parsed.issuer, parsed.username) == ("My Co", "alice")


def test_parse_reads_algorithm_digits_and_period() -> None:
    parsed = parse_otpauth_uri(
        f"OTPAUTH://totp/Example:alice?period=60&digits=8&algorithm=sha256&secret={SECRET_BASE32}"
    )

    assert (parsed.algorithm, parsed.digits, parsed.period) == (Algorithm.SHA256, 8, 60)


def test_parse_keeps_a_literal_plus() -> None:
    parsed = parse_otpauth_uri(f"otpauth://totp/A+B:alice?secret={SECRET_BASE32}&issuer=A+B")

    assert parsed.issuer == "A+B"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"otpauth://hotp/Example:alice?secret={SECRET_BASE32}&counter=0", "otpauth://totp/"),
        (f"https://totp/Example:alice?secret={SECRET_BASE32}", "otpauth://totp/"),
        ("", "otpauth://totp/"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&issuer=Other", "differs"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}#top", "fragment"),
        ("otpauth://totp/Example:alice?issuer=Example", "no secret"),
        ("otpauth://totp/Example:alice?secret=GEZDGNBV1", "base32"),
        ("otpauth://totp/Example:alice?secret=", "base32"),
        (f"otpauth://totp/alice?secret={SECRET_BASE32}", "no issuer"),
        (f"otpauth://totp/:alice?secret={SECRET_BASE32}", "issuer is empty"),
        (f"otpauth://totp/Example:?secret={SECRET_BASE32}", "username is empty"),
        (f"otpauth://totp/Example:alice:work?secret={SECRET_BASE32}", "username contains ':'"),
        (f"otpauth://totp/alice?secret={SECRET_BASE32}&issuer=Ex%3Aample", "issuer contains"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&secret=GE", "repeats"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&algorithm=MD5", "algorithm"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&algorithm=\u017fha1", "algorithm"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&digits=5", "digits"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&digits=11", "digits"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&digits=٦", "digits"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&digits=+6", "digits"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&period=0", "period"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&period=3_0", "period"),
        (f"otpauth://totp/Example:alice?secret={SECRET_BASE32}&period={'9' * 5000}", "period"),
        (f"otpauth://totp/Ex%FFample:alice?secret={SECRET_BASE32}", "not UTF-8"),
    ],
)
def test_parse_refuses_what_is_not_a_totp_otpauth_uri(uri: str, reason: str) -> None:
    with pytest.raises(InvalidOtpauthUri, match=reason):
        parse_otpauth_uri(uri)


def test_parameters_keep_the_secret_out_of_their_repr() -> None:
    assert SECRET.decode() not in repr(parameters())
