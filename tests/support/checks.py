"""Assertions on the contract's shapes (spec §1, §8) that several API test modules share."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

# Spec §1: ISO-8601 UTC with milliseconds and `Z`.
DTM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ERROR_KEYS = frozenset({"httpStatus", "code", "message", "requestId"})
ENVELOPE_KEYS = frozenset(
    {
        "content",
        "number",
        "size",
        "numberOfElements",
        "totalElements",
        "totalPages",
        "first",
        "last",
        "empty",
    }
)


def json_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response's JSON object, after checking its status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """The error body, after checking status, code, the exact shape and the request id."""
    body = json_of(response, status)
    assert body["code"] == code, body
    assert body["httpStatus"] == status
    assert ERROR_KEYS <= body.keys() <= ERROR_KEYS | {"fieldErrors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def field_errors_of(response: httpx.Response) -> list[str]:
    """The fields a 400 / 9002 names, after checking the fieldErrors items' shape."""
    body = error_of(response, 400, 9002)
    items: list[dict[str, Any]] = body["fieldErrors"]
    assert items, body
    for item in items:
        assert set(item) == {"field", "message"}, item
        assert isinstance(item["message"], str) and item["message"]
    return [str(item["field"]) for item in items]


def assert_invalid(response: httpx.Response, field: str) -> None:
    """400 with 9002, and `fieldErrors` naming `field` (as the client spells it)."""
    names = field_errors_of(response)
    assert field in names, (field, names)


def assert_dtm(value: Any) -> None:
    assert isinstance(value, str) and DTM.match(value), value


def iso_ms(unix_time: float) -> str:
    """How the contract writes an instant with whole milliseconds."""
    moment = datetime.fromtimestamp(unix_time, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def send_json(client: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    """Send `body` as ASCII-escaped JSON, so that lone surrogates travel as `\\udXXX` escapes."""
    content = json.dumps(body, ensure_ascii=True).encode("ascii")
    return client.request(
        method, url, content=content, headers={"Content-Type": "application/json"}
    )


def in_parallel(count: int, request: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Send `count` requests at once (threads released together), in index order."""
    barrier = threading.Barrier(count)

    def send(index: int) -> httpx.Response:
        barrier.wait()
        return request(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def content_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The items of a 200 paged list (spec §1), after checking the envelope's fields."""
    page = json_of(response, 200)
    assert set(page) == ENVELOPE_KEYS, page
    items: list[dict[str, Any]] = page["content"]
    assert page["numberOfElements"] == len(items), page
    return items
