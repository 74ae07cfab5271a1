"""The frame around every request: request id, body bounds, security headers, one log line.

Written as plain ASGI middleware: it sees the body before any handler, so an oversized, wrongly
typed or pathologically nested body is answered here and never reaches a route.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idstore import metrics
from idstore.api.errors import error_json
from idstore.logs import current_request_id
from idstore.services.errors import (
    BodyTooLarge,
    IdstoreError,
    InvalidField,
    InvalidJson,
    TooManyRequests,
    UnexpectedError,
    UnsupportedMediaType,
)

log = logging.getLogger("idstore.access")

MAX_BODY_BYTES = 64 * 1024
# A refusal names a repeated query parameter by at most this many characters of its name.
MAX_SHOWN_NAME = 64
# Face enrolment and matching carry an image (spec §1, §11): their routes, and only theirs, take
# bodies of up to 10 MiB. Matched on the raw path, as the routes are.
MAX_BIOMETRIC_BODY_BYTES = 10 * 1024 * 1024
_BIOMETRIC_PATH = re.compile(
    r"^/api/identity-store/stores/[^/]+/users/[^/]+/biometrics/"
    r"(?:[^/]+|authentications/face)(?:/ext)?$"
)
# Large (face) bodies read and handled at once in one process; the app passes its face pool's
# capacity, past which the pool would refuse them anyway (9005).
DEFAULT_MAX_LARGE_BODIES = 16
MAX_NESTING = 32
_NOT_STRUCTURAL = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class _Response:
    """What the frame learns of the response as it passes: its status, whether it began."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id.encode()
        self.status = 500
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            message["headers"] = [
                *message.get("headers", []),
                (b"x-request-id", self._request_id),
                *_SECURITY_HEADERS,
            ]
        await self._send(message)


class RequestFrame:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_biometric_body_bytes: int = MAX_BIOMETRIC_BODY_BYTES,
        max_large_bodies: int = DEFAULT_MAX_LARGE_BODIES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_biometric_body_bytes = max_biometric_body_bytes
        # Each large body costs tens of MB while read, decoded and queued (F3): past this many
        # at once, one more is refused before its first byte is read, so memory stays bounded.
        # One event loop per process touches the count, so a plain integer is exact.
        self.max_large_bodies = max_large_bodies
        self.large_bodies = 0

    def body_limit(self, scope: Scope) -> int:
        """The largest body the request's route takes."""
        raw_path = scope.get("raw_path") or scope["path"].encode("latin-1")
        if _BIOMETRIC_PATH.match(raw_path.decode("latin-1")):
            return self.max_biometric_body_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        response = _Response(send, request_id)

        try:
            await self._serve(scope, receive, response, request_id)
        except Exception:
            log.exception("request.failed")
            if not response.started:
                await _send_error(response.send, UnexpectedError(), request_id)
        finally:
            _log_request(scope, response.status, time.perf_counter() - started)
            current_request_id.reset(token)

    async def _serve(
        self, scope: Scope, receive: Receive, response: _Response, request_id: str
    ) -> None:
        repeated = _repeated_query_parameter(scope)
        if repeated is not None:
            await _send_error(response.send, repeated, request_id)
            return
        limit = self.body_limit(scope)
        large = limit > self.max_body_bytes and _may_exceed(scope, self.max_body_bytes)
        if large and self.large_bodies >= self.max_large_bodies:
            busy = TooManyRequests(
                "too many large requests are being handled; retry later", retry_after_seconds=1
            )
            await _send_error(response.send, busy, request_id)
            return
        self.large_bodies += large
        try:
            refusal, receive = await _screen_body(scope, receive, limit)
            if refusal is not None:
                await _send_error(response.send, refusal, request_id)
            else:
                await self.app(scope, receive, response.send)
        finally:
            self.large_bodies -= large


def _repeated_query_parameter(scope: Scope) -> InvalidField | None:
    """9002 for a query naming a parameter twice (`size=500&size=1`): the framework reads the
    last, a proxy or a log reader may read the first. As a header or a JSON key given twice."""
    query: bytes = scope.get("query_string", b"")
    if not query:
        return None  # nearly every request
    names = Counter(name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    repeated = [name for name, count in names.items() if count > 1]
    if not repeated:
        return None
    shown = repeated[0][:MAX_SHOWN_NAME].encode("utf-8", "backslashreplace").decode("utf-8")
    return InvalidField.of(shown, "given more than once")


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    route = getattr(scope.get("route"), "path_format", None)
    if log.isEnabledFor(logging.INFO):
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
    # Route templates, never raw paths: one series per route, and no external id in a label.
    metrics.request_seconds(scope["method"], route or "unmatched", status).observe(seconds)
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    if runtime is not None:
        metrics.POOL_CONNECTIONS.set(runtime.database.connections_in_use())


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
    # 128 random bits as 32 hex digits, the shape uuid4().hex has, without building a UUID.
    return secrets.token_hex(16)


async def _screen_body(
    scope: Scope, receive: Receive, limit: int
) -> tuple[IdstoreError | None, Receive]:
    """Read the whole body (up to `limit`), check it, and hand the app a receive that replays it."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return BodyTooLarge(f"request body exceeds {limit} bytes"), receive

    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return BodyTooLarge(f"request body exceeds {limit} bytes"), receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)

    if body and not _is_json(_header(scope, b"content-type")):
        return UnsupportedMediaType(), receive
    if body and (b"\x00" in body or not _is_utf8(body)):
        # RFC 8259 §8.1: JSON exchanged between systems is UTF-8. A raw NUL is never valid JSON,
        # and would make the parser behind the routes guess UTF-16 or UTF-32, out of reach of
        # the nesting check below.
        return InvalidJson("request body is not UTF-8 encoded JSON"), receive
    # A body cannot nest deeper than the brackets it holds: counting them (in C) spares even
    # the structure's walk for a face image's megabytes of base64.
    if body.count(b"[") + body.count(b"{") > MAX_NESTING:
        structure = structure_of(body)
        # Only a small body has a legitimate use for many quotes and brackets; a large one
        # carries an image. Bounding them bounds the walk in Python below.
        if len(structure) > MAX_BODY_BYTES:
            return InvalidField.of("body", "too many JSON strings, arrays or objects"), receive
        if _nesting_depth(structure) > MAX_NESTING:
            return InvalidField.of("body", f"JSON nested deeper than {MAX_NESTING} levels"), receive
    return None, replaying(body, receive)


def replaying(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _may_exceed(scope: Scope, size: int) -> bool:
    """Whether the body may be larger than `size`: its declared length says so, or it has none
    (a chunked body's length is known only once read)."""
    declared = _header(scope, b"content-length")
    return declared is None or not declared.isdigit() or int(declared) > size


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    is_json_type = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    return is_json_type and all(_means_utf8(parameter) for parameter in parameters)


def _means_utf8(parameter: str) -> bool:
    """JSON is UTF-8 (RFC 8259 §8.1): a charset naming another encoding is a body in a form the
    service does not read (415), not one to read as UTF-8 anyway."""
    name, _, value = parameter.partition("=")
    if name.strip() != "charset":
        return True
    return value.strip().strip('"') in ("utf-8", "utf8")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def structure_of(body: bytes) -> bytes:
    """The body's quotes and brackets alone, escaped quotes and backslashes removed first: the
    whole of what decides its nesting. Made by bytes methods (in C); a face image's megabytes
    of base64 shrink to a few bytes."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return unescaped.translate(None, _NOT_STRUCTURAL)


def _nesting_depth(structure: bytes) -> int:
    """The deepest nesting of arrays and objects, counted outside strings, in `structure_of`."""
    depth = deepest = 0
    in_string = False
    for byte in structure:
        if byte == 0x22:  # quote
            in_string = not in_string
        elif in_string:
            continue
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:  # ] }
            depth -= 1
    return deepest


async def _send_error(
    send: Callable[[Message], Awaitable[None]], error: IdstoreError, request_id: str
) -> None:
    body = error_json(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if error.retry_after_seconds is not None:
        headers.append((b"retry-after", str(error.retry_after_seconds).encode()))
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
