"""A key's registration audit and the authentication record of its completion, which it carries
when the service audited that completion (docs/decisions.md): keys moved to another database
arrive without their audit records, so their registration audits there carry none."""

from __future__ import annotations

from typing import Any

RECORD_FIELDS = frozenset({"authAuditRecord", "authAuditDisplayInfo"})


def without_records(audits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The registration audits without their completions' records (each must have one)."""
    assert all(RECORD_FIELDS <= audit.keys() for audit in audits), audits
    return [
        {key: value for key, value in audit.items() if key not in RECORD_FIELDS} for audit in audits
    ]
