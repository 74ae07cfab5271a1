"""JSON read strictly: the one decoder for every JSON document a client or a file supplies.

RFC 8259 §4 leaves a name given twice in one object to the parser: most keep the last, some the
first, some refuse. Python's parser also takes NaN, Infinity and -Infinity, which are not JSON,
and reads a number past a float's range as infinity. A document another parser (a proxy, an
audit tool, the client's own library) could read otherwise than the service does is refused
instead of guessed at: request bodies, and the JSON that travels inside them as strings
(clientDataJSON, a UAF response and its final challenge params) or in import files.

Apart from these refusals it reads exactly what `json.loads` reads, bytes decoded as it decodes
them, so a library that parses the same bytes again with `json.loads` (py_webauthn parses
clientDataJSON itself) sees the same document. A leaf: it imports nothing of the project's, so
every layer, the pure `uaf` package included, may use it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

# A refusal names the first few repeated fields, each key in a path cut short: enough to mend the
# document, and a message no larger than a small request however its keys repeat.
MAX_NAMED = 5
MAX_SHOWN = 64


class DuplicateKeys(ValueError):
    """A document whose objects name a key twice; `fields` are their paths as the client spells
    them (`response.challenge`, `0.header.op`), the first MAX_NAMED in the document's order."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        super().__init__(", ".join(fields))


class NotPlainUtf8(ValueError):
    """A document its format says is UTF-8 that is UTF-16, UTF-32, or UTF-8 after a byte order
    mark: `json.loads` guesses those from where the zero bytes fall; another reader might not."""


class _RepeatedKey(Exception):
    """Raised by the parser at the first object that names a key twice."""


class _Repeated(dict[str, Any]):
    """An object that named some of its keys more than once, and which."""

    repeated: tuple[str, ...] = ()


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _RepeatedKey
    return found


def _mark_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    repeated = _Repeated(found)
    counts = Counter(name for name, _ in pairs)
    repeated.repeated = tuple(name for name, count in counts.items() if count > 1)
    return repeated


def _not_json(constant: str) -> Any:
    # NaN, Infinity and -Infinity: Python's parser takes them, RFC 8259 does not.
    raise ValueError(f"{constant} is not JSON")


def _finite(number: str) -> float:
    value = float(number)
    if math.isinf(value):  # 1e999: JSON, but no number a field could hold
        raise ValueError(f"{number} is out of range")
    return value


# Built once: json.loads with a hook builds a decoder per call, which costs more than the parse
# of a small body. The second one runs only for a document already found ambiguous, to name
# fields.
_STRICT = json.JSONDecoder(
    object_pairs_hook=_refuse_repeats, parse_constant=_not_json, parse_float=_finite
)
_MARKING = json.JSONDecoder(
    object_pairs_hook=_mark_repeats, parse_constant=_not_json, parse_float=_finite
)


def loads(document: bytes | str) -> Any:
    """The document parsed as `json.loads` parses it, unless it is ambiguous or not JSON.

    Raises DuplicateKeys (a ValueError) for an object naming a key twice; ValueError for the
    rest `json.loads` refuses, and for NaN, Infinity, -Infinity and numbers past a float's
    range; RecursionError for nesting deeper than the interpreter's stack.
    """
    if isinstance(document, bytes):
        # As json.loads reads bytes: UTF-8, -16 or -32 by the first bytes, a UTF-8 BOM skipped.
        document = document.decode(json.detect_encoding(document), "surrogatepass")
    try:
        return _STRICT.decode(document)
    except _RepeatedKey:
        raise DuplicateKeys(tuple(_repeated_fields(_MARKING.decode(document), ()))) from None


def loads_utf8(document: bytes) -> Any:
    """`loads` for a document whose format says UTF-8 (clientDataJSON, UAF's fcParams).

    Raises NotPlainUtf8 for any other encoding (the bytes of one may even be valid UTF-8 that
    reads as another document), and what `loads` raises for the rest.
    """
    if json.detect_encoding(document) != "utf-8":  # "utf-8-sig" for a byte order mark
        raise NotPlainUtf8("not UTF-8 without a byte order mark")
    try:
        document.decode("utf-8")
    except UnicodeDecodeError:
        raise NotPlainUtf8("not UTF-8") from None
    return loads(document)


def _repeated_fields(
    value: Any, path: tuple[str, ...], found: list[str] | None = None
) -> list[str]:
    """The paths of the first MAX_NAMED repeated keys, in the order of the document."""
    # As deep as the document, which the decoder above has just read within the stack.
    found = [] if found is None else found
    if isinstance(value, dict):
        if isinstance(value, _Repeated):
            found += [_path((*path, name)) for name in value.repeated]
        for name, item in value.items():
            if len(found) >= MAX_NAMED:
                break
            _repeated_fields(item, (*path, name), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if len(found) >= MAX_NAMED:
                break
            _repeated_fields(item, (*path, str(index)), found)
    return found[:MAX_NAMED]


def _path(keys: tuple[str, ...]) -> str:
    return ".".join(_shown(key) for key in keys)


def _shown(key: str) -> str:
    """The key as a message may show it: a lone surrogate (which a JSON escape can spell
    but UTF-8 cannot carry) written as its escape, and at most MAX_SHOWN characters."""
    safe = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= MAX_SHOWN else safe[:MAX_SHOWN] + "…"
