"""What the HTTP layer hands to services: the process's runtime and each request's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from idstore.clock import Clock
from idstore.crypto.keyring import KeyRing
from idstore.crypto.keysource import KeySource
from idstore.db.engine import Database
from idstore.services.callers import Caller, Revocations, caller_from_token
from idstore.services.context import Context
from idstore.services.errors import TooManyRequests, Unauthenticated
from idstore.services.rate_limits import CallerLimiter, NoLimit
from idstore.services.throttle import AttemptRate
from idstore.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """One per process: the database, the key ring, the clock, the settings, revoked keys."""

    settings: Settings
    database: Database
    keys: KeySource
    clock: Clock
    limiter: CallerLimiter = field(default_factory=NoLimit)
    revocations: Revocations = field(default_factory=Revocations)

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

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/arthr/apiKeys/issue.")


def request_id(request: Request) -> str:
    found: str = request.state.request_id
    return found


def caller_for(operation: str) -> Any:
    """A dependency that verifies the bearer token and the permission `operation` needs.

    Raises Unauthenticated (9003) and PermissionDenied (9004).
    """

    async def verified_caller(
        run: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Caller:
        if credentials is None:
            raise Unauthenticated("a bearer token is required")
        caller = caller_from_token(
            run.keyring, credentials.credentials, now=run.clock.now(), revocations=run.revocations
        )
        wait = await run.limiter.wait_seconds(caller.api_key_id)
        if wait:
            raise TooManyRequests("too many requests from this API key", retry_after_seconds=wait)
        caller.require(operation)
        return caller

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


def context_for(operation: str) -> Any:
    """The verified caller of `caller_for`, with the request's id and instant."""

    # A default, not an annotation: annotations are strings here, evaluated without this closure.
    verified = caller_for(operation)

    async def verified_context(
        request: Request, run: RuntimeDep, caller: Caller = verified
    ) -> Context:
        return context_of(caller, request, run)

    verified_context.__name__ = f"context_for_{operation}"
    return Depends(verified_context)
