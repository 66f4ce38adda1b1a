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

import functools
from importlib import resources
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import gridtwin
from gridtwin.errors import NotFoundError

__all__ = ["PAGES", "STATIC_FILES", "install_console", "router"]

_HERE = resources.files(__name__)
_templates = Jinja2Templates(directory=str(_HERE / "templates"))

#: The console's pages: path -> (template, title).
PAGES: Final[dict[str, tuple[str, str]]] = {
    "/login": ("login.html", "Log in"),
    "/alarms": ("alarms.html", "Alarms"),
    "/network": ("network.html", "Network"),
    "/alarms/history": ("alarm_history.html", "Alarm history"),
    "/trends": ("trends.html", "Trends"),
    "/compliance": ("compliance.html", "Compliance"),
}

#: The assets under ``/console/static/``: name -> media type.
STATIC_FILES: Final[dict[str, str]] = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "alarms.js": "text/javascript; charset=utf-8",
    "network.js": "text/javascript; charset=utf-8",
    "login.js": "text/javascript; charset=utf-8",
    "alarm_history.js": "text/javascript; charset=utf-8",
    "trends.js": "text/javascript; charset=utf-8",
    "compliance.js": "text/javascript; charset=utf-8",
}

#: The two inline ``<style>`` elements Plotly's bundle adds, allowed by their CSP hashes
#: (any other inline style stays refused): an empty one it fills through the CSSOM
#: (``insertRule``, which CSP does not restrict), and the fixed MapLibre stylesheet of
#: plotly.js 4.1.1 (the ``plotly==7.1.0`` pip package; a new version changes this hash and
#: the browser tests then name the new one).
_PLOTLY_STYLE_HASHES: Final = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='"
)

_SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' {_PLOTLY_STYLE_HASHES}; img-src 'self' data:; "
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
    return response


@router.get("/")
async def home() -> RedirectResponse:
    """The console's start: the alarm list."""
    return RedirectResponse("/alarms", status_code=307)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    """The login form (it calls ``POST /api/v1/auth/token``)."""
    return _page(request, "/login")


@router.get("/alarms", response_class=HTMLResponse)
async def alarms_page(request: Request) -> HTMLResponse:
    """The alarm list (live from ``GET /api/v1/alarms/stream``)."""
    return _page(request, "/alarms")


@router.get("/network", response_class=HTMLResponse)
async def network_page(request: Request) -> HTMLResponse:
    """The network view (``/api/v1/model/topology?format=geojson`` and the twin's state)."""
    return _page(request, "/network")


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


@router.get("/alarms/history", response_class=HTMLResponse)
async def alarm_history_page(request: Request) -> HTMLResponse:
    """Alarm history with filters (``GET /api/v1/alarms?all=true``, ``/alarms/events``)."""
    return _page(request, "/alarms/history")


@router.get("/trends", response_class=HTMLResponse)
async def trends_page(request: Request) -> HTMLResponse:
    """Trends of a point (``?point=``) or an element's state (``?element=bus:3``)."""
    return _page(request, "/trends")


@router.get("/compliance", response_class=HTMLResponse)
async def compliance_page(request: Request) -> HTMLResponse:
    """The week's supply-voltage verdicts (``GET /api/v1/twin/compliance``)."""
    return _page(request, "/compliance")


@router.get("/console/static/vendor/plotly.min.js")
async def plotly_js() -> Response:
    """Plotly's browser bundle, read from the installed ``plotly`` pip package (never
    committed to this repository); 404 if the package or its bundle is missing."""
    body = _plotly_bundle()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=86400"}
    return Response(content=body, media_type="text/javascript; charset=utf-8", headers=headers)


@functools.cache
def _plotly_bundle() -> bytes:
    try:
        bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
        return bundle.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as err:
        msg = (
            "plotly's browser bundle (plotly/package_data/plotly.min.js) is not installed: "
            f"install the project's dependencies (pip install -e .): {err}"
        )
        raise NotFoundError(msg) from err


def install_console(app: FastAPI) -> None:
    """Serve the console's pages and assets from ``app`` (outside ``/api/v1``)."""
    app.include_router(router)
