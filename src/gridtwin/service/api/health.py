"""``GET /health``: the one route open without a token. It tells whether the service and
its store answer, and nothing that could help an attacker (no paths, no URLs, no users)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

import gridtwin
from gridtwin.service.api._common import OutputModel
from gridtwin.service.deps import StateDep
from gridtwin.service.errors import ErrorBody

__all__ = ["HealthOut", "router"]

router = APIRouter(tags=["health"])
log = logging.getLogger("gridtwin.service")


class HealthOut(OutputModel):
    """The service's health."""

    status: Literal["ok", "unavailable"]
    store_reachable: bool
    store_backend: str
    version: str
    uptime_s: float
    audit_failures: int
    ingest_requests: int = Field(description="POST /measurements requests written so far.")
    ingest_transactions: int = Field(
        description="The store transactions that held them (requests arriving together "
        "share one: the group commit)."
    )


@router.get(
    "/health",
    response_model=HealthOut,
    responses={
        503: {"model": HealthOut, "description": "The store does not answer."},
        500: {"model": ErrorBody, "description": "An unexpected error."},
    },
    summary="Is the service up and its store reachable (no token needed)",
)
async def health(state: StateDep) -> JSONResponse:
    """200 when the store answers a query, 503 when it does not."""
    try:
        await state.run(state.store.latest, [])
        reachable = True
    except Exception as exc:  # any failure means "not reachable"; the reason is logged
        log.warning("health: the store does not answer: %s", exc)
        reachable = False
    body = HealthOut(
        status="ok" if reachable else "unavailable",
        store_reachable=reachable,
        store_backend=state.store.backend,
        version=gridtwin.__version__,
        uptime_s=(dt.datetime.now(dt.UTC) - state.started_utc).total_seconds(),
        audit_failures=state.audit_failures,
        ingest_requests=state.ingest.requests,
        ingest_transactions=state.ingest.transactions,
    )
    return JSONResponse(body.model_dump(), status_code=200 if reachable else 503)
