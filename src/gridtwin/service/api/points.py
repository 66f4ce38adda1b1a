"""``/points``: the measurement points (read: viewer; create and change: analyst)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from gridtwin.errors import InputError, NotFoundError
from gridtwin.service._accounts import ConflictError
from gridtwin.service._state import ServiceState
from gridtwin.service.api import point_forecast
from gridtwin.service.api._common import (
    InputModel,
    OutputModel,
    UtcTime,
    check_span,
    json_response,
    none_if_nan,
    quality_label,
    utc_datetimes,
)
from gridtwin.service.deps import Analyst, AuditDep, StateDep, Viewer
from gridtwin.store import MeasurementPoint

__all__ = ["PointBody", "PointIn", "PointOut", "PointsOut", "SeriesOut", "router"]

router = APIRouter(prefix="/points", tags=["points"])

#: A point id in a path: it may hold ``/`` (Sparkplug names), so it takes the rest.
PointId = Annotated[str, Path(min_length=1, max_length=200, description="The point's id.")]


class PointBody(InputModel):
    """A point's definition (without its id)."""

    quantity: str = Field(max_length=50, description="p, q, u, vm, i, energy, ... (see docs)")
    unit: str = Field(max_length=20, description="One of the quantity's units (kW, pu, ...).")
    element: str | None = Field(
        default=None, max_length=100, description="The network element, e.g. load:12."
    )
    phase: str = Field(default="abc", max_length=3, description="abc, a, b, c or n.")
    source: str = Field(default="", max_length=200)
    scale: float = Field(default=1.0, description="value = raw * scale + offset.")
    offset: float = 0.0
    min_value: float | None = Field(default=None, description="Plausible minimum [unit].")
    max_value: float | None = Field(default=None, description="Plausible maximum [unit].")
    description: str = Field(default="", max_length=1000)


class PointIn(PointBody):
    """A new point."""

    point_id: str = Field(min_length=1, max_length=200, description="Letters, digits and _ . : / -")


class PointOut(OutputModel):
    """A measurement point."""

    point_id: str
    quantity: str
    unit: str
    element: str | None
    phase: str
    source: str
    scale: float
    offset: float
    min_value: float | None
    max_value: float | None
    description: str
    range_min: float = Field(description="The accepted minimum [unit] (own or the quantity's).")
    range_max: float = Field(description="The accepted maximum [unit].")


class PointsOut(OutputModel):
    """Points by id."""

    points: list[PointOut]


def point_out(p: MeasurementPoint) -> PointOut:
    """The response model of a point."""
    lo, hi = p.value_range()
    return PointOut(**vars(p), range_min=lo, range_max=hi)


def _find(points: list[MeasurementPoint], point_id: str) -> MeasurementPoint | None:
    return next((p for p in points if p.point_id == point_id), None)


@router.get("", response_model=PointsOut, summary="List the measurement points")
async def list_points(user: Viewer, state: StateDep) -> Response:
    """Every point, by id."""
    # serialised once per set of points (a thousand points neither remade nor
    # serialised per request)
    body = state.per_points(
        "points",
        lambda points: PointsOut(points=[point_out(p) for p in points]).model_dump_json(),
    )
    return Response(content=body, media_type="application/json")


@router.post("", response_model=PointOut, status_code=201, summary="Create a point (analyst)")
async def create_point(body: PointIn, user: Analyst, state: StateDep, audit: AuditDep) -> PointOut:
    """A new point; 409 if the id exists (change it with PUT)."""
    audit.obj = f"point={body.point_id}"
    point = MeasurementPoint(**body.model_dump())

    def add() -> None:
        if _find(state.store.points(), point.point_id) is not None:
            msg = f"point {point.point_id!r} exists; change it with PUT /points/{{point_id}}"
            raise ConflictError(msg)
        state.store.add_points([point])
        state.ingest.refresh_points()

    await state.run(add)
    return point_out(point)


class ValueOut(OutputModel):
    """One value: raw (with quality and revision) or resampled (without)."""

    ts_utc: dt.datetime = Field(description="The time, or the interval's start.")
    value: float | None = Field(description="In the point's unit; null: no value.")
    quality: str | None = Field(default=None, description="valid, estimated, ... (raw only)")
    revision: int | None = Field(default=None, description="0, 1, ... (raw only)")


class SeriesOut(OutputModel):
    """A point's values in ``[start_utc, end_utc)``."""

    point_id: str
    unit: str
    start_utc: dt.datetime
    end_utc: dt.datetime
    step_s: float | None = Field(description="The resampling step [s]; null: raw values.")
    how: str | None
    values: list[ValueOut]


How = Literal["mean", "last", "sum", "min", "max"]


# registered before GET /{point_id:path}, which would otherwise take ".../measurements"
@router.get(
    "/{point_id:path}/measurements",
    response_model=SeriesOut,
    summary="A point's values in a time window (bounded)",
)
async def point_measurements(
    point_id: PointId,
    user: Viewer,
    state: StateDep,
    start: Annotated[UtcTime, Query(description="Window start (with a zone), included.")],
    end: Annotated[UtcTime, Query(description="Window end (with a zone), excluded.")],
    step_s: Annotated[
        float | None,
        Query(gt=0, le=366 * 86400, description="Resample on this step [s]; absent: raw."),
    ] = None,
    how: Annotated[How, Query(description="Aggregation of a resampled interval.")] = "mean",
    all_revisions: Annotated[bool, Query(description="Raw: every revision.")] = False,
) -> Response:
    """Raw values, or values resampled on ``step_s`` (intervals labelled by their start;
    an interval without values is null, never filled). Bounded: ``(end - start) /
    step`` may not exceed ``max_query_points``, with ``raw_step_s`` as the step of raw
    values (422 naming the limit otherwise)."""
    settings = state.settings
    check_span(start, end, step_s or settings.raw_step_s, settings.max_query_points)
    unit, values = await state.run(_series, state, point_id, start, end, step_s, how, all_revisions)
    return json_response(
        SeriesOut(
            point_id=point_id,
            unit=unit,
            start_utc=start,
            end_utc=end,
            step_s=step_s,
            how=how if step_s else None,
            values=values,
        )
    )


def _series(
    state: ServiceState,
    point_id: str,
    start: dt.datetime,
    end: dt.datetime,
    step_s: float | None,
    how: How,
    all_revisions: bool,
) -> tuple[str, list[ValueOut]]:
    import pandas as pd

    point = _find(state.store.points(), point_id)
    if point is None:
        msg = f"no measurement point {point_id!r}"
        raise NotFoundError(msg)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if step_s is not None:
        wide = state.store.resample([point_id], lo, hi, pd.Timedelta(seconds=step_s), how)
        col = wide[point_id].to_numpy()
        return point.unit, [
            ValueOut(ts_utc=t.to_pydatetime(), value=none_if_nan(v))
            for t, v in zip(wide.index, col, strict=True)
        ]
    rows = state.store.window_rows([point_id], lo, hi, all_revisions=all_revisions)
    limit = state.settings.max_query_points
    if len(rows) > limit:
        msg = (
            f"the window holds {len(rows):,} values, above the limit of {limit:,} "
            "(max_query_points); narrow start/end or give step_s"
        )
        raise InputError(msg)
    # built without validation: every field comes from the store's typed arrays (a
    # validated model per value cost more than the query that read them)
    make = ValueOut.model_construct
    return point.unit, [
        make(ts_utc=t, value=v, quality=quality_label(q), revision=r)
        for t, v, q, r in zip(
            cast("list[dt.datetime]", utc_datetimes(rows.ts_utc)),  # stored: never NaT
            [None if v != v else v for v in rows.value.tolist()],
            rows.quality.tolist(),
            rows.revision.tolist(),
            strict=True,
        )
    ]


# GET /{point_id}/forecast (api/point_forecast.py), likewise before the catch-all below
point_forecast.register(router)


@router.get("/{point_id:path}", response_model=PointOut, summary="Show a point")
async def get_point(point_id: PointId, user: Viewer, state: StateDep) -> PointOut:
    """One point."""
    found = _find(await state.run(state.store.points), point_id)
    if found is None:
        msg = f"no measurement point {point_id!r}"
        raise NotFoundError(msg)
    return point_out(found)


@router.put("/{point_id:path}", response_model=PointOut, summary="Change a point (analyst)")
async def update_point(
    point_id: PointId, body: PointBody, user: Analyst, state: StateDep, audit: AuditDep
) -> PointOut:
    """Replace a point's definition; 404 if there is none. Changing the quantity or unit
    of a point that has values is refused (422): its stored values would change meaning."""
    audit.obj = f"point={point_id}"
    point = MeasurementPoint(point_id=point_id, **body.model_dump())

    def update() -> None:
        if _find(state.store.points(), point_id) is None:
            msg = f"no measurement point {point_id!r}; create it with POST /points"
            raise NotFoundError(msg)
        state.store.add_points([point])
        state.ingest.refresh_points()

    await state.run(update)
    return point_out(point)
