"""The audit export's file formats: JSON lines and CSV, both written a batch at a time.

Both take their fields from the API's own presenter, so an exported record holds exactly what
`GET …/users/{userId}/authentications` shows for it (spec §7), no more (no chain hashes, no
request ids) and no less.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TextIO, get_args

from pydantic import BaseModel

from idstore.api.presenters import audit_record_out
from idstore.api.schemas.audit import AuthAuditRecordOut
from idstore.services.models import AuditRecord

FORMATS = ("jsonl", "csv")

# What a spreadsheet reads as the start of a formula (OWASP's list), and their full-width forms,
# which some spreadsheets (with East Asian input) take as the same signs.
FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A cell starting with any of these is neutralised; a sign after leading whitespace counts too,
# since spreadsheets skip spaces and line breaks before a formula.
FORMULA_STARTS = (*FORMULA_SIGNS, "\t", "\r", "\n")


class AuditWriter(Protocol):
    def write(self, records: Sequence[AuditRecord]) -> None: ...


def writer_for(file_format: str, out: TextIO) -> AuditWriter:
    """The writer of `file_format` (one of FORMATS) onto `out`; CSV writes its header now."""
    if file_format == "csv":
        return CsvWriter(out)
    return JsonLinesWriter(out)


class JsonLinesWriter:
    """One record a line: the API's list item, `authAuditRecord` and `authAuditDisplayInfo`."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, records: Sequence[AuditRecord]) -> None:
        lines = [
            json.dumps(_shown(record), ensure_ascii=False, separators=(",", ":")) + "\n"
            for record in records
        ]
        self._out.writelines(lines)


class CsvWriter:
    """One row a record: the fields of `authAuditRecord`, a nested one as `totpInfo.policyName`.

    `authAuditDisplayInfo` is left out: it repeats `totpInfo` and `createdDtm`. Cells that a
    spreadsheet would run as a formula are neutralised (see `neutralised`).
    """

    def __init__(self, out: TextIO) -> None:
        self._columns = csv_columns(AuthAuditRecordOut)
        self._rows = csv.writer(out)
        self._rows.writerow(self._columns)

    def write(self, records: Sequence[AuditRecord]) -> None:
        for record in records:
            cells = _flattened(_shown(record)["authAuditRecord"])
            self._rows.writerow([neutralised(cells.get(column)) for column in self._columns])


def csv_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV header for a response model: its fields by contract name, nested ones dotted."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        column = f"{prefix}{field.alias or name}"
        nested = _model_in(field.annotation)
        if nested is None:
            columns.append(column)
        else:
            columns.extend(csv_columns(nested, f"{column}."))
    return columns


def neutralised(value: object) -> str:
    """The cell text of a value. Text that starts like a formula (`=`, `+`, `-`, `@` or their
    full-width forms, possibly after whitespace; a tab, carriage return or line feed) gets a leading
    apostrophe, which spreadsheets show as text instead of evaluating: a policy may be named
    `-1-1`, and a cell must never run what a caller chose."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_SIGNS):
        return "'" + text
    return text


def _shown(record: AuditRecord) -> dict[str, Any]:
    return audit_record_out(record).model_dump(mode="json", exclude_none=True)


def _flattened(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for name, value in body.items():
        if isinstance(value, Mapping):
            cells.update(_flattened(value, f"{prefix}{name}."))
        else:
            cells[f"{prefix}{name}"] = value
    return cells


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The response model an annotation holds (`TotpInfoOut | None` holds TotpInfoOut)."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
