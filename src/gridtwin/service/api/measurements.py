"""Measurements: the newest values, sending values (the ingest pipeline's checks), export
and the rejects. (A point's values in a window: ``GET /points/{id}/measurements``.)"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from pydantic import Field, field_validator
from starlette.background import BackgroundTask

from gridtwin.errors import InputError
from gridtwin.service._ingest import IngestOutcome
from gridtwin.service._state import ServiceState
from gridtwin.service.api._common import (
    InputModel,
    OutputModel,
    UtcTime,
    floats_or_none,
    json_response,
    known_points,
    none_if_nan,
    py_time,
    py_times,
    quality_label,
    records,
    utc_datetimes,
)
from gridtwin.service.deps import AuditDep, Operator, StateDep, Viewer

__all__ = ["IngestIn", "IngestOut", "LatestOut", "MeasurementIn", "RejectsOut", "router"]

router = APIRouter(tags=["measurements"])

PointsQuery = Annotated[
    list[str] | None,
    Query(
        max_length=10_000,
        description="Point ids (repeat the parameter, or separate by commas); absent: all.",
    ),
]


def _split(points: list[str] | None) -> list[str] | None:
    if points is None:
        return None
    out = [p.strip() for item in points for p in item.split(",") if p.strip()]
    return out or None


# ---------------------------------------------------------------------- latest


class LatestValueOut(OutputModel):
    """The newest value of a point (highest time, its highest revision)."""

    point_id: str
    unit: str
    ts_utc: dt.datetime
    value: float | None = Field(description="In the point's unit.")
    quality: str
    revision: int
    source_ts_utc: dt.datetime | None
    arrival_ts_utc: dt.datetime


class LatestOut(OutputModel):
    """Newest values, by point id."""

    values: list[LatestValueOut]
    without_value: list[str] = Field(description="Points asked for that have no value yet.")


@router.get("/measurements/latest", response_model=LatestOut, summary="The newest value of points")
async def latest(user: Viewer, state: StateDep, points: PointsQuery = None) -> Response:
    """The newest value of each point asked for (all points when none is named);
    404 naming any point the store does not have."""
    ids = _split(points)
    # a few points the store holds in memory: answered here, on the event loop (a hop to
    # a worker thread costs more than the answer); else in a worker thread
    if ids is not None and len(ids) <= _HELD_ON_LOOP:
        out = _latest_held(state, ids)
        if out is not None:
            return json_response(out)
    return json_response(await state.run(_latest, state, ids))


#: At most this many points are answered on the event loop (microseconds each).
_HELD_ON_LOOP = 200


def _units(state: ServiceState) -> dict[str, str]:
    """Each point's unit (kept while the points stay the same)."""
    return state.per_points("units", lambda points: {p.point_id: p.unit for p in points})


def _latest_held(state: ServiceState, point_ids: list[str]) -> LatestOut | None:
    """The answer from the store's memory; None when the store does not hold it."""
    units = _units(state)
    ids = known_points(state.store, point_ids, units)
    held = state.store.latest_held(ids)
    if held is None:
        return None
    return _latest_out(
        units,
        ids,
        held.point_id,
        utc_datetimes(held.ts_utc),
        [None if v != v else v for v in held.value.tolist()],
        held.quality.tolist(),
        held.revision.tolist(),
        utc_datetimes(held.source_ts_utc),
        utc_datetimes(held.arrival_ts_utc),
    )


def _latest(state: ServiceState, point_ids: list[str] | None) -> LatestOut:
    units = _units(state)
    ids = sorted(units) if point_ids is None else known_points(state.store, point_ids, units)
    frame = state.store.latest(ids)
    return _latest_out(
        units,
        ids,
        frame["point_id"].tolist(),
        py_times(frame["ts_utc"]),
        floats_or_none(frame["value"]),
        frame["quality"].tolist(),
        frame["revision"].tolist(),
        py_times(frame["source_ts_utc"]),
        py_times(frame["arrival_ts_utc"]),
    )


def _latest_out(
    units: dict[str, str],
    ids: list[str],
    point_id: list[str],
    ts: list[dt.datetime | None],
    value: list[float | None],
    quality: list[int],
    revision: list[int],
    source_ts: list[dt.datetime | None],
    arrival_ts: list[dt.datetime | None],
) -> LatestOut:
    """The answer from the newest values' columns (plain Python values)."""
    values = [
        LatestValueOut(
            point_id=pid,
            unit=units[pid],
            ts_utc=_time(t),
            value=v,
            quality=quality_label(q),
            revision=r,
            source_ts_utc=src,
            arrival_ts_utc=_time(arr),
        )
        for pid, t, v, q, r, src, arr in zip(
            point_id, ts, value, quality, revision, source_ts, arrival_ts, strict=True
        )
    ]
    have = set(point_id)
    return LatestOut(values=values, without_value=[p for p in ids if p not in have])


def _time(value: Any) -> dt.datetime:
    t = py_time(value)
    if t is None:
        msg = "the store returned a value without a time"
        raise InputError(msg)
    return t


# ---------------------------------------------------------------------- ingest


class MeasurementIn(InputModel):
    """One value, in the point's raw unit (the point's scale and offset apply)."""

    point_id: str = Field(min_length=1, max_length=200)
    ts: UtcTime = Field(
        description="Measurement time (an interval's start) with a zone; stored in UTC."
    )
    value: float
    quality: str = Field(
        default="valid",
        max_length=100,
        description="valid, or estimated, substituted, questionable (joined by |).",
    )
    source_ts: UtcTime | None = Field(default=None, description="The sender's own time.")

    @field_validator("quality")
    @classmethod
    def _quality(cls, text: str) -> str:
        from gridtwin.store import Quality

        Quality.parse(text)  # an InputError (a ValueError) names the known flags
        return text


class IngestIn(InputModel):
    """A batch of values."""

    items: list[MeasurementIn] = Field(min_length=1, max_length=1_000_000)
    source: str = Field(
        default="api", max_length=100, description="Who sends (kept with the rejects)."
    )


class RejectedOut(OutputModel):
    """An item that was not stored, and why."""

    index: int = Field(description="The item's position in the request, from 0.")
    point_id: str | None
    reason: str = Field(description="unknown_point, out_of_range, future_timestamp, ...")
    detail: str


class IngestOut(OutputModel):
    """What the batch became; sending it again stores nothing new (duplicates)."""

    received: int
    stored: int = Field(description="New values and revisions written.")
    duplicates: int = Field(description="Values equal to stored ones: not stored again.")
    revisions: int = Field(description="Of stored, values that changed a stored value.")
    rejected: list[RejectedOut]


@router.post(
    "/measurements",
    response_model=IngestOut,
    summary="Send measurements (operator)",
)
async def ingest(body: IngestIn, user: Operator, state: StateDep, audit: AuditDep) -> IngestOut:
    """Values get the ingest pipeline's checks (and the store's de-duplication and
    rejects, as every other source's) and are durable when this answers. Items the checks
    refuse are listed with their index and reason (and kept in GET /rejects); the
    others are stored. Idempotent: a retry finds duplicates."""
    limit = state.settings.max_ingest_items
    if len(body.items) > limit:
        msg = f"items: {len(body.items):,} values, above the limit of {limit:,} per request"
        raise InputError(msg)
    audit.obj = f"measurements={len(body.items)}"
    raw = _raw_batch(body, source=f"api:{user.username}:{body.source}")
    outcome: IngestOutcome = await state.run_ingest(state.ingest.ingest, raw)
    audit.detail = (
        f"stored={outcome.stored} duplicates={outcome.duplicates} rejected={len(outcome.rejected)}"
    )
    return IngestOut(
        received=outcome.received,
        stored=outcome.stored,
        duplicates=outcome.duplicates,
        revisions=outcome.revisions,
        rejected=[RejectedOut(**vars(r)) for r in outcome.rejected],
    )


def _raw_batch(body: IngestIn, source: str) -> Any:
    import numpy as np

    from gridtwin.ingest import RawBatch
    from gridtwin.store import Quality

    def naive(t: dt.datetime | None) -> Any:
        return np.datetime64("NaT") if t is None else np.datetime64(t.replace(tzinfo=None), "us")

    items = body.items
    return RawBatch.build(
        [i.point_id for i in items],
        np.array([naive(i.ts) for i in items], dtype="datetime64[us]"),
        [i.value for i in items],
        quality=[int(Quality.parse(i.quality)) for i in items],
        source_ts_utc=np.array([naive(i.source_ts) for i in items], dtype="datetime64[us]"),
        source=source,
    )


# ---------------------------------------------------------------------- export


_MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        200: {
            "content": {
                m: {"schema": {"type": "string", "format": "binary"}} for m in _MEDIA.values()
            },
            "description": "The measurements as a file (point_id, ts_utc, value, quality, "
            "revision, source_ts_utc, arrival_ts_utc).",
        }
    },
    summary="Export measurements as CSV or Parquet",
)
async def export(
    user: Viewer,
    state: StateDep,
    start: Annotated[UtcTime, Query(description="Start (with a zone), included.")],
    end: Annotated[UtcTime, Query(description="End (with a zone), excluded.")],
    fmt: Annotated[Literal["csv", "parquet"], Query(alias="format")] = "csv",
    points: PointsQuery = None,
    all_revisions: bool = False,
) -> FileResponse:
    """A file of the values in ``[start, end)`` (at most ``max_export_span_s``), written
    by the store to a temporary file, streamed, then deleted."""
    if end <= start:
        msg = f"end {end.isoformat()} must be after start {start.isoformat()}"
        raise InputError(msg)
    span_s = (end - start).total_seconds()
    if span_s > state.settings.max_export_span_s:
        msg = (
            f"the export spans {span_s:,.0f} s, above the limit of "
            f"{state.settings.max_export_span_s:,} s (max_export_span_s); export in parts"
        )
        raise InputError(msg)
    folder = Path(tempfile.mkdtemp(prefix="gridtwin-export-"))
    path = folder / f"measurements.{fmt}"
    try:
        await state.run(_export, state, path, fmt, _split(points), start, end, all_revisions)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"gridtwin-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.{fmt}"
    return FileResponse(
        path,
        media_type=_MEDIA[fmt],
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def _export(  # the query's parameters, passed on
    state: ServiceState,
    path: Path,
    fmt: Literal["csv", "parquet"],
    point_ids: list[str] | None,
    start: dt.datetime,
    end: dt.datetime,
    all_revisions: bool,
) -> int:
    import pandas as pd

    ids = None if point_ids is None else known_points(state.store, point_ids)
    return state.store.export(
        path,
        fmt,
        point_ids=ids,
        start_utc=pd.Timestamp(start),
        end_utc=pd.Timestamp(end),
        all_revisions=all_revisions,
    )


# ---------------------------------------------------------------------- rejects


class RejectOut(OutputModel):
    """An input the store did not take."""

    point_id: str | None
    ts_utc: dt.datetime | None
    value: float | None
    reason: str
    detail: str
    source: str
    raw: str
    arrival_ts_utc: dt.datetime | None


class RejectsOut(OutputModel):
    """Rejects, newest first."""

    rejects: list[RejectOut]


@router.get("/rejects", response_model=RejectsOut, summary="Inputs that were refused")
async def rejects(
    user: Viewer,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Rejects at most.")] = 100,
) -> RejectsOut:
    """The newest rejects with the reason and what exactly was wrong."""
    frame = await state.run(state.store.rejects, limit)
    rows = records(frame)
    return RejectsOut(
        rejects=[
            RejectOut(
                point_id=None if _missing(r["point_id"]) else str(r["point_id"]),
                ts_utc=py_time(r["ts_utc"]),
                value=none_if_nan(r["value"]),
                reason=str(r["reason"]),
                detail=str(r["detail"]),
                source=str(r["source"]),
                raw=str(r["raw"]),
                arrival_ts_utc=py_time(r["arrival_ts_utc"]),
            )
            for r in rows
        ]
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)
