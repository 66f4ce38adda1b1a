"""Power-quality assessment of measured aggregates.

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

The same evaluation of simulated or forecast voltages, the *potential deviations*, is
:func:`gridtwin.quality.potential_deviations` (:mod:`gridtwin.quality._potential`); with a
network check it is the workflow :func:`gridtwin.workflows.potential_deviations`.

This module owns the public entry points and the :class:`Assessment`; the steps live in
private modules: event tables (``_assessment_events``), the evaluations to run
(``_assessment_jobs``) and the result tables (``_assessment_tables``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._assessment_events import (
    EVENT_COLUMNS,
    _apply_events,
    _empty_events,
    events_frame,
    flagged_intervals,
)
from gridtwin.quality._assessment_jobs import _Job, _jobs, _run_job, _RunSettings
from gridtwin.quality._assessment_tables import (
    _detail_frame,
    _indicator_table,
    _limits_table,
    _point_spans,
    _points_table,
    _split_week_notes,
    _within_spans,
)
from gridtwin.quality._limits import (
    LimitSet,
    VoltageLevel,
    get_limit_set,
    load_limit_set,
)
from gridtwin.quality._measurement_set import MeasurementSet, SupportsToFrame
from gridtwin.quality._normalise import VoltageUnitArg, normalise_voltage_units
from gridtwin.quality._verdict import IndicatorEvaluation

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


# --------------------------------------------------------------------------- event sources


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
    """The first point ids, for messages."""
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
    """Whether a cell is NaN, NaT, NA or None."""
    try:
        return bool(pd.isna(v))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _plain(v: object) -> object:
    """A cell as a JSON-friendly Python value."""
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
    ms, events = _measurement_set(measurements, events)
    ls = resolve_limit_set(limit_set)
    level_names = ls.indicator_names(voltage_level) if voltage_level in ls.levels() else ()
    if not level_names:
        ls.indicator(voltage_level, "voltage_deviation")  # raises, naming the levels
    u0, u0_line = _references(ls, voltage_level, nominal_v, nominal_line_v)
    ms = _in_volts(ms, ls, voltage_level, (u0, u0_line), voltage_unit)
    given = events_frame(events)
    ms_flagged, event_notes = _apply_events(ms, given)
    notes = [*ms.notes, *event_notes]
    jobs, skipped = _jobs(ms_flagged, ls, voltage_level, isolated_system, indicators)
    notes += skipped
    if not jobs:
        msg = (
            f"{ms.source}: nothing to assess against {ls.id} {voltage_level}: measured "
            f"{sorted(ms.series)}; evaluable indicators: {', '.join(level_names)}"
        )
        raise InputError(msg)
    run = _RunSettings(
        ls, voltage_level, timezone, week_start, min_availability_percent, u0, u0_line
    )
    evaluations, detail, eval_notes = _evaluate(jobs, run, ms.point_ids)
    spans = _point_spans(ms_flagged.series.values(), ms.point_ids)
    detail = _within_spans(detail, spans)
    table = _indicator_table(detail)
    if evaluations:
        min_av = min(ev.min_availability_percent for ev in evaluations)
        eval_notes += _split_week_notes(table, timezone, min_av, spans)
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
        limits=_limits_table(ls, [j.indicator for j in jobs], voltage_level),
        availability=ms_flagged.availability(),
        events=_all_events(given, flagged_intervals(ms)),
        evaluations=tuple(evaluations),
        measurements=ms_flagged,
        notes=tuple(dict.fromkeys(notes + eval_notes)),
    )


def _measurement_set(
    measurements: MeasurementSet | SupportsToFrame | pd.DataFrame,
    events: pd.DataFrame | SupportsToFrame | None,
) -> tuple[MeasurementSet, pd.DataFrame | SupportsToFrame | None]:
    """The measurements as a set, and the events (a waveform record's own if none given)."""
    if isinstance(measurements, MeasurementSet):
        return measurements, events
    if _is_aggregated(measurements):
        ms = MeasurementSet.from_aggregated(measurements)
        log = getattr(measurements, "events", None)
        if events is None and log is not None:
            events = events_frame(log, f"events of {ms.source}", point_id=ms.point_ids[0])
        return ms, events
    return MeasurementSet.from_frame(measurements), events


def _in_volts(
    ms: MeasurementSet,
    ls: LimitSet,
    level: VoltageLevel,
    refs: tuple[float | None, float | None],
    voltage_unit: VoltageUnitArg,
) -> MeasurementSet:
    """Voltages in V, checked against U0 ``refs`` (phase-to-neutral, line-to-line)."""
    if "voltage" not in ms.series:
        return ms
    u0, u0_line = refs
    if u0 is None or u0_line is None:
        msg = (
            f"{ls.id} {level}: there is no default nominal voltage; pass "
            "nominal_v (phase-to-neutral) or nominal_line_v (line-to-line) = the agreed "
            "supply voltage U_c [V], e.g. nominal_line_v=10000 for a 10 kV network"
        )
        raise InputError(msg)
    return normalise_voltage_units(ms, u0, u0_line, voltage_unit=voltage_unit)


def _evaluate(
    jobs: list[_Job], run: _RunSettings, point_ids: tuple[str, ...]
) -> tuple[list[IndicatorEvaluation], pd.DataFrame, list[str]]:
    """Run the jobs: the evaluations, their rows per phase (sorted), and their notes."""
    evaluations: list[IndicatorEvaluation] = []
    frames = []
    notes: list[str] = []
    for job in jobs:
        for ev, cols in _run_job(job, run):
            evaluations.append(ev)
            frames.append(_detail_frame(ev, job.measured, cols, point_ids, job.indicator))
            notes += ev.notes
    detail = pd.concat(frames, ignore_index=True)
    detail = (
        detail.sort_values(["point_id", "period_start_utc", "order", "phase"], kind="stable")
        .drop(columns="order")
        .reset_index(drop=True)
    )
    return evaluations, detail, notes


def _all_events(given: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Events given and flagged intervals found, sorted by point and start."""
    all_events = pd.concat(
        [e for e in (given, found) if not e.empty] or [_empty_events()], ignore_index=True
    ).sort_values(["point_id", "start_utc"], kind="stable")
    return all_events.reset_index(drop=True)


def _is_aggregated(obj: object) -> bool:
    """Whether ``obj`` looks like ``gridtwin.quality.waveform.AggregatedMeasurements``."""
    return all(hasattr(obj, a) for a in ("u_rms_10min_v", "time_10min_utc", "channel_names"))
