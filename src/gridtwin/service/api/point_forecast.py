"""``GET /points/{point_id}/forecast``: a day-ahead probabilistic forecast of a point (viewer).

The point's history is read from the store (resampled on ``step_s``, the ``history_days``
before the issue time) and forecast with :mod:`gridtwin.forecast`: LightGBM quantile
models when the history passes the module's checks, otherwise its stated fallback
(``profile``: quantiles per clock time of the last 28 days; ``constant``: the last value;
``none``: no value before the issue time), and the answer says which and why. The
forecast of the local days after the issue time's day is the module's day-ahead (issued
at the issue time, from the intervals that had ended by then).

Answers are kept per point, issue time and parameters (:data:`CACHE_SIZE` of them), so a
page reload does not train again; the work runs in the service's worker threads, and the
history it reads is bounded by ``max_query_points``.

The route is registered on the points router before its catch-all ``GET
/points/{point_id:path}`` (a point id may hold ``/``), by :func:`register`.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from gridtwin.errors import InputError, NotFoundError
from gridtwin.service.api._common import OutputModel, UtcTime, check_span, json_response
from gridtwin.service.deps import StateDep, Viewer

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.forecast import ForecastResult
    from gridtwin.service._state import ServiceState
    from gridtwin.store import MeasurementPoint

__all__ = [
    "CACHE_SIZE",
    "FORECAST_QUANTILES",
    "MAX_HISTORY_DAYS",
    "MAX_HORIZON_DAYS",
    "ForecastOut",
    "register",
]

#: Quantile levels of the answer (P50 is the point forecast).
FORECAST_QUANTILES: Final[tuple[float, ...]] = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The longest horizon the service forecasts [local days].
MAX_HORIZON_DAYS: Final = 7
#: The longest history read for one forecast [days].
MAX_HISTORY_DAYS: Final = 91
#: Forecasts kept (the oldest is dropped first).
CACHE_SIZE: Final = 128
_CACHE_KEY: Final = "point_forecasts"
_LOCK = threading.Lock()

PointId = Annotated[str, Path(min_length=1, max_length=200, description="The point's id.")]
StepS = Literal[900, 1800, 3600]
ServiceMethod = Literal["gbm", "weekly_naive"]


class QuantileOut(OutputModel):
    """One quantile level over the forecast intervals."""

    level: float = Field(description="The quantile level (0.5: the median).")
    value: list[float | None] = Field(description="Per interval, in the point's unit.")


class ForecastOut(OutputModel):
    """A point's probabilistic forecast of the local days after its issue time."""

    point_id: str
    unit: str
    quantity: str
    issue_utc: dt.datetime = Field(description="When the forecast is issued (its data cut).")
    available_until_utc: dt.datetime = Field(
        description="End of the last interval the forecast could read."
    )
    first_day_local: dt.date = Field(description="The first forecast day (local date in tz).")
    horizon_days: int
    tz: str
    country: str | None
    step_s: int
    history_days: int
    history_values: int = Field(description="Intervals with a value in the history read.")
    method_requested: str
    method: str = Field(
        description="The method used: gbm or weekly_naive, or the fallback profile, "
        "constant or none."
    )
    fallback: str | None = Field(description="Why the requested method was not used.")
    time_utc: list[dt.datetime] = Field(description="Start of each forecast interval (UTC).")
    quantiles: list[QuantileOut]
    notes: list[str]
    computed_utc: dt.datetime = Field(description="When this forecast was computed.")
    compute_s: float = Field(description="Time it took [s] (reads, checks, training).")
    cached: bool = Field(description="True when kept from an earlier request.")


def _zone(tz: str) -> None:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"tz {tz!r}: not an IANA time zone (e.g. Europe/Berlin, UTC)"
        raise InputError(msg) from exc


def _country(country: str | None) -> None:
    if country is None:
        return
    import holidays

    if country.upper() not in holidays.list_supported_countries():
        msg = f"country {country!r}: not a country the holidays package knows (e.g. DE, GB, IT)"
        raise InputError(msg)


def _find(state: ServiceState, point_id: str) -> MeasurementPoint:
    point = next((p for p in state.store.points() if p.point_id == point_id), None)
    if point is None:
        msg = f"no measurement point {point_id!r}; GET /api/v1/points lists them"
        raise NotFoundError(msg)
    return point


def _default_issue(state: ServiceState, point_id: str, step: pd.Timedelta) -> pd.Timestamp:
    """The end of the interval of the point's newest value (the point's "now")."""
    import pandas as pd

    latest = state.store.latest([point_id])
    if latest.empty or latest["ts_utc"].isna().all():
        msg = (
            f"point {point_id!r} has no value yet: give issued=<time> or store values "
            "first (POST /api/v1/measurements)"
        )
        raise InputError(msg)
    newest = pd.Timestamp(latest["ts_utc"].max())
    newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest.tz_convert("UTC")
    return newest.floor(f"{int(step.total_seconds())}s") + step


def _result_out(
    point: MeasurementPoint, res: ForecastResult, params: dict[str, Any], n_values: int
) -> dict[str, Any]:
    from gridtwin.service.api._common import utc_datetimes

    values = res.values[0]
    return {
        "point_id": point.point_id,
        "unit": point.unit,
        "quantity": point.quantity,
        "issue_utc": res.issue_utc.to_pydatetime(),
        "available_until_utc": res.available_until_utc.to_pydatetime(),
        **params,
        "history_values": n_values,
        "method": res.methods[0],
        "fallback": res.fallbacks[0],
        "time_utc": utc_datetimes(res.time_utc.tz_convert(None).to_numpy("datetime64[us]")),
        "quantiles": [
            QuantileOut(level=q, value=[None if v != v else float(v) for v in values[:, j]])
            for j, q in enumerate(res.quantiles)
        ],
        "notes": list(res.notes),
    }


def _compute(
    state: ServiceState,
    point_id: str,
    issued: dt.datetime | None,
    horizon_days: int,
    step_s: int,
    history_days: int,
    tz: str,
    country: str | None,
    method: ServiceMethod,
) -> ForecastOut:
    import numpy as np
    import pandas as pd

    from gridtwin.forecast import Forecaster, ForecastSpec

    point = _find(state, point_id)
    _zone(tz)
    _country(country)
    step = pd.Timedelta(seconds=step_s)
    issue = (
        _default_issue(state, point_id, step)
        if issued is None
        else pd.Timestamp(issued).tz_convert("UTC").floor(f"{step_s}s")
    )
    start = issue - pd.Timedelta(days=history_days)
    check_span(
        start.to_pydatetime(), issue.to_pydatetime(), step_s, state.settings.max_query_points
    )
    local = issue.tz_convert(tz)
    first_day = local.date() + dt.timedelta(days=1)
    params: dict[str, Any] = {
        "first_day_local": first_day,
        "horizon_days": horizon_days,
        "tz": tz,
        "country": country.upper() if country else None,
        "step_s": step_s,
        "history_days": history_days,
        "method_requested": method,
    }
    key = (point_id, issue.value, point.unit, *params.values())
    with _LOCK:
        cache: collections.OrderedDict[Any, ForecastOut] = state.answers.setdefault(
            _CACHE_KEY, collections.OrderedDict()
        )
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit.model_copy(update={"cached": True})
    t0 = time.perf_counter()
    frame = state.store.resample([point_id], start, issue, step, "mean")
    values = frame[point_id].to_numpy(dtype=float)[None, :]
    # from the point's first value in the window on: the intervals before a series began
    # are not gaps in it (the module's gap check counts the last 28 days)
    finite = np.flatnonzero(np.isfinite(values[0]))
    if finite.size:
        start = start + step * int(finite[0])
        values = values[:, int(finite[0]) :]
    spec = ForecastSpec(
        tz=tz,
        country=params["country"],
        quantiles=FORECAST_QUANTILES,
        horizon_days=horizon_days,
        issue_time_local=local.time().replace(tzinfo=None),
        method=method,
        max_history_days=history_days,
        n_jobs=1,
    )
    res = Forecaster(spec).predict(values, start, step, first_day, [point_id])
    n_values = int((values == values).sum())
    out = ForecastOut(
        **_result_out(point, res, params, n_values),
        computed_utc=dt.datetime.now(dt.UTC),
        compute_s=round(time.perf_counter() - t0, 4),
        cached=False,
    )
    with _LOCK:
        cache[key] = out
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return out


async def point_forecast(
    point_id: PointId,
    user: Viewer,
    state: StateDep,
    issued: Annotated[
        UtcTime | None,
        Query(
            description="Issue time (with a zone): the forecast reads only the intervals "
            "ended by then; default: the end of the point's newest value's interval."
        ),
    ] = None,
    horizon_days: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_HORIZON_DAYS,
            description=f"Local days forecast after the issue day (1 to {MAX_HORIZON_DAYS}).",
        ),
    ] = 1,
    step_s: Annotated[
        StepS, Query(description="Forecast step [s]: 900, 1800 or 3600 (the history's mean).")
    ] = 900,
    history_days: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_HISTORY_DAYS,
            description=f"Days of history read before the issue time (1 to {MAX_HISTORY_DAYS}).",
        ),
    ] = 56,
    tz: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="IANA zone of the point's local days and calendar (e.g. Europe/Berlin).",
        ),
    ] = "UTC",
    country: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=3,
            description="Public holidays of this country (holidays package code, e.g. DE).",
        ),
    ] = None,
    method: Annotated[
        ServiceMethod,
        Query(description="gbm (LightGBM quantiles) or weekly_naive; fallbacks are stated."),
    ] = "gbm",
) -> Response:
    """Quantiles 0.05, 0.25, 0.5, 0.75 and 0.95 of the point's values over the local days
    after the issue time's day, from its stored history (``gridtwin.forecast``); the
    ``method`` used and, when it fell back (short, gappy, flat or empty history), why.
    Kept per point, issue time and parameters: ``cached`` is true when not computed again."""
    out = await state.run(
        _compute, state, point_id, issued, horizon_days, step_s, history_days, tz, country, method
    )
    return json_response(out)


def register(router: APIRouter) -> None:
    """Add ``GET /{point_id}/forecast`` to the points router (before its catch-all)."""
    router.add_api_route(
        "/{point_id:path}/forecast",
        point_forecast,
        methods=["GET"],
        response_model=ForecastOut,
        summary="A point's day-ahead probabilistic forecast (quantiles, method, fallback)",
    )
