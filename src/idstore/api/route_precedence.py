"""A literal path segment belongs to the route that spells it, whatever the method.

`/apiKeys/issue` is a path of its own (POST), yet `/apiKeys/{id}` matches it too, so GET and
DELETE there reached the key routes (for a key named `issue`, which no key is) and the Allow
header of a 405 named them. A route yields each path that a more specific route matches: one
whose segments are the same or literal where this one's are parameters. Such a path answers the
methods its own routes serve, and 405 with just those for the others (RFC 9110 §15.5.6).

Routes that are each more specific in one segment (`…/totps/authentications/{policyName}` and
`…/{userExtId}/totps/{id}/ext`) neither yield: the router's order decides between them, as
before (app._ext_twins_first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


class LiteralFirstRoute(APIRoute):
    """A route that does not match the paths of the more specific routes in `yields_to`."""

    yields_to: tuple[BaseRoute, ...] = ()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.NONE or not self.yields_to:
            return match, child_scope
        # PARTIAL counts: the path is the specific route's even for a method it does not serve.
        if any(route.matches(scope)[0] is not Match.NONE for route in self.yields_to):
            return Match.NONE, {}
        return match, child_scope


def _segments(route: BaseRoute) -> list[str]:
    return str(getattr(route, "path", "")).strip("/").split("/")


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{")


def is_more_specific(route: BaseRoute, than: BaseRoute) -> bool:
    """Whether every path `route` matches, `than` matches too, and not the reverse: the same
    segments, literal in `route` at least once where `than` has a parameter, never the other
    way round."""
    mine, theirs = _segments(route), _segments(than)
    if len(mine) != len(theirs):
        return False
    narrower = False
    for own, other in zip(mine, theirs, strict=True):
        if _is_parameter(own):
            if not _is_parameter(other):
                return False
        elif _is_parameter(other):
            narrower = True
        elif own != other:
            return False
    return narrower


def literal_routes_first(routes: Sequence[Any]) -> None:
    """Make each route yield the paths of the routes more specific than it."""
    for route in routes:
        if isinstance(route, LiteralFirstRoute):
            route.yields_to = tuple(
                other for other in routes if other is not route and is_more_specific(other, route)
            )
