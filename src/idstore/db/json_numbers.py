"""JSON text for PostgreSQL's JSONB columns that keeps a float a float.

JSONB keeps numbers as `numeric`, which forgets how they were written: `1e+20` is stored as
100000000000000000000 and read back as an integer, so a user's `attributes` came back changed on
PostgreSQL and not on SQLite. `numeric` does keep a number's scale, so a float written with a
fractional part (`100000000000000000000.0`) is read back as the same float.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """`json.dumps(value)`, with every float that Python writes with an exponent but no
    fractional part (`1e+20`) written out in digits and `.0`."""
    text = json.dumps(value)
    if "e+" not in text:  # nearly always: no such float (or a string that merely holds "e+")
        return text
    return "".join(_pieces(value))


def _pieces(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        yield f"{int(value)}.0"
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield f"{',' if index else ''}{_key(key)}:"
            yield from _pieces(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            yield "," if index else ""
            yield from _pieces(item)
        yield "]"
    else:
        yield json.dumps(value)


def _key(key: Any) -> str:
    """The key as json.dumps writes it (a number or a constant as a string)."""
    return json.dumps(key if isinstance(key, str) else next(iter(json.loads(json.dumps({key: 0})))))
