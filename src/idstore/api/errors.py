"""Every error becomes the contract's body: {httpStatus, code, message, requestId, ...}."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from idstore.api.json_bodies import OBJECT_REQUIRED
from idstore.api.presenters import user_out
from idstore.crypto.keyring import SealBroken
from idstore.db.errors import is_unavailability
from idstore.services.errors import (
    DatabaseUnavailable,
    FieldError,
    IdstoreError,
    InvalidField,
    InvalidJson,
    MethodNotAllowed,
    RouteNotFound,
    UnexpectedError,
)

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 2
BEARER_PATHS = ("/api/identity-store/", "/api/arthr/apiKeys")
ISSUE_PATH = "/api/arthr/apiKeys/issue"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# As JSONResponse writes a body, built once rather than by json.dumps on every error.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def error_body(error: IdstoreError, request_id: str) -> dict[str, Any]:
    """The body as a JSON object: what `error_json` writes, read back (for the docs' examples)."""
    body: dict[str, Any] = json.loads(error_json(error, request_id))
    return body


def error_json(error: IdstoreError, request_id: str) -> bytes:
    """`error_body` as JSON. The user most refusals carry goes from its response model straight
    to JSON (pydantic's serialiser) instead of through a dict of dicts and json.dumps: it is most
    of the body, and an authentication refused is the commonest answer there is."""
    text = _ENCODER.encode(_envelope(error, request_id))
    if error.user is not None:
        user = user_out(error.user).model_dump_json(exclude_none=True)
        text = f'{text[:-1]},"user":{user}}}'
    # A message quoting the client's text may hold a lone surrogate (JSON can spell one, UTF-8
    # cannot carry it): written back as its \u escape, which is still the same JSON string.
    return text.encode("utf-8", "backslashreplace")


def _envelope(error: IdstoreError, request_id: str) -> dict[str, Any]:
    """Everything of the body but the user."""
    body: dict[str, Any] = {
        "httpStatus": error.http_status,
        "code": error.code,
        "message": error.message,
        "requestId": request_id,
    }
    if error.field_errors:
        body["fieldErrors"] = [
            {"field": item.field, "message": item.message} for item in error.field_errors
        ]
    return body


def error_response(error: IdstoreError, request_id: str) -> Response:
    headers = {}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(
        error_json(error, request_id),
        status_code=error.http_status,
        headers=headers,
        media_type="application/json",
    )


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


async def _on_idstore_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, IdstoreError)  # noqa: S101 - registered for this type only
    response = error_response(error, _request_id(request))
    challenge = _challenge(request.url.path) if error.http_status == 401 else None
    if challenge is not None:
        # RFC 7235 §3.1: a 401 names the scheme that would be accepted (RFC 6750 §3).
        response.headers["WWW-Authenticate"] = challenge
    return response


def _challenge(path: str) -> str | None:
    """The scheme a 401 on this path asks for: the API key on the token exchange (a scheme of
    this API's own, named after its header), a bearer token everywhere else it is needed."""
    if path == ISSUE_PATH:
        return 'ApiKey realm="idstore", header="X-Api-Key"'
    if path.startswith(BEARER_PATHS):
        return 'Bearer realm="idstore"'
    return None


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = list(error.errors())
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return error_response(InvalidJson(), _request_id(request))
    field_errors = tuple(_field_error(problem) for problem in problems)
    message = "; ".join(f"{item.field}: {item.message}" for item in field_errors)
    return error_response(InvalidField(message, field_errors=field_errors), _request_id(request))


def _field_error(problem: dict[str, Any]) -> FieldError:
    # Pydantic marks a bad map key with a trailing "[key]"; the client knows it as the key itself.
    location = [str(part) for part in problem.get("loc", ()) if part != "[key]"]
    if location and location[0] in ("body", "query", "path", "header"):
        location = location[1:]
    if not location:
        return FieldError("body", OBJECT_REQUIRED)
    return FieldError(".".join(location), str(problem.get("msg", "invalid")))


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for this type only
    mapped: IdstoreError
    if error.status_code == 404:
        mapped = RouteNotFound()
    elif error.status_code == 405:
        mapped = MethodNotAllowed()
    elif error.status_code == 400:
        # FastAPI's body parser answers 400 for JSON it cannot read that is not a syntax error
        # (an integer beyond Python's digit limit, say).
        mapped = InvalidJson()
    else:
        log.error("http.unexpected_status", extra={"status": error.status_code})
        mapped = UnexpectedError()
    response = error_response(mapped, _request_id(request))
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Each method is its own route here, so the
    router's own Allow names only the first route that matched the path (RFC 9110 §10.2.1)."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


async def _on_seal_broken(request: Request, error: Exception) -> Response:
    # Fail closed: a sealed secret that does not open is never treated as a wrong code.
    log.error("secret.unseal_failed", exc_info=error)
    return error_response(UnexpectedError(), _request_id(request))


async def _on_database_error(request: Request, error: Exception) -> Response:
    if isinstance(error, sa_exc.DataError):
        invalid = InvalidField.of("body", "a value cannot be stored as given")
        return error_response(invalid, _request_id(request))
    if not is_unavailability(error) and not isinstance(error, sa_exc.TimeoutError):
        log.error("database.error", exc_info=error)
        return error_response(UnexpectedError(), _request_id(request))
    log.warning("database.unavailable", extra={"error": type(error).__name__})
    unavailable = DatabaseUnavailable(retry_after_seconds=DATABASE_RETRY_AFTER_SECONDS)
    return error_response(unavailable, _request_id(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(IdstoreError, _on_idstore_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(SealBroken, _on_seal_broken)
    for database_error in (sa_exc.DBAPIError, sa_exc.TimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(database_error, _on_database_error)
