"""``/twin/history``: one element's state over time against its limits (viewer).

The twin writes every interval's state to the store (points ``twin:bus:<i>:vm``,
``twin:line:<i>:loading``, ``twin:trafo:<i>:loading``, quality *estimated*); this route
reads one element's series from there, the measured points on the same element (a bus
voltage meter, ...), and the limits the twin's checks hold it against: the supply-voltage
bands of the twin's standard (GOST 32144-2013 or EN 50160:2010, U0 of the customer bus)
for a bus, the rating and the 90 % warning for a line, the rated power for a transformer.
It is what the console's trends page plots.

Forecasts (issue 14) will come as the ``forecast`` series; until then it is null.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from gridtwin.errors import InputError, NotFoundError
from gridtwin.service.api._common import (
    OutputModel,
    UtcTime,
    check_span,
    floats_or_none,
    json_response,
    py_times,
)
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import StateDep, Viewer

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.service._state import ServiceState
    from gridtwin.service.twin import TwinRuntime

__all__ = ["router"]

router = APIRouter(prefix="/twin", tags=["twin"])

_ELEMENT = re.compile(r"^(bus|line|trafo):(\d{1,9})$")
#: The default window: this long up to the newest interval.
DEFAULT_WINDOW_S = 86400.0
#: Line loading warning of the network checks [%] (as gridtwin.workflows.compliance).
_LINE_WARN_PERCENT = 90.0


class SeriesOut(OutputModel):
    """One series, as columns (times and values of the same length)."""

    point_id: str | None = Field(description="The store's point, if the series is one.")
    label: str
    unit: str
    time_utc: list[dt.datetime]
    value: list[float | None]


class LimitOut(OutputModel):
    """A band the element is held to (None: no bound on that side)."""

    label: str
    lower: float | None
    upper: float | None
    severity: Literal["violation", "warning"] = Field(
        description="violation: beyond it at any time breaks the limit; warning: allowed "
        "for part of the time, or an early warning."
    )
    rule: str = Field(description="What is checked, with the standard's clause or source.")


class HistoryOut(OutputModel):
    """One element's state over a window against its limits."""

    element: str = Field(description="bus:<i>, line:<i> or trafo:<i>.")
    quantity: Literal["vm_pu", "loading_percent"]
    unit: Literal["pu", "%"]
    standard: str
    start_utc: dt.datetime
    end_utc: dt.datetime
    estimated: SeriesOut = Field(description="The twin's state (power flow or estimation).")
    measured: list[SeriesOut] = Field(description="Measured points on the same element.")
    forecast: SeriesOut | None = Field(
        description="A forecast of the quantity: not yet (issue 14), always null."
    )
    limits: list[LimitOut]
    notes: list[str]


def _parse(element: str) -> tuple[str, int]:
    m = _ELEMENT.match(element)
    if m is None:
        msg = (
            f"element {element!r}: give bus:<index>, line:<index> or trafo:<index> "
            "(the ids of GET /api/v1/model/topology?format=geojson)"
        )
        raise InputError(msg)
    return m.group(1), int(m.group(2))


def _bus_limits(runtime: TwinRuntime, bus: int) -> tuple[list[LimitOut], list[str]]:
    from gridtwin.network.checks import customer_reference
    from gridtwin.quality import get_limit_set

    model = runtime.live.twin.model
    standard = runtime.config.standard
    ref = customer_reference(model, standard)
    row = ref[ref["bus"] == bus]
    notes: list[str] = []
    if len(row):
        level, u0 = str(row["level"].iloc[0]), float(row["u0_pu"].iloc[0])
    else:
        vn_kv = float(model.net.bus.at[bus, "vn_kv"])
        if vn_kv > 35.0:
            return [], [f"bus {bus} is above 35 kV: the standard's supply band does not apply"]
        level, u0 = ("LV" if vn_kv < 1.0 else "MV"), 1.0
        notes.append(
            f"bus {bus} has no customer: the band is drawn around 1.0 pu ({level}) for "
            "orientation; the twin's checks judge customer buses only"
        )
    ind = get_limit_set(standard).indicator(level, "voltage_deviation")
    out: list[LimitOut] = []
    for lim, severity in ((ind.max_limit, "violation"), (ind.share_limit, "warning")):
        if lim is None:
            continue
        what = f"{lim.share_percent:g} %"
        out.append(
            LimitOut(
                label=f"{standard} band for {what} of the week",
                lower=None if lim.lower is None else u0 * (1 + lim.lower / 100),
                upper=None if lim.upper is None else u0 * (1 + lim.upper / 100),
                severity=severity,
                rule=f"supply voltage within {lim.band_text('percent')} of U0 = {u0:.3f} pu "
                f"for {what} of the week ({level}) [{ind.citation}]",
            )
        )
    return out, notes


def _branch_limits(table: str) -> list[LimitOut]:
    if table == "line":
        return [
            LimitOut(
                label="rating",
                lower=None,
                upper=100.0,
                severity="violation",
                rule="line loading above the cable's rating (gridtwin.network.checks)",
            ),
            LimitOut(
                label="90 % warning",
                lower=None,
                upper=_LINE_WARN_PERCENT,
                severity="warning",
                rule="line loading above 90 % of the rating (warn_ratio of the network checks)",
            ),
        ]
    return [
        LimitOut(
            label="rated power",
            lower=None,
            upper=100.0,
            severity="warning",
            rule="transformer loading above the rated power (allowed by IEC 60076-7 cyclic "
            "loading while the hot spot stays below its limit)",
        )
    ]


def _series(
    state: ServiceState, point_id: str, label: str, unit: str, lo: pd.Timestamp, hi: pd.Timestamp
) -> SeriesOut:
    frame = state.store.window([point_id], lo, hi)
    frame = frame.drop_duplicates("ts_utc", keep="last")  # the newest revision of each time
    pairs = [
        (t, v)
        for t, v in zip(py_times(frame["ts_utc"]), floats_or_none(frame["value"]), strict=True)
        if t is not None
    ]
    return SeriesOut(
        point_id=point_id,
        label=label,
        unit=unit,
        time_utc=[t for t, _ in pairs],
        value=[v for _, v in pairs],
    )


def _history(
    state: ServiceState,
    runtime: TwinRuntime,
    element: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> HistoryOut:
    import pandas as pd

    table, index = _parse(element)
    net = runtime.live.twin.model.net
    if index not in getattr(net, table).index:
        n = len(getattr(net, table))
        msg = f"no {table} {index} in the twin's model (it has {n} {table} elements)"
        raise NotFoundError(msg)
    step_s = runtime.live.step.total_seconds()
    if end is None:
        latest = runtime.latest()
        newest = (
            latest.time_utc.to_pydatetime()
            if latest is not None
            else dt.datetime.now(dt.UTC).replace(microsecond=0)
        )
        end = newest + dt.timedelta(seconds=step_s)
    if start is None:
        start = end - dt.timedelta(seconds=DEFAULT_WINDOW_S)
    settings = state.settings
    check_span(start, end, min(step_s, settings.raw_step_s), settings.max_query_points)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if table == "bus":
        quantity, unit, suffix = "vm_pu", "pu", "vm"
        limits, notes = _bus_limits(runtime, index)
    else:
        quantity, unit, suffix = "loading_percent", "%", "loading"
        limits, notes = _branch_limits(table), []
    estimated = _series(
        state, f"twin:{table}:{index}:{suffix}", "estimated (twin state)", unit, lo, hi
    )
    measured = [
        _series(state, p.point_id, f"measured {p.point_id}", p.unit, lo, hi)
        for p in state.store.points()
        if p.element == element and p.source != "twin" and p.unit == unit
    ]
    if not estimated.time_utc:
        notes.append("no stored state of this element in the window")
    return HistoryOut(
        element=element,
        quantity=quantity,
        unit=unit,
        standard=runtime.config.standard,
        start_utc=start,
        end_utc=end,
        estimated=estimated,
        measured=measured,
        forecast=None,
        limits=limits,
        notes=notes,
    )


@router.get(
    "/history",
    response_model=HistoryOut,
    summary="One element's state over time against its limits",
)
async def twin_history(
    user: Viewer,
    state: StateDep,
    runtime: TwinDep,
    element: Annotated[
        str,
        Query(
            min_length=5,
            max_length=20,
            description="bus:<i> (voltage), line:<i> or trafo:<i> (loading).",
        ),
    ],
    start: Annotated[
        UtcTime | None, Query(description="Window start (with a zone), included.")
    ] = None,
    end: Annotated[
        UtcTime | None,
        Query(description="Window end, excluded; default: just after the newest interval."),
    ] = None,
) -> Response:
    """The twin's stored state of ``element`` (bus voltage [pu], line or transformer
    loading [%]) in ``[start, end)`` (default: the 24 h up to the newest interval), the
    measured points on the same element in the same unit, and the limits the twin's
    checks apply (bounded like the point reads: 422 naming ``max_query_points``)."""
    out = await state.run(_history, state, runtime, element, start, end)
    return json_response(out)
