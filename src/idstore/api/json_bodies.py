"""JSON request bodies, read once per request and strictly, on every route.

RFC 8259 §4 leaves a name given twice in one object to the parser: most keep the last, some the
first, some refuse. A proxy, a WAF or an audit tool in front of the service may read such a body
otherwise than the service does, so it is refused (9002, naming the field) instead of guessed at;
`strict_json` reads it, as it reads the JSON clients send inside strings.

Every route reads its body through `JsonBodyRequest`, so a body is parsed once, before the
caller is verified, whether the route takes a body or not: a route without one (issuing a
token, blocking a key) answers a malformed body as every other route does (9001).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from idstore import strict_json
from idstore.api.route_precedence import LiteralFirstRoute
from idstore.services.errors import FieldError, InvalidField, InvalidJson

REPEATED_KEY = "is given more than once in one JSON object"
OBJECT_REQUIRED = "a JSON object body is required"


def parse(body: bytes) -> Any:
    """The request body's JSON value.

    Raises InvalidJson (9001) for a body that is not JSON, InvalidField (9002) for one naming a
    key twice in one object.
    """
    try:
        return strict_json.loads(body)
    except strict_json.DuplicateKeys as duplicate:
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
