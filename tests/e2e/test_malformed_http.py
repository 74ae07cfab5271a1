"""Malformed HTTP sent to a real `idstore serve` over a raw socket (docs/security.md, "Malformed
HTTP"): what uvicorn refuses before the app is a plain-text 400 that closes the connection; an
upgrade request reaches the app and gets the contract's JSON."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.processes import Launcher, ServerProcess

pytestmark = pytest.mark.e2e

UVICORN_REFUSAL = b"Invalid HTTP request received."
STORES = b"/api/identity-store/stores"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("malformed")
    url = fresh_database_url(folder)
    launcher = Launcher(folder)
    try:
        yield launcher(data_dir=folder / "data", database_url=url, bootstrap_api_key=None)
    finally:
        launcher.stop_all()
        drop_database(url)


def _send(server: ServerProcess, raw: bytes) -> Answer:
    """Send `raw` on a new connection and read one answer, to its length or to the close."""
    host, port = server.base_url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(raw)
        while not _complete(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return Answer(int(status_line.split(" ")[1]), headers, body)


def _complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if separator and line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _request(target: bytes, *headers: bytes, body: bytes = b"", method: bytes = b"GET") -> bytes:
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# What the HTTP parser (httptools) refuses: the app never sees these requests.
REFUSED_BY_THE_PARSER = {
    "request line": b"GARBAGE\r\n\r\n",
    "method": _request(STORES, method=b"GE(T"),
    "control byte in a header value": _request(STORES, b"X-Trace: a\x01b"),
    "space in a header name": _request(STORES, b"X Trace: b"),
    "folded header line": _request(STORES, b"X-Trace: a", b"  b"),
    "bare LF line ends": b"GET /health/live HTTP/1.1\nHost: 127.0.0.1\n\n",
    "non-ASCII byte in the path": _request(STORES + b"/\xc3\xa9"),
    "NUL in the path": _request(STORES + b"/a\x00b"),
    "Content-Length and Transfer-Encoding": _request(
        STORES, b"Content-Length: 4", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"
    ),
    "two Content-Length headers": _request(
        STORES, b"Content-Length: 2", b"Content-Length: 3", body=b"{}", method=b"POST"
    ),
    "negative Content-Length": _request(STORES, b"Content-Length: -1", method=b"POST"),
    "chunk size that is no number": _request(
        STORES, b"Transfer-Encoding: chunked", body=b"ZZ\r\n{}\r\n0\r\n\r\n", method=b"POST"
    ),
}


@pytest.mark.parametrize("raw", REFUSED_BY_THE_PARSER.values(), ids=REFUSED_BY_THE_PARSER.keys())
def test_what_the_parser_refuses_is_a_plain_400_that_closes_the_connection(
    served: ServerProcess, raw: bytes
) -> None:
    answer = _send(served, raw)

    assert (answer.status, answer.body) == (400, UVICORN_REFUSAL)
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["connection"] == "close"
    assert "server" not in answer.headers


@pytest.mark.parametrize("protocol", [b"websocket", b"h2c"])
def test_an_upgrade_request_is_an_ordinary_request_answered_in_json(
    served: ServerProcess, protocol: bytes
) -> None:
    raw = _request(
        STORES,
        b"Connection: Upgrade",
        b"Upgrade: " + protocol,
        b"Sec-WebSocket-Version: 13",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    )

    answer = _send(served, raw)

    assert answer.status == 401
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body)["code"] == 9003
    assert answer.headers["x-request-id"]


def test_the_service_answers_on_after_malformed_requests(served: ServerProcess) -> None:
    for raw in REFUSED_BY_THE_PARSER.values():
        _send(served, raw)

    answer = _send(served, _request(b"/health/live"))

    assert (answer.status, json.loads(answer.body)) == (200, {"status": "UP"})
