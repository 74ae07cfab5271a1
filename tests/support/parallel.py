"""Truly parallel requests: each from its own thread on a connection it opened beforehand, all
released together at one barrier, so they reach the server at once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.server import LiveServer


@dataclass(frozen=True)
class Call:
    """One request: a POST of `body` unless `method` says otherwise."""

    url: str
    body: dict[str, Any] | None = None
    method: str = "POST"


def all_at_once(server: LiveServer, token: str, calls: list[Call]) -> list[httpx.Response]:
    """Send every call from its own thread and connection; all leave at one barrier."""
    barrier = threading.Barrier(len(calls))
    headers = {"Authorization": f"Bearer {token}"}

    def send(call: Call) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            assert client.get("/health/live").status_code == 200  # connection open before
            barrier.wait(timeout=60)
            return client.request(call.method, call.url, json=call.body)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def codes_of(responses: list[httpx.Response]) -> Counter[int]:
    """How many answers were a 200, and how many each error code."""
    return Counter(200 if r.status_code == 200 else int(r.json()["code"]) for r in responses)
