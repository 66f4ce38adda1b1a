"""``GET /audit`` (admin): the audit log of every write, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from gridtwin.service.api._common import OutputModel, UtcTime
from gridtwin.service.deps import Admin, StateDep

__all__ = ["AuditEntryOut", "AuditOut", "router"]

router = APIRouter(tags=["audit"])


class AuditEntryOut(OutputModel):
    """One write request."""

    audit_id: int
    ts_utc: dt.datetime
    username: str | None
    method: str
    path: str
    object: str
    status_code: int
    outcome: str
    detail: str


class AuditOut(OutputModel):
    """Audit entries, newest first."""

    entries: list[AuditEntryOut]


@router.get("/audit", response_model=AuditOut, summary="The audit log of writes (admin)")
async def audit(
    user: Admin,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Entries at most.")] = 100,
    username: Annotated[str | None, Query(max_length=64, description="Only this user's.")] = None,
    since: Annotated[
        UtcTime | None, Query(description="Only entries at or after this time.")
    ] = None,
) -> AuditOut:
    """Who wrote what, when, and how it ended: ``ok``, ``denied`` (401/403),
    ``rejected`` (other 4xx) or ``error`` (5xx)."""
    entries = await state.run(state.accounts.audit, limit=limit, username=username, since=since)
    return AuditOut(entries=[AuditEntryOut(**vars(e)) for e in entries])
