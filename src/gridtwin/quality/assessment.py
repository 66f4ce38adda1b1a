"""Power-quality assessment of measured aggregates, and potential deviations of the twin.

:func:`assess` runs the weekly evaluation of :func:`gridtwin.quality.evaluate` (counts N,
N1, N2 per point and observation week; GOST 32144-2013 4.2, EN 50160:2010 4.2/5.2) for
every measured quantity, phase and point of a :class:`~gridtwin.quality.measurements.
MeasurementSet`, and gathers one :class:`Assessment`:

- ``detail``: one row per point × week × indicator × phase;
- ``table``: one row per point × week × indicator (the worst phase decides: a fail in one
  phase is a fail of the indicator, as the standards judge each phase);
- ``points``: one overall verdict per point (``'fail'`` if any indicator fails in any
  week, else ``'insufficient data'`` if any has too little data, else ``'pass'``).

Events (dips, swells, interruptions) are *flagging* events (IEC 61000-4-30 4.7): every
interval that overlaps one is excluded from N. They come from the ``flagged`` column of
the measurements and/or an event table (``events=``). An event table is any frame (or
object with ``to_frame()``) with at least ``point_id, start_utc, end_utc``; see
:data:`EVENT_COLUMNS`. Event *detectors* plug in as :data:`EventSource` callables via
:func:`register_event_source`; the built-in ``'flags'`` source lists the flagged
intervals present in the measurements (:func:`flagged_intervals`).

:func:`potential_deviations` applies the same evaluation to simulated or forecast
voltages of the network twin (:func:`gridtwin.quality.evaluate_voltage_pu`, or a
:class:`gridtwin.network.checks.CheckReport`) and lists the predicted non-compliance as
*potential deviations* with time, place and cause.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._evaluation import (
    IndicatorEvaluation,
    UnderOverDeviation,
    evaluate,
)
from gridtwin.quality._limits import (
    Indicator,
    LimitSet,
    VoltageLevel,
    get_limit_set,
    load_limit_set,
)
from gridtwin.quality.measurements import (
    LINE_PHASES,
    QUANTITIES,
    IndicatorSeries,
    MeasurementSet,
    SupportsToFrame,
    apply_windows,
    normalise_voltage_units,
)
from gridtwin.timeseries import utc_ns

__all__ = [
    "EVENT_COLUMNS",
    "Assessment",
    "EventSource",
    "assess",
    "event_sources",
    "events_frame",
    "find_events",
    "flagged_intervals",
    "register_event_source",
    "resolve_limit_set",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
VoltageUnitArg = Literal["auto", "V", "kV", "pu", "percent"]

_NS: Final = 1_000_000_000
_RANK: Final[dict[str, int]] = {"pass": 0, "insufficient data": 1, "fail": 2}
_VERDICTS: Final = ("pass", "insufficient data", "fail")
_ORDER: Final[dict[str, int]] = {
    name: i
    for i, name in enumerate(
        [
            "voltage_deviation",
            "frequency_deviation",
            "frequency_deviation_isolated",
            "unbalance_negative_sequence",
            "unbalance_zero_sequence",
            "thd",
            *[f"harmonic_{n}" for n in range(2, 51)],
            "pst",
            "plt",
        ]
    )
}

#: Columns of an event table: ``point_id``, ``kind`` (``'dip'``, ``'swell'``,
#: ``'interruption'``, ``'flagged interval'`` ...), ``start_utc``, ``end_utc`` (tz-aware),
#: ``duration_s`` [s], ``phase``, ``extreme_percent`` (residual voltage of a dip, maximum
#: of a swell [% of U0]; NaN if unknown), ``source`` and ``detail`` (free text).
EVENT_COLUMNS: Final = (
    "point_id",
    "kind",
    "start_utc",
    "end_utc",
    "duration_s",
    "phase",
    "extreme_percent",
    "source",
    "detail",
)

EventSource = Callable[[MeasurementSet], pd.DataFrame]
"""A detector: measurements -> event table with :data:`EVENT_COLUMNS`."""


# --------------------------------------------------------------------------- limit sets


def resolve_limit_set(limit_set: LimitSet | str | Path) -> LimitSet:
    """A limit set: given, a built-in id (``'GOST 32144-2013'``) or a YAML/TOML file."""
    if isinstance(limit_set, LimitSet):
        return limit_set
    text = str(limit_set)
    if text.lower().endswith((".yaml", ".yml", ".toml")):
        return load_limit_set(text)
    return get_limit_set(text)


def _references(
    ls: LimitSet, level: str, nominal_v: float | None, nominal_line_v: float | None
) -> tuple[float | None, float | None]:
    """U0 of phase-to-neutral and of line-to-line channels [V]."""
    for name, value in (("nominal_v", nominal_v), ("nominal_line_v", nominal_line_v)):
        if value is not None and not value > 0:
            msg = f"{name} must be positive [V], got {value}"
            raise InputError(msg)
    if nominal_v is None and nominal_line_v is None:
        return ls.nominal_voltage_v(level), ls.nominal_voltage_v(level, line=True)
    if nominal_v is None:
        return float(nominal_line_v) / math.sqrt(3.0), nominal_line_v  # type: ignore[arg-type]
    return nominal_v, nominal_line_v if nominal_line_v is not None else nominal_v * math.sqrt(3)


# --------------------------------------------------------------------------- events


def events_frame(
    events: pd.DataFrame | SupportsToFrame | None,
    where: str = "events",
    *,
    point_id: str | None = None,
) -> pd.DataFrame:
    """Normalise an event table to :data:`EVENT_COLUMNS` (validated).

    Parameters
    ----------
    events : pandas.DataFrame or object with ``to_frame()``, optional
        At least ``point_id`` and ``start_utc`` with ``end_utc`` or ``duration_s`` [s];
        timestamps tz-aware. ``None`` gives an empty table. The event log of a waveform
        record (``gridtwin.quality.events.EventLog``) fits: its ``worst_channel`` becomes
        ``phase`` and ``channels`` the ``detail``.
    where : str
        Name used in error messages.
    point_id : str, optional
        Point of the events when the table has no ``point_id`` column (one record).

    Raises
    ------
    InputError
        A column is missing, a timestamp is naive or empty, an end precedes its start
        (the row is named).
    """
    if events is None:
        return _empty_events()
    df = events if isinstance(events, pd.DataFrame) else events.to_frame()
    if df.empty:
        return _empty_events()
    if "point_id" not in df.columns and point_id is not None:
        df = df.assign(point_id=point_id)
    if "phase" not in df.columns and "worst_channel" in df.columns:
        df = df.assign(phase=df["worst_channel"])
    if "detail" not in df.columns and "channels" in df.columns:
        df = df.assign(detail="channels: " + df["channels"].astype(str))
    need = {"point_id", "start_utc"}
    if not need <= set(df.columns) or not ({"end_utc", "duration_s"} & set(df.columns)):
        msg = (
            f"{where}: an event table needs point_id, start_utc and end_utc (or "
            f"duration_s); found {list(df.columns)[:10]}"
        )
        raise InputError(msg)
    start = _aware_column(df["start_utc"], where, "start_utc")
    if "end_utc" in df.columns:
        end = _aware_column(df["end_utc"], where, "end_utc")
    else:
        end = pd.DatetimeIndex(
            start
            + pd.to_timedelta(pd.to_numeric(df["duration_s"]).to_numpy(dtype=np.float64), unit="s")
        )
    bad = np.flatnonzero(np.asarray(end < start))
    if bad.size:
        msg = (
            f"{where}: row {int(bad[0]) + 1} (1-based): end_utc {end[int(bad[0])]} is before "
            f"start_utc {start[int(bad[0])]}"
        )
        raise InputError(msg)
    n = len(df)

    def col(name: str, default: object) -> Any:
        return df[name].to_numpy() if name in df.columns else np.full(n, default, dtype=object)

    duration = (end - start).total_seconds()
    out = pd.DataFrame(
        {
            "point_id": df["point_id"].astype(str).to_numpy(),
            "kind": col("kind", "event"),
            "start_utc": start,
            "end_utc": end,
            "duration_s": np.asarray(duration, dtype=np.float64),
            "phase": col("phase", ""),
            "extreme_percent": pd.to_numeric(
                pd.Series(col("extreme_percent", np.nan)), errors="coerce"
            ).to_numpy(dtype=np.float64),
            "source": col("source", where),
            "detail": col("detail", ""),
        }
    )
    return out.sort_values(["point_id", "start_utc"], kind="stable").reset_index(drop=True)


def _aware_column(values: pd.Series, where: str, name: str) -> pd.DatetimeIndex:
    if values.dtype == object:
        text = values.astype(str).str.strip()
        naive = ~text.str.contains(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$", regex=True)
        if naive.any():
            row = int(np.argmax(naive.to_numpy()))
            msg = (
                f"{where}: row {row + 1} (1-based), column {name}: {text.iloc[row]!r} has "
                "no UTC offset; write e.g. 2025-06-02T10:00:00Z"
            )
            raise InputError(msg)
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(text, utc=True, format="ISO8601"))
        except (ValueError, TypeError) as exc:
            msg = f"{where}: column {name} holds a value that is not an ISO 8601 time ({exc})"
            raise InputError(msg) from exc
    else:
        idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        msg = f"{where}: column {name} must be tz-aware (UTC), e.g. 2025-06-02T10:00:00Z"
        raise InputError(msg)
    missing = np.asarray(idx.isna(), dtype=bool)
    if missing.any():
        msg = f"{where}: row {int(np.argmax(missing)) + 1} (1-based): empty {name}"
        raise InputError(msg)
    return idx.tz_convert("UTC")


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point_id": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
            "start_utc": pd.DatetimeIndex([], tz="UTC"),
            "end_utc": pd.DatetimeIndex([], tz="UTC"),
            "duration_s": pd.Series([], dtype=np.float64),
            "phase": pd.Series([], dtype=object),
            "extreme_percent": pd.Series([], dtype=np.float64),
            "source": pd.Series([], dtype=object),
            "detail": pd.Series([], dtype=object),
        }
    )


def flagged_intervals(ms: MeasurementSet) -> pd.DataFrame:
    """The flagged intervals of the measurements, merged per point into episodes.

    Adjacent or overlapping flagged intervals (10-s and 10-min; 2-h Plt flags follow
    from their 10-min flags and are not listed) of one point form one row of
    :data:`EVENT_COLUMNS` with ``kind='flagged interval'``: the instrument flagged a dip,
    swell or interruption inside, of unknown type (IEC 61000-4-30 4.7).
    """
    parts = []
    for ser in ms.series.values():
        if ser.quantity.aggregation == "2h":
            continue
        r, c = np.nonzero(ser.flagged & np.isfinite(ser.values))
        if r.size:
            s0 = utc_ns(ser.time_utc)[r]
            step = int(ser.step.value)
            parts.append(
                pd.DataFrame(
                    {
                        "p": ser.point_index[c],
                        "s": s0,
                        "e": s0 + step,
                        "q": f"{ser.name} ({ser.quantity.aggregation})",
                    }
                )
            )
    if not parts:
        return _empty_events()
    w = pd.concat(parts, ignore_index=True).sort_values(["p", "s", "e"], kind="stable")
    reach = w.groupby("p")["e"].cummax().to_numpy()
    pt = w["p"].to_numpy()
    new = np.r_[True, (pt[1:] != pt[:-1]) | (w["s"].to_numpy()[1:] > reach[:-1])]
    w["episode"] = np.cumsum(new)
    g = w.groupby("episode", sort=True)
    ep = g.agg(p=("p", "first"), s=("s", "min"), e=("e", "max"))
    detail = g["q"].agg(lambda q: "flagged: " + ", ".join(sorted(set(q))))
    start = pd.DatetimeIndex(ep["s"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC")
    end = pd.DatetimeIndex(ep["e"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC")
    return pd.DataFrame(
        {
            "point_id": np.asarray(ms.point_ids, dtype=object)[ep["p"].to_numpy()],
            "kind": "flagged interval",
            "start_utc": start,
            "end_utc": end,
            "duration_s": (ep["e"].to_numpy() - ep["s"].to_numpy()) / _NS,
            "phase": "",
            "extreme_percent": np.nan,
            "source": f"measurement flags ({ms.source})",
            "detail": detail.to_numpy(),
        }
    ).reset_index(drop=True)


_EVENT_SOURCES: dict[str, EventSource] = {"flags": flagged_intervals}


def register_event_source(name: str, source: EventSource, *, replace: bool = False) -> None:
    """Register an event detector under ``name`` (e.g. a waveform dip/swell detector).

    Raises
    ------
    InputError
        If ``name`` is taken and ``replace`` is False.
    """
    if name in _EVENT_SOURCES and not replace:
        msg = f"event source {name!r} is already registered; pass replace=True to replace it"
        raise InputError(msg)
    _EVENT_SOURCES[name] = source


def event_sources() -> tuple[str, ...]:
    """Names of the registered event sources (``'flags'`` is built in)."""
    return tuple(sorted(_EVENT_SOURCES))


def find_events(ms: MeasurementSet, source: str = "flags") -> pd.DataFrame:
    """Run a registered event source and validate its table (:data:`EVENT_COLUMNS`)."""
    if source not in _EVENT_SOURCES:
        msg = f"unknown event source {source!r}; registered: {', '.join(event_sources())}"
        raise InputError(msg)
    return events_frame(_EVENT_SOURCES[source](ms), where=f"event source {source!r}")


def _apply_events(ms: MeasurementSet, events: pd.DataFrame) -> tuple[MeasurementSet, list[str]]:
    if events.empty:
        return ms, []
    pos = {p: i for i, p in enumerate(ms.point_ids)}
    idx = events["point_id"].map(pos)
    known = idx.notna().to_numpy()
    notes = []
    if not known.all():
        unknown = sorted(set(events.loc[~known, "point_id"]))
        notes.append(
            f"{int((~known).sum())} event(s) at points without measurements were "
            f"ignored: {', '.join(unknown[:5])}"
        )
    ev = events[known]
    start = utc_ns(pd.DatetimeIndex(ev["start_utc"]))
    end = np.maximum(utc_ns(pd.DatetimeIndex(ev["end_utc"])), start + 1)  # [start, end)
    points = np.asarray(idx[known].to_numpy(), dtype=np.int64)
    out = apply_windows(ms, points, start, end)
    notes.append(
        f"{len(ev)} event(s) flag the intervals they overlap (IEC 61000-4-30 4.7); "
        "flagged intervals are excluded from N"
    )
    return out, notes


# --------------------------------------------------------------------------- assessment


@dataclass(frozen=True)
class Assessment:
    """Weekly power-quality assessment of many points (see the module notes).

    Attributes
    ----------
    standard, edition : str
        Limit set id (e.g. ``'GOST 32144-2013'``) and its edition text.
    voltage_level : str
        ``'LV'`` or ``'MV'``.
    timezone : str
        Zone in which observation weeks are aligned.
    nominal_v, nominal_line_v : float or None
        Reference voltage U0 of phase-to-neutral and line-to-line channels [V].
    table : pandas.DataFrame
        One row per ``point_id`` × ``period_start_utc`` × ``indicator``: ``verdict``,
        ``worst_phase``, counts ``n_expected, n_valid, n_flagged, n_missing, n1, n2``,
        ``availability_percent``, ``t1_percent``, ``t2_percent``, statistics
        ``max_value, min_value, p95_value, p05_value, worst_value`` in ``value_unit``
        (``'percent'`` of U0 / U1 / positive sequence, ``'Hz'``, or ``'1'``),
        ``worst_time_utc``, ``clause``, ``limits``, ``rule``. The value columns mix
        units across indicators, so the unit is a column (``value_unit``).
    detail : pandas.DataFrame
        The same per phase (``phase``), plus ``measured`` (the measured quantity).
    points : pandas.DataFrame
        ``point_id, verdict, n_indicators, n_weeks, failed_indicators,
        insufficient_indicators, min_availability_percent``.
    limits : pandas.DataFrame
        Per indicator evaluated: ``indicator, clause, quantity, value_unit, limits,
        share_percent, share_lower, share_upper, max_lower, max_upper, verification``.
    availability : pandas.DataFrame
        :meth:`MeasurementSet.availability` of the data assessed.
    events : pandas.DataFrame
        Events given and flagged intervals found (:data:`EVENT_COLUMNS`).
    evaluations : tuple of IndicatorEvaluation
        The underlying evaluations (one per indicator and reference voltage).
    measurements : MeasurementSet
        The measurements assessed (voltages in V, events applied as flags), for reports.
    notes : tuple of str
        Verification status of the limits, unit conversions, skipped quantities.
    """

    standard: str
    edition: str
    voltage_level: str
    timezone: str
    nominal_v: float | None
    nominal_line_v: float | None
    table: pd.DataFrame
    detail: pd.DataFrame
    points: pd.DataFrame
    limits: pd.DataFrame
    availability: pd.DataFrame
    events: pd.DataFrame
    evaluations: tuple[IndicatorEvaluation, ...] = field(repr=False)
    measurements: MeasurementSet = field(repr=False)
    notes: tuple[str, ...] = ()

    def verdict(self, point_id: str) -> str:
        """Overall verdict of one point."""
        row = self.points.loc[self.points["point_id"] == point_id, "verdict"]
        if row.empty:
            msg = f"no point {point_id!r} in the assessment; points: {_some(self.points)}"
            raise InputError(msg)
        return str(row.iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: header, points, table, limits, availability, events, notes."""
        return {
            "standard": self.standard,
            "edition": self.edition,
            "voltage_level": self.voltage_level,
            "timezone": self.timezone,
            "nominal_v": self.nominal_v,
            "nominal_line_v": self.nominal_line_v,
            "points": records(self.points),
            "table": records(self.table),
            "limits": records(self.limits),
            "availability": records(self.availability),
            "events": records(self.events),
            "notes": list(self.notes),
        }


def _some(points: pd.DataFrame) -> str:
    ids = [str(p) for p in points["point_id"].head(5)]
    return ", ".join(ids) + (" ..." if len(points) > 5 else "")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-friendly dicts: timestamps as ISO 8601, NaN/NaT/NA as None."""
    out = []
    cols = list(frame.columns)
    conv = []
    for c in cols:
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            conv.append([None if pd.isna(v) else v.isoformat() for v in s])
        elif s.dtype.kind == "f":
            conv.append([None if not np.isfinite(v) else float(v) for v in s.to_numpy()])
        elif s.dtype.kind in "iu":
            conv.append([None if v is pd.NA else int(v) for v in s.astype(object)])
        elif s.dtype.kind == "b":
            conv.append([bool(v) for v in s.to_numpy()])
        else:
            conv.append([None if _is_missing(v) else _plain(v) for v in s.to_numpy()])
    for i in range(len(frame)):
        out.append({c: conv[k][i] for k, c in enumerate(cols)})
    return out


def _is_missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def assess(
    measurements: MeasurementSet | SupportsToFrame | pd.DataFrame,
    limit_set: LimitSet | str | Path = "GOST 32144-2013",
    *,
    timezone: str,
    voltage_level: VoltageLevel = "LV",
    nominal_v: float | None = None,
    nominal_line_v: float | None = None,
    voltage_unit: VoltageUnitArg = "auto",
    events: pd.DataFrame | SupportsToFrame | None = None,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
    isolated_system: bool = False,
    indicators: Sequence[str] | None = None,
) -> Assessment:
    """Weekly evaluation of every measured indicator, phase and point.

    Parameters
    ----------
    measurements : MeasurementSet, AggregatedMeasurements, DataFrame or ``to_frame()``
        Aggregated measurements (:func:`~gridtwin.quality.measurements.read_measurements`),
        the aggregates of a waveform record (``gridtwin.quality.waveform``; its detected
        events flag intervals unless ``events`` is given), or the canonical long layout.
    limit_set : LimitSet, str or Path
        Built-in id (``'GOST 32144-2013'``, ``'EN 50160:2010'``) or a limit-set file.
    timezone : str
        IANA zone in which observation weeks are aligned (e.g. ``'Europe/Moscow'``).
    voltage_level : {'LV', 'MV'}
    nominal_v : float, optional
        U0 of phase-to-neutral (and unlabelled) voltage channels [V]; default the limit
        set's LV nominal (220 V GOST 32144-2013, 230 V EN 50160:2010). Required at MV
        (the agreed supply voltage U_c) unless ``nominal_line_v`` is given.
    nominal_line_v : float, optional
        U0 of line-to-line channels (ab, bc, ca) [V]; default the limit set's line
        nominal (380 V, 400 V), or ``nominal_v * sqrt(3)`` when ``nominal_v`` is given.
    voltage_unit : {'auto', 'V', 'kV', 'pu', 'percent'}
        Unit of voltage columns that state none (``'auto'``: from the magnitude).
    events : DataFrame or object with ``to_frame()``, optional
        Dips, swells, interruptions (:data:`EVENT_COLUMNS`); the intervals they overlap
        are flagged and excluded from N.
    week_start : str or pandas.Timestamp, optional
        ``'mon 00:00'``-style local start of observation weeks, or the start of the
        measurement campaign; default the limit set's.
    min_availability_percent : float, optional
        Minimum data availability for a verdict [%]; default the limit set's (90 %).
    isolated_system : bool
        Judge frequency against the isolated-system limits.
    indicators : sequence of str, optional
        Limit-set indicator names to evaluate (default: all measured).

    Returns
    -------
    Assessment

    Raises
    ------
    InputError
        No measurement can be judged, an unknown indicator, a missing reference voltage.
    DataQualityError
        Voltages whose magnitude contradicts their unit (the point and phase are named).
    """
    if isinstance(measurements, MeasurementSet):
        ms = measurements
    elif _is_aggregated(measurements):
        ms = MeasurementSet.from_aggregated(measurements)
        log = getattr(measurements, "events", None)
        if events is None and log is not None:
            events = events_frame(log, f"events of {ms.source}", point_id=ms.point_ids[0])
    else:
        ms = MeasurementSet.from_frame(measurements)
    ls = resolve_limit_set(limit_set)
    level_names = ls.indicator_names(voltage_level) if voltage_level in ls.levels() else ()
    if not level_names:
        ls.indicator(voltage_level, "voltage_deviation")  # raises, naming the levels
    u0, u0_line = _references(ls, voltage_level, nominal_v, nominal_line_v)
    notes: list[str] = []
    if "voltage" in ms.series:
        if u0 is None or u0_line is None:
            msg = (
                f"{ls.id} {voltage_level}: there is no default nominal voltage; pass "
                "nominal_v (phase-to-neutral) or nominal_line_v (line-to-line) = the agreed "
                "supply voltage U_c [V], e.g. nominal_line_v=10000 for a 10 kV network"
            )
            raise InputError(msg)
        ms = normalise_voltage_units(ms, u0, u0_line, voltage_unit=voltage_unit)
    given = events_frame(events)
    ms_flagged, event_notes = _apply_events(ms, given)
    notes += list(ms.notes) + event_notes
    jobs, skipped = _jobs(ms_flagged, ls, voltage_level, isolated_system, indicators)
    notes += skipped
    if not jobs:
        msg = (
            f"{ms.source}: nothing to assess against {ls.id} {voltage_level}: measured "
            f"{sorted(ms.series)}; evaluable indicators: {', '.join(level_names)}"
        )
        raise InputError(msg)
    evaluations: list[IndicatorEvaluation] = []
    frames = []
    for job in jobs:
        for ev, cols in _run_job(
            job, ls, voltage_level, timezone, week_start, min_availability_percent, u0, u0_line
        ):
            evaluations.append(ev)
            frames.append(_detail_frame(ev, job, cols, ms.point_ids))
            notes += [n for n in ev.notes if n not in notes]
    detail = pd.concat(frames, ignore_index=True)
    detail = (
        detail.sort_values(["point_id", "period_start_utc", "order", "phase"], kind="stable")
        .drop(columns="order")
        .reset_index(drop=True)
    )
    table = _indicator_table(detail)
    found = flagged_intervals(ms)
    all_events = pd.concat(
        [e for e in (given, found) if not e.empty] or [_empty_events()], ignore_index=True
    ).sort_values(["point_id", "start_utc"], kind="stable")
    return Assessment(
        standard=ls.id,
        edition=ls.spec.edition,
        voltage_level=voltage_level,
        timezone=timezone,
        nominal_v=u0,
        nominal_line_v=u0_line,
        table=table,
        detail=detail,
        points=_points_table(table, ms.point_ids),
        limits=_limits_table(ls, jobs, voltage_level),
        availability=ms_flagged.availability(),
        events=all_events.reset_index(drop=True),
        evaluations=tuple(evaluations),
        measurements=ms_flagged,
        notes=tuple(dict.fromkeys(notes)),
    )


def _is_aggregated(obj: object) -> bool:
    """Whether ``obj`` looks like ``gridtwin.quality.waveform.AggregatedMeasurements``."""
    return all(hasattr(obj, a) for a in ("u_rms_10min_v", "time_10min_utc", "channel_names"))


@dataclass(frozen=True)
class _Job:
    indicator: Indicator
    measured: str
    series: IndicatorSeries
    other: IndicatorSeries | None = None  # δU(+) with ``series`` = δU(−)


def _jobs(
    ms: MeasurementSet, ls: LimitSet, level: str, isolated: bool, wanted: Sequence[str] | None
) -> tuple[list[_Job], list[str]]:
    notes: list[str] = []
    jobs: list[_Job] = []
    names = set(ls.indicator_names(level))
    if wanted is not None:
        unknown = sorted(set(wanted) - names)
        if unknown:
            msg = (
                f"{ls.id} {level}: unknown indicator(s) {unknown}; available: "
                f"{', '.join(sorted(names, key=lambda x: _ORDER.get(x, 999)))}"
            )
            raise InputError(msg)
    has_dev = {"voltage_under_deviation", "voltage_over_deviation"} <= set(ms.series)
    for name, ser in ms.series.items():
        target = QUANTITIES[name].indicator
        if name == "frequency" and isolated:
            target = "frequency_deviation_isolated"
        if wanted is not None and target not in wanted:
            continue
        if target not in names:
            notes.append(f"{name}: not evaluated, {ls.id} has no {target} limit at {level}")
            continue
        ind = ls.indicator(level, target)
        if name in ("voltage_under_deviation", "voltage_over_deviation"):
            if ind.kind != "voltage_under_over_deviation":
                notes.append(
                    f"{name}: not evaluated, {ls.id} judges the 10-min r.m.s. "
                    "voltage, not δU(−)/δU(+)"
                )
                continue
            if not has_dev:
                notes.append(f"{name}: not evaluated, δU(−) and δU(+) are needed together")
                continue
            if name == "voltage_under_deviation":
                jobs.append(
                    _Job(
                        ind,
                        "voltage_under_over_deviation",
                        ser,
                        ms.series["voltage_over_deviation"],
                    )
                )
            continue
        if name == "voltage" and has_dev and ind.kind == "voltage_under_over_deviation":
            notes.append(
                "voltage: judged on the measured δU(−), δU(+) (IEC 61000-4-30 5.12); "
                "the 10-min r.m.s. voltages are shown, not counted"
            )
            continue
        jobs.append(_Job(ind, name, ser))
    return jobs, notes


def _align(
    a: IndicatorSeries, b: IndicatorSeries
) -> tuple[pd.DatetimeIndex, IntArray, tuple[str, ...], FloatArray, FloatArray, BoolArray]:
    """Put two series on the union of their times and (point, phase) columns."""
    ta, tb = utc_ns(a.time_utc), utc_ns(b.time_utc)
    t = np.union1d(ta, tb)
    keys = sorted(
        {
            *zip(a.point_index.tolist(), a.phases, strict=True),
            *zip(b.point_index.tolist(), b.phases, strict=True),
        }
    )
    col = {k: i for i, k in enumerate(keys)}
    out = []
    fl = np.zeros((len(t), len(keys)), dtype=bool)
    for s, ts in ((a, ta), (b, tb)):
        m = np.full((len(t), len(keys)), np.nan)
        rows = np.searchsorted(t, ts)
        cols = np.array(
            [col[k] for k in zip(s.point_index.tolist(), s.phases, strict=True)], dtype=np.int64
        )
        m[np.ix_(rows, cols)] = s.values
        fl[np.ix_(rows, cols)] |= s.flagged
        out.append(m)
    idx = pd.DatetimeIndex(t.astype("datetime64[ns]")).tz_localize("UTC")
    return (
        idx,
        np.array([k[0] for k in keys], dtype=np.int64),
        tuple(k[1] for k in keys),
        out[0],
        out[1],
        fl,
    )


def _run_job(
    job: _Job,
    ls: LimitSet,
    level: VoltageLevel,
    timezone: str,
    week_start: str | pd.Timestamp | None,
    min_av: float | None,
    u0: float | None,
    u0_line: float | None,
) -> list[tuple[IndicatorEvaluation, tuple[IntArray, tuple[str, ...]]]]:
    """Evaluate one job; voltages once per reference voltage (phase and line channels)."""
    kw: dict[str, Any] = {
        "timezone": timezone,
        "voltage_level": level,
        "week_start": week_start,
        "min_availability_percent": min_av,
    }
    ser = job.series
    if job.other is not None:
        t, pidx, phases, under, over, fl = _align(ser, job.other)
        ev = _chunked(UnderOverDeviation(under, over), fl, t, job.indicator.name, ls, None, kw)
        return [(ev, (pidx, phases))]
    if job.measured != "voltage":
        ev = _chunked(ser.values, ser.flagged, ser.time_utc, job.indicator.name, ls, None, kw)
        return [(ev, (ser.point_index, ser.phases))]
    out = []
    line = np.array([p in LINE_PHASES for p in ser.phases], dtype=bool)
    for mask, ref in ((~line, u0), (line, u0_line)):
        cols = np.flatnonzero(mask)
        if not cols.size:
            continue
        whole = cols.size == ser.n_columns
        ev = _chunked(
            ser.values if whole else ser.values[:, cols],
            ser.flagged if whole else ser.flagged[:, cols],
            ser.time_utc,
            job.indicator.name,
            ls,
            ref,
            kw,
        )
        out.append((ev, (ser.point_index[cols], tuple(ser.phases[c] for c in cols))))
    return out


_CHUNK_COLUMNS: Final = 2048


def _chunked(
    values: FloatArray | UnderOverDeviation,
    flagged: BoolArray,
    time_utc: pd.DatetimeIndex,
    name: str,
    ls: LimitSet,
    nominal: float | None,
    kw: dict[str, Any],
) -> IndicatorEvaluation:
    """:func:`evaluate` in blocks of columns (cache-friendly), joined into one result.

    Units were checked by :func:`normalise_voltage_units`, so ``check_units`` is off.
    """
    n = flagged.shape[1]

    def block(s: int) -> FloatArray | UnderOverDeviation:
        if isinstance(values, UnderOverDeviation):
            return UnderOverDeviation(
                values.under_percent[:, s : s + _CHUNK_COLUMNS],
                values.over_percent[:, s : s + _CHUNK_COLUMNS],
            )
        return values[:, s : s + _CHUNK_COLUMNS]

    parts = [
        evaluate(
            block(s),
            time_utc,
            name,
            ls,
            flags=flagged[:, s : s + _CHUNK_COLUMNS],
            nominal_v=nominal,
            point_ids=[str(i) for i in range(s, min(n, s + _CHUNK_COLUMNS))],
            check_units=name != "voltage_deviation",
            **kw,
        )
        for s in range(0, n, _CHUNK_COLUMNS)
    ]
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    joined: dict[str, Any] = {
        f: np.concatenate([getattr(p, f) for p in parts], axis=1)
        for f in (
            "n_valid",
            "n_flagged",
            "n_missing",
            "availability_percent",
            "n1",
            "n2",
            "t1_percent",
            "t2_percent",
            "max_value",
            "min_value",
            "p95_value",
            "p05_value",
            "worst_value",
            "worst_time_utc",
            "verdict",
            "rule",
        )
    }
    return replace(first, point_ids=tuple(p for part in parts for p in part.point_ids), **joined)


def _detail_frame(
    ev: IndicatorEvaluation,
    job: _Job,
    cols: tuple[IntArray, tuple[str, ...]],
    point_ids: tuple[str, ...],
) -> pd.DataFrame:
    k, n = ev.n_valid.shape
    pidx, phases = cols
    col = np.tile(np.arange(n), k)
    per = np.repeat(np.arange(k), n)
    n1: Any = ev.n1.ravel()
    if np.isnan(ev.share_limit_percent):
        n1 = pd.array([pd.NA] * (k * n), dtype="Int64")
    return pd.DataFrame(
        {
            "point_id": np.asarray(point_ids, dtype=object)[pidx[col]],
            "period_start_utc": ev.period_start_utc[per],
            "period_end_utc": ev.period_end_utc[per],
            "indicator": ev.indicator,
            "order": _ORDER.get(ev.indicator, len(_ORDER)),
            "phase": np.asarray(phases, dtype=object)[col],
            "measured": job.measured,
            "verdict": ev.verdict.ravel(),
            "n_expected": ev.n_expected[per],
            "n_valid": ev.n_valid.ravel(),
            "n_flagged": ev.n_flagged.ravel(),
            "n_missing": ev.n_missing.ravel(),
            "availability_percent": ev.availability_percent.ravel(),
            "n1": n1,
            "n2": ev.n2.ravel(),
            "t1_percent": ev.t1_percent.ravel(),
            "t2_percent": ev.t2_percent.ravel(),
            "value_unit": ev.value_unit,
            "max_value": ev.max_value.ravel(),
            "min_value": ev.min_value.ravel(),
            "p95_value": ev.p95_value.ravel(),
            "p05_value": ev.p05_value.ravel(),
            "worst_value": ev.worst_value.ravel(),
            "worst_time_utc": pd.DatetimeIndex(ev.worst_time_utc.ravel()).tz_localize("UTC"),
            "clause": ev.clause,
            "limits": ev.limits,
            "rule": ev.rule.ravel(),
            "basis": ev.basis,
        }
    )


def _indicator_table(detail: pd.DataFrame) -> pd.DataFrame:
    """Per point × week × indicator: the worst phase's row plus min/max over phases."""
    keys = ["point_id", "period_start_utc", "indicator"]
    rank = detail["verdict"].map(_RANK).to_numpy()
    sev = pd.DataFrame(
        {
            "rank": rank,
            "t2": detail["t2_percent"].fillna(-1.0).to_numpy(),
            "t1": detail["t1_percent"].fillna(-1.0).to_numpy(),
            "pos": -np.arange(len(detail)),
        }
    )
    order = np.lexsort((sev["pos"], sev["t1"], sev["t2"], sev["rank"]))[::-1]
    worst = detail.iloc[order].drop_duplicates(keys, keep="first")
    g = detail.groupby(keys, sort=False)
    agg = g.agg(
        phases=("phase", lambda s: ",".join(p for p in s if p) or "-"),
        n_valid_min=("n_valid", "min"),
        availability_min=("availability_percent", "min"),
        max_all=("max_value", "max"),
        min_all=("min_value", "min"),
        p95_all=("p95_value", "max"),
        p05_all=("p05_value", "min"),
    )
    out = worst.merge(agg.reset_index(), on=keys, how="left")
    out = out.assign(
        worst_phase=out["phase"],
        n_valid=out["n_valid_min"],
        availability_percent=out["availability_min"],
        max_value=out["max_all"],
        min_value=out["min_all"],
        p95_value=out["p95_all"],
        p05_value=out["p05_all"],
    )
    cols = [
        "point_id",
        "period_start_utc",
        "period_end_utc",
        "indicator",
        "verdict",
        "worst_phase",
        "phases",
        "n_expected",
        "n_valid",
        "n_flagged",
        "n_missing",
        "availability_percent",
        "n1",
        "n2",
        "t1_percent",
        "t2_percent",
        "value_unit",
        "max_value",
        "min_value",
        "p95_value",
        "p05_value",
        "worst_value",
        "worst_time_utc",
        "clause",
        "limits",
        "rule",
    ]
    out["order"] = out["indicator"].map(lambda x: _ORDER.get(x, len(_ORDER)))
    out = out.sort_values(["point_id", "period_start_utc", "order"], kind="stable")
    return out[cols].reset_index(drop=True)


def _points_table(table: pd.DataFrame, point_ids: tuple[str, ...]) -> pd.DataFrame:
    rank = table["verdict"].map(_RANK)
    g = table.assign(rank=rank).groupby("point_id", sort=False)
    base = g.agg(
        rank=("rank", "max"),
        n_indicators=("indicator", "nunique"),
        n_weeks=("period_start_utc", "nunique"),
        min_availability_percent=("availability_percent", "min"),
    )

    def listing(verdict: str) -> pd.Series:
        sub = table[table["verdict"] == verdict]
        return sub.groupby("point_id", sort=False)["indicator"].agg(
            lambda s: ", ".join(dict.fromkeys(s))
        )

    base["failed_indicators"] = listing("fail")
    base["insufficient_indicators"] = listing("insufficient data")
    base = base.reindex([p for p in point_ids if p in base.index])
    return pd.DataFrame(
        {
            "point_id": base.index.to_numpy(dtype=object),
            "verdict": np.asarray(_VERDICTS, dtype=object)[base["rank"].to_numpy(dtype=np.int64)],
            "n_indicators": base["n_indicators"].to_numpy(),
            "n_weeks": base["n_weeks"].to_numpy(),
            "failed_indicators": base["failed_indicators"].fillna("").to_numpy(dtype=object),
            "insufficient_indicators": base["insufficient_indicators"]
            .fillna("")
            .to_numpy(dtype=object),
            "min_availability_percent": base["min_availability_percent"].to_numpy(),
        }
    )


def _limits_table(ls: LimitSet, jobs: list[_Job], level: str) -> pd.DataFrame:
    rows = []
    for ind in sorted(
        {j.indicator.name: j.indicator for j in jobs}.values(),
        key=lambda i: _ORDER.get(i.name, len(_ORDER)),
    ):
        s, m = ind.share_limit, ind.max_limit
        rows.append(
            {
                "indicator": ind.name,
                "clause": ind.clause,
                "citation": ind.citation,
                "quantity": ind.quantity,
                "value_unit": ind.unit,
                "aggregation": ind.aggregation,
                "limits": ind.limits_text(),
                "share_percent": s.share_percent if s else np.nan,
                "share_lower": _num(s.lower if s else None),
                "share_upper": _num(s.upper if s else None),
                "max_lower": _num(m.lower if m else None),
                "max_upper": _num(m.upper if m else None),
                "verification": ind.verification,
                "voltage_level": level,
                "standard": ls.id,
            }
        )
    return pd.DataFrame(rows)


def _num(x: float | None) -> float:
    return float("nan") if x is None else float(x)
