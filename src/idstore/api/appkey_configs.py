"""Routes for appkey configurations, one per relying party of a store, and their UAF
TrustedFacets document (spec §3, §10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from idstore.api.common import answers
from idstore.api.examples import appkeys as examples
from idstore.api.examples.config_answers import APPKEY_CONFIG_WRITTEN
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import appkey_config_out
from idstore.api.relying_party_configs import RP_ID, ConfigRoutes
from idstore.api.routing import Operation, PathRpId, PathText, segment
from idstore.api.runtime import RuntimeDep, context_for
from idstore.api.schemas.appkeys import (
    AppkeyConfigIn,
    AppkeyConfigOut,
    AppkeyConfigPatch,
    TrustedFacetsOut,
)
from idstore.api.schemas.config_answers import AppkeyConfigWrittenOut
from idstore.services import appkey_configs
from idstore.services.appkey_configs import APPKEY_CONFIGS
from idstore.services.appkey_management_errors import AppkeyConfigExists
from idstore.services.context import Context
from idstore.services.errors import StoreNotFound

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["appkey configurations"], route_class=JsonBodyRoute
)
_CONFIG = (StoreNotFound, examples.CONFIG_NOT_FOUND, NUL_IN_STORE_NAME)

CONFIGS = f"/{segment('storeName')}/appkeyConfig"
TRUSTED_FACETS_MEDIA_TYPE = "application/fido.trusted-apps+json"


class TrustedFacetsResponse(JSONResponse):
    """The TrustedFacets document, in the media type UAF clients expect (AppID and Facet 1.1)."""

    media_type = TRUSTED_FACETS_MEDIA_TYPE


ConfigRoutes(
    "appkey",
    CONFIGS,
    APPKEY_CONFIGS,
    appkey_config_out,
    AppkeyConfigOut,
    AppkeyConfigWrittenOut,
).add_to(
    router,
    create=Operation(
        "Create a relying party's appkey configuration; an existing rpId is refused (3700).",
        answers(
            APPKEY_CONFIG_WRITTEN,
            StoreNotFound,
            AppkeyConfigExists,
            examples.FACET_REFUSED,
            status=201,
        ),
        body=Annotated[AppkeyConfigIn, Body(openapi_examples=examples.CONFIG_IN)],
    ),
    get=Operation("One relying party's appkey configuration.", answers(examples.CONFIG, *_CONFIG)),
    update=Operation(
        "Merge the given fields; policies merge by name, field by field.",
        answers(APPKEY_CONFIG_WRITTEN, *_CONFIG, examples.FACET_REFUSED),
        body=Annotated[AppkeyConfigPatch, Body(openapi_examples=examples.CONFIG_PATCH)],
    ),
    delete=Operation(
        "Delete the configuration; users' appkeys stay but cannot be used without one.",
        answers(None, *_CONFIG),
    ),
)


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
