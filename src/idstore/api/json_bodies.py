"""JSON request bodies, read once per request and strictly, on every route.

RFC 8259 §4 leaves a name given twice in one object to the parser: most keep the last, some the
first, some refuse. A proxy, a WAF or an audit tool in front of the service may read such a body
otherwise than the service does, so it is refused (9002, naming the field) instead of guessed at.

Every route reads its body through `JsonBodyRequest`, so a body is parsed once, before the
caller is verified, whether the route takes a body or not: a route without one (issuing a
token, blocking a key) answers a malformed body as every other route does (9001).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from idstore.api.route_precedence import LiteralFirstRoute
from idstore.services.errors import FieldError, InvalidField, InvalidJson

REPEATED_KEY = "is given more than once in one JSON object"
# A refusal names the first few repeated fields, each key in a path cut short: enough to mend the
# body, and an answer no larger than a small request however its keys repeat.
MAX_NAMED = 5
MAX_SHOWN = 64
OBJECT_REQUIRED = "a JSON object body is required"


class DuplicateKeys(ValueError):
    """A body whose objects name a key twice; `fields` are their paths as the client spells them."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        super().__init__(", ".join(fields))


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
# of a small body. The second one runs only for a body already found ambiguous, to name fields.
_STRICT = json.JSONDecoder(
    object_pairs_hook=_refuse_repeats, parse_constant=_not_json, parse_float=_finite
)
_MARKING = json.JSONDecoder(
    object_pairs_hook=_mark_repeats, parse_constant=_not_json, parse_float=_finite
)


def loads(body: bytes) -> Any:
    """The body parsed as `json.loads` parses it, unless an object in it names a key twice.

    Raises DuplicateKeys for those, and what `json.loads` raises (ValueError) for the rest.
    """
    text = body.decode(json.detect_encoding(body), "surrogatepass")  # as json.loads reads bytes
    try:
        return _STRICT.decode(text)
    except _RepeatedKey:
        raise DuplicateKeys(tuple(_repeated_fields(_MARKING.decode(text), ()))) from None


def _repeated_fields(
    value: Any, path: tuple[str, ...], found: list[str] | None = None
) -> list[str]:
    """The paths of the first MAX_NAMED repeated keys, in the order of the body."""
    # Bodies reach here nested at most MAX_NESTING deep (the request frame refuses deeper).
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


def parse(body: bytes) -> Any:
    """The request body's JSON value.

    Raises InvalidJson (9001) for a body that is not JSON, InvalidField (9002) for one naming a
    key twice in one object.
    """
    try:
        return loads(body)
    except DuplicateKeys as duplicate:
        field_errors = tuple(FieldError(field, REPEATED_KEY) for field in duplicate.fields)
        message = "; ".join(f"{field}: {REPEATED_KEY}" for field in duplicate.fields)
        raise InvalidField(message, field_errors=field_errors) from None
    except ValueError:  # JSONDecodeError, or an integer beyond Python's digit limit
        raise InvalidJson() from None


_UNREAD = object()


class JsonBodyRequest(Request):
    """A request whose JSON body is parsed by `parse`, once (FastAPI reads it via `json()`)."""

    _parsed: Any = _UNREAD

    async def json(self) -> Any:
        if self._parsed is _UNREAD:
            self._parsed = parse(await self.body())
        return self._parsed


class JsonBodyRoute(LiteralFirstRoute):
    """A route that reads any body it is sent as strict JSON before anything else.

    The request frame has refused a body not declared JSON (415), so a body here is one. Like
    every route, it leaves the paths of more specific routes to them (route_precedence).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        answer = super().get_route_handler()

        takes_body = self.body_field is not None

        async def read_body_first(request: Request) -> Response:
            strict = JsonBodyRequest(request.scope, request.receive)
            if await strict.body() and await strict.json() is None and takes_body:
                # FastAPI reads `null` as no body, which a route whose body is optional takes;
                # a body that is there must be an object, as for every other route.
                raise InvalidField.of("body", OBJECT_REQUIRED)
            return await answer(strict)

        return read_body_first
