"""Reading an export file: its lines, its header and keys, and the HMAC that ends it.

Every refusal of `idstore import` is an ImportRefused, whose `exit_status` the command returns.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from idstore import strict_json
from idstore.transfer import export_format as fmt
from idstore.transfer.recipient import SCHEME, FileKeys, Identity, decode, encode

MAX_LINE_BYTES = 16 * 1024 * 1024  # a user line with its authenticators is a few kilobytes


class ImportRefused(Exception):
    """The file is not imported; nothing was written. `exit_status` is the command's."""

    exit_status: ClassVar[int] = 1


class FileRefused(ImportRefused):
    """The file was altered, is cut short, or does not follow the format."""

    exit_status = 1


class WrongKey(ImportRefused):
    """The file is sealed to another recipient than the private key given."""

    exit_status = 3


class UnknownFormat(ImportRefused):
    """Not an idstore export, or a version of the format this idstore does not read."""

    exit_status = 4


class StoreExists(ImportRefused):
    """The target database holds the store already (its name in the tenant, or its ids)."""

    exit_status = 5


class ExportLines:
    """The file's lines as JSON objects, with their number for messages. Every line but the end
    line feeds the file's HMAC, once the header has given its key (`start_mac`)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._first = b""
        self.number = 0
        self.version = fmt.VERSION  # the file's, once the header is read
        self.mac: hmac.HMAC | None = None
        self.end: dict[str, Any] | None = None
        self.digest = hashlib.sha256()

    def next(self) -> dict[str, Any]:
        raw = self._source.readline(MAX_LINE_BYTES + 1)
        self.number += 1
        if not raw:
            raise FileRefused(f"the file ends at line {self.number} without its end line")
        if len(raw) > MAX_LINE_BYTES or not raw.endswith(b"\n"):
            raise FileRefused(f"line {self.number} is cut short or too long")
        self.digest.update(raw)
        try:
            # The HMAC vouches for the bytes, not for one reading of them: a line another
            # parser could read otherwise (a key named twice, NaN) is refused, not guessed at.
            record = strict_json.loads(raw)
        except strict_json.DuplicateKeys as repeated:
            raise FileRefused(f"line {self.number} names {repeated} more than once") from None
        except (ValueError, RecursionError):
            # Not JSON, not UTF-8, or JSON Python will not read: an integer past its digit limit,
            # nesting deeper than its recursion limit, NaN or Infinity.
            raise FileRefused(f"line {self.number} is not JSON") from None
        if not isinstance(record, dict):
            raise FileRefused(f"line {self.number} is not a JSON object")

        if record.get("kind") == "end":
            self.end = record
        elif self.mac is not None:
            self.mac.update(raw)
        else:
            self._first = raw
        return record

    def start_mac(self, keys: FileKeys) -> None:
        self.mac = keys.file_mac()
        self.mac.update(self._first)

    def has_more(self) -> bool:
        return bool(self._source.read(1))

    def where(self) -> str:
        return f"line {self.number}"


def open_header(lines: ExportLines, identity: Identity) -> FileKeys:
    """The file's keys from its header. Raises UnknownFormat, WrongKey or FileRefused."""
    header = lines.next()
    if header.get("format") != fmt.FORMAT:
        raise UnknownFormat("this is not an idstore export (its first line names no such format)")
    version = header.get("version")
    if type(version) is not int or version not in fmt.READABLE_VERSIONS:
        *earlier, last = (str(number) for number in fmt.READABLE_VERSIONS)
        readable = f"{', '.join(earlier)} and {last}"
        raise UnknownFormat(
            f"the file is version {version!r} of the export format; "
            f"this idstore reads versions {readable}"
        )
    lines.version = version
    sealing = header.get("sealing")
    if not isinstance(sealing, dict) or sealing.get("scheme") != SCHEME:
        raise UnknownFormat(f"the file's secrets are not sealed with {SCHEME}")
    if sealing.get("recipient") != identity.recipient:
        raise WrongKey(
            f"the file is sealed to {str(sealing.get('recipient'))[:80]!r}, and the private key "
            f"given is that of {identity.recipient!r}"
        )
    try:
        keys = FileKeys.for_identity(identity, decode(sealing.get("ephemeralPublicKey", "")))
    except ValueError:
        raise FileRefused("line 1: the ephemeral public key is altered") from None
    if not keys.is_key_check(str(sealing.get("keyCheck", ""))):
        raise FileRefused("line 1: the header was altered (its key check does not match)")
    lines.start_mac(keys)
    return keys


def expect(lines: ExportLines, kind: str) -> dict[str, Any]:
    record = lines.next()
    if record.get("kind") != kind:
        raise FileRefused(f"{lines.where()}: expected the {kind} record")
    return record


def user_lines(lines: ExportLines) -> Iterator[dict[str, Any]]:
    """The user records; stops at the end line, left for check_end to read."""
    while True:
        record = lines.next()
        if record.get("kind") == "end":
            return
        if record.get("kind") != "user":
            raise FileRefused(f"{lines.where()}: expected a user record or the end record")
        yield record


def check_end(lines: ExportLines, keys: FileKeys, counts: tuple[int, int]) -> None:
    """The end line must carry the HMAC of every byte before it and the counts read."""
    end, mac = lines.end or {}, lines.mac or keys.file_mac()
    if not hmac.compare_digest(encode(mac.digest()).encode(), str(end.get("mac")).encode()):
        raise FileRefused("the file was altered: its HMAC does not match its contents")
    if (end.get("users"), end.get("authenticators")) != counts:
        raise FileRefused("the end line's counts do not match the records read")
    if lines.has_more():
        raise FileRefused(f"the file goes on after its end line ({lines.where()})")
