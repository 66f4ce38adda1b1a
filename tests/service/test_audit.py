"""The audit log holds every write, however it ended, and no read."""

from __future__ import annotations

from gridtwin.service._audit import outcome_of
from tests.service.conftest import PASSWORD, Api

T0 = "2026-03-01T00:00:00Z"


def _entries(api: Api) -> list[tuple[str | None, str, str, str, int, str]]:
    rows = api.state.accounts.audit(limit=1000)
    return [
        (e.username, e.method, e.path, e.object, e.status_code, e.outcome) for e in reversed(rows)
    ]


def test_every_write_is_recorded_and_no_read(api: Api) -> None:
    item = {"point_id": "load:1:p", "ts": T0, "value": 1.0}
    # reads, which leave nothing
    api.get("/api/v1/health")
    api.get("/api/v1/points", as_="viewer")
    api.get("/api/v1/measurements/latest", as_="viewer")
    api.get("/api/v1/audit", as_="admin")
    assert _entries(api) == []

    # writes: done, refused, invalid, not found, conflicting
    api.post("/api/v1/measurements", json={"items": [item]}, as_="operator")
    api.post("/api/v1/measurements", json={"items": [item]})  # anonymous
    api.post("/api/v1/measurements", json={"items": [item]}, as_="viewer")  # wrong role
    api.post("/api/v1/measurements", json={"items": [{"value": 1}]}, as_="operator")  # invalid
    api.request("PUT", "/api/v1/points/nope", json={"quantity": "p", "unit": "kW"}, as_="analyst")
    api.post("/api/v1/auth/token", json={"username": "operator", "password": "wrong password!"})
    api.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    api.request("PATCH", "/api/v1/users/admin", json={"role": "viewer"}, as_="admin")
    api.request("DELETE", "/api/v1/users/nobody-here", as_="admin")
    got = _entries(api)
    token_obj = got[6][3]
    assert token_obj.startswith("token=")
    assert got == [
        ("operator", "POST", "/api/v1/measurements", "measurements=1", 200, "ok"),
        (None, "POST", "/api/v1/measurements", "", 401, "denied"),
        ("viewer", "POST", "/api/v1/measurements", "", 403, "denied"),
        ("operator", "POST", "/api/v1/measurements", "", 422, "rejected"),
        ("analyst", "PUT", "/api/v1/points/nope", "point=nope", 404, "rejected"),
        ("operator", "POST", "/api/v1/auth/token", "", 401, "denied"),
        ("operator", "POST", "/api/v1/auth/token", token_obj, 201, "ok"),
        ("admin", "PATCH", "/api/v1/users/admin", "user=admin", 409, "rejected"),
        ("admin", "DELETE", "/api/v1/users/nobody-here", "user=nobody-here", 404, "rejected"),
    ]
    first = api.state.accounts.audit(limit=1000)[-1]
    assert first.detail == "stored=1 duplicates=0 rejected=0"


def test_the_audit_endpoint_filters(api: Api) -> None:
    api.post("/api/v1/measurements", json={"items": []}, as_="operator")
    api.request("DELETE", "/api/v1/auth/tokens/abc", as_="viewer")
    r = api.get("/api/v1/audit", params={"username": "viewer"}, as_="admin").json()
    assert [(e["method"], e["path"], e["object"], e["status_code"]) for e in r["entries"]] == [
        ("DELETE", "/api/v1/auth/tokens/abc", "token=abc", 404)
    ]
    r = api.get("/api/v1/audit", params={"since": "2200-01-01T00:00Z"}, as_="admin").json()
    assert r["entries"] == []
    assert len(api.get("/api/v1/audit", as_="admin").json()["entries"]) == 2


def test_outcomes() -> None:
    assert [outcome_of(s) for s in (200, 201, 204, 401, 403, 404, 409, 422, 500, 503)] == [
        "ok",
        "ok",
        "ok",
        "denied",
        "denied",
        "rejected",
        "rejected",
        "rejected",
        "error",
        "error",
    ]
