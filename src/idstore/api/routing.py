"""Routing on the raw path, and registering each user-scoped route with its `/ext` twin.

External ids may hold any character, `/` and `%` included; clients percent-encode them. The
server therefore routes on the path as sent (`raw_path`) and decodes each parameter once, after
the route has matched (the `segment` convertor).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_type_hints
from urllib.parse import quote, unquote

from fastapi import APIRouter, Path
from pydantic import AfterValidator
from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

from idstore.api.common import Responses
from idstore.api.runtime import Runtime, RuntimeDep, context_for
from idstore.api.schemas.common import NAME_PATTERN
from idstore.services.context import Context, UserRef
from idstore.storable import check_text


class SegmentConvertor(Convertor[str]):
    """One path segment as the client percent-encoded it, decoded once after matching."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        # Undecodable bytes survive as surrogates, which parameter validation then refuses.
        return unquote(value, errors="surrogateescape")

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("segment", SegmentConvertor())


def check_segment(value: str) -> str:
    """A decoded path segment: refuse what was no UTF-8 (`%FF`) before the text rules."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "is not valid percent-encoded UTF-8 (a byte such as %FF decodes to no character)"
        ) from None
    return check_text(value)


PathText = Annotated[str, AfterValidator(check_segment)]
# A policy is only ever created under such a name, so a path naming any other cannot be one:
# refused before it is looked up, counted, audited or logged.
PathPolicyName = Annotated[str, Path(pattern=NAME_PATTERN, min_length=1, max_length=64)]
# A relying party id is a domain name (at most 253 characters), as configurations are created.
PathRpId = Annotated[str, Path(min_length=1, max_length=253), AfterValidator(check_segment)]


def segment(name: str) -> str:
    """A path template parameter that matches one raw segment: `{name:segment}`."""
    return "{" + name + ":segment}"


class RawPathRouting:
    """ASGI middleware: route on the raw path, so an encoded `/` stays inside its segment."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path")
        if scope["type"] == "http" and raw_path:
            scope = {**scope, "path": raw_path.decode("latin-1")}
        await self.app(scope, receive, send)


USER_ID_DESCRIPTION = "The user's id, as the service generated it."
EXT_ID_DESCRIPTION = "The user's external id, percent-encoded (it may hold `/`)."


def user_route(
    router: APIRouter,
    method: str,
    path: str,
    *,
    operation_id: str,
    ext_param: str = "userExtId",
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an endpoint taking `user: UserRef` twice: at `path` with `{user}` replaced by the
    internal id, and at the same path keyed by external id and ending in `/ext`.
    """

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        twins = (
            ("userId", "", UserRef.by_id, "", USER_ID_DESCRIPTION),
            (ext_param, "/ext", UserRef.by_external_id, "ByExtId", EXT_ID_DESCRIPTION),
        )
        for param, suffix, make_ref, id_suffix, description in twins:
            router.add_api_route(
                path.replace("{user}", segment(param)) + suffix,
                _with_user_parameter(endpoint, param, make_ref, description),
                methods=[method],
                operation_id=operation_id + id_suffix,
                **options,
            )
        return endpoint

    return register


def _with_user_parameter(
    endpoint: Callable[..., Any],
    param: str,
    make_ref: Callable[[str], UserRef],
    description: str,
) -> Callable[..., Any]:
    """A copy of `endpoint` whose `user` argument comes from the path parameter `param`."""

    async def bound(**kwargs: Any) -> Any:
        return await endpoint(user=make_ref(kwargs.pop(param)), **kwargs)

    hints = get_type_hints(endpoint, include_extras=True)
    parameters = [
        inspect.Parameter(
            param,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[PathText, Path(description=description)],
        )
    ]
    for name, parameter in inspect.signature(endpoint).parameters.items():
        if name != "user":
            parameters.append(
                parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[name])
            )
    # FastAPI reads the parameters from __signature__, which functions accept though mypy cannot
    # see the attribute.
    bound.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=hints.get("return", inspect.Signature.empty)
    )
    bound.__name__ = f"{endpoint.__name__}_by_{param}"
    bound.__doc__ = endpoint.__doc__
    return bound


@dataclass(frozen=True)
class Operation:
    """One route that a route factory registers for each of several kinds: its description, its
    declared answers and, for a route that reads a body, the body's annotated type (the model
    with its OpenAPI examples)."""

    description: str
    responses: Responses
    body: Any = None

    def endpoint(
        self, handle: Callable[..., Awaitable[Any]], operation_id: str
    ) -> Callable[..., Awaitable[Any]]:
        """`handle` as an endpoint of `operation_id` (see `with_dependencies`) whose `body`
        has this operation's type."""
        return with_dependencies(handle, operation_id, body=self.body)


def with_dependencies(
    handle: Callable[..., Awaitable[Any]], operation_id: str, *, body: Any = None
) -> Callable[..., Any]:
    """`handle` with the signature FastAPI reads its parameters from: its own annotations, except
    that a `Runtime` becomes the runtime dependency, a `Context` the context of `operation_id`,
    a `str` a path segment (`storeName`, `rpId`), and `body` (if given) the body's type."""
    hints = get_type_hints(handle, include_extras=True)
    context = Annotated[Context, context_for(operation_id)]
    annotations = {}
    for name in inspect.signature(handle).parameters:
        hint = hints[name]
        # By identity: an Annotated hint may hold unhashable metadata.
        if hint is Runtime:
            hint = RuntimeDep
        elif hint is Context:
            hint = context
        elif hint is str:
            hint = PathText
        annotations[name] = hint
    if body is not None:
        annotations["body"] = body

    async def endpoint(**kwargs: Any) -> Any:
        return await handle(**kwargs)

    # As in _with_user_parameter: FastAPI reads the parameters from __signature__; user_route
    # reads the annotations.
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
            for name, annotation in annotations.items()
        ],
        return_annotation=hints.get("return", inspect.Signature.empty),
    )
    endpoint.__annotations__ = dict(annotations)
    if "return" in hints:
        endpoint.__annotations__["return"] = hints["return"]
    endpoint.__name__ = handle.__name__
    endpoint.__doc__ = handle.__doc__
    return endpoint
