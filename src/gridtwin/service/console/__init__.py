"""The operator console: server-rendered HTML shells over the service's own API.

The pages (``GET /``, ``/login``, ``/alarms``, ``/alarms/history``, ``/network``,
``/trends``, ``/compliance``) are Jinja2 templates that hold no data: their scripts
(``/console/static/...``, written for this project; the only third-party script is
Plotly's bundle, read at run time from its installed pip package; no CDN) log in with
``POST /api/v1/auth/token``, keep the token in the tab's ``sessionStorage``, and read
everything from the API with it as a bearer header. The API decides what a user may see
and do; the console has no logic or access rules of its own, so the pages themselves are
served without a token.

The pages are left out of the OpenAPI description (they are not API), and carry a
Content-Security-Policy that allows scripts, styles and requests from this origin only.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import gridtwin
from gridtwin.errors import NotFoundError
from gridtwin.service.console import _vendor

__all__ = ["PAGES", "STATIC_FILES", "install_console", "router"]

_HERE = resources.files(__name__)
_templates = Jinja2Templates(directory=str(_HERE / "templates"))

#: The console's pages: path -> (template, title). What each reads from the API:
#: ``/login`` ``POST /auth/token``; ``/alarms`` the list, its stream and health;
#: ``/network`` the topology (GeoJSON) and the twin's state and checks; ``/supply``
#: ``GET /tariffs``, ``POST /bills[/compare]``; ``/heat`` ``POST /norms[/characteristics]``;
#: ``/alarms/history`` ``GET /alarms?all=true`` and ``/alarms/events``; ``/trends``
#: ``GET /twin/history`` or a point's values; ``/compliance`` ``GET /twin/compliance``;
#: ``/studies`` ``POST /studies/...`` (analyst), the result drawn on the network;
#: ``/assets`` ``GET /assets`` and ``/assets/trends``.
PAGES: Final[dict[str, tuple[str, str]]] = {
    "/login": ("login.html", "Log in"),
    "/alarms": ("alarms.html", "Alarms"),
    "/network": ("network.html", "Network"),
    "/supply": ("supply.html", "Supply: bills and offers"),
    "/heat": ("heat.html", "Heat network: pumping-station norms"),
    "/alarms/history": ("alarm_history.html", "Alarm history"),
    "/trends": ("trends.html", "Trends"),
    "/compliance": ("compliance.html", "Compliance"),
    "/studies": ("studies.html", "Studies"),
    "/warnings": ("warnings.html", "Early warning"),
    "/assets": ("assets.html", "Assets: maintenance ranking"),
}

#: The assets under ``/console/static/``: name -> media type.
STATIC_FILES: Final[dict[str, str]] = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "alarms.js": "text/javascript; charset=utf-8",
    "network.js": "text/javascript; charset=utf-8",
    "login.js": "text/javascript; charset=utf-8",
    "supply.js": "text/javascript; charset=utf-8",
    "heat.js": "text/javascript; charset=utf-8",
    "alarm_history.js": "text/javascript; charset=utf-8",
    "trends.js": "text/javascript; charset=utf-8",
    "compliance.js": "text/javascript; charset=utf-8",
    "studies.js": "text/javascript; charset=utf-8",
    "warnings.js": "text/javascript; charset=utf-8",
    "assets.js": "text/javascript; charset=utf-8",
}

_SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _page(request: Request, path: str) -> HTMLResponse:
    template, title = PAGES[path]
    context = {"title": title, "page": path.strip("/"), "version": gridtwin.__version__}
    response = _templates.TemplateResponse(request, template, context)
    response.headers.update(_SECURITY_HEADERS)
    if path in _vendor.PLOTLY_PAGES:
        response.headers["Content-Security-Policy"] = _vendor.PLOTLY_CSP
    return response


@router.get("/")
async def home() -> RedirectResponse:
    """The console's start: the alarm list."""
    return RedirectResponse("/alarms", status_code=307)


@router.get("/console/static/{name}")
async def static_file(name: str) -> Response:
    """One of the console's own assets (:data:`STATIC_FILES`); 404 for anything else."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        msg = f"no console asset {name!r}; the assets are {', '.join(sorted(STATIC_FILES))}"
        raise NotFoundError(msg)
    body = (_HERE / "static" / name).read_bytes()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(content=body, media_type=media_type, headers=headers)


def _page_route(path: str) -> None:
    """Serve the page at ``path`` (an HTML shell of :data:`PAGES`)."""

    async def page(request: Request) -> HTMLResponse:
        return _page(request, path)

    page.__name__ = f"page_{path.strip('/').replace('/', '_')}"
    router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse)


for _path in PAGES:
    _page_route(_path)


def install_console(app: FastAPI) -> None:
    """Serve the console's pages and assets from ``app`` (outside ``/api/v1``)."""
    app.include_router(router)
    app.include_router(_vendor.router)
