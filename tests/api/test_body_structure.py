"""The nesting check before any route: its walk in Python sees only a body's quotes and brackets,
which a large (image-carrying) body may not hold many of (F2: a 10 MiB body walked byte by byte
on the event loop, before authentication)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from idstore.api.middleware import MAX_BODY_BYTES, MAX_NESTING, _nesting_depth, structure_of
from tests.support.api import Api
from tests.support.checks import assert_invalid

MiB = 1024 * 1024


def image_body(extra: bytes) -> bytes:
    image = base64.b64encode(bytes(range(256)) * (7 * MiB // 256))
    return b'{"data":"' + image + b'","matchingAlgorithm":"' + extra + b'"}'


def test_a_10_mib_image_body_leaves_a_few_bytes_to_walk() -> None:
    body = image_body(b"[" * 40)

    structure = structure_of(body)

    assert len(body) > 9 * MiB
    assert structure == b"{" + b'"' * 7 + b"[" * 40 + b'"}'
    assert _nesting_depth(structure) == 1


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"[" * 33 + b"]" * 33, 33),
        (b'{"a":"]]]\\\\","b":[[1]]}', 3),  # an escaped backslash ends before the quote
        (b'{"a":"\\"[[[[","b":1}', 1),  # an escaped quote does not end the string
        (b'{"a":"\\\\\\"{{","b":{}}', 2),  # a backslash, then an escaped quote
        (b'[{"k":[{}]}]', 4),
    ],
)
def test_the_depth_counts_brackets_outside_strings_only(body: bytes, depth: int) -> None:
    assert _nesting_depth(structure_of(body)) == depth


def test_a_large_body_of_many_brackets_is_refused_before_the_route(
    api: Api, store: dict[str, Any]
) -> None:
    user = api.create_user(store["name"])
    url = api.user_url(store["name"], user, "biometrics/FACE")
    many = b'{"data":"' + b"[" * (MAX_BODY_BYTES + 1) + b'"}'
    deep = b'{"data":"x","a":' + b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1) + b"}"

    for body in (many, deep):
        response = api.client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert_invalid(response, "body")
    assert (
        api.client.get(api.user_url(store["name"], user)).json()["summaryInfo"]
        == user["summaryInfo"]
    )


@pytest.fixture
def store(api: Api) -> dict[str, Any]:
    return api.create_store()
