"""The TOTP authentication routes, answered without FastAPI's per-request machinery.

An authentication is most of the traffic, and FastAPI spends more on one than idstore's own
code does: it tries the routes one by one, walks the dependency graph, validates each parameter
through its own layers and looks its error handlers up on the way out. For a well-formed
authentication this ASGI middleware does the same work directly: the route's own path pattern,
the same text rule on each path segment, the same request model for the body, the same bearer
dependency and permission, the same endpoint, and the same error handlers for what it raises.

Anything else goes to FastAPI untouched, which answers it exactly as before: a body or a segment
that does not validate, another method or path. The choice is made before the request's caller
is verified, so nothing is read, counted or changed twice. A path the router would give to
another route never comes here: the `/ext` twin is the first route the router tries, and the
route by id only follows routes ending in `/ext`, which can only match a policy named `ext`
(left to FastAPI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from idstore import strict_json
from idstore.api.middleware import replaying
from idstore.api.runtime import bearer_credentials, operation_of, request_context
from idstore.api.schemas.common import is_name
from idstore.storable import check_text

ExceptionHandlers = Mapping[Any, Callable[[Request, Exception], Any]]


@dataclass(frozen=True)
class HotRoute:
    """One route the middleware answers: its FastAPI route, body model and permission."""

    route: APIRoute
    body_model: type[BaseModel]
    operation: str
    by_id: bool

    @classmethod
    def of(cls, route: APIRoute, body_model: type[BaseModel]) -> HotRoute:
        operation = operation_of(route.dependant)
        if operation is None:
            raise ValueError(f"route {route.path} checks no permission")
        return cls(route, body_model, operation, by_id=not route.path.endswith("/ext"))

    def path_parameters(self, path: str) -> dict[str, str] | None:
        """The route's decoded path parameters, if `path` is this route's and they are text."""
        match = self.route.path_regex.match(path)
        if match is None or (self.by_id and match["policyName"] == "ext"):
            return None
        convertors = self.route.param_convertors
        values = {name: convertors[name].convert(raw) for name, raw in match.groupdict().items()}
        try:
            for value in values.values():
                check_text(value)
        except ValueError:
            return None
        if not is_name(values["policyName"]):  # the route's PathPolicyName rule
            return None
        return values

    def body(self, scope: Scope, body: bytes) -> BaseModel | None:
        """The validated body, if it is a JSON object the route's model takes as it is."""
        if not body or _media_type(scope) != "application/json":
            return None
        try:
            return self.body_model.model_validate(strict_json.loads(body))
        except (ValueError, ValidationError):  # JSONDecodeError, DuplicateKeys are ValueErrors
            return None


class HotRoutes:
    """ASGI middleware: answers the hot routes' well-formed requests, passes on the rest."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[HotRoute], handlers: ExceptionHandlers
    ) -> None:
        self.app = app
        self.routes = tuple(routes)
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        for hot in self.routes:
            parameters = hot.path_parameters(scope["path"])
            if parameters is not None:
                body, receive = await _read_body(receive)
                model = hot.body(scope, body)
                if model is not None:
                    await self._answer(hot, parameters, model, scope, receive, send)
                    return
                break
        await self.app(scope, receive, send)

    async def _answer(
        self,
        hot: HotRoute,
        parameters: dict[str, str],
        body: BaseModel,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        route = hot.route
        scope.update(route=route, endpoint=route.endpoint, path_params=parameters)
        request = Request(scope, receive)
        try:
            ctx = await request_context(request, await bearer_credentials(request), hot.operation)
            response: Response = await route.endpoint(
                **parameters, body=body, run=request.app.state.runtime, ctx=ctx
            )
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> Callable[[Request, Exception], Any] | None:
        """The handler the app registered for the error's class or its nearest base."""
        for kind in type(error).__mro__:
            if kind in self.handlers:
                return self.handlers[kind]
        return None


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a receive that hands it on again."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    return body, replaying(body, receive)


def _media_type(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return None
