"""What the HTTP layer hands to services: the process's runtime and each request's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from idstore.clock import Clock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import KeySource
from idstore.db.engine import Database
from idstore.face import FaceWorkers
from idstore.services import api_key_rules
from idstore.services.callers import Caller, Revocations, VerifiedTokens, caller_from_token
from idstore.services.context import Context
from idstore.services.errors import TooManyRequests, Unauthenticated
from idstore.services.rate_limits import CallerLimiter, NoLimit
from idstore.services.throttle import AttemptRate
from idstore.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """One per process: the database, the key ring, the clock, the settings, revoked keys, and
    the face model's worker pool (its processes start at the first face request)."""

    settings: Settings
    database: Database
    keys: KeySource
    clock: Clock
    limiter: CallerLimiter = field(default_factory=NoLimit)
    revocations: Revocations = field(default_factory=Revocations)
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    face_workers: FaceWorkers = field(default_factory=FaceWorkers)

    @property
    def attempt_rate(self) -> AttemptRate:
        return AttemptRate(
            burst=self.settings.user_attempt_burst,
            per_minute=self.settings.user_attempts_per_minute,
        )

    @property
    def keyring(self) -> KeyRing:
        """The key ring as it stands now (a key file is re-read when it changes)."""
        return self.keys.current()


async def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def refuse_repeated_header(request: HTTPConnection, name: str) -> None:
    """Refuse a credential header sent more than once.

    Parsers differ on which of two copies counts (the first here; the last in some proxies), so
    a proxy that checks one while the service reads the other would be fooled.

    Raises Unauthenticated (9003).
    """
    if len(request.headers.getlist(name)) > 1:
        raise Unauthenticated(f"the {name} header must be sent once")


class _OneBearer(HTTPBearer):
    """HTTPBearer that refuses a request carrying two or more Authorization headers."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        refuse_repeated_header(request, "Authorization")
        return await super().__call__(request)


_bearer = _OneBearer(
    auto_error=False,
    scheme_name="HTTPBearer",  # the document's name for it, whatever the class is called
    description="A token from POST /api/arthr/apiKeys/issue.",
)


def request_id(request: Request) -> str:
    found: str = request.state.request_id
    return found


async def _verify(
    run: Runtime, credentials: HTTPAuthorizationCredentials | None, operation: str
) -> Caller:
    """The caller of a bearer token, within its rate and holding the permission.

    Raises Unauthenticated (9003), TooManyRequests (9005) and PermissionDenied (9004).
    """
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    caller = caller_from_token(
        run.keyring,
        credentials.credentials,
        now=run.clock.now(),
        revocations=run.revocations,
        verified=run.verified_tokens,
    )
    wait = await run.limiter.wait_seconds(caller.api_key_id)
    if wait:
        raise TooManyRequests("too many requests from this API key", retry_after_seconds=wait)
    caller.require(operation)
    return caller


# Each dependency is one node for FastAPI to resolve on every request, so the ones below take
# the request and the credentials directly instead of stacking on one another.
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def caller_for(operation: str) -> Any:
    """A dependency that verifies the bearer token and the permission `operation` needs."""
    _require_known(operation)

    async def verified_caller(request: Request, credentials: _Credentials) -> Caller:
        return await _verify(request.app.state.runtime, credentials, operation)

    verified_caller.__name__ = f"caller_for_{operation}"
    verified_caller.idstore_operation = operation  # type: ignore[attr-defined]  # see operation_of
    return Depends(verified_caller)


def operation_of(dependant: Dependant) -> str | None:
    """The permission operation a route's dependencies check, if any (for docs and OpenAPI)."""
    for dependency in dependant.dependencies:
        found = getattr(dependency.call, "idstore_operation", None) or operation_of(dependency)
        if found:
            return str(found)
    return None


def context_of(caller: Caller, request: Request, run: Runtime) -> Context:
    """The context of a request whose caller a route already verified."""
    return Context(
        tenant_id=caller.tenant_id,
        caller_id=caller.api_key_id,
        request_id=request_id(request),
        now=run.clock.now(),
    )


async def request_context(
    request: Request, credentials: HTTPAuthorizationCredentials | None, operation: str
) -> Context:
    """The context of a request whose bearer token holds the permission `operation`.

    Raises as `_verify` does: Unauthenticated (9003), TooManyRequests (9005), PermissionDenied
    (9004).
    """
    run: Runtime = request.app.state.runtime
    return context_of(await _verify(run, credentials, operation), request, run)


async def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The request's `Authorization: Bearer …` credentials, read as the routes' dependency does."""
    return await _bearer(request)


def _require_known(operation: str) -> None:
    # At import: a route checking an operation no key can be granted would answer 403 forever.
    if operation not in api_key_rules.OPERATIONS:
        raise ValueError(f"operation {operation!r} is missing from api_key_rules.OPERATIONS")


def context_for(operation: str) -> Any:
    """A dependency like `caller_for` that answers the request's context: caller, id, instant."""
    _require_known(operation)

    async def verified_context(request: Request, credentials: _Credentials) -> Context:
        return await request_context(request, credentials, operation)

    verified_context.__name__ = f"context_for_{operation}"
    verified_context.idstore_operation = operation  # type: ignore[attr-defined]  # see operation_of
    return Depends(verified_context)
