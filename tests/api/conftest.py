"""Fixtures of the HTTP tests beyond the suite's own (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.openapi import fetch
from tests.support.server import LiveServer
from tests.support.tenants import tenant_admin


@pytest.fixture
def anonymous(server: LiveServer) -> Iterator[httpx.Client]:
    """A client with no credentials at all, as a browser or a scraper comes."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    """A client of a tenant of its own holding every permission, so tests may block its keys."""
    with tenant_admin(server) as client:
        yield client


@pytest.fixture(scope="module")
def openapi_document(server: LiveServer) -> dict[str, Any]:
    """The served /openapi.json, read once per test module."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return fetch(client)
