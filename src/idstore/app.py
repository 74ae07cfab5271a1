"""Builds the ASGI application: routers, middleware, error translation, OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from idstore import __version__, logs
from idstore.api import (
    api_keys,
    appkey_authentications,
    appkey_configs,
    appkey_registrations,
    appkeys,
    audit,
    biometrics,
    docs_pages,
    errors,
    events,
    health,
    passkey_authentications,
    passkey_configs,
    passkeys,
    stores,
    totps,
    users,
)
from idstore.api.hot_path import HotRoute, HotRoutes
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.middleware import RequestFrame
from idstore.api.route_precedence import literal_routes_first
from idstore.api.routing import RawPathRouting
from idstore.api.runtime import Runtime, operation_of
from idstore.api.schemas.biometrics import FACE_ONLY
from idstore.api.schemas.common import NAME_PATTERN
from idstore.api.schemas.totps import CodeIn
from idstore.clock import Clock, SystemClock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import FixedKeys, key_source
from idstore.db.engine import Database
from idstore.face import FaceWorkers
from idstore.services.rate_limits import RedisLimiter, caller_limiter
from idstore.settings import Settings

DESCRIPTION = (
    "Holds users and their authenticators, decides every authentication, locks out attackers "
    "and keeps an audit trail. Compatible with the TrustX Identity Store REST API."
)

# One tag per resource, in the order a newcomer meets them; /docs groups operations by these.
TAGS = [
    {"name": "API keys", "description": "Callers' keys, and the bearer tokens issued for them."},
    {"name": "stores", "description": "Stores of a tenant and their configuration."},
    {"name": "TOTP policies", "description": "How a store's TOTPs are made and checked."},
    {"name": "users", "description": "Users of a store, by id or by external id (`/ext`)."},
    {
        "name": "user TOTPs",
        "description": "Registering a user's TOTP, checking its codes, and managing it.",
    },
    {
        "name": "passkey configurations",
        "description": "A relying party's passkey settings: origins, sessions, policies.",
    },
    {
        "name": "passkeys",
        "description": "Registering a user's passkey, and managing the user's passkeys.",
    },
    {
        "name": "appkey configurations",
        "description": "A relying party's appkey settings: trusted facets, sessions, policies.",
    },
    {
        "name": "appkeys",
        "description": "Registering a user's appkey; listing, status, deregistration, devices.",
    },
    {
        "name": "passkey authentication",
        "description": "Signing in with a passkey, for a known user or discoverable.",
    },
    {
        "name": "biometrics",
        "description": "Enrolling a user's face, matching faces, recording failures.",
    },
    {
        "name": "appkey authentication",
        "description": "Signing in with an appkey: by session, by sessionData, or single-shot.",
    },
    {"name": "authentication audit", "description": "Every authentication attempt of a user."},
    {"name": "admin events", "description": "Who changed what, when, in which request."},
    {"name": "health", "description": "Liveness and readiness; no token needed."},
    {"name": "metrics", "description": "Prometheus metrics; no token needed."},
]


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    keyring: KeyRing | None = None,
) -> FastAPI:
    """The service. Tests pass their own clock; nothing a client sends can move it."""
    runtime = Runtime(
        settings=settings,
        database=database
        or Database(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            statement_timeout_seconds=settings.database_statement_timeout_seconds,
        ),
        keys=FixedKeys(keyring) if keyring is not None else key_source(settings),
        clock=clock or SystemClock(),
        limiter=caller_limiter(settings.caller_requests_per_second, settings.redis_url),
        face_workers=FaceWorkers(
            settings.face_workers or None, job_seconds=settings.face_job_seconds
        ),
    )

    def revocation_window() -> datetime:
        # A token lives token_ttl_seconds; a minute more covers clocks a little apart.
        try:
            return runtime.clock.now() - timedelta(seconds=settings.token_ttl_seconds + 60)
        except OverflowError:  # a TTL reaching back before year 1: every change matters
            return datetime.min.replace(tzinfo=UTC)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.revocations.refresh(runtime.database, changed_since=revocation_window())
        refresher = asyncio.create_task(
            runtime.revocations.keep_fresh(runtime.database, window=revocation_window)
        )
        yield
        refresher.cancel()
        # Waits for the face workers to stop, off the event loop.
        await asyncio.to_thread(runtime.face_workers.close)
        if isinstance(runtime.limiter, RedisLimiter):
            await runtime.limiter.close()
        await runtime.database.dispose()

    app = FastAPI(
        title="idstore",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # A trailing slash is another path: 404 with the error body, never a bare redirect.
        redirect_slashes=False,
        openapi_url=None,  # served by docs_pages, with the pages
        docs_url=None,
        redoc_url=None,
        # idstore reports through its own metrics and logs. FastAPI's OpenTelemetry support
        # would only act on providers configured inside this process, which `idstore serve`
        # never does, yet it asks for them on every request (about a tenth of an
        # authentication's Python work).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    logs.tag_records_with_request_id()
    routers = (
        totps.router,  # the authentication routes are tried first: they are most of the traffic
        passkey_authentications.router,
        appkey_authentications.router,
        passkeys.router,
        biometrics.router,
        appkey_registrations.router,
        stores.router,
        stores.policy_router,
        passkey_configs.router,
        appkey_configs.router,
        appkeys.router,
        users.router,
        audit.router,
        events.router,
        api_keys.router,
        health.router,
        health.metrics_router,
    )
    for router in routers:
        # Every route reads its body strictly (api/json_bodies.py); a router built otherwise would
        # quietly take a key given twice.
        if router.route_class is not JsonBodyRoute:
            raise ValueError(f"router {router.tags} does not use JsonBodyRoute")
        router.routes[:] = _ext_twins_first(router.routes)
        app.include_router(router)
    literal_routes_first([route for router in routers for route in router.routes])
    errors.install(app)
    docs_pages.install(app)
    # Innermost: the routes' own answers, then CORS and the request frame around both paths.
    app.add_middleware(HotRoutes, routes=_hot_routes(), handlers=app.exception_handlers)

    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        # Off unless configured: an identity store is called by servers, not by browsers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Api-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
        )
    app.add_middleware(RequestFrame, max_large_bodies=runtime.face_workers.max_pending)
    app.add_middleware(RawPathRouting)
    # Replacing app.openapi is how FastAPI documents customising the schema.
    app.openapi = lambda: _openapi(app, routers)  # type: ignore[method-assign]
    return app


HOT_OPERATIONS = frozenset({"authenticateTotp", "authenticateTotpByExtId"})


def _hot_routes() -> list[HotRoute]:
    """The authentication routes, in the order the router tries them (the `/ext` twin first).

    Their router is the first the app includes, and only /openapi.json, a literal path, comes
    before it.
    """
    return [
        HotRoute.of(route, CodeIn)
        for route in totps.router.routes
        if isinstance(route, APIRoute) and route.operation_id in HOT_OPERATIONS
    ]


def _ext_twins_first(routes: list[BaseRoute]) -> list[BaseRoute]:
    # `/users/{userExtId}/totps/ext` must win over `/users/{userId}/totps/{id}` for the literal
    # segment `ext`, so every route ending in /ext is tried before the others (stable order).
    # Within each group the authentication routes come first: routes are tried one by one, and
    # theirs share no path with the others (a literal segment always differs).
    return sorted(
        routes,
        key=lambda route: (
            not getattr(route, "path", "").endswith("/ext"),
            getattr(route, "operation_id", None) not in HOT_OPERATIONS,
        ),
    )


def _permissions(routers: tuple[APIRouter, ...]) -> dict[tuple[str, str], str]:
    """The permission operation of every route, by (path, lower-case method)."""
    return {
        (route.path_format, method.lower()): operation
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and (operation := operation_of(route.dependant))
        for method in route.methods or ()
    }


def _openapi(app: FastAPI, routers: tuple[APIRouter, ...]) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        # Validation errors answer 400 with code 9002, never FastAPI's default 422.
        permissions = _permissions(routers)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                operation.get("responses", {}).pop("422", None)
                _declare_path_rules(operation)
                _errors_as_json(operation)
                needed = permissions.get((path, method))
                if needed:
                    operation["x-permission"] = f"TNT#{{tenant}}#IdentityStore:{needed}"
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


_EXTERNAL_ID = {"minLength": 1, "maxLength": 255}
# Path parameters whose rule the service applies with a contract code rather than 9002 (a store
# name no store can have is 3000, an external id no user can have 3100, a type other than FACE
# 20115 or 2005): declared in the document so that clients and fuzzers read it.
PATH_RULES: dict[str, dict[str, Any]] = {
    "storeName": {"pattern": NAME_PATTERN, "minLength": 1, "maxLength": 64},
    "extId": _EXTERNAL_ID,
    "userExtId": _EXTERNAL_ID,
    "extUserId": _EXTERNAL_ID,
    "type": FACE_ONLY,
}


def _declare_path_rules(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            parameter["schema"].update(PATH_RULES.get(parameter["name"], {}))


def _errors_as_json(operation: dict[str, Any]) -> None:
    """FastAPI files an error's schema under the success's media type; an operation whose
    success is not JSON (the TrustedFacets document) still answers its errors in JSON."""
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if int(status) < 400 or "application/json" not in content:
            continue
        for media_type in [media for media in content if media != "application/json"]:
            moved = content.pop(media_type)
            content["application/json"].setdefault("schema", moved.get("schema"))


def permissions_markdown(app: FastAPI) -> str:
    """The permission of every route (docs/permissions.md), read from the served OpenAPI."""
    lines = [
        "# Permissions",
        "",
        "A caller's API key holds permissions `TNT#{tenant}#IdentityStore:{operation}`, or",
        "`TNT#{tenant}#IdentityStore:*` for every operation of its tenant. Each route needs the",
        "one below (generated by `idstore permissions-reference`). A missing permission answers",
        "403 (9004); another tenant's store answers 404 (3000), exactly as a missing store would.",
        "",
        "| operation | method | path |",
        "|---|---|---|",
    ]
    rows = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            needed = operation.get("x-permission")
            if needed:
                rows.append((needed.rsplit(":", 1)[1], method.upper(), path))
    lines += [f"| `{op}` | {method} | `{path}` |" for op, method, path in sorted(rows)]
    return "\n".join(lines) + "\n"
