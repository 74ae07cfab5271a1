"""Every pattern-validated input refuses a trailing newline (issue 7 F10): a regex whose `$`
also matches before a final "\\n" would let "example.com\\n" through."""

from __future__ import annotations

import pytest

from tests.support.api import BASE, Api, unique
from tests.support.checks import assert_invalid, error_of


def test_a_store_name_with_a_trailing_newline_is_refused(api: Api) -> None:
    refused = api.client.post(BASE, json={"name": unique("store") + "\n"})

    assert_invalid(refused, "name")


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("email", "ann@example.com\n", "email"),
        ("nationalities", ["GB\n"], "nationalities.0"),
        ("dateOfBirth", "1990-01-02\n", "dateOfBirth"),
    ],
)
def test_user_fields_with_a_trailing_newline_are_refused(
    api: Api, field: str, value: object, name: str
) -> None:
    store = api.create_store()["name"]

    refused = api.client.post(
        f"{api.store_url(store)}/users", json={"externalId": unique("user"), field: value}
    )

    assert_invalid(refused, name)


def test_a_sort_with_a_trailing_newline_is_refused(api: Api) -> None:
    store = api.create_store()["name"]

    refused = api.client.get(f"{api.store_url(store)}/users", params={"sort": "externalId\n"})

    error_of(refused, 400, 9002)
