"""Reading import files: otpauth URIs, the plain CSV, privacyIDEA's export; every secret form."""

from __future__ import annotations

import base64

import pytest

from idstore.otp import Algorithm
from idstore.transfer.totp_files import detect_format, read_totp_file
from idstore.transfer.totp_records import Format, ImportedTotp, Refusal, TotpDefaults

DEFAULTS = TotpDefaults(algorithm=Algorithm.SHA256, digits=7, period=45, issuer="Policy Issuer")
KEY_20 = b"12345678901234567890"
KEY_16 = bytes(range(16))
B32_20 = base64.b32encode(KEY_20).decode()  # 32 characters, no padding needed
B32_16 = base64.b32encode(KEY_16).decode()  # 26 characters and 6 "="


def _one(text: str, file_format: Format) -> ImportedTotp | Refusal:
    (line,) = read_totp_file(text, file_format, DEFAULTS)
    return line


def _totp(text: str, file_format: Format) -> ImportedTotp:
    line = _one(text, file_format)
    assert isinstance(line, ImportedTotp), line
    return line


@pytest.mark.parametrize(
    "written",
    [
        B32_20,
        B32_20.lower(),
        " ".join(B32_20[i : i + 4] for i in range(0, 32, 4)),
        B32_20.lower().replace("a", "A"),
    ],
    ids=["upper", "lower", "spaces", "mixed-case"],
)
def test_a_csv_secret_reads_in_any_case_and_with_spaces(written: str) -> None:
    assert _totp(f"alice,{written}", Format.CSV).secret == KEY_20


@pytest.mark.parametrize(
    "written", [B32_16, B32_16.rstrip("="), B32_16.rstrip("=").lower() + "=="], ids=str
)
def test_a_26_character_secret_is_a_16_byte_key_padded_or_not(written: str) -> None:
    assert len(B32_16.rstrip("=")) == 26

    assert _totp(f"alice,{written}", Format.CSV).secret == KEY_16


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (B32_20[:-1] + "1", "outside the base32 alphabet"),
        (B32_20[:-1] + "é", "outside the base32 alphabet"),
        (B32_20[:-1] + "!", "outside the base32 alphabet"),
        (B32_20[:3], "not a whole number of bytes"),
        ("", "empty"),
        ("GEZDGNBV", "shorter than 10 bytes"),
        (base64.b32encode(bytes(65)).decode(), "longer than 64 bytes"),
    ],
)
def test_a_bad_secret_is_refused_with_line_external_id_and_reason_not_the_secret(
    secret: str, reason: str
) -> None:
    lines = read_totp_file(f"alice,{B32_20}\nbob,{secret}\n", Format.CSV, DEFAULTS)

    assert isinstance(lines[0], ImportedTotp)
    refusal = lines[1]
    assert isinstance(refusal, Refusal)
    assert (refusal.where, refusal.external_id) == ("line 2", "bob")
    assert reason in refusal.reason
    assert not secret or secret not in refusal.reason


def test_csv_optional_columns_take_the_policy_defaults_and_given_ones_are_kept() -> None:
    text = f"a,{B32_20}\nb,{B32_20},sha512,8,60\nc,{B32_20},,,\nd,{B32_20},HMAC-SHA1,,30\n"

    a, b, c, d = (line for line in read_totp_file(text, Format.CSV, DEFAULTS))

    assert isinstance(a, ImportedTotp) and isinstance(b, ImportedTotp)
    assert isinstance(c, ImportedTotp) and isinstance(d, ImportedTotp)
    assert (a.algorithm, a.digits, a.period, a.issuer) == (
        Algorithm.SHA256,
        7,
        45,
        "Policy Issuer",
    )
    assert (b.algorithm, b.digits, b.period) == (Algorithm.SHA512, 8, 60)
    assert (c.algorithm, c.digits, c.period) == (Algorithm.SHA256, 7, 45)
    assert (d.algorithm, d.digits, d.period) == (Algorithm.SHA1, 7, 30)


def test_a_csv_header_row_is_skipped_and_line_numbers_count_it() -> None:
    text = f"external_id,secret,algorithm,digits,period\nalice,{B32_20}\nbob,x1\n"

    alice, bob = read_totp_file(text, Format.CSV, DEFAULTS)

    assert isinstance(alice, ImportedTotp) and alice.where == "line 2"
    assert isinstance(bob, Refusal) and bob.where == "line 3"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (f"alice,{B32_20},MD5", "not SHA1, SHA256 or SHA512"),
        (f"alice,{B32_20},SHA1,9", "digits"),
        (f"alice,{B32_20},SHA1,6,5", "period"),
        (f"alice,{B32_20},SHA1,6,30,extra", "2 to 5 fields"),
        (f" ,{B32_20}", "external id is empty"),
    ],
)
def test_csv_rows_out_of_range_are_refused(row: str, reason: str) -> None:
    refusal = _one(row, Format.CSV)

    assert isinstance(refusal, Refusal)
    assert reason in refusal.reason


def test_blank_and_comment_lines_are_skipped() -> None:
    lines = read_totp_file(f"# exported\n\nalice,{B32_20}\n", Format.CSV, DEFAULTS)

    assert [line.where for line in lines] == ["line 3"]


def test_an_otpauth_uri_gives_external_id_issuer_and_parameters() -> None:
    uri = f"otpauth://totp/ACME%20Co:alice@example.com?secret={B32_20}&issuer=ACME%20Co"
    uri += "&algorithm=SHA512&digits=8&period=60"

    totp = _totp(uri, Format.URI)

    assert (totp.external_id, totp.issuer, totp.secret) == ("alice@example.com", "ACME Co", KEY_20)
    assert (totp.algorithm, totp.digits, totp.period) == (Algorithm.SHA512, 8, 60)


def test_an_otpauth_uri_without_issuer_takes_the_policy_issuer_and_app_defaults() -> None:
    totp = _totp(f"otpauth://totp/alice?secret={B32_16.lower()}", Format.URI)

    assert (totp.external_id, totp.issuer, totp.secret) == ("alice", "Policy Issuer", KEY_16)
    # An app reading this URI assumes SHA1, 6 digits, 30 s: the policy's defaults do not apply.
    assert (totp.algorithm, totp.digits, totp.period) == (Algorithm.SHA1, 6, 30)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"otpauth://hotp/alice?secret={B32_20}&counter=1", "otpauth://totp/"),
        ("otpauth://totp/alice?secret=AB1CDEFG", "outside the base32 alphabet"),
        (f"otpauth://totp/alice?secret={B32_20}&digits=10", "digits"),
        ("otpauth://totp/alice", "no secret"),
    ],
)
def test_a_bad_otpauth_uri_is_refused_with_its_line(uri: str, reason: str) -> None:
    lines = read_totp_file(f"otpauth://totp/ok?secret={B32_20}\n{uri}\n", Format.URI, DEFAULTS)

    refusal = lines[1]
    assert isinstance(refusal, Refusal) and refusal.where == "line 2"
    assert reason in refusal.reason


PRIVACYIDEA_EXPORT = (
    f"alice@realm1, TOTP0001, {KEY_20.hex()}, totp, 6, 30\n"
    f"bob@realm1, TOTP0002, {(KEY_20 + KEY_20[:12]).hex()}, totp, 8, 60\n"
    f"carol@realm1, TOTP0003, {B32_20}, totp, 6, None\n"
    f"n/a, TOTP0004, {KEY_20.hex()}, totp, 6, 30\n"
    f"dave@realm1, OATH0005, {KEY_20.hex()}, hotp, 6\n"
    f"erin@realm1, TOTP0006, {KEY_20.hex()[:-1]}z, totp, 6, 30\n"
)


def test_a_privacyidea_export_gives_owner_hex_or_base32_seed_length_and_step() -> None:
    alice, bob, carol, *_ = read_totp_file(PRIVACYIDEA_EXPORT, Format.PRIVACYIDEA, DEFAULTS)

    assert isinstance(alice, ImportedTotp) and isinstance(bob, ImportedTotp)
    assert isinstance(carol, ImportedTotp)
    assert (alice.external_id, alice.secret, alice.algorithm) == (
        "alice@realm1",
        KEY_20,
        Algorithm.SHA1,
    )
    assert (alice.digits, alice.period) == (6, 30)
    # privacyIDEA picks the hash by the key's length: 32 bytes is SHA256.
    assert (bob.algorithm, bob.digits, bob.period) == (Algorithm.SHA256, 8, 60)
    assert (carol.secret, carol.period) == (KEY_20, DEFAULTS.period)


def test_a_privacyidea_export_refuses_unowned_hotp_and_malformed_seeds() -> None:
    *_, unowned, hotp, malformed = read_totp_file(PRIVACYIDEA_EXPORT, Format.PRIVACYIDEA, DEFAULTS)

    assert unowned == Refusal("line 4", None, "the token has no owner")
    assert isinstance(hotp, Refusal) and "HOTP" in hotp.reason
    assert hotp.external_id == "dave@realm1"
    assert isinstance(malformed, Refusal) and malformed.where == "line 6"
    assert "base32" in malformed.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"otpauth://totp/alice?secret={B32_20}\n", Format.URI),
        (f"# comment\notpauth://totp/alice?secret={B32_20}\n", Format.URI),
        (f"alice,{B32_20}\n", Format.CSV),
        (f"external_id,secret\nalice,{B32_20},SHA1,6,30\n", Format.CSV),
        (PRIVACYIDEA_EXPORT, Format.PRIVACYIDEA),
        ("\ufeff<?xml version='1.0'?><KeyContainer/>", Format.PSKC),
    ],
    ids=["uri", "uri-after-comment", "csv", "csv-header", "privacyidea", "pskc"],
)
def test_the_format_is_recognised_from_the_content(text: str, expected: Format) -> None:
    assert detect_format(text) is expected


def test_a_secret_never_shows_in_the_repr_of_a_line() -> None:
    totp = _totp(f"alice,{B32_20}", Format.CSV)

    assert B32_20 not in repr(totp) and repr(KEY_20) not in repr(totp)


def test_line_numbers_count_physical_lines_across_quoted_newlines_and_crlf() -> None:
    text = f'"first\nsecond",{B32_20}\r\ncarol,{B32_20}\r\ndave,bad1\r\n'

    first, carol, dave = read_totp_file(text, Format.CSV, DEFAULTS)

    assert isinstance(first, ImportedTotp) and first.external_id == "first\nsecond"
    assert isinstance(carol, ImportedTotp) and carol.where == "line 3"
    assert isinstance(dave, Refusal) and (dave.where, dave.external_id) == ("line 4", "dave")


def test_the_longest_secret_a_policy_registers_is_imported_from_every_format() -> None:
    key = bytes(range(64))
    b32 = base64.b32encode(key).decode()

    assert _totp(f"alice,{b32}", Format.CSV).secret == key
    assert _totp(f"otpauth://totp/alice?secret={b32}", Format.URI).secret == key
    assert _totp(f"alice, S1, {key.hex()}, totp, 6, 30", Format.PRIVACYIDEA).secret == key
    too_long = f"otpauth://totp/alice?secret={base64.b32encode(bytes(65)).decode()}"
    assert _one(too_long, Format.URI) == Refusal(
        "line 1", None, "the secret is longer than 64 bytes"
    )


def test_an_overlong_line_is_refused_unread_and_the_lines_after_it_still_count() -> None:
    huge = "A" * 5_000_000
    text = f'alice,{huge}\nbob,{B32_20}\n"carol","{"A" * 9000}\n{"B" * 9000}"\ndave,{B32_20}\n'

    lines = read_totp_file(text, Format.CSV, DEFAULTS)

    too_long = "the line is longer than 8192 characters: not read"
    assert [getattr(line, "reason", line.external_id) for line in lines] == [
        too_long,
        "bob",
        too_long,
        too_long,
        "dave",
    ]
    assert [line.where for line in lines] == ["line 1", "line 2", "line 3", "line 4", "line 5"]


def test_a_quoted_field_beyond_the_csv_readers_limit_is_refused_as_too_long() -> None:
    field = "\n".join(["A" * 8000] * 20)  # 160 000 characters, no line too long

    lines = read_totp_file(f'alice,"{field}"\nbob,{B32_20}\n', Format.CSV, DEFAULTS)

    assert lines[0] == Refusal("line 1", None, "a field is longer than a CSV reader takes")
    assert isinstance(lines[-1], ImportedTotp) and lines[-1].external_id == "bob"
