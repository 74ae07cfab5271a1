"""The error code table of docs/errors.md, read from the error classes themselves."""

from __future__ import annotations

from collections.abc import Iterator

from idstore.services import (
    appkey_errors,
    appkey_management_errors,
    errors,
    face_errors,
    passkey_errors,
)
from idstore.services.errors import IdstoreError

_HEADER = """# Error codes

Every refusal answers with an HTTP status and a body such as

```json
{"httpStatus": 400, "code": 3401, "message": "code incorrect", "requestId": "0f4c…"}
```

A validation error (9002) adds `fieldErrors`, one `{"field", "message"}` per invalid field; a
refused authentication adds `user`, the user as the refusal left it, so the caller sees its lock
state; 429 and 503 add a `Retry-After` header. Codes under 3000 and the 3xxx codes are the
contract's; the 9xxx codes are this service's own, for what the contract does not number.
`/openapi.json` lists, for each operation and status, the codes it can answer (`x-error-codes`)
with an example body of each, which `/docs` shows beside the operation.

This table is generated from the service's error classes (`idstore errors-reference`).

| code | HTTP | error | meaning |
|---|---|---|---|
"""


# The modules whose errors the contract and this service number (not the test doubles').
_MODULES = frozenset(
    {
        errors.__name__,
        passkey_errors.__name__,
        appkey_management_errors.__name__,
        appkey_errors.__name__,
        face_errors.__name__,
    }
)


def errors_markdown() -> str:
    """One row per error class, by code."""
    rows = sorted(
        (kind.code, kind.http_status, kind.__name__, _meaning(kind))
        for kind in _error_classes(IdstoreError)
        if kind.__module__ in _MODULES
    )
    return _HEADER + "".join(
        f"| {code} | {status} | `{name}` | {meaning} |\n" for code, status, name, meaning in rows
    )


def _error_classes(base: type[IdstoreError]) -> Iterator[type[IdstoreError]]:
    for kind in base.__subclasses__():
        yield kind
        yield from _error_classes(kind)


def _meaning(kind: type[IdstoreError]) -> str:
    # The docstring's first paragraph, on one line: it is written for this table too.
    paragraph = (kind.__doc__ or kind.default_message).strip().split("\n\n")[0]
    text = " ".join(paragraph.split())
    return text.replace("`field_errors`", "`fieldErrors`").replace("|", "\\|")
