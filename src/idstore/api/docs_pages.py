"""The API's description (/openapi.json) and its pages, /docs (Swagger UI) and /redoc, served
without a CDN.

Their scripts and styles come from this server (the fastapi-offline package carries them), so
the pages work on a network without internet and load nothing an operator did not install.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

ASSETS = "/docs/assets"
_ASSET_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"

# Swagger UI would send the spec to validator.swagger.io for its badge: not from here.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


class _Assets(StaticFiles):
    """The pages' files, named in the access log and the metrics by one route as every other
    request is (a mount leaves no route in the request's scope)."""

    route = SimpleNamespace(path_format=ASSETS + "/{path}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route
        await super().__call__(scope, receive, send)


def install(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve the description and the pages; the app is made with FastAPI's own turned off, whose
    description route leaves no route in the request's scope either."""
    app.mount(ASSETS, _Assets(directory=_ASSET_DIRECTORY), name="docs-assets")

    @app.get(openapi_url, include_in_schema=False)
    async def description() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
