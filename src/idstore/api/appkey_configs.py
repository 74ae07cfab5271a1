"""Routes for appkey configurations, one per relying party of a store, and their UAF
TrustedFacets document (spec §3, §10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from fastapi.responses import JSONResponse

from idstore.api.common import answers
from idstore.api.examples import appkeys as examples
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.presenters import appkey_config_out
from idstore.api.relying_party_configs import check_path_rp_id, config_changes
from idstore.api.routing import PathRpId, PathText, segment
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.appkeys import (
    AppkeyConfigIn,
    AppkeyConfigOut,
    AppkeyConfigPatch,
    TrustedFacetsOut,
)
from idstore.services import appkey_configs
from idstore.services.appkey_management_errors import AppkeyConfigExists
from idstore.services.context import Context
from idstore.services.errors import StoreNotFound

router = APIRouter(prefix="/api/identity-store/stores", tags=["appkey configurations"])
_CONFIG = (StoreNotFound, examples.CONFIG_NOT_FOUND, NUL_IN_STORE_NAME)

CONFIGS = f"/{segment('storeName')}/appkeyConfig"
RP_ID = segment("rpId")
TRUSTED_FACETS_MEDIA_TYPE = "application/fido.trusted-apps+json"


class TrustedFacetsResponse(JSONResponse):
    """The TrustedFacets document, in the media type UAF clients expect (AppID and Facet 1.1)."""

    media_type = TRUSTED_FACETS_MEDIA_TYPE


@router.post(
    CONFIGS,
    status_code=201,
    response_model_exclude_none=True,
    responses=answers(
        examples.CONFIG, StoreNotFound, AppkeyConfigExists, examples.FACET_REFUSED, status=201
    ),
    operation_id="createAppkeyConfig",
)
async def create_appkey_config(
    storeName: PathText,
    body: Annotated[AppkeyConfigIn, Body(openapi_examples=examples.CONFIG_IN)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("createAppkeyConfig")],
) -> AppkeyConfigOut:
    """Create a relying party's appkey configuration; an existing rpId is refused (3700)."""
    config = await appkey_configs.create_config(
        run.database, ctx, store_name=storeName, rp_id=body.rp_id, changes=config_changes(body)
    )
    return appkey_config_out(config)


@router.get(
    f"{CONFIGS}/{RP_ID}",
    response_model_exclude_none=True,
    responses=answers(examples.CONFIG, *_CONFIG),
    operation_id="getAppkeyConfig",
)
async def get_appkey_config(
    storeName: PathText,
    rpId: PathRpId,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getAppkeyConfig")],
) -> AppkeyConfigOut:
    """One relying party's appkey configuration."""
    config = await appkey_configs.get_config(run.database, ctx, store_name=storeName, rp_id=rpId)
    return appkey_config_out(config)


@router.get(
    f"{CONFIGS}/{RP_ID}/trustedFacets",
    response_class=TrustedFacetsResponse,
    response_model=TrustedFacetsOut,
    responses={
        **answers(None, *_CONFIG),
        200: {"content": {TRUSTED_FACETS_MEDIA_TYPE: {"example": examples.TRUSTED_FACETS}}},
    },
    operation_id="getAppkeyTrustedFacets",
)
async def get_trusted_facets(
    storeName: PathText,
    rpId: PathRpId,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("getAppkeyTrustedFacets")],
) -> dict[str, Any]:
    """The UAF TrustedFacets document of the relying party's AppID: serve it unchanged at
    `https://{rpId}/.well-known/uaf-trusted-facets`, where UAF clients fetch it."""
    return await appkey_configs.trusted_facets(run.database, ctx, store_name=storeName, rp_id=rpId)


@router.post(
    f"{CONFIGS}/{RP_ID}",
    response_model_exclude_none=True,
    responses=answers(examples.CONFIG, *_CONFIG, examples.FACET_REFUSED),
    operation_id="updateAppkeyConfig",
)
async def update_appkey_config(
    storeName: PathText,
    rpId: PathRpId,
    body: Annotated[AppkeyConfigPatch, Body(openapi_examples=examples.CONFIG_PATCH)],
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("updateAppkeyConfig")],
) -> AppkeyConfigOut:
    """Merge the given fields; policies merge by name, field by field."""
    check_path_rp_id(body.rp_id, rpId)
    config = await appkey_configs.update_config(
        run.database, ctx, store_name=storeName, rp_id=rpId, changes=config_changes(body)
    )
    return appkey_config_out(config)


@router.delete(
    f"{CONFIGS}/{RP_ID}",
    status_code=204,
    response_class=Response,
    responses=answers(None, *_CONFIG),
    operation_id="deleteAppkeyConfig",
)
async def delete_appkey_config(
    storeName: PathText,
    rpId: PathRpId,
    run: RuntimeDep,
    ctx: Annotated[Context, context_for("deleteAppkeyConfig")],
) -> Response:
    """Delete the configuration; users' appkeys stay but cannot be used without one."""
    await appkey_configs.delete_config(run.database, ctx, store_name=storeName, rp_id=rpId)
    return Response(status_code=204)
