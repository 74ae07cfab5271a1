"""Routes for passkey configurations, one per relying party of a store (spec §3, §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from idstore.api.common import answers
from idstore.api.examples import passkeys as examples
from idstore.api.examples.config_answers import PASSKEY_CONFIG_WRITTEN
from idstore.api.examples.errors import NUL_IN_STORE_NAME
from idstore.api.json_bodies import JsonBodyRoute
from idstore.api.presenters import passkey_config_out
from idstore.api.relying_party_configs import ConfigRoutes
from idstore.api.routing import Operation, segment
from idstore.api.schemas.config_answers import PasskeyConfigWrittenOut
from idstore.api.schemas.passkeys import (
    PasskeyConfigIn,
    PasskeyConfigOut,
    PasskeyConfigPatch,
)
from idstore.services.errors import StoreNotFound
from idstore.services.passkey_configs import PASSKEY_CONFIGS
from idstore.services.passkey_errors import PasskeyConfigExists, RelyingPartyIdRefused

router = APIRouter(
    prefix="/api/identity-store/stores", tags=["passkey configurations"], route_class=JsonBodyRoute
)
_CONFIG = (StoreNotFound, examples.CONFIG_NOT_FOUND, NUL_IN_STORE_NAME)

CONFIGS = f"/{segment('storeName')}/passkeyConfig"

ConfigRoutes(
    "passkey",
    CONFIGS,
    PASSKEY_CONFIGS,
    passkey_config_out,
    PasskeyConfigOut,
    PasskeyConfigWrittenOut,
).add_to(
    router,
    create=Operation(
        "Create a relying party's configuration; a public-suffix rpId is refused (3607).",
        answers(
            PASSKEY_CONFIG_WRITTEN,
            StoreNotFound,
            PasskeyConfigExists,
            RelyingPartyIdRefused,
            examples.ORIGIN_NOT_HTTPS,
            status=201,
        ),
        body=Annotated[PasskeyConfigIn, Body(openapi_examples=examples.CONFIG_IN)],
    ),
    get=Operation("One relying party's configuration.", answers(examples.CONFIG, *_CONFIG)),
    update=Operation(
        "Merge the given fields; policies merge by name.",
        answers(PASSKEY_CONFIG_WRITTEN, *_CONFIG, examples.ORIGIN_NOT_HTTPS),
        body=Annotated[PasskeyConfigPatch, Body(openapi_examples=examples.CONFIG_PATCH)],
    ),
    delete=Operation(
        "Delete the configuration; users' passkeys stay but cannot be used without one.",
        answers(None, *_CONFIG),
    ),
)
