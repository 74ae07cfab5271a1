"""Routes for a user's appkeys (spec §10): list, read, status, delete, registration audit,
deregistration by type, device or key id, and the preferred device. Each has its `/ext` twin
keyed by `extUserId`, as the changelog spells it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from idstore.api.common import answers, page_request
from idstore.api.examples import appkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME, PAGE_TOO_LARGE
from idstore.api.examples.users import USER
from idstore.api.presenters import appkey_out, page_out, user_out
from idstore.api.routing import PathRpId, PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.appkey_outcomes import DeregistrationOut
from idstore.api.schemas.appkeys import (
    AppkeyOut,
    AppkeyRegistrationAuditOut,
    AppkeyStatusIn,
    DeregistrationIn,
    PreferredDeviceIn,
)
from idstore.api.schemas.common import PageOut
from idstore.api.schemas.users import UserOut
from idstore.services import appkey_deregistrations, user_appkeys
from idstore.services.appkey_deregistrations import Deregistration
from idstore.services.context import Context, UserRef
from idstore.services.errors import StoreNotFound, UserNotFound
from idstore.services.models import AppkeyStatus
from idstore.services.paging import PageRequest

router = APIRouter(prefix="/api/identity-store/stores", tags=["appkeys"])

USER_APPKEYS = f"/{segment('storeName')}/users/{{user}}/appkeys"
APPKEY = f"{USER_APPKEYS}/{segment('id')}"
RELYING_PARTY = f"{USER_APPKEYS}/relyingParties/{segment('rpId')}"
EXT = "extUserId"
_USER = (StoreNotFound, UserNotFound, NUL_IN_STORE_NAME)
_APPKEY = (*_USER, examples.APPKEY_NOT_FOUND)


def _deregistration_out(done: Deregistration) -> DeregistrationOut:
    return DeregistrationOut(user=user_out(done.user), deregistration_request=done.request)


@user_route(
    router,
    "GET",
    USER_APPKEYS,
    operation_id="listUserAppkeys",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.APPKEY_PAGE, *_USER, PAGE_TOO_LARGE),
)
async def list_appkeys(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listUserAppkeys")],
    paging: Annotated[PageRequest, Depends(page_request)],
) -> PageOut[AppkeyOut]:
    """The user's appkeys, oldest first unless `sort` says otherwise."""
    page = await user_appkeys.list_appkeys(
        run.database, ctx, store_name=storeName, ref=user, request=paging
    )
    return page_out(page, appkey_out)


@user_route(
    router,
    "GET",
    APPKEY,
    operation_id="getUserAppkey",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.APPKEY, *_APPKEY),
)
async def get_appkey(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getUserAppkey")],
) -> AppkeyOut:
    """One of the user's appkeys."""
    appkey = await user_appkeys.get_appkey(
        run.database, ctx, store_name=storeName, ref=user, appkey_id=id
    )
    return appkey_out(appkey)


@user_route(
    router,
    "POST",
    APPKEY,
    operation_id="updateUserAppkey",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.DISABLED_APPKEY, *_APPKEY),
)
async def set_appkey_status(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    body: Annotated[AppkeyStatusIn, Body(openapi_examples=examples.STATUS_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateUserAppkey")],
) -> AppkeyOut:
    """Disable or re-enable an appkey; a disabled one cannot authenticate."""
    appkey = await user_appkeys.set_appkey_status(
        run.database,
        ctx,
        store_name=storeName,
        ref=user,
        appkey_id=id,
        status=AppkeyStatus(body.status),
    )
    return appkey_out(appkey)


@user_route(
    router,
    "DELETE",
    APPKEY,
    operation_id="deleteUserAppkey",
    ext_param=EXT,
    status_code=204,
    response_class=Response,
    responses=answers(None, *_APPKEY),
)
async def delete_appkey(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteUserAppkey")],
) -> Response:
    """Delete one of the user's appkeys (the app is not told; deregistrations tell it)."""
    await user_appkeys.delete_appkey(
        run.database, ctx, store_name=storeName, ref=user, appkey_id=id
    )
    return Response(status_code=204)


@user_route(
    router,
    "GET",
    f"{APPKEY}/registrationAudit",
    operation_id="getAppkeyRegistrationAudit",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.REGISTRATION_AUDIT, *_APPKEY),
)
async def get_registration_audit(
    storeName: PathText,
    user: UserRef,
    id: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getAppkeyRegistrationAudit")],
) -> AppkeyRegistrationAuditOut:
    """How the appkey was registered: AAID, attestation type and subject, facet, device."""
    audit = await user_appkeys.registration_audit(
        run.database, ctx, store_name=storeName, ref=user, appkey_id=id
    )
    return AppkeyRegistrationAuditOut.model_validate(audit)


@user_route(
    router,
    "POST",
    f"{RELYING_PARTY}/deregistrations",
    operation_id="deregisterAppkeys",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.DEREGISTERED, *_USER, examples.NOTHING_MATCHED),
)
async def deregister(
    storeName: PathText,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[DeregistrationIn, Body(openapi_examples=examples.DEREGISTRATION_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deregisterAppkeys")],
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


@user_route(
    router,
    "DELETE",
    f"{RELYING_PARTY}/registrations/keyIds/{segment('keyId')}",
    operation_id="deleteAppkeyByKeyId",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(examples.DEREGISTERED, *_USER, examples.NOTHING_MATCHED),
)
async def delete_by_key_id(
    storeName: PathText,
    user: UserRef,
    rpId: PathRpId,
    keyId: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteAppkeyByKeyId")],
) -> DeregistrationOut:
    """Delete the user's appkey of the relying party with that UAF key id; answers the
    DeregistrationRequest for the app."""
    done = await appkey_deregistrations.delete_key_id(
        run.database, ctx, store_name=storeName, ref=user, rp_id=rpId, key_id=keyId
    )
    return _deregistration_out(done)


@user_route(
    router,
    "POST",
    f"{RELYING_PARTY}/preferredDevices",
    operation_id="setPreferredAppkeyDevice",
    ext_param=EXT,
    response_model_exclude_none=True,
    responses=answers(USER, *_USER, examples.DEVICE_NOT_FOUND),
)
async def prefer_device(
    storeName: PathText,
    user: UserRef,
    rpId: PathRpId,
    body: Annotated[PreferredDeviceIn, Body(openapi_examples=examples.PREFERRED_DEVICE_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("setPreferredAppkeyDevice")],
) -> UserOut:
    """Make the device's keys for the relying party the preferred ones (pushes go there
    first); the user's other keys for it stop being preferred."""
    updated = await appkey_deregistrations.prefer_device(
        run.database, ctx, store_name=storeName, ref=user, rp_id=rpId, device_id=body.device_id
    )
    return user_out(updated)
