"""The pages (`/` for teachers, `/student` for a student) and their static files from
`web/static/`; vendored files from a list made at start, so no request path reaches the disk.
"""

from __future__ import annotations

import re
from pathlib import Path

import anyio
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2",
}
_ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.(?:html|js|css)$")
_VENDOR_DIR = STATIC_DIR / "vendor"
_VENDORED = {
    path.relative_to(_VENDOR_DIR).as_posix(): path
    for path in _VENDOR_DIR.rglob("*")
    if path.suffix in _MEDIA_TYPES
}

# Everything the page needs comes from this origin; WebSockets to it count as 'self'.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # a new release must not be mixed with a cached old module of the page
    "Cache-Control": "no-cache",
}


async def _asset(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if not _ASSET_NAME.match(name) or not await anyio.Path(path).is_file():
        raise HTTPException(status_code=404)  # the same answer as an unknown route
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers=_PAGE_HEADERS)


@router.get("/")
async def index() -> FileResponse:
    return await _asset("index.html")


@router.get("/student")
async def student_page() -> FileResponse:
    """A student's own page, opened from a link carrying a student token."""
    return await _asset("student.html")


@router.get("/static/vendor/{name:path}")
async def vendored_asset(name: str) -> FileResponse:
    """A file of a vendored library, e.g. `/static/vendor/katex/katex.min.js`."""
    if (path := _VENDORED.get(name)) is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers=_PAGE_HEADERS)


@router.get("/static/{name}")
async def static_asset(name: str) -> FileResponse:
    """One file of the page: `/static/app.js`, `/static/style.css`, ..."""
    return await _asset(name)
