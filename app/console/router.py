"""Serves the console: one HTML page and its static files, under a strict CSP.

The files are package data read once when the router is built (not at import time), from a
fixed list, so no request path ever reaches the file system. The page talks to the same
JSON API as any client; nothing here is in the OpenAPI schema (the contract is the API).
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from app.errors import ApiError

# No inline script or style, nothing from elsewhere, no framing, no form posts, no <base>.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Revalidate each load: an upgraded service must not run yesterday's script.
    "Cache-Control": "no-cache",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    """name -> (content, content type) for every servable file in app/console/static."""
    root = resources.files("app.console").joinpath("static")
    files: dict[str, tuple[bytes, str]] = {}
    for item in root.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else ""
        if item.is_file() and suffix in CONTENT_TYPES:
            files[item.name] = (item.read_bytes(), CONTENT_TYPES[suffix])
    return files


def console_router() -> APIRouter:
    files = _static_files()
    page, page_type = files["index.html"]
    router = APIRouter(include_in_schema=False)

    @router.get("/console")
    async def console_page() -> Response:
        return Response(page, media_type=page_type, headers=SECURITY_HEADERS)

    @router.get("/console/")
    async def console_slash() -> Response:
        return RedirectResponse("/console", status_code=308)

    @router.get("/console/static/{name}")
    async def console_file(name: str) -> Response:
        found = files.get(name)
        if found is None:
            raise ApiError(404, "not_found", f"the console has no file {name!r}")
        content, content_type = found
        return Response(content, media_type=content_type, headers=SECURITY_HEADERS)

    return router
