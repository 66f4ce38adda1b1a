"""The role matrix: every route of the app, anonymous and as each role.

:data:`ROUTE_ROLES` lists every route with the least role it needs. The table is checked
against the app's own routes, so a route added without a line here fails
:func:`test_every_route_is_listed`; each listed route is then requested anonymously (401,
except the two open ones), by each role below the one it needs (403) and by each role at
or above it (neither 401 nor 403, and never 5xx).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from tests.service.conftest import PASSWORD, ROLES, Api

#: (method, path) -> the least role, or "anonymous" (no credentials at all) or
#: "password" (credentials in the body instead of a token).
ROUTE_ROLES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): "anonymous",
    ("POST", "/api/v1/auth/token"): "password",
    ("GET", "/api/v1/auth/me"): "viewer",
    ("GET", "/api/v1/auth/tokens"): "viewer",
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): "viewer",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("GET", "/api/v1/users/{username}"): "admin",
    ("PATCH", "/api/v1/users/{username}"): "admin",
    ("PUT", "/api/v1/users/{username}/password"): "admin",
    ("DELETE", "/api/v1/users/{username}"): "admin",
    ("GET", "/api/v1/users/{username}/tokens"): "admin",
    ("GET", "/api/v1/points"): "viewer",
    ("POST", "/api/v1/points"): "analyst",
    ("GET", "/api/v1/points/{point_id:path}/measurements"): "viewer",
    ("GET", "/api/v1/points/{point_id:path}"): "viewer",
    ("PUT", "/api/v1/points/{point_id:path}"): "analyst",
    ("GET", "/api/v1/measurements/latest"): "viewer",
    ("POST", "/api/v1/measurements"): "operator",
    ("GET", "/api/v1/export"): "viewer",
    ("GET", "/api/v1/rejects"): "viewer",
    ("GET", "/api/v1/audit"): "admin",
    ("GET", "/api/v1/openapi.json"): "viewer",
    ("GET", "/api/v1/twin"): "viewer",
    ("GET", "/api/v1/twin/state"): "viewer",
    ("GET", "/api/v1/twin/states"): "viewer",
    ("GET", "/api/v1/twin/checks"): "viewer",
    ("GET", "/api/v1/twin/compliance"): "viewer",
    ("GET", "/api/v1/alarms"): "viewer",
    ("GET", "/api/v1/alarms/events"): "viewer",
    ("GET", "/api/v1/alarms/potential"): "viewer",
    ("GET", "/api/v1/alarms/health"): "viewer",
    ("GET", "/api/v1/alarms/stream"): "viewer",
    ("GET", "/api/v1/alarms/delivery"): "admin",
    ("POST", "/api/v1/alarms/{instance_id}/{action}"): "operator",
    ("GET", "/api/v1/model"): "viewer",
    ("GET", "/api/v1/model/topology"): "viewer",
    ("GET", "/api/v1/tariffs"): "viewer",
    ("POST", "/api/v1/bills"): "analyst",
    ("POST", "/api/v1/norms"): "analyst",
    ("POST", "/api/v1/quality/assessments"): "analyst",
    ("POST", "/api/v1/studies/scenario"): "analyst",
    ("GET", "/api/v1/twin/history"): "viewer",
    # the console: HTML shells and their assets, no data (tests/console)
    ("GET", "/"): "anonymous",
    ("GET", "/login"): "anonymous",
    ("GET", "/alarms"): "anonymous",
    ("GET", "/network"): "anonymous",
    ("GET", "/console/static/{name}"): "anonymous",
    ("POST", "/api/v1/bills/compare"): "analyst",
    ("GET", "/supply"): "anonymous",
    ("GET", "/heat"): "anonymous",
    ("GET", "/api/v1/norms/examples"): "viewer",
    ("POST", "/api/v1/norms/characteristics"): "analyst",
    ("GET", "/alarms/history"): "anonymous",
    ("GET", "/trends"): "anonymous",
    ("GET", "/compliance"): "anonymous",
    ("GET", "/console/static/vendor/plotly.min.js"): "anonymous",
    ("POST", "/api/v1/studies/contingency"): "analyst",
    ("POST", "/api/v1/studies/hosting"): "analyst",
    ("GET", "/studies"): "anonymous",
    ("GET", "/api/v1/warnings"): "viewer",
    ("GET", "/warnings"): "anonymous",
    ("GET", "/api/v1/assets"): "viewer",
    ("GET", "/api/v1/assets/trends"): "viewer",
    ("GET", "/assets"): "anonymous",
    ("GET", "/api/v1/points/{point_id:path}/forecast"): "viewer",
}

#: Path parameters: objects that do not exist (an allowed role then gets 404), except
#: the point, whose reads answer 200.
PATH_VALUES = {
    "{token_id}": "0000",
    "{username}": "nobody-here",
    "{point_id:path}": "load:1:p",
    "{instance_id}": "no-such-alarm",
    "{action}": "acknowledge",
}
#: Query parameters that make a read complete.
QUERY = {
    "/api/v1/points/{point_id:path}/measurements": {
        "start": "2026-01-01T00:00Z",
        "end": "2026-01-01T01:00Z",
    },
    "/api/v1/export": {"start": "2026-01-01T00:00Z", "end": "2026-01-02T00:00Z"},
    # a bounded stream: new events only, for 0.05 s (httpx's ASGITransport buffers the
    # whole response, so an endless stream would never answer)
    "/api/v1/alarms/stream": {"timeout_s": "0.05"},
    "/api/v1/twin/history": {"element": "bus:1"},
    "/api/v1/points/{point_id:path}/forecast": {"issued": "2026-01-01T01:00Z"},
}


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route an app serves (HEAD aside), included routers too."""
    out = set()
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or {"*"}:
            if method != "HEAD" and path is not None:
                out.add((method, path))
    return out


def unlisted(app: FastAPI) -> list[tuple[str, str]]:
    """Routes of ``app`` missing from :data:`ROUTE_ROLES`."""
    return sorted(route_keys(app) - set(ROUTE_ROLES))


def _url(path: str) -> str:
    for key, value in PATH_VALUES.items():
        path = path.replace(key, value)
    return path


def test_every_route_is_listed(tmp_path: Path) -> None:
    app = create_app(ServiceSettings(store=str(tmp_path)))
    assert unlisted(app) == []
    assert sorted(set(ROUTE_ROLES) - route_keys(app)) == []  # no stale lines


def test_a_new_route_without_a_line_fails_the_check(tmp_path: Path) -> None:
    extra = APIRouter()

    @extra.get("/forecasts")
    async def forecasts() -> dict[str, str]:
        return {}

    app = create_app(ServiceSettings(store=str(tmp_path)), routers=[extra])
    assert unlisted(app) == [("GET", "/api/v1/forecasts")]


def test_only_health_and_login_are_open_in_the_openapi_description(module_api: Api) -> None:
    doc = module_api.get("/api/v1/openapi.json", as_="viewer").json()
    open_ops = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not op.get("security"):
                open_ops.append((method.upper(), path))
            else:
                assert op["security"] == [{"bearer": []}]
    assert sorted(open_ops) == [("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token")]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


MATRIX = [(key, need) for key, need in ROUTE_ROLES.items() if need not in ("anonymous", "password")]


@pytest.mark.parametrize(("key", "need"), MATRIX, ids=[f"{m} {p}" for (m, p), _ in MATRIX])
def test_role_matrix(module_api: Api, key: tuple[str, str], need: str) -> None:
    method, path = key
    url, params = _url(path), QUERY.get(path)
    anonymous = module_api.request(method, url, params=params)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"] == "AuthenticationError"
    bad = module_api.request(method, url, params=params, headers={"Authorization": "Bearer gt_x"})
    assert bad.status_code == 401
    needed = [r.value for r in ROLES].index(need)
    for rank, role in enumerate(ROLES):
        r = module_api.request(method, url, params=params, as_=role.value)
        if rank < needed:
            assert r.status_code == 403, (role, r.text)
            assert r.json() == {
                "error": "Forbidden",
                "detail": f"this needs the {need} role or higher; "
                f"{role.value} has the role {role.value}",
            }
        else:
            assert r.status_code not in (401, 403), (role, r.text)
            assert r.status_code < 500, (role, r.text)
            if method == "GET" and "{username}" not in path and "{token_id}" not in path:
                assert r.status_code == 200, (role, r.text)


def test_the_open_routes(module_api: Api) -> None:
    assert module_api.get("/api/v1/health").status_code == 200
    wrong = module_api.post("/api/v1/auth/token", json={"username": "viewer", "password": "x"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong username or password, or the account is disabled"
    right = module_api.post("/api/v1/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert right.status_code == 201
    token = right.json()["access_token"]
    me = module_api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "viewer"
    assert me.json()["token_id"] == right.json()["token"]["token_id"]


def test_unknown_paths_answer_404_in_the_standard_body(module_api: Api) -> None:
    r = module_api.get("/api/v1/nothing-here", as_="admin")
    assert r.status_code == 404
    assert r.json() == {"error": "NotFound", "detail": "Not Found"}
    r = module_api.get("/docs")
    assert r.status_code == 404  # no anonymous documentation pages
    r = module_api.get("/openapi.json")
    assert r.status_code == 404
