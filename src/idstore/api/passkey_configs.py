"""Routes for passkey configurations, one per relying party of a store (spec §3, §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from idstore.api.common import answers
from idstore.api.examples import passkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.presenters import passkey_config_out
from idstore.api.relying_party_configs import check_path_rp_id, config_changes
from idstore.api.routing import PathRpId, PathText, segment
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.passkeys import (
    PasskeyConfigIn,
    PasskeyConfigOut,
    PasskeyConfigPatch,
)
from idstore.services import passkey_configs
from idstore.services.context import Context
from idstore.services.errors import StoreNotFound
from idstore.services.passkey_errors import PasskeyConfigExists, RelyingPartyIdRefused

router = APIRouter(prefix="/api/identity-store/stores", tags=["passkey configurations"])
_CONFIG = (StoreNotFound, examples.CONFIG_NOT_FOUND, NUL_IN_STORE_NAME)

CONFIGS = f"/{segment('storeName')}/passkeyConfig"
RP_ID = segment("rpId")


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
        run.database, ctx, store_name=storeName, rp_id=body.rp_id, changes=config_changes(body)
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
    rpId: PathRpId,
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
    rpId: PathRpId,
    body: Annotated[PasskeyConfigPatch, Body(openapi_examples=examples.CONFIG_PATCH)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updatePasskeyConfig")],
) -> PasskeyConfigOut:
    """Merge the given fields; policies merge by name."""
    check_path_rp_id(body.rp_id, rpId)
    config = await passkey_configs.update_config(
        run.database, ctx, store_name=storeName, rp_id=rpId, changes=config_changes(body)
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
    rpId: PathRpId,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deletePasskeyConfig")],
) -> Response:
    """Delete the configuration; users' passkeys stay but cannot be used without one."""
    await passkey_configs.delete_config(run.database, ctx, store_name=storeName, rp_id=rpId)
    return Response(status_code=204)
