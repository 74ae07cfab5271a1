"""Routes for users (spec §4, §6), each user-scoped one with its `/ext` twin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from idstore.api.common import answers, page_request
from idstore.api.examples import errors as error_examples
from idstore.api.examples import users as examples
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import page_out, user_out, user_slim_out
from idstore.api.routing import PathText, segment, user_route
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.common import PageOut, ShortText
from idstore.api.schemas.users import (
    Status,
    UnlockIn,
    UserFields,
    UserIn,
    UserOut,
    UserPatch,
    UserSlimOut,
)
from idstore.services import users
from idstore.services.context import Context, UserRef
from idstore.services.errors import ExternalIdTaken, StoreNotFound, UserNotFound
from idstore.services.models import Modality, UserStatus
from idstore.services.paging import PageRequest
from idstore.services.users import UserChanges, UserFilter

router = APIRouter(prefix="/api/identity-store/stores", tags=["users"], route_class=JsonBodyRoute)

USERS = f"/{segment('storeName')}/users"
_LOOKUP = (StoreNotFound, UserNotFound, error_examples.NUL_IN_STORE_NAME)


def _changes(body: UserFields) -> UserChanges:
    given = body.given()
    status = given.pop("status", None)
    return UserChanges(values=given, status=None if status is None else UserStatus(status))


@router.post(
    USERS,
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.NEW_USER, StoreNotFound, ExternalIdTaken, examples.EXTERNAL_ID_MISSING, status=201
    ),
    operation_id="createUser",
)
async def create_user(
    storeName: PathText,
    body: Annotated[UserIn, Body(openapi_examples=examples.USER_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("createUser")],
) -> UserOut:
    """Create a user; status, locale and time zone default to the store's configuration."""
    user = await users.create_user(run.database, ctx, store_name=storeName, changes=_changes(body))
    return user_out(user)


@router.get(
    USERS,
    response_model_exclude_none=True,
    responses=answers(examples.USERS_PAGE, StoreNotFound, error_examples.PAGE_TOO_LARGE),
    operation_id="listUsers",
)
async def list_users(
    storeName: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("listUsers")],
    paging: Annotated[PageRequest, Depends(page_request)],
    externalId: ShortText | None = None,
    status: Status | None = None,
) -> PageOut[UserSlimOut]:
    """One page of the store's users, optionally filtered by external id or status."""
    where = UserFilter(
        external_id=externalId, status=None if status is None else UserStatus(status)
    )
    page = await users.list_users(
        run.database, ctx, store_name=storeName, where=where, request=paging
    )
    return page_out(page, user_slim_out)


@user_route(
    router,
    "GET",
    USERS + "/{user}",
    operation_id="getUser",
    ext_param="extId",
    response_model_exclude_none=True,
    responses=answers(examples.USER, *_LOOKUP),
)
async def get_user(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getUser")],
) -> UserOut:
    """A user with its locks and authenticators."""
    return user_out(await users.get_user(run.database, ctx, store_name=storeName, ref=user))


@user_route(
    router,
    "POST",
    USERS + "/{user}",
    operation_id="updateUser",
    ext_param="extId",
    response_model_exclude_none=True,
    responses=answers(
        examples.UPDATED_USER, StoreNotFound, UserNotFound, ExternalIdTaken, examples.EMAIL_INVALID
    ),
)
async def update_user(
    storeName: PathText,
    user: UserRef,
    body: Annotated[UserPatch, Body(openapi_examples=examples.USER_PATCH)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateUser")],
) -> UserOut:
    """Change the given fields. Status ACTIVE lifts every lock; LOCKED locks until unlocked.
    The user as read back may be sent: the status it shows (TEMP_LOCKED included) changes
    nothing, and attributes.passkeyUsers is the server's (a client's is ignored)."""
    updated = await users.update_user(
        run.database, ctx, store_name=storeName, ref=user, changes=_changes(body)
    )
    return user_out(updated)


@user_route(
    router,
    "DELETE",
    USERS + "/{user}",
    operation_id="deleteUser",
    ext_param="extId",
    status_code=204,
    response_class=Response,
    responses=answers(None, *_LOOKUP),
)
async def delete_user(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteUser")],
) -> Response:
    """Delete a user and its authenticators; its authentication audit records stay."""
    await users.delete_user(run.database, ctx, store_name=storeName, ref=user)
    return Response(status_code=204)


@user_route(
    router,
    "POST",
    USERS + "/{user}/unlock",
    operation_id="unlockUser",
    ext_param="extId",
    response_model_exclude_none=True,
    responses=answers(examples.USER, StoreNotFound, UserNotFound, examples.MODALITY_UNKNOWN),
)
async def unlock_user(
    storeName: PathText,
    user: UserRef,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("unlockUser")],
    body: Annotated[UnlockIn | None, Body(openapi_examples=examples.UNLOCK_IN)] = None,
) -> UserOut:
    """Lift the user's lock and all modality locks, or only the modalities named."""
    modalities = (
        None if body is None or body.modalities is None else [Modality(m) for m in body.modalities]
    )
    unlocked = await users.unlock_user(
        run.database, ctx, store_name=storeName, ref=user, modalities=modalities
    )
    return user_out(unlocked)
