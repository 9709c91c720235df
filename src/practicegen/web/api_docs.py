"""`/docs` (Swagger UI) and `/redoc` (ReDoc) offline: FastAPI's pages on the `fastapi-offline`
bundles, Swagger UI's validator off, each page held to this origin by a Content-Security-Policy.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS_PATH = "/docs/assets"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_TITLE = "practicegen API"
_SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": False}
# FastAPI's pages start their bundle with an inline script; ReDoc searches in a blob: worker
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _root(request: Request) -> str:
    """The path prefix a proxy mounts the app under (`--root-path`), as FastAPI's pages use."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{_TITLE} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters=_SWAGGER_PARAMETERS,
    )
    page.headers.update(_HEADERS)
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{_TITLE} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )
    page.headers.update(_HEADERS)
    return page


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> FileResponse:
    """One bundle of the pages; any other name is the usual JSON 404."""
    media_type = _ASSETS.get(name)
    path = ASSETS_DIR / name
    if media_type is None or not await anyio.Path(path).is_file():
        raise HTTPException(status_code=404)
    # the bundles change only with the installed package, so a day's caching is safe
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=86400"})
