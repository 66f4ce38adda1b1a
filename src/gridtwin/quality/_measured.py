"""Weekly evaluation of measured IEC 61000-4-30 aggregates: :func:`evaluate`.

Owns the entry point for measured values, the check of their IEC 61000-4-30 time tags
and the loop over observation periods that counts each period's block of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._counting import _block_stats
from gridtwin.quality._inputs import (
    _check_grid,
    _check_timezone,
    _flags,
    _iso,
    _point_ids,
    _time_axis,
)
from gridtwin.quality._limits import Indicator, LimitSet, VoltageLevel, get_limit_set
from gridtwin.quality._periods import _n_expected, _Periods, _periods
from gridtwin.quality._prepare import _PREPARERS, _Prepared
from gridtwin.quality._under_over import UnderOverDeviation
from gridtwin.quality._verdict import IndicatorEvaluation, _indicator_evaluation, _PeriodValues

__all__ = ["evaluate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS = 1_000_000_000
_TEN_MIN_NS = 600 * _NS


def _resolve_limit_set(limit_set: LimitSet | str) -> LimitSet:
    """A limit set, or the built-in one of that id."""
    return get_limit_set(limit_set) if isinstance(limit_set, str) else limit_set


def evaluate(
    values: npt.ArrayLike | UnderOverDeviation,
    time_utc: pd.DatetimeIndex | npt.ArrayLike,
    indicator: str,
    limit_set: LimitSet | str,
    *,
    timezone: str,
    voltage_level: VoltageLevel = "LV",
    flags: npt.ArrayLike | None = None,
    nominal_v: float | None = None,
    point_ids: Sequence[str] | None = None,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
    time_label: Literal["start", "end"] = "start",
    check_units: bool = True,
) -> IndicatorEvaluation:
    """Evaluate one indicator for many points per observation week (or year).

    Parameters
    ----------
    values : array_like, shape (T, n_points), or UnderOverDeviation
        Aggregated values on the indicator's grid; ``NaN`` marks a missing interval.

        - ``voltage_deviation``: 10-min r.m.s. voltages [V], or (GOST 32144-2013 4.2.2)
          an :class:`UnderOverDeviation` with δU(−), δU(+) [% of U0] from the instrument or
          from :func:`under_over_deviation`. Voltages given to the GOST rule are turned
          into estimated δU(−), δU(+) (lower bounds; a note says so).
        - ``frequency_deviation*``: 10-s frequencies [Hz] (absolute, not deviations).
        - ``thd``, ``harmonic_<n>`` [% of U1]; ``unbalance_*`` [%]; ``pst``, ``plt`` [1].
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware interval starts (UTC), strictly increasing, on the UTC grid of the
        indicator's aggregation (10 s, 10 min, 2 h). Absent intervals are gaps.
    indicator : str
        Indicator name in the limit set, e.g. ``'voltage_deviation'``, ``'thd'``.
    limit_set : LimitSet or str
        A limit set or a built-in id: ``'GOST 32144-2013'``, ``'EN 50160:2010'``.
    timezone : str
        IANA zone in which observation weeks are aligned, e.g. ``'Europe/Moscow'``.
    voltage_level : {'LV', 'MV'}
    flags : array_like of bool, shape (T,) or (T, n_points), optional
        True where an interval is flagged (dip, swell or interruption, IEC 61000-4-30
        flagging concept); flagged intervals are excluded from N.
    nominal_v : float, optional
        Reference voltage U0 [V] for voltages: default the limit set's LV phase-to-neutral
        nominal (220 V GOST, 230 V EN); give the line voltage (380, 400) for line
        voltages and the agreed/declared U_c at MV (required).
    point_ids : sequence of str, optional
        One id per column; default ``'0'``, ``'1'``, ...
    week_start : str or pandas.Timestamp, optional
        ``'mon 00:00'``-style local weekday and time, or a timestamp whose local weekday
        and time are used (e.g. the start of a measurement campaign). Default: the limit
        set's ``week_start``.
    min_availability_percent : float, optional
        Minimum ``100 * N / N_expected`` for a verdict [%]; default the limit set's (90).
    time_label : {'start', 'end'}
        Whether ``time_utc`` labels interval starts (gridtwin convention) or ends (many
        IEC 61000-4-30 instruments).
    check_units : bool
        Refuse voltages or frequencies whose scale does not fit the unit (see
        :func:`infer_voltage_unit`).

    Returns
    -------
    IndicatorEvaluation

    Raises
    ------
    InputError
        Unknown indicator or level, wrong shapes, implausible units, naive timestamps.
    DataQualityError
        Timestamps off the aggregation grid, unsorted or duplicated; infinite or negative
        values where they cannot be.
    """
    ls = _resolve_limit_set(limit_set)
    ind = ls.indicator(voltage_level, indicator)
    _check_timezone(timezone)
    step_ns = ind.aggregation_s * _NS
    t_ns = _interval_starts(time_utc, time_label, step_ns)
    grid = _TimeGrid(t_ns, step_ns, _check_measured_grid(t_ns, ind, step_ns))
    if point_ids is None and isinstance(values, pd.DataFrame):
        point_ids = [str(c) for c in values.columns]
    prep = _PREPARERS[ind.kind](values, len(t_ns), ind, ls, nominal_v, check_units)
    ids = _point_ids(point_ids, prep.hi.shape[1])
    flagged = _flags(flags, prep.hi.shape)
    per = _periods(ls, ind, t_ns, timezone, week_start, min_availability_percent, prep.notes)
    return _evaluate_periods(prep, flagged, grid, per, ind, ids)


@dataclass(frozen=True)
class _TimeGrid:
    """Interval starts of the values and the grid they lie on [ns UTC]."""

    t_ns: IntArray
    step_ns: int
    origin_ns: int


def _interval_starts(
    time_utc: pd.DatetimeIndex | npt.ArrayLike, time_label: str, step_ns: int
) -> IntArray:
    """Interval starts [ns UTC] from timestamps labelling starts or ends."""
    t_ns = _time_axis(time_utc)
    if time_label == "end":
        t_ns = t_ns - step_ns
    elif time_label != "start":
        msg = f"time_label must be 'start' or 'end', got {time_label!r}"
        raise InputError(msg)
    return t_ns


def _check_measured_grid(t_ns: IntArray, ind: Indicator, step_ns: int) -> int:
    """Check IEC 61000-4-30 time tags; return the origin of the interval grid [ns UTC].

    10-s and 10-min values are aggregated between UTC clock ticks of their own length.
    A 2-h value aggregates 12 consecutive 10-min values: it starts on a 10-min UTC tick,
    and the values follow each other at 2-h steps from the first one.
    """
    fix = "pass --label end (in Python time_label='end') if the timestamps mark interval ends"
    tick_ns = min(step_ns, _TEN_MIN_NS)
    tick = f"{ind.aggregation} UTC" if tick_ns == step_ns else "10-min UTC"
    _check_grid(
        t_ns,
        tick_ns,
        0,
        tick,
        f"{ind.citation} {ind.name} uses {ind.aggregation} values that start on "
        f"{tick} clock ticks (IEC 61000-4-30); realign the data, or {fix}",
    )
    if tick_ns == step_ns:
        return 0
    origin = int(t_ns[0])
    _check_grid(
        t_ns,
        step_ns,
        origin,
        ind.aggregation,
        f"{ind.aggregation} values must follow each other at {ind.aggregation} "
        f"steps from the first one ({_iso(origin)})",
    )
    return origin


def _evaluate_periods(
    prep: _Prepared,
    flagged: BoolArray | None,
    grid: _TimeGrid,
    per: _Periods,
    ind: Indicator,
    point_ids: tuple[str, ...],
) -> IndicatorEvaluation:
    """Count every observation period's block of rows and judge it."""
    bounds = per.bounds
    return _indicator_evaluation(
        ind,
        bounds,
        _n_expected(bounds, grid.origin_ns, grid.step_ns),
        _period_values(prep.lo, prep.hi, flagged, grid.t_ns, bounds, ind),
        min_availability_percent=per.min_availability_percent,
        basis=prep.basis,
        point_ids=point_ids,
        notes=per.notes,
    )


def _period_values(
    lo: FloatArray,
    hi: FloatArray,
    flagged: BoolArray | None,
    t_ns: IntArray,
    bounds: IntArray,
    ind: Indicator,
) -> _PeriodValues:
    """Statistics of each period's block of rows, one row per period."""
    same = lo is hi
    n_periods, n = len(bounds) - 1, hi.shape[1]
    starts = np.searchsorted(t_ns, bounds[:-1], side="left")
    ends = np.searchsorted(t_ns, bounds[1:], side="left")
    int_names = ("n_valid", "n_flagged", "n1", "n2")
    float_names = ("max_value", "min_value", "p95_value", "p05_value", "worst_value")
    ints: dict[str, IntArray] = {k: np.empty((n_periods, n), dtype=np.int64) for k in int_names}
    floats: dict[str, FloatArray] = {
        k: np.empty((n_periods, n), dtype=np.float64) for k in float_names
    }
    worst_t = np.full((n_periods, n), np.datetime64("NaT", "ns"))
    for k in range(n_periods):
        s, e = int(starts[k]), int(ends[k])
        blk = _block_stats(lo[s:e], hi[s:e], None if flagged is None else flagged[s:e], ind, same)
        for name in int_names:
            ints[name][k] = getattr(blk, name)
        for name in float_names:
            floats[name][k] = getattr(blk, name)
        has = blk.worst_row >= 0
        worst_t[k, has] = t_ns[s + blk.worst_row[has]].astype("datetime64[ns]")
    return _PeriodValues(
        n_valid=ints["n_valid"],
        n_flagged=ints["n_flagged"],
        n1=ints["n1"],
        n2=ints["n2"],
        max_value=floats["max_value"],
        min_value=floats["min_value"],
        p95_value=floats["p95_value"],
        p05_value=floats["p05_value"],
        worst_value=floats["worst_value"],
        worst_time_utc=worst_t,
    )
