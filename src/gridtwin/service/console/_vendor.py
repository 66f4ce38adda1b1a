"""Third-party browser files the console serves from installed pip packages (never
committed, never from a CDN): Plotly's ``plotly.min.js`` from the ``plotly`` package.

The file is read once and kept in memory; it is served with an ``ETag`` of the package's
version so a browser revalidates it instead of downloading it again.
"""

from __future__ import annotations

import functools
from importlib import metadata, resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

__all__ = ["PLOTLY_CSP", "PLOTLY_PAGES", "PLOTLY_PATH", "plotly_js", "router"]

#: Where the pages load Plotly from.
PLOTLY_PATH = "/console/static/vendor/plotly.min.js"
#: The pages that load Plotly.
PLOTLY_PAGES: set[str] = {"/heat", "/trends"}
#: Their Content-Security-Policy: the console's, with inline styles allowed, since Plotly
#: adds ``<style>`` elements (its own and MapLibre's rules) when it loads. Scripts and
#: requests stay same-origin only.
PLOTLY_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@functools.cache
def plotly_js() -> tuple[bytes, str]:
    """The installed ``plotly`` package's bundled ``plotly.min.js`` and its ETag."""
    body = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return body, f'"plotly-{metadata.version("plotly")}"'


@router.get(PLOTLY_PATH)
async def plotly_min_js(request: Request) -> Response:
    """Plotly from its pip package (304 when the browser has this version)."""
    body, etag = plotly_js()
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="text/javascript; charset=utf-8", headers=headers)
