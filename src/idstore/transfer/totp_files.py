"""An import file's format, recognised or named, and the reader for it."""

from __future__ import annotations

from idstore.transfer.pskc import read_pskc
from idstore.transfer.totp_records import (
    Format,
    LineRefused,
    ParsedLine,
    Refusal,
    TotpDefaults,
    check_issuer,
)
from idstore.transfer.totp_text_formats import (
    looks_like_privacyidea,
    read_csv,
    read_privacyidea,
    read_uri_lines,
)

_BYTE_ORDER_MARK = "\ufeff"


def detect_format(text: str) -> Format:
    """XML is PSKC; a first line starting otpauth:// is URIs; a fourth column naming the
    token type is privacyIDEA's export; anything else is the plain CSV."""
    head = text.lstrip(_BYTE_ORDER_MARK).lstrip()
    if head.startswith("<"):
        return Format.PSKC
    first_line = next((line for line in head.splitlines() if not line.startswith("#")), "")
    if first_line.strip().lower().startswith("otpauth://"):
        return Format.URI
    if looks_like_privacyidea(head):
        return Format.PRIVACYIDEA
    return Format.CSV


def read_totp_file(
    text: str, file_format: Format, defaults: TotpDefaults, *, pskc_key: bytes | None = None
) -> list[ParsedLine]:
    """Every data line of the file, read as `file_format`: a TOTP to import or a refusal.

    Raises PskcUnreadable when a PSKC file cannot be read as a whole.
    """
    text = text.lstrip(_BYTE_ORDER_MARK)
    if file_format is Format.PSKC:
        return [_checked(line) for line in read_pskc(text, defaults, pskc_key)]
    readers = {
        Format.URI: read_uri_lines,
        Format.CSV: read_csv,
        Format.PRIVACYIDEA: read_privacyidea,
    }
    return [_checked(line) for line in readers[file_format](text, defaults)]


def _checked(line: ParsedLine) -> ParsedLine:
    """The line, or its refusal when a value the file gave is one the API would refuse."""
    if isinstance(line, Refusal):
        return line
    try:
        check_issuer(line.issuer)
    except LineRefused as refused:
        return Refusal(line.where, line.external_id, str(refused))
    return line
