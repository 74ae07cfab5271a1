"""Reading the line formats: otpauth:// URIs, a plain CSV, a privacyIDEA token export.

Each reader takes the file's text and the target policy's defaults and yields one ImportedTotp
or Refusal per data line, numbered as an editor numbers the file's lines.
"""

from __future__ import annotations

import binascii
import csv
import io
import string
from collections.abc import Iterable, Iterator, Sequence

from idstore import otp
from idstore.otp import Algorithm
from idstore.transfer.totp_records import (
    MAX_LINE_CHARS,
    ImportedTotp,
    LineRefused,
    ParsedLine,
    Refusal,
    TotpDefaults,
    check_external_id,
    check_parameters,
    check_secret_length,
    decode_base32_secret,
    parse_algorithm,
    parse_digits,
    parse_period,
)

CSV_HEADER_SECRET = "secret"  # noqa: S105  (a column name, not a password)
# privacyIDEA's `privacyidea-token-janitor find --action export --csv` writes, per token,
# "owner, serial, otpkey, type, otplen[, timeStep]"; owner is login@realm, or n/a.
PRIVACYIDEA_UNOWNED = "n/a"
CSV_FIELDS = range(2, 6)
PRIVACYIDEA_FIELDS = 6
_TOO_LONG = f"the line is longer than {MAX_LINE_CHARS} characters: not read"
_HEX_DIGITS = frozenset(string.hexdigits)
# privacyIDEA chooses the hash by the key's length (its import docs): 32 bytes SHA256, 64 SHA512.
_ALGORITHM_BY_KEY_LENGTH = {32: Algorithm.SHA256, 64: Algorithm.SHA512}


def read_uri_lines(text: str, defaults: TotpDefaults) -> Iterator[ParsedLine]:
    """One otpauth://totp/ URI a line; the label's account name is the external id."""
    for number, line in enumerate(text.splitlines(), start=1):
        uri = line.strip()
        if not uri or uri.startswith("#"):
            continue
        where = f"line {number}"
        if len(uri) > MAX_LINE_CHARS:
            yield Refusal(where, None, _TOO_LONG)
            continue
        try:
            yield _totp_of_uri(uri, where, defaults)
        except LineRefused as refused:
            yield Refusal(where, None, str(refused))


def _totp_of_uri(uri: str, where: str, defaults: TotpDefaults) -> ImportedTotp:
    try:
        parameters = otp.parse_otpauth_uri(uri, default_issuer=defaults.issuer)
    except otp.InvalidOtpauthUri as exc:
        # The secret's own problem (alphabet, length) says more than "not valid base32".
        cause = exc.__cause__ if isinstance(exc.__cause__, otp.InvalidSecret) else exc
        raise LineRefused(str(cause)) from exc
    check_parameters(parameters.digits, parameters.period)
    return ImportedTotp(
        where=where,
        external_id=check_external_id(parameters.username),
        secret=check_secret_length(parameters.secret),
        algorithm=parameters.algorithm,
        digits=parameters.digits,
        period=parameters.period,
        issuer=parameters.issuer,
    )


def read_csv(text: str, defaults: TotpDefaults) -> Iterator[ParsedLine]:
    """Rows of external id, base32 secret[, algorithm, digits, period]; a header row is
    recognised by its second column named "secret"; blank optional fields take the policy's."""
    for where, row in _rows(text):
        if isinstance(row, str):
            yield Refusal(where, None, row)
            continue
        if where == "line 1" and len(row) > 1 and row[1].strip().lower() == CSV_HEADER_SECRET:
            continue
        # A row of another shape may hold anything first, a secret even: it names no one.
        external_id = row[0].strip() if len(row) in CSV_FIELDS else None
        try:
            yield _totp_of_csv_row(row, where, defaults)
        except LineRefused as refused:
            yield Refusal(where, external_id or None, str(refused))


def _totp_of_csv_row(row: Sequence[str], where: str, defaults: TotpDefaults) -> ImportedTotp:
    if len(row) not in CSV_FIELDS:
        raise LineRefused("a row has 2 to 5 fields: external id, secret, algorithm, digits, period")
    fields = [*row, "", "", ""]
    return ImportedTotp(
        where=where,
        external_id=check_external_id(fields[0]),
        secret=decode_base32_secret(fields[1]),
        algorithm=parse_algorithm(fields[2], defaults.algorithm),
        digits=parse_digits(fields[3], defaults.digits),
        period=parse_period(fields[4], defaults.period),
        issuer=defaults.issuer,
    )


def read_privacyidea(text: str, defaults: TotpDefaults) -> Iterator[ParsedLine]:
    """privacyIDEA's CSV token export; the owner (login@realm) is the external id. HOTP
    tokens and tokens without an owner are refused; the seed is hex, or base32 (--b32)."""
    for where, row in _rows(text):
        # Only a row of the export's shape (an HOTP row lacks timeStep) names its owner first.
        owner = row[0].strip() if 4 <= len(row) <= PRIVACYIDEA_FIELDS else ""
        external_id = owner if owner and owner != PRIVACYIDEA_UNOWNED else None
        try:
            yield _totp_of_privacyidea_row(row, where, defaults)
        except LineRefused as refused:
            yield Refusal(where, external_id, str(refused))


def _totp_of_privacyidea_row(
    row: Sequence[str], where: str, defaults: TotpDefaults
) -> ImportedTotp:
    if len(row) >= 4 and row[3].strip().lower() == "hotp":
        raise LineRefused("an HOTP token: only TOTP tokens are imported")
    if len(row) != PRIVACYIDEA_FIELDS or row[3].strip().lower() != "totp":
        raise LineRefused("not a TOTP row: owner, serial, otpkey, totp, otplen, timeStep")
    owner = row[0].strip()
    if owner == PRIVACYIDEA_UNOWNED:
        raise LineRefused("the token has no owner")
    secret = _privacyidea_seed(row[2].strip())
    return ImportedTotp(
        where=where,
        external_id=check_external_id(owner),
        secret=secret,
        algorithm=_ALGORITHM_BY_KEY_LENGTH.get(len(secret), Algorithm.SHA1),
        digits=parse_digits(row[4], defaults.digits),
        period=parse_period(row[5], defaults.period),
        issuer=defaults.issuer,
    )


def _privacyidea_seed(seed: str) -> bytes:
    # Hex unless it cannot be: a base32 seed (--b32) of only hex-like letters is improbable.
    if seed and len(seed) % 2 == 0 and _HEX_DIGITS.issuperset(seed):
        try:
            return check_secret_length(binascii.unhexlify(seed))
        except binascii.Error as exc:
            raise LineRefused("the seed is not hexadecimal") from exc
    return decode_base32_secret(seed)


def looks_like_privacyidea(text: str) -> bool:
    """A privacyIDEA export's fourth column names the token type."""
    for _, row in _rows(text):
        return (
            not isinstance(row, str)
            and len(row) >= 4
            and row[3].strip().lower() in {"totp", "hotp"}
        )
    return False


def _rows(text: str) -> Iterator[tuple[str, list[str] | str]]:
    """The CSV rows that hold anything, each with where it starts in the file. A line longer
    than MAX_LINE_CHARS is not parsed, and a row the CSV reader cannot read (a quoted field
    beyond its size limit) is not either: each comes as the reason it is refused."""
    too_long: list[int] = []
    # Read with its line ends, so that a quoted field spanning lines keeps its newline.
    lines = _bounded_lines(io.StringIO(text, newline=""), too_long)
    reader = csv.reader(lines, skipinitialspace=True)
    start = 1
    while True:
        try:
            row: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error:
            row = "a field is longer than a CSV reader takes"
        where = f"line {start}"
        start = reader.line_num + 1
        yield from ((f"line {number}", _TOO_LONG) for number in too_long)
        too_long.clear()
        if isinstance(row, str) or (any(field.strip() for field in row) and not _is_comment(row)):
            yield where, row


def _bounded_lines(lines: Iterable[str], too_long: list[int]) -> Iterator[str]:
    """The lines, each longer than MAX_LINE_CHARS replaced by an empty one (its number noted
    in `too_long`), so that the CSV reader never spends time or memory on it."""
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            too_long.append(number)
            yield "\n"
        else:
            yield line


def _is_comment(row: Sequence[str]) -> bool:
    return row[0].lstrip().startswith("#")
