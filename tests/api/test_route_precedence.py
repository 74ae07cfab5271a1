"""Which route is more specific than which (api/route_precedence.py): a literal segment where
the other has a parameter, and never the reverse."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from idstore.api.route_precedence import is_more_specific

USERS = "/stores/{storeName:segment}/users"


def _route(path: str) -> Route:
    return Route(path, endpoint=lambda request: None)


@pytest.mark.parametrize(
    ("specific", "general"),
    [
        ("/apiKeys/issue", "/apiKeys/{id:segment}"),
        (
            f"{USERS}/{{extId:segment}}/passkeys/ext",
            f"{USERS}/{{userId:segment}}/passkeys/{{id:segment}}",
        ),
    ],
)
def test_a_literal_where_the_other_has_a_parameter_is_more_specific(
    specific: str, general: str
) -> None:
    assert is_more_specific(_route(specific), than=_route(general))
    assert not is_more_specific(_route(general), than=_route(specific))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # Each is literal where the other has a parameter: the router's order decides.
        (
            f"{USERS}/{{userId:segment}}/totps/authentications/{{policyName:segment}}",
            f"{USERS}/{{userExtId:segment}}/totps/{{id:segment}}/ext",
        ),
        ("/apiKeys/{id:segment}", "/apiKeys/{id:segment}/block"),
        ("/apiKeys/issue", "/apiKeys/other"),
        ("/apiKeys/{id:segment}", "/apiKeys/{key:segment}"),
    ],
)
def test_routes_neither_of_which_is_narrower_do_not_yield(one: str, other: str) -> None:
    assert not is_more_specific(_route(one), than=_route(other))
    assert not is_more_specific(_route(other), than=_route(one))
