"""Routes for passkey configurations, one per relying party of a store (spec §3, §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from idstore.api.common import answers
from idstore.api.examples import passkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.presenters import passkey_config_out
from idstore.api.routing import PathText, segment
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.passkeys import (
    PasskeyConfigFields,
    PasskeyConfigIn,
    PasskeyConfigOut,
    PasskeyConfigPatch,
)
from idstore.services import passkey_configs
from idstore.services.context import Context
from idstore.services.errors import InvalidField, StoreNotFound
from idstore.services.passkey_configs import ConfigChanges
from idstore.services.passkey_errors import PasskeyConfigExists, RelyingPartyIdRefused

router = APIRouter(prefix="/api/identity-store/stores", tags=["passkey configurations"])
_CONFIG = (StoreNotFound, examples.CONFIG_NOT_FOUND, NUL_IN_STORE_NAME)

CONFIGS = f"/{segment('storeName')}/passkeyConfig"
RP_ID = segment("rpId")


def _changes(body: PasskeyConfigFields) -> ConfigChanges:
    given = body.given()
    given.pop("rp_id", None)
    registration = given.pop("registration_policies", None)
    authentication = given.pop("authentication_policies", None)
    return ConfigChanges(
        values=given,
        registration_policies=None
        if registration is None
        else {name: policy.given() for name, policy in registration.items()},
        authentication_policies=None
        if authentication is None
        else {name: policy.given() for name, policy in authentication.items()},
    )


@router.post(
    CONFIGS,
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.CONFIG,
        StoreNotFound,
        PasskeyConfigExists,
        RelyingPartyIdRefused,
        examples.ORIGIN_NOT_HTTPS,
        status=201,
    ),
    operation_id="createPasskeyConfig",
)
async def create_passkey_config(
    storeName: PathText,
    body: Annotated[PasskeyConfigIn, Body(openapi_examples=examples.CONFIG_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("createPasskeyConfig")],
) -> PasskeyConfigOut:
    """Create a relying party's configuration; a public-suffix rpId is refused (3607)."""
    config = await passkey_configs.create_config(
        run.database, ctx, store_name=storeName, rp_id=body.rp_id, changes=_changes(body)
    )
    return passkey_config_out(config)


@router.get(
    f"{CONFIGS}/{RP_ID}",
    response_model_exclude_none=True,
    responses=answers(examples.CONFIG, *_CONFIG),
    operation_id="getPasskeyConfig",
)
async def get_passkey_config(
    storeName: PathText,
    rpId: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getPasskeyConfig")],
) -> PasskeyConfigOut:
    """One relying party's configuration."""
    config = await passkey_configs.get_config(run.database, ctx, store_name=storeName, rp_id=rpId)
    return passkey_config_out(config)


@router.post(
    f"{CONFIGS}/{RP_ID}",
    response_model_exclude_none=True,
    responses=answers(examples.CONFIG, *_CONFIG, examples.ORIGIN_NOT_HTTPS),
    operation_id="updatePasskeyConfig",
)
async def update_passkey_config(
    storeName: PathText,
    rpId: PathText,
    body: Annotated[PasskeyConfigPatch, Body(openapi_examples=examples.CONFIG_PATCH)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updatePasskeyConfig")],
) -> PasskeyConfigOut:
    """Merge the given fields; policies merge by name."""
    if body.rp_id is not None and body.rp_id != rpId:
        raise InvalidField.of("rpId", "must equal the relying party id in the path")
    config = await passkey_configs.update_config(
        run.database, ctx, store_name=storeName, rp_id=rpId, changes=_changes(body)
    )
    return passkey_config_out(config)


@router.delete(
    f"{CONFIGS}/{RP_ID}",
    status_code=204,
    response_class=Response,
    responses=answers(None, *_CONFIG),
    operation_id="deletePasskeyConfig",
)
async def delete_passkey_config(
    storeName: PathText,
    rpId: PathText,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deletePasskeyConfig")],
) -> Response:
    """Delete the configuration; users' passkeys stay but cannot be used without one."""
    await passkey_configs.delete_config(run.database, ctx, store_name=storeName, rp_id=rpId)
    return Response(status_code=204)
