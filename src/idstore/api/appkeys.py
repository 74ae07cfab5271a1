"""Routes for a user's appkeys (spec §10): list, read, status, delete, registration audit,
deregistration by type, device or key id, and the preferred device. Each has its `/ext` twin
keyed by `extUserId`, as the changelog spells it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Response

from idstore.api.common import Responses, answers, page_request
from idstore.api.examples import appkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME, PAGE_TOO_LARGE
from idstore.api.examples.registration_audits import APPKEY_REGISTRATION_AUDIT
from idstore.api.examples.users import USER
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import appkey_out, page_out, registration_out, user_out
from idstore.api.routing import PathRpId, segment, user_route, with_dependencies
from idstore.api.runtime import Runtime
from idstore.api.schemas.appkey_outcomes import DeregistrationOut
from idstore.api.schemas.appkeys import (
    AppkeyOut,
    AppkeyStatusIn,
    DeregistrationIn,
    PreferredDeviceIn,
)
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.registration_audits import AppkeyRegistrationAuditRecordOut
from idstore.api.schemas.users import UserOut
from idstore.services import appkey_deregistrations, user_appkeys, user_keys
from idstore.services.appkey_deregistrations import Deregistration
from idstore.services.context import Context, UserRef
from idstore.services.errors import StoreNotFound, UserNotFound
from idstore.services.models import AppkeyStatus
from idstore.services.paging import PageRequest
from idstore.services.user_appkeys import APPKEYS
from idstore.services.user_keys import KeyAddress

router = APIRouter(prefix="/api/identity-store/stores", tags=["appkeys"], route_class=JsonBodyRoute)

USER_APPKEYS = f"/{segment('storeName')}/users/{{user}}/appkeys"
APPKEY = f"{USER_APPKEYS}/{segment('id')}"
RELYING_PARTY = f"{USER_APPKEYS}/relyingParties/{segment('rpId')}"
EXT = "extUserId"
_USER = (StoreNotFound, UserNotFound, NUL_IN_STORE_NAME)
_APPKEY = (*_USER, examples.APPKEY_NOT_FOUND)

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def _route(
    method: str, path: str, operation_id: str, responses: Responses, **options: Any
) -> Callable[[Handler], Handler]:
    """Register a handler of the user's appkeys with its `/ext` twin (routing.user_route): its
    `run` and `ctx` become dependencies, its `str` parameters path segments; a response leaves
    out its null fields."""

    def register(handle: Handler) -> Handler:
        user_route(
            router,
            method,
            path,
            operation_id=operation_id,
            ext_param=EXT,
            responses=responses,
            response_model_exclude_none=True,
            **options,
        )(with_dependencies(handle, operation_id))
        return handle

    return register


def _deregistration_out(done: Deregistration) -> DeregistrationOut:
    return DeregistrationOut(user=user_out(done.user), deregistration_request=done.request)


@_route(
    "GET", USER_APPKEYS, "listUserAppkeys", answers(examples.APPKEY_PAGE, *_USER, PAGE_TOO_LARGE)
)
async def list_appkeys(
    storeName: str,
    user: UserRef,
    run: Runtime,
    ctx: Context,
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[AppkeyOut]:
    """The user's appkeys, oldest first unless `sort` says otherwise."""
    page = await user_appkeys.list_appkeys(
        run.database, ctx, store_name=storeName, ref=user, request=paging
    )
    return page_out(page, appkey_out)


@_route("GET", APPKEY, "getUserAppkey", answers(examples.APPKEY, *_APPKEY))
async def get_appkey(
    storeName: str, user: UserRef, id: str, run: Runtime, ctx: Context
) -> AppkeyOut:
    """One of the user's appkeys."""
    appkey = await user_keys.get_key(
        run.database, ctx, APPKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return appkey_out(appkey)


@_route("POST", APPKEY, "updateUserAppkey", answers(examples.DISABLED_APPKEY, *_APPKEY))
async def set_appkey_status(
    storeName: str,
    user: UserRef,
    id: str,
    body: Annotated[AppkeyStatusIn, Body(openapi_examples=examples.STATUS_IN)],
    run: Runtime,
    ctx: Context,
) -> AppkeyOut:
    """Disable or re-enable an appkey; a disabled one cannot authenticate. The appkey as read
    back may be sent, its other fields ignored; no status, or the one it has, changes nothing."""
    appkey = await user_keys.set_key_status(
        run.database,
        ctx,
        APPKEYS,
        KeyAddress(store_name=storeName, ref=user, key_id=id),
        status=None if body.status is None else AppkeyStatus(body.status),
    )
    return appkey_out(appkey)


@_route(
    "DELETE",
    APPKEY,
    "deleteUserAppkey",
    answers(None, *_APPKEY),
    status_code=204,
    response_class=Response,
)
async def delete_appkey(
    storeName: str, user: UserRef, id: str, run: Runtime, ctx: Context
) -> Response:
    """Delete one of the user's appkeys (the app is not told; deregistrations tell it)."""
    await user_keys.delete_key(
        run.database, ctx, APPKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return Response(status_code=204)


@_route(
    "GET",
    f"{APPKEY}/registrationAudit",
    "getAppkeyRegistrationAudit",
    answers(APPKEY_REGISTRATION_AUDIT, *_APPKEY),
)
async def get_registration_audit(
    storeName: str, user: UserRef, id: str, run: Runtime, ctx: Context
) -> AppkeyRegistrationAuditRecordOut:
    """How the appkey was registered: AAID, attestation type and subject, facet, device; and
    the authentication record of the completion that registered it, when there is one."""
    registration = await user_keys.registration_audit(
        run.database, ctx, APPKEYS, KeyAddress(store_name=storeName, ref=user, key_id=id)
    )
    return registration_out(AppkeyRegistrationAuditRecordOut, registration)


@_route(
    "POST",
    f"{RELYING_PARTY}/deregistrations",
    "deregisterAppkeys",
    answers(examples.DEREGISTERED, *_USER, examples.NOTHING_MATCHED),
)
async def deregister(
    storeName: str,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[DeregistrationIn, Body(openapi_examples=examples.DEREGISTRATION_IN)],
    run: Runtime,
    ctx: Context,
) -> DeregistrationOut:
    """Delete the user's appkeys of the relying party of a type (or ALL), on one device when
    `deviceId` is given; answers the DeregistrationRequest for the app."""
    done = await appkey_deregistrations.deregister(
        run.database,
        ctx,
        store_name=storeName,
        ref=user,
        rp_id=rpId,
        key_type=body.type,
        device_id=body.device_id,
    )
    return _deregistration_out(done)


@_route(
    "DELETE",
    f"{RELYING_PARTY}/registrations/keyIds/{segment('keyId')}",
    "deleteAppkeyByKeyId",
    answers(examples.DEREGISTERED, *_USER, examples.NOTHING_MATCHED),
)
async def delete_by_key_id(
    storeName: str, user: UserRef, rpId: PathRpId, keyId: str, run: Runtime, ctx: Context
) -> DeregistrationOut:
    """Delete the user's appkey of the relying party with that UAF key id; answers the
    DeregistrationRequest for the app."""
    done = await appkey_deregistrations.delete_key_id(
        run.database, ctx, store_name=storeName, ref=user, rp_id=rpId, key_id=keyId
    )
    return _deregistration_out(done)


@_route(
    "POST",
    f"{RELYING_PARTY}/preferredDevices",
    "setPreferredAppkeyDevice",
    answers(USER, *_USER, examples.DEVICE_NOT_FOUND),
)
async def prefer_device(
    storeName: str,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[PreferredDeviceIn, Body(openapi_examples=examples.PREFERRED_DEVICE_IN)],
    run: Runtime,
    ctx: Context,
) -> UserOut:
    """Make the device's keys for the relying party the preferred ones (pushes go there
    first); the user's other keys for it stop being preferred."""
    updated = await appkey_deregistrations.prefer_device(
        run.database, ctx, store_name=storeName, ref=user, rp_id=rpId, device_id=body.device_id
    )
    return user_out(updated)
