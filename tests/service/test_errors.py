"""The one table from gridtwin.errors to HTTP, through a real app."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter

from gridtwin.errors import (
    CalendarError,
    ConvergenceError,
    DataQualityError,
    GridTwinError,
    InputError,
    NotFoundError,
    StoreError,
    TariffSchemaError,
)
from gridtwin.service._accounts import AuthenticationError, ConflictError
from gridtwin.service.errors import STATUS_BY_ERROR, status_for
from gridtwin.service.settings import ServiceSettings
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running


class _DivergedError(ConvergenceError):
    def __init__(self) -> None:
        super().__init__("the state estimation did not converge")
        self.iterations = 20
        self.mismatch = 0.031


RAISES: dict[str, BaseException] = {
    "input": InputError("start: give a time with a zone"),
    "quality": DataQualityError("meter m1: a gap at 2026-01-01T00:15Z"),
    "tariff": TariffSchemaError("tariff.yaml: components.0.price: missing"),
    "calendar": CalendarError("calendar: unknown zone"),
    "convergence": _DivergedError(),
    "notfound": NotFoundError("no alarm 17"),
    "conflict": ConflictError("user 'ann' exists"),
    "auth": AuthenticationError("invalid token"),
    "store": StoreError("/srv/secret-place/gridtwin-store.duckdb: disk full"),
    "bare": GridTwinError("something of ours, unclassified"),
    "bug": RuntimeError("internal detail /srv/secret-place"),
}


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/raise/{name}")
    async def raise_it(name: str) -> dict[str, str]:
        raise RAISES[name]

    return router


@pytest.fixture(scope="module")
def raising(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = ServiceSettings(store=make_store(tmp_path_factory.mktemp("errors")))
    with running(settings, routers=[_router()]) as api:
        yield api


@pytest.mark.parametrize(
    ("name", "status", "error", "detail"),
    [
        ("input", 422, "InputError", "start: give a time with a zone"),
        ("quality", 422, "DataQualityError", "meter m1: a gap at 2026-01-01T00:15Z"),
        ("tariff", 422, "TariffSchemaError", "tariff.yaml: components.0.price: missing"),
        ("calendar", 422, "CalendarError", "calendar: unknown zone"),
        (
            "convergence",
            422,
            "_DivergedError",
            "the state estimation did not converge (iterations=20, mismatch=0.031)",
        ),
        ("notfound", 404, "NotFoundError", "no alarm 17"),
        ("conflict", 409, "ConflictError", "user 'ann' exists"),
        ("auth", 401, "AuthenticationError", "invalid token"),
        ("store", 503, "StoreError", "the measurement store is unavailable; try again later"),
    ],
)
def test_the_table(raising: Api, name: str, status: int, error: str, detail: str) -> None:
    r = raising.get(f"/api/v1/raise/{name}")
    assert r.status_code == status
    assert r.json() == {"error": error, "detail": detail}


@pytest.mark.parametrize("name", ["bare", "bug"])
def test_anything_else_is_a_bland_500_with_the_traceback_logged(
    raising: Api, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="gridtwin.service"):
        r = raising.get(f"/api/v1/raise/{name}")
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "InternalError"
    incident = re.fullmatch(
        r"an unexpected error occurred; incident ([0-9a-f]{12}) was logged", body["detail"]
    )
    assert incident is not None
    assert "secret-place" not in r.text
    records = [rec for rec in caplog.records if incident.group(1) in rec.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].exc_info[1] is RAISES[name]


def test_the_store_error_is_logged_not_sent(raising: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gridtwin.service"):
        r = raising.get("/api/v1/raise/store")
    assert "secret-place" not in r.text
    assert any("disk full" in rec.getMessage() for rec in caplog.records)


def test_the_most_specific_class_decides() -> None:
    assert status_for(ConflictError("x")) == 409  # an InputError, but a conflict
    assert status_for(DataQualityError("x")) == 422
    assert status_for(KeyError("x")) == 500
    assert set(STATUS_BY_ERROR.values()) == {401, 404, 409, 422, 503}


def test_a_closed_store_answers_503_and_health_says_so(tmp_path: Path) -> None:
    settings = ServiceSettings(store=make_store(tmp_path))
    add_users(settings, {r.value: r for r in ROLES[:1]})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, ["viewer"]))
        assert api.get("/api/v1/health").json()["status"] == "ok"
        api.state.store.close()
        r = api.get("/api/v1/measurements/latest", as_="viewer")
        assert r.status_code == 503
        assert r.json() == {
            "error": "StoreError",
            "detail": "the measurement store is unavailable; try again later",
        }
        health = api.get("/api/v1/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert health.json()["store_reachable"] is False


def test_a_too_large_body_is_refused(tmp_path: Path) -> None:
    settings = ServiceSettings(store=make_store(tmp_path), max_body_bytes=2048)
    add_users(settings, {"operator": ROLES[1]})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, ["operator"]))
        item = {"point_id": "load:1:p", "ts": "2026-01-01T00:00Z", "value": 1.0}
        r = api.post("/api/v1/measurements", json={"items": [item] * 100}, as_="operator")
        audit = api.state.accounts.audit()
    assert r.status_code == 413
    assert r.text == "Content Too Large"  # FastAPI's limit answers in plain text
    assert [(e.path, e.status_code) for e in audit] == [("/api/v1/measurements", 413)]
