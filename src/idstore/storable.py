"""What a database column can hold faithfully, whoever sends it: the API's bodies and paths, and
the files `idstore import` reads."""

from __future__ import annotations

import math
from typing import Any

MAX_JSON_DEPTH = 16


def check_text(value: str) -> str:
    """Refuse what no database column can hold faithfully: NUL and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no unpaired surrogates)") from None
    return value


def check_json(value: Any, depth: int = 0) -> Any:
    """Free-form JSON (user attributes): bounded depth, and every string storable."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        # NaN, Infinity and overflowing literals (1e400) parse in Python but are no JSON
        # value: stored, they would come back as null.
        raise ValueError("numbers must be finite")
    if isinstance(value, list):
        return [check_json(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {check_text(key): check_json(item, depth + 1) for key, item in value.items()}
    return value
