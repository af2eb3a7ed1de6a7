"""The dashboard's built assets (``dashboard/dist``, made by ``make dashboard``), served at ``/``.

The page talks only to this origin: the Content-Security-Policy forbids any
other source, so a CDN could not sneak back in. Assets carry a content hash in
their names and are cached for good; the page itself is revalidated.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def routes(directory: Path) -> list[Route | Mount]:
    index = directory / "index.html"

    async def page(request: Request) -> Response:
        if not index.is_file():
            return PlainTextResponse(
                f"The dashboard is not built ({index} is missing): run `make dashboard`.\n", 503
            )
        return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    return [
        Route("/", page),
        Mount("/assets", _Assets(directory=directory / "assets", check_dir=False), name="assets"),
    ]
