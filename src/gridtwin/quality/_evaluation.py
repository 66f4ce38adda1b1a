"""Evaluate power-quality indicators per observation week against a limit set.

One core evaluation serves two callers:

- :func:`evaluate` — measured aggregates (10-s frequency, 10-min voltage, THD, unbalance,
  Pst; 2-h Plt) on the IEC 61000-4-30 UTC grid, with IEC 61000-4-30 flags;
- :func:`evaluate_voltage_pu` — simulated per-unit voltages of the network twin at any
  regular step (e.g. 15-min power-flow steps).

Counting rule (vendor counter definitions of the EN 50160 weekly evaluation, applied to
GOST 32144-2013 too). For each point and observation period:

- ``N``  = valid intervals: a value is present, finite and not flagged;
- ``N1`` = valid intervals outside the *share* band (e.g. the 95 % band);
- ``N2`` = valid intervals outside the 100 % band;
- the period passes when ``N2 = 0`` and ``N1 / N <= 1 - share`` (e.g. 5 %).

A value exactly at a limit is inside; a value within a relative 1e-9 of a limit counts as
at the limit, so that floating-point round-off in ``(U - U0) / U0 * 100`` never decides a
verdict.

Flags (IEC 61000-4-30 flagging concept): an interval overlapping a dip, swell or
interruption is flagged; it is counted in ``n_flagged`` and excluded from ``N``, ``N1``,
``N2`` and the statistics, so that one event is judged once, as an event.

Gaps: intervals absent from ``time_utc`` or given as ``NaN`` are missing; they are never
interpolated. ``availability_percent = 100 * N / N_expected``, where ``N_expected`` is the
number of grid intervals whose start lies in the period (1008 ten-minute intervals in a
168-h week, 1002 in a 167-h week and 1014 in a 169-h week). A period whose availability
is below ``min_availability_percent`` (default 90 %, from the limit set) gets the verdict
``'insufficient data'``. Neither GOST 32144-2013, EN 50160:2010 nor IEC 61000-4-30 fixes a
minimum; with 90 % the missing part (at most 10 %, 100 ten-minute intervals) is still only
about twice the 5 % allowance, while a verdict on, say, half a week would say little about
the other half. The threshold is a parameter.

Observation weeks are aligned in local time (``timezone``), by default on Monday 00:00
(the limit set's ``week_start``; the standards, in the sources available, fix no
weekday), so a week can last 167 or 169 hours across a DST change. An interval belongs
to the period in which it *starts*. The EN 50160 interconnected-system frequency rule is
counted over a local calendar year.

The 95th percentile (``p95_value``) and 5th percentile (``p05_value``) are reported for
information only; the verdict is decided by counts. They use linear interpolation between
order statistics (Hyndman & Fan type 7, numpy's default ``'linear'``): with the ``N``
valid values sorted, ``x_(h)`` at ``h = (N - 1) q`` (0-based), interpolated linearly.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._limits import (
    WEEKDAYS,
    Indicator,
    IndicatorKind,
    Limit,
    LimitSet,
    VoltageLevel,
    get_limit_set,
)
from gridtwin.timeseries import utc_ns

__all__ = [
    "IndicatorEvaluation",
    "SimulatedVoltageCounter",
    "SimulatedVoltageCounts",
    "SimulatedVoltageEvaluation",
    "UnderOverDeviation",
    "Verdict",
    "VoltageUnit",
    "evaluate",
    "evaluate_voltage_counts",
    "evaluate_voltage_pu",
    "infer_voltage_unit",
    "under_over_deviation",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TimeArray = npt.NDArray[np.datetime64]

Verdict = Literal["pass", "fail", "insufficient data"]
VoltageUnit = Literal["V", "kV", "pu", "percent", "line_to_line_V", "phase_to_neutral_V", "unknown"]
StandardId = Literal["GOST 32144-2013", "EN 50160:2010"]

_REL_TOL = 1e-9
_NS = 1_000_000_000
_TEN_MIN_NS = 600 * _NS
_SQRT3 = float(np.sqrt(3.0))
_WEEK_START = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class UnderOverDeviation:
    """GOST 32144 δU(−) and δU(+): 10-min under- and over-deviation [% of U0].

    Attributes
    ----------
    under_percent : numpy.ndarray, shape (T, n_points)
        δU(−) >= 0 [% of U0]; ``NaN`` marks a missing interval.
    over_percent : numpy.ndarray, shape (T, n_points)
        δU(+) >= 0 [% of U0]; ``NaN`` marks a missing interval.
    """

    under_percent: FloatArray
    over_percent: FloatArray


def under_over_deviation(
    u_rms_v: npt.ArrayLike, u0_v: float | npt.ArrayLike, *, axis: int = 1
) -> UnderOverDeviation:
    """Under- and over-deviation of 10/12-cycle r.m.s. values (IEC 61000-4-30 5.12).

    Parameters
    ----------
    u_rms_v : array_like
        10/12-cycle r.m.s. voltages [V], e.g. shape (T, m, n_points) with the ``m`` values of
        each 10-min interval along ``axis``. ``NaN`` values are left out; an interval with no
        finite value gives ``NaN``.
    u0_v : float or array_like
        Reference voltage U0 [V] (U_nom at LV, the agreed U_c at MV), broadcastable to the
        result (e.g. one per point).
    axis : int
        Axis of the values inside one aggregation interval.

    Returns
    -------
    UnderOverDeviation
        ``under_percent`` = δU(−) and ``over_percent`` = δU(+), with ``axis`` removed.

    Notes
    -----
    With Um(−) the r.m.s. of the values each capped at U0 from above and Um(+) the r.m.s.
    of the values each raised to U0 from below (GOST 32144-2013 4.2.2, IEC 61000-4-30
    5.12)::

        δU(−) = (U0 − Um(−)) / U0 · 100,   δU(+) = (Um(+) − U0) / U0 · 100
    """
    u = np.asarray(u_rms_v, dtype=np.float64)
    if not -u.ndim <= axis < u.ndim:
        msg = f"under_over_deviation: axis {axis} out of range for an array of {u.ndim} dims"
        raise InputError(msg)
    axis %= u.ndim
    u0_given = np.asarray(u0_v, dtype=np.float64)
    if np.any(~np.isfinite(u0_given)) or np.any(u0_given <= 0):
        msg = "under_over_deviation: u0_v must be positive and finite [V]"
        raise InputError(msg)
    try:
        u0 = np.broadcast_to(u0_given, u.shape[:axis] + u.shape[axis + 1 :])
    except ValueError as exc:
        msg = (
            f"under_over_deviation: u0_v of shape {u0_given.shape} does not broadcast to "
            f"the result shape {u.shape[:axis] + u.shape[axis + 1 :]}"
        )
        raise InputError(msg) from exc
    u0_full = np.expand_dims(u0, axis)
    finite = np.isfinite(u)
    count = finite.sum(axis=axis)
    low = np.where(finite, np.minimum(u, u0_full), 0.0)
    high = np.where(finite, np.maximum(u, u0_full), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        um_minus = np.sqrt((low * low).sum(axis=axis) / count)
        um_plus = np.sqrt((high * high).sum(axis=axis) / count)
    return UnderOverDeviation(
        under_percent=(u0 - um_minus) / u0 * 100.0, over_percent=(um_plus - u0) / u0 * 100.0
    )


def _scale_class(median: float, nominal: float) -> VoltageUnit:
    ratio = median / nominal
    if 0.7 <= ratio <= 1.3:
        return "V"
    if 0.85 * _SQRT3 <= ratio <= 1.15 * _SQRT3:
        return "line_to_line_V"
    if 0.85 / _SQRT3 <= ratio <= 1.15 / _SQRT3:
        return "phase_to_neutral_V"
    if 0.7 <= ratio * 1000.0 <= 1.3:
        return "kV"
    if 0.7 <= median <= 1.3:
        return "pu"
    if 70.0 <= median <= 130.0:
        return "percent"
    return "unknown"


def _robust_median(values: FloatArray) -> float | None:
    flat = values.ravel()
    if flat.size > 200_000:
        flat = flat[:: flat.size // 100_000]
    flat = np.abs(flat[np.isfinite(flat)])
    return float(np.median(flat)) if flat.size else None


def infer_voltage_unit(values: npt.ArrayLike, nominal_v: float) -> VoltageUnit:
    """Guess the unit of voltage values from their median and the nominal voltage.

    Parameters
    ----------
    values : array_like
        Voltages, any shape; ``NaN`` is ignored.
    nominal_v : float
        The nominal (reference) voltage the values should be close to [V].

    Returns
    -------
    str
        ``'V'`` (median within 0.7..1.3 × nominal), ``'line_to_line_V'`` (about √3 ×
        nominal: line voltages against a phase nominal), ``'phase_to_neutral_V'`` (about
        nominal / √3), ``'kV'`` (about nominal / 1000), ``'pu'`` (median 0.7..1.3),
        ``'percent'`` (median 70..130) or ``'unknown'``. Checked in this order, so a
        nominal near 100 V or 1 V is read as ``'V'``.

    Examples
    --------
    >>> infer_voltage_unit([0.229, 0.231], nominal_v=230.0)
    'kV'
    >>> infer_voltage_unit([99.0, 101.0], nominal_v=230.0)
    'percent'
    """
    if not nominal_v > 0:
        msg = f"infer_voltage_unit: nominal_v must be positive [V], got {nominal_v}"
        raise InputError(msg)
    med = _robust_median(np.asarray(values, dtype=np.float64))
    return "unknown" if med is None else _scale_class(med, float(nominal_v))


_UNIT_FIX: dict[str, str] = {
    "kV": "the values look like kV: multiply them by 1000 (or pass values in V)",
    "pu": (
        "the values look like per-unit: multiply them by the nominal voltage, or use "
        "evaluate_voltage_pu for simulated per-unit voltages"
    ),
    "percent": "the values look like percent of nominal: multiply them by nominal_v / 100",
    "line_to_line_V": (
        "the values look like line-to-line voltages against a phase-to-neutral "
        "nominal: pass nominal_v = the line voltage (e.g. 380 or 400)"
    ),
    "phase_to_neutral_V": (
        "the values look like phase-to-neutral voltages against a "
        "line-to-line nominal: pass nominal_v = the phase voltage"
    ),
    "unknown": "check the unit of the values and nominal_v",
}


def _time_axis(time_utc: pd.DatetimeIndex | npt.ArrayLike) -> IntArray:
    idx = (
        time_utc
        if isinstance(time_utc, pd.DatetimeIndex)
        else pd.DatetimeIndex(np.asarray(time_utc))
    )
    if idx.tz is None:
        msg = (
            "time_utc must be tz-aware (UTC interval starts); localize it, e.g. "
            "index.tz_localize('UTC')"
        )
        raise InputError(msg)
    if len(idx) == 0:
        msg = "time_utc is empty: nothing to evaluate"
        raise InputError(msg)
    t_ns = utc_ns(idx)
    bad = np.flatnonzero(np.diff(t_ns) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        msg = (
            f"time_utc[{i}] = {_iso(t_ns[i])} is not after time_utc[{i - 1}] = "
            f"{_iso(t_ns[i - 1])}: timestamps must be strictly increasing without "
            "duplicates; sort and de-duplicate the data"
        )
        raise DataQualityError(msg)
    return t_ns


def _iso(t_ns: int | np.int64) -> str:
    return pd.Timestamp(int(t_ns), tz="UTC").isoformat()


def _check_grid(t_ns: IntArray, step_ns: int, origin_ns: int, what: str, hint: str) -> None:
    bad = np.flatnonzero((t_ns - origin_ns) % step_ns)
    if bad.size:
        i = int(bad[0])
        msg = (
            f"time_utc[{i}] = {_iso(t_ns[i])} is off the {what} grid "
            f"({bad.size} off-grid timestamp(s) in all); {hint}"
        )
        raise DataQualityError(msg)


def _as_2d(values: npt.ArrayLike, n_times: int, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[0] != n_times:
        msg = (
            f"{name} has shape {arr.shape} but time_utc has {n_times} timestamps: pass an "
            f"array of shape (T, n_points) with one row per timestamp"
        )
        raise InputError(msg)
    inf = np.isinf(arr)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        msg = f"{name}[{r}, {c}] is infinite: mark a missing interval as NaN, never as inf"
        raise DataQualityError(msg)
    return arr


def _flags(flags: npt.ArrayLike | None, shape: tuple[int, int]) -> BoolArray | None:
    if flags is None:
        return None
    arr = np.asarray(flags)
    if arr.dtype.kind not in "biu":
        msg = f"flags must be booleans (True = flagged interval), got dtype {arr.dtype}"
        raise InputError(msg)
    arr = arr.astype(bool)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    try:
        return np.broadcast_to(arr, shape)
    except ValueError as exc:
        msg = f"flags has shape {np.shape(flags)}; it must be (T,) or (T, n_points) = {shape}"
        raise InputError(msg) from exc


def _point_ids(point_ids: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if point_ids is None:
        return tuple(str(i) for i in range(n))
    ids = tuple(str(p) for p in point_ids)
    if len(ids) != n:
        msg = f"point_ids has {len(ids)} ids but the values have {n} columns (points)"
        raise InputError(msg)
    if len(set(ids)) != n:
        msg = "point_ids must be unique"
        raise InputError(msg)
    return ids


def _check_timezone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"unknown time zone {timezone!r}: pass an IANA zone such as 'Europe/Moscow' "
            "or 'Europe/Berlin' (observation weeks are aligned in local time)"
        )
        raise InputError(msg) from exc


# --------------------------------------------------------------------------- periods


def _parse_week_start(week_start: str | pd.Timestamp, timezone: str) -> tuple[int, int]:
    """Return (weekday 0=Monday, minutes after local midnight)."""
    if isinstance(week_start, pd.Timestamp):
        ts = week_start.tz_convert(timezone) if week_start.tzinfo else week_start
        if ts.second or ts.microsecond or ts.nanosecond:
            msg = f"week_start {week_start} must fall on a whole minute"
            raise InputError(msg)
        return ts.weekday(), ts.hour * 60 + ts.minute
    m = _WEEK_START.match(str(week_start).strip().lower())
    if not m:
        msg = (
            f"week_start {week_start!r} must look like 'mon 00:00' (weekday mon..sun and "
            "local time HH:MM) or be a Timestamp whose local weekday and time are used"
        )
        raise InputError(msg)
    return WEEKDAYS.index(m.group(1)), int(m.group(2)) * 60 + int(m.group(3))


def _period_bounds(
    t_first: int, t_last: int, observation: str, timezone: str, weekday: int, minute: int
) -> IntArray:
    """UTC ns of period boundaries: ``b[0] <= t_first`` and ``b[-1] > t_last``."""
    first = pd.Timestamp(t_first, tz="UTC").tz_convert(timezone).tz_localize(None)
    last = pd.Timestamp(t_last, tz="UTC").tz_convert(timezone).tz_localize(None)
    if observation == "week":
        offset = pd.Timedelta(minutes=minute)
        day = (first - offset).normalize()
        start = day - pd.Timedelta(days=(day.weekday() - weekday) % 7 + 7) + offset
        n = int((last - start) / pd.Timedelta(days=7)) + 3
        naive = pd.date_range(start, periods=n, freq="7D")
    else:
        naive = pd.DatetimeIndex(
            [pd.Timestamp(year=y, month=1, day=1) for y in range(first.year - 1, last.year + 2)]
        )
    local = naive.tz_localize(
        timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    bounds = utc_ns(local)
    i0 = int(np.searchsorted(bounds, t_first, side="right")) - 1
    i1 = int(np.searchsorted(bounds, t_last, side="right"))
    return bounds[i0 : i1 + 1]


def _ceil_div(a: IntArray, b: int) -> IntArray:
    return -((-a) // b)


# --------------------------------------------------------------------------- core


@dataclass(frozen=True)
class _Block:
    """Statistics of one block of rows (one period), one entry per point."""

    n_valid: IntArray
    n_flagged: IntArray
    n1: IntArray
    n2: IntArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_row: IntArray


def _beyond(lo_m: FloatArray, hi_m: FloatArray, lim: Limit | None) -> IntArray:
    n = hi_m.shape[1]
    if lim is None:
        return np.zeros(n, dtype=np.int64)
    mask: BoolArray | None = None
    if lim.upper is not None:
        mask = hi_m > lim.upper + _REL_TOL * max(1.0, abs(lim.upper))
    if lim.lower is not None:
        low = lo_m < lim.lower - _REL_TOL * max(1.0, abs(lim.lower))
        mask = low if mask is None else mask | low
    if mask is None:  # pragma: no cover - the schema requires lower or upper
        return np.zeros(n, dtype=np.int64)
    return np.asarray(mask.sum(axis=0), dtype=np.int64)


def _quantiles(
    x: FloatArray, valid: BoolArray, n_valid: IntArray, qs: tuple[float, ...]
) -> list[FloatArray]:
    """Type-7 quantiles of the valid entries of each column (numpy 'linear')."""
    s = np.where(valid, x, np.nan).T.copy()
    s.sort(axis=1)  # NaN last: the valid values of column j are s[j, :n_valid[j]]
    cols = np.arange(s.shape[0])
    out = []
    for q in qs:
        h = np.maximum(n_valid - 1, 0) * q
        i_lo = np.floor(h).astype(np.int64)
        i_hi = np.minimum(i_lo + 1, np.maximum(n_valid - 1, 0))
        a, b = s[cols, i_lo], s[cols, i_hi]
        val = a + (h - i_lo) * (b - a)
        out.append(np.where(n_valid > 0, val, np.nan))
    return out


@dataclass(frozen=True)
class _Extremes:
    """Counts and extremes of the valid entries of a block of rows, one entry per point.

    ``max_m`` / ``min_m`` are ``-inf`` / ``+inf`` and the rows -1 where a point has no
    valid row; ties go to the first row (numpy ``argmax``/``argmin``).
    """

    n_valid: IntArray
    n1: IntArray
    n2: IntArray
    max_m: FloatArray
    max_row: IntArray
    min_m: FloatArray
    min_row: IntArray


def _extremes(lo: FloatArray, hi: FloatArray, valid: BoolArray, ind: Indicator) -> _Extremes:
    """N, N1, N2 and the largest / smallest valid value with their rows (the limits rule)."""
    n_rows, n = hi.shape
    n_valid = np.asarray(valid.sum(axis=0), dtype=np.int64)
    if n_rows == 0:
        none = np.full(n, -1, dtype=np.int64)
        zeros = np.zeros(n, dtype=np.int64)
        return _Extremes(n_valid, zeros, zeros, np.full(n, -np.inf), none, np.full(n, np.inf), none)
    hi_m = np.where(valid, hi, -np.inf)
    lo_m = np.where(valid, lo, np.inf)
    cols = np.arange(n)
    i_hi = hi_m.argmax(axis=0).astype(np.int64)
    i_lo = lo_m.argmin(axis=0).astype(np.int64)
    has = n_valid > 0
    return _Extremes(
        n_valid=n_valid,
        n1=_beyond(lo_m, hi_m, ind.share_limit),
        n2=_beyond(lo_m, hi_m, ind.max_limit),
        max_m=hi_m[i_hi, cols],
        max_row=np.where(has, i_hi, -1),
        min_m=lo_m[i_lo, cols],
        min_row=np.where(has, i_lo, -1),
    )


def _worst_is_min(max_v: FloatArray, min_v: FloatArray, ind: Indicator) -> BoolArray:
    """Whether the smallest value (else the largest) is the worst one: the one farther
    beyond (or closer to) the widest band, relative to the band edge. NaN picks the max."""
    wide = ind.widest_limit
    with np.errstate(invalid="ignore"):
        u_hi = max_v / wide.upper if wide.upper is not None else np.full(max_v.shape, -np.inf)
        u_lo = min_v / wide.lower if wide.lower is not None else np.full(min_v.shape, -np.inf)
        return np.asarray(u_lo > u_hi, dtype=np.bool_)


def _block_stats(
    lo: FloatArray, hi: FloatArray, flagged: BoolArray | None, ind: Indicator, same: bool
) -> _Block:
    n_rows, n = hi.shape
    valid = np.isfinite(hi) if same else np.isfinite(hi) & np.isfinite(lo)
    n_flagged = np.zeros(n, dtype=np.int64)
    if flagged is not None:
        valid &= ~flagged
        n_flagged = np.asarray(flagged.sum(axis=0), dtype=np.int64)
    ext = _extremes(lo, hi, valid, ind)
    n_valid = ext.n_valid
    nan = np.full(n, np.nan)
    if n_rows == 0:
        zeros = np.zeros(n, dtype=np.int64)
        return _Block(n_valid, n_flagged, zeros, zeros, nan, nan, nan, nan, nan, zeros - 1)
    has = n_valid > 0
    max_v = np.where(has, ext.max_m, np.nan)
    min_v = np.where(has, ext.min_m, np.nan)
    if same:
        p95, p05 = _quantiles(hi, valid, n_valid, (0.95, 0.05))
    else:
        (p95,) = _quantiles(hi, valid, n_valid, (0.95,))
        (p05,) = _quantiles(lo, valid, n_valid, (0.05,))
    pick_lo = _worst_is_min(max_v, min_v, ind)
    return _Block(
        n_valid=n_valid,
        n_flagged=n_flagged,
        n1=ext.n1,
        n2=ext.n2,
        max_value=max_v,
        min_value=min_v,
        p95_value=p95,
        p05_value=p05,
        worst_value=np.where(pick_lo, min_v, max_v),
        worst_row=np.where(pick_lo, ext.min_row, ext.max_row).astype(np.int64),
    )


def _rule_texts(ind: Indicator, min_availability_percent: float) -> tuple[str, ...]:
    """Texts for rule codes 0 pass, 1 share fail, 2 maximum fail, 3 insufficient data."""
    cite = f"[{ind.citation}]"
    checks = []
    share_fail = max_fail = ""
    if ind.share_limit is not None:
        s = ind.share_limit
        allowed = f"{100 - s.share_percent:g} %"
        checks.append(
            f"N1/N <= {allowed} (band {s.band_text(ind.unit)} for "
            f"{s.share_percent:g} % of valid intervals)"
        )
        share_fail = (
            f"fail: N1/N > {allowed}: more than {allowed} of valid intervals "
            f"outside {s.band_text(ind.unit)} {cite}"
        )
    if ind.max_limit is not None:
        checks.append(
            f"N2 = 0 (band {ind.max_limit.band_text(ind.unit)} for 100 % of valid intervals)"
        )
        max_fail = (
            f"fail: N2 > 0: a valid interval outside "
            f"{ind.max_limit.band_text(ind.unit)}, allowed for 0 % of the time {cite}"
        )
    return (
        f"pass: {' and '.join(checks)} {cite}",
        share_fail,
        max_fail,
        f"insufficient data: fewer than {min_availability_percent:g} % of the expected "
        "intervals are valid; no verdict",
    )


@dataclass(frozen=True)
class IndicatorEvaluation:
    """Per point and observation period: counts, statistics and verdict of one indicator.

    Arrays of shape (K, n_points) have one row per period ``period_start_utc[k]``.
    Value fields (``max_value`` ...) are in ``value_unit``: ``'percent'`` (of U0 for
    voltage deviation, of U1 for harmonics, of the positive sequence for unbalance, of the
    nominal frequency for EN 50160 frequency), ``'Hz'`` or ``'1'`` (Pst, Plt);
    :meth:`to_frame` names the columns with the unit.

    Attributes
    ----------
    standard, indicator, voltage_level, clause, quantity : str
        What was evaluated, and the clause of the standard.
    value_unit : str
        Unit of the value fields and of the limits.
    basis : str
        What the intervals are: IEC 61000-4-30 aggregates, or simulation steps.
    limits : str
        The limits applied, e.g. ``'95 %: -10 .. +10 %; 100 %: -15 .. +10 %'``.
    share_limit_percent : float
        Share of the N1 band (e.g. 95, 99, 99.5); ``NaN`` if the indicator has only a 100 %
        limit (then ``n1`` is 0 and ``t1_percent`` is ``NaN``).
    min_availability_percent : float
        Availability below which a period gets no verdict [% of expected intervals].
    notes : tuple of str
        Verification status of the limits and other caveats; print them with the result.
    point_ids : tuple of str
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Period boundaries (local week or year starts) in UTC, end exclusive.
    n_expected : numpy.ndarray of int, shape (K,)
        Intervals of the grid that start in the period (1008 for a 168-h week of 10-min).
    n_valid, n_flagged, n_missing : numpy.ndarray of int, shape (K, n_points)
        Valid intervals (N), flagged ones (excluded), missing ones (absent or NaN).
    availability_percent : numpy.ndarray, shape (K, n_points)
        ``100 * n_valid / n_expected`` [%].
    n1, n2 : numpy.ndarray of int, shape (K, n_points)
        Valid intervals outside the share band (N1) and outside the 100 % band (N2).
    t1_percent, t2_percent : numpy.ndarray, shape (K, n_points)
        ``100 * N1 / N`` and ``100 * N2 / N`` [%]; ``NaN`` when N = 0 or no such limit.
    max_value, min_value : numpy.ndarray, shape (K, n_points)
        Largest and smallest valid value [value_unit]. For GOST voltage deviation given as
        δU(−), δU(+), ``max_value`` is the largest δU(+) and ``min_value`` is −(largest
        δU(−)).
    p95_value, p05_value : numpy.ndarray, shape (K, n_points)
        95th and 5th percentile of the valid values (type 7, see the module notes).
    worst_value : numpy.ndarray, shape (K, n_points)
        The valid value closest to (or farthest beyond) a limit, relative to the widest band.
    worst_time_utc : numpy.ndarray of datetime64[ns], shape (K, n_points)
        Start (UTC) of the interval of ``worst_value``; ``NaT`` when N = 0.
    verdict : numpy.ndarray of str, shape (K, n_points)
        ``'pass'``, ``'fail'`` or ``'insufficient data'``.
    rule : numpy.ndarray of str, shape (K, n_points)
        The rule that decided the verdict, with the clause.
    """

    standard: str
    indicator: str
    voltage_level: str
    clause: str
    quantity: str
    value_unit: str
    basis: str
    limits: str
    share_limit_percent: float
    min_availability_percent: float
    notes: tuple[str, ...]
    point_ids: tuple[str, ...]
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    n_expected: IntArray
    n_valid: IntArray
    n_flagged: IntArray
    n_missing: IntArray
    availability_percent: FloatArray
    n1: IntArray
    n2: IntArray
    t1_percent: FloatArray
    t2_percent: FloatArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_time_utc: TimeArray
    verdict: npt.NDArray[np.str_]
    rule: npt.NDArray[np.str_]

    @property
    def unit_suffix(self) -> str:
        """Suffix naming the unit in :meth:`to_frame` columns (``percent``, ``hz``, ...)."""
        return {"percent": "percent", "Hz": "hz"}.get(self.value_unit, self.indicator)

    def to_frame(self) -> pd.DataFrame:
        """One row per (period, point), columns with units in their names."""
        k, n = self.n_valid.shape
        u = self.unit_suffix
        n1: object = self.n1.ravel()
        if np.isnan(self.share_limit_percent):
            n1 = pd.array([pd.NA] * (k * n), dtype="Int64")
        return pd.DataFrame(
            {
                "standard": self.standard,
                "voltage_level": self.voltage_level,
                "indicator": self.indicator,
                "period_start_utc": self.period_start_utc.repeat(n),
                "period_end_utc": self.period_end_utc.repeat(n),
                "point_id": np.tile(np.asarray(self.point_ids, dtype=object), k),
                "n_expected": np.repeat(self.n_expected, n),
                "n_valid": self.n_valid.ravel(),
                "n_flagged": self.n_flagged.ravel(),
                "n_missing": self.n_missing.ravel(),
                "availability_percent": self.availability_percent.ravel(),
                "n1": n1,
                "n2": self.n2.ravel(),
                "t1_percent": self.t1_percent.ravel(),
                "t2_percent": self.t2_percent.ravel(),
                f"max_{u}": self.max_value.ravel(),
                f"min_{u}": self.min_value.ravel(),
                f"p95_{u}": self.p95_value.ravel(),
                f"p05_{u}": self.p05_value.ravel(),
                f"worst_{u}": self.worst_value.ravel(),
                "worst_time_utc": pd.DatetimeIndex(self.worst_time_utc.ravel()).tz_localize("UTC"),
                "verdict": self.verdict.ravel(),
                "rule": self.rule.ravel(),
            }
        )


def _verdict_codes(
    ind: Indicator,
    n_valid: IntArray,
    n1: IntArray,
    n2: IntArray,
    n_expected: IntArray,
    min_availability_percent: float,
) -> IntArray:
    """0 pass, 1 share rule failed, 2 100 % rule failed, 3 insufficient data (precedence)."""
    code = np.zeros(n_valid.shape, dtype=np.int64)
    if ind.share_limit is not None:
        bp = ind.share_limit.share_basis_points  # integer test of N1 / N <= 1 - share
        code[n1 * 10_000 > (10_000 - bp) * n_valid] = 1
    if ind.max_limit is not None:
        code[n2 > 0] = 2
    code[n_valid * 100.0 < min_availability_percent * n_expected] = 3
    return code


def _n_expected(bounds: IntArray, origin_ns: int, step_ns: int) -> IntArray:
    """Grid intervals (``origin + k * step``) whose start lies in each period."""
    return (
        _ceil_div(bounds[1:] - origin_ns, step_ns) - _ceil_div(bounds[:-1] - origin_ns, step_ns)
    ).astype(np.int64)


@dataclass(frozen=True)
class _PeriodValues:
    """Per period and point ``(K, n)``: the counts and values an evaluation reports."""

    n_valid: IntArray
    n_flagged: IntArray
    n1: IntArray
    n2: IntArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_time_utc: TimeArray


def _indicator_evaluation(
    ind: Indicator,
    bounds: IntArray,
    n_expected: IntArray,
    values: _PeriodValues,
    *,
    min_availability_percent: float,
    basis: str,
    point_ids: tuple[str, ...],
    notes: tuple[str, ...],
) -> IndicatorEvaluation:
    """Shares, availability and the verdict of every period from its counts.

    The one place where N, N1, N2 and the expected intervals become ``t1``, ``t2``,
    availability and a verdict, for measured aggregates, for full simulated series and
    for counts accumulated step block by step block (:class:`SimulatedVoltageCounter`).
    """
    n_valid, n1, n2 = values.n_valid, values.n1, values.n2
    exp2: IntArray = n_expected[:, np.newaxis]
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = np.where(n_valid > 0, 100.0 * n1 / n_valid, np.nan)
        t2 = np.where(n_valid > 0, 100.0 * n2 / n_valid, np.nan)
        availability = np.where(exp2 > 0, 100.0 * n_valid / exp2, np.nan)
    if ind.share_limit is None:
        t1[:] = np.nan
    if ind.max_limit is None:
        t2[:] = np.nan
    code = _verdict_codes(ind, n_valid, n1, n2, exp2, min_availability_percent)
    verdicts = np.array(["pass", "fail", "fail", "insufficient data"])
    rules = np.array(_rule_texts(ind, min_availability_percent))
    share = ind.share_limit.share_percent if ind.share_limit is not None else np.nan
    return IndicatorEvaluation(
        standard=ind.standard,
        indicator=ind.name,
        voltage_level=ind.voltage_level,
        clause=ind.clause,
        quantity=ind.quantity,
        value_unit=ind.unit,
        basis=basis,
        limits=ind.limits_text(),
        share_limit_percent=float(share),
        min_availability_percent=min_availability_percent,
        notes=notes,
        point_ids=point_ids,
        period_start_utc=pd.DatetimeIndex(bounds[:-1].astype("datetime64[ns]")).tz_localize("UTC"),
        period_end_utc=pd.DatetimeIndex(bounds[1:].astype("datetime64[ns]")).tz_localize("UTC"),
        n_expected=n_expected,
        n_valid=n_valid,
        n_flagged=values.n_flagged,
        n_missing=exp2 - n_valid - values.n_flagged,
        availability_percent=availability,
        n1=n1,
        n2=n2,
        t1_percent=t1,
        t2_percent=t2,
        max_value=values.max_value,
        min_value=values.min_value,
        p95_value=values.p95_value,
        p05_value=values.p05_value,
        worst_value=values.worst_value,
        worst_time_utc=values.worst_time_utc,
        verdict=verdicts[code],
        rule=rules[code],
    )


def _evaluate_periods(
    lo: FloatArray,
    hi: FloatArray,
    flagged: BoolArray | None,
    t_ns: IntArray,
    bounds: IntArray,
    step_ns: int,
    origin_ns: int,
    ind: Indicator,
    *,
    min_availability_percent: float,
    basis: str,
    point_ids: tuple[str, ...],
    notes: tuple[str, ...],
) -> IndicatorEvaluation:
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
    return _indicator_evaluation(
        ind,
        bounds,
        _n_expected(bounds, origin_ns, step_ns),
        _PeriodValues(
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
        ),
        min_availability_percent=min_availability_percent,
        basis=basis,
        point_ids=point_ids,
        notes=notes,
    )


# --------------------------------------------------------------------------- measured


@dataclass(frozen=True)
class _Prepared:
    lo: FloatArray
    hi: FloatArray
    basis: str
    notes: tuple[str, ...] = field(default=())


def _voltage_deviation_percent(
    values: npt.ArrayLike,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> tuple[FloatArray, float]:
    u0 = nominal_v if nominal_v is not None else ls.nominal_voltage_v(ind.voltage_level)
    if u0 is None:
        msg = (
            f"{ls.id} {ind.voltage_level}: there is no default nominal voltage; pass "
            "nominal_v = the agreed/declared supply voltage U_c [V] (e.g. 10000 for a "
            "10 kV network)"
        )
        raise InputError(msg)
    if not u0 > 0:
        msg = f"nominal_v must be positive [V], got {u0}"
        raise InputError(msg)
    u = _as_2d(values, n_times, "values")
    if check_units:
        unit = infer_voltage_unit(u, u0)
        if unit != "V":
            med = _robust_median(u)
            msg = (
                f"values do not look like volts near nominal_v = {u0:g} V (median "
                f"{med:g}, read as {unit!r}): {_UNIT_FIX[unit]}. Pass check_units=False "
                "to skip this check."
            )
            raise InputError(msg)
    return (u - u0) / u0 * 100.0, float(u0)


def _prepare_rms(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    if isinstance(values, UnderOverDeviation):
        msg = (
            f"{ind.citation} evaluates the 10-min mean r.m.s. voltage, not δU(−)/δU(+): "
            "pass the 10-min r.m.s. voltages [V] as values"
        )
        raise InputError(msg)
    d, u0 = _voltage_deviation_percent(values, n_times, ind, ls, nominal_v, check_units)
    return _Prepared(d, d, f"10-min r.m.s. values (IEC 61000-4-30), deviation from U0 = {u0:g} V")


def _prepare_under_over(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    if isinstance(values, UnderOverDeviation):
        under = _as_2d(values.under_percent, n_times, "values.under_percent")
        over = _as_2d(values.over_percent, n_times, "values.over_percent")
        if under.shape != over.shape:
            msg = (
                f"values.under_percent {under.shape} and values.over_percent {over.shape} "
                "must have the same shape"
            )
            raise InputError(msg)
        for name, arr in (("under_percent", under), ("over_percent", over)):
            neg = arr < 0
            if neg.any():
                r, c = np.argwhere(neg)[0]
                msg = (
                    f"values.{name}[{r}, {c}] = {arr[r, c]:g} is negative: δU(−) and "
                    "δU(+) are >= 0 by definition (IEC 61000-4-30 5.12); pass signed "
                    "deviations as 10-min voltages instead"
                )
                raise DataQualityError(msg)
        return _Prepared(
            -under,
            over,
            "10-min under-/over-deviation δU(−), δU(+) (IEC 61000-4-30 5.12, GOST 30804.4.30)",
        )
    d, u0 = _voltage_deviation_percent(values, n_times, ind, ls, nominal_v, check_units)
    note = (
        f"{ind.citation}: δU(−), δU(+) were estimated from 10-min mean voltages "
        "(the deviation of the mean); they are lower bounds of the under-/over-deviation "
        "measured per GOST 30804.4.30, so a pass here is not proof of compliance"
    )
    return _Prepared(
        d,
        d,
        f"10-min mean r.m.s. values, deviation from U0 = {u0:g} V "
        "(δU(−)/δU(+) estimated from the mean)",
        (note,),
    )


def _prepare_frequency(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    if isinstance(values, UnderOverDeviation):
        msg = "frequency values must be an array of 10-s frequencies [Hz]"
        raise InputError(msg)
    f = _as_2d(values, n_times, "values")
    fn = ls.nominal_frequency_hz
    med = _robust_median(f)
    if check_units and med is not None and not 0.9 * fn <= med <= 1.1 * fn:
        hint = (
            f"they look like deviations: pass absolute frequencies (add the nominal {fn:g} Hz)"
            if med < 0.1 * fn
            else "check the unit (Hz expected)"
        )
        msg = (
            f"values should be 10-s frequencies near {fn:g} Hz but their median is "
            f"{med:g}: {hint}. Pass check_units=False to skip this check."
        )
        raise InputError(msg)
    d = f - fn if ind.unit == "Hz" else (f - fn) / fn * 100.0
    return _Prepared(d, d, f"10-s frequency values (IEC 61000-4-30), deviation from {fn:g} Hz")


def _prepare_magnitude(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    if isinstance(values, UnderOverDeviation):
        msg = f"{ind.name} values must be an array in {ind.unit}"
        raise InputError(msg)
    x = _as_2d(values, n_times, "values")
    neg = x < 0
    if neg.any():
        r, c = np.argwhere(neg)[0]
        msg = (
            f"values[{r}, {c}] = {x[r, c]:g} is negative; {ind.name} ({ind.quantity}) is "
            "non-negative: check the column and the unit"
        )
        raise DataQualityError(msg)
    return _Prepared(x, x, f"{ind.aggregation} values (IEC 61000-4-30 aggregation)")


_Preparer = Callable[
    [npt.ArrayLike | UnderOverDeviation, int, Indicator, LimitSet, float | None, bool], _Prepared
]
_PREPARERS: dict[IndicatorKind, _Preparer] = {
    "voltage_rms_deviation": _prepare_rms,
    "voltage_under_over_deviation": _prepare_under_over,
    "frequency_deviation": _prepare_frequency,
    "magnitude": _prepare_magnitude,
}


def _resolve_limit_set(limit_set: LimitSet | str) -> LimitSet:
    return get_limit_set(limit_set) if isinstance(limit_set, str) else limit_set


@dataclass(frozen=True)
class _Periods:
    bounds: IntArray
    min_availability_percent: float
    notes: tuple[str, ...]


def _min_availability(ls: LimitSet, min_availability_percent: float | None) -> float:
    """The availability threshold for a verdict [%]: given, or the limit set's."""
    if min_availability_percent is None:
        return ls.min_availability_percent
    if 0 < min_availability_percent <= 100:
        return float(min_availability_percent)
    msg = f"min_availability_percent must be in (0, 100], got {min_availability_percent}"
    raise InputError(msg)


def _periods(
    ls: LimitSet,
    ind: Indicator,
    t_ns: IntArray,
    timezone: str,
    week_start: str | pd.Timestamp | None,
    min_availability_percent: float | None,
    extra_notes: tuple[str, ...],
) -> _Periods:
    """Observation periods, availability threshold and notes shared by both entry points."""
    ws = week_start if week_start is not None else ls.default_week_start
    wd, minute = _parse_week_start(ws, timezone)
    bounds = _period_bounds(int(t_ns[0]), int(t_ns[-1]), ind.observation, timezone, wd, minute)
    min_av = _min_availability(ls, min_availability_percent)
    if ind.observation == "year":
        period = f"observation periods: calendar years from 1 January 00:00 {timezone}"
    else:
        period = f"observation weeks start {ws} local time ({timezone})"
    notes = (*ind.verification_notes(), *extra_notes, f"{ls.id} edition: {ls.spec.edition}", period)
    return _Periods(bounds, min_av, notes)


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
    t_ns = _time_axis(time_utc)
    if time_label == "end":
        t_ns = t_ns - step_ns
    elif time_label != "start":
        msg = f"time_label must be 'start' or 'end', got {time_label!r}"
        raise InputError(msg)
    origin_ns = _check_measured_grid(t_ns, ind, step_ns)
    if point_ids is None and isinstance(values, pd.DataFrame):
        point_ids = [str(c) for c in values.columns]
    prep = _PREPARERS[ind.kind](values, len(t_ns), ind, ls, nominal_v, check_units)
    ids = _point_ids(point_ids, prep.hi.shape[1])
    flagged = _flags(flags, prep.hi.shape)
    per = _periods(ls, ind, t_ns, timezone, week_start, min_availability_percent, prep.notes)
    return _evaluate_periods(
        prep.lo,
        prep.hi,
        flagged,
        t_ns,
        per.bounds,
        step_ns,
        origin_ns,
        ind,
        min_availability_percent=per.min_availability_percent,
        basis=prep.basis,
        point_ids=ids,
        notes=per.notes,
    )


def _check_measured_grid(t_ns: IntArray, ind: Indicator, step_ns: int) -> int:
    """Check IEC 61000-4-30 time tags; return the origin of the interval grid [ns UTC].

    10-s and 10-min values are aggregated between UTC clock ticks of their own length.
    A 2-h value aggregates 12 consecutive 10-min values: it starts on a 10-min UTC tick,
    and the values follow each other at 2-h steps from the first one.
    """
    fix = "pass time_label='end' if the timestamps mark interval ends"
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


# --------------------------------------------------------------------------- simulated


@dataclass(frozen=True)
class SimulatedVoltageEvaluation:
    """Supply-voltage check of simulated per-unit voltages (network twin).

    Attributes
    ----------
    weekly : IndicatorEvaluation
        The standard's voltage rule per observation week, counted over simulation steps.
    basis : str
        States that the intervals are simulation steps, not IEC 61000-4-30 10-min
        aggregates.
    step_s : float
        Simulation step [s].
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base.
    band_share_percent : float
        Share of the band below (e.g. 95 for EN 50160 LV, 100 for GOST 32144).
    band_lower_pu, band_upper_pu : float
        The standard's narrowest voltage band [p.u.]; ``NaN`` if unbounded.
    point_ids : tuple of str
    n_steps_valid : numpy.ndarray of int, shape (n_points,)
        Finite voltage values over the whole horizon.
    share_out_of_band_percent : numpy.ndarray, shape (n_points,)
        Share of the valid steps (= of the simulated time) outside the band [%].
    worst_vm_pu : numpy.ndarray, shape (n_points,)
        Voltage of the step farthest beyond (or closest to) the band [p.u.].
    worst_time_utc : numpy.ndarray of datetime64[ns], shape (n_points,)
        Start (UTC) of that step; ``NaT`` if no valid step.
    notes : tuple of str
    """

    weekly: IndicatorEvaluation
    basis: str
    step_s: float
    u0_pu: float
    band_share_percent: float
    band_lower_pu: float
    band_upper_pu: float
    point_ids: tuple[str, ...]
    n_steps_valid: IntArray
    share_out_of_band_percent: FloatArray
    worst_vm_pu: FloatArray
    worst_time_utc: TimeArray
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per point over the whole horizon (see :attr:`weekly` for weeks)."""
        return pd.DataFrame(
            {
                "point_id": list(self.point_ids),
                "n_steps_valid": self.n_steps_valid,
                "band_lower_pu": self.band_lower_pu,
                "band_upper_pu": self.band_upper_pu,
                "share_out_of_band_percent": self.share_out_of_band_percent,
                "worst_vm_pu": self.worst_vm_pu,
                "worst_time_utc": pd.DatetimeIndex(self.worst_time_utc).tz_localize("UTC"),
            }
        )


def _check_pu_scale(vm: FloatArray, u0_pu: float) -> None:
    med = _robust_median(vm)
    if med is None:
        return
    unit = _scale_class(med, u0_pu)
    if unit == "V":
        return
    fix = {"percent": "the values look like percent: divide them by 100"}.get(
        unit, "the values look like volts or kV: divide them by the base voltage"
    )
    msg = (
        f"vm_pu should be per-unit voltages near {u0_pu:g} but the median is {med:g}: "
        f"{fix}. Pass check_units=False to skip this check."
    )
    raise InputError(msg)


@dataclass(frozen=True)
class SimulatedVoltageCounts:
    """Per observation week and point, what the supply-voltage verdict of simulated
    per-unit voltages needs: counts N, N1, N2 and the extremes with their steps.

    Built step block by step block by :class:`SimulatedVoltageCounter` (e.g. inside a
    streaming time-series power flow), so its memory is ``(K, n_points)`` for ``K`` weeks
    whatever the number of steps; judged by :func:`evaluate_voltage_counts`.

    Attributes
    ----------
    limit_set : LimitSet
        The limits counted against (indicator ``voltage_deviation``).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which the observation weeks are aligned.
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base [p.u.].
    point_ids : tuple of str
    time_utc : pandas.DatetimeIndex, shape (T,)
        UTC start of every step counted (the time axis, for the expected intervals and
        the times of the extremes).
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Observation periods (local weeks) in UTC, end exclusive.
    n_valid, n1, n2 : numpy.ndarray of int64, shape (K, n_points)
        Steps with a finite voltage (N), beyond the share band (N1), beyond the 100 % band
        (N2), by the same rule as :func:`evaluate`.
    max_deviation_percent, min_deviation_percent : numpy.ndarray, shape (K, n_points)
        Largest / smallest valid deviation ``(vm / u0 - 1) * 100`` [% of U0]; NaN when
        N = 0.
    max_step, min_step : numpy.ndarray of int64, shape (K, n_points)
        Position in ``time_utc`` of the first step with that deviation; -1 when N = 0.
    max_vm_pu, min_vm_pu : numpy.ndarray, shape (K, n_points)
        The voltage [p.u.] at those steps.
    notes : tuple of str
        Verification status of the limits, edition and week alignment.
    """

    limit_set: LimitSet
    voltage_level: str
    timezone: str
    u0_pu: float
    point_ids: tuple[str, ...]
    time_utc: pd.DatetimeIndex
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    n_valid: IntArray
    n1: IntArray
    n2: IntArray
    max_deviation_percent: FloatArray
    max_step: IntArray
    max_vm_pu: FloatArray
    min_deviation_percent: FloatArray
    min_step: IntArray
    min_vm_pu: FloatArray
    notes: tuple[str, ...]

    @property
    def standard(self) -> str:
        """Limit-set id, e.g. ``'GOST 32144-2013'``."""
        return self.limit_set.id

    @property
    def indicator(self) -> Indicator:
        """The ``voltage_deviation`` indicator of :attr:`voltage_level`."""
        return self.limit_set.indicator(self.voltage_level, "voltage_deviation")


class SimulatedVoltageCounter:
    """Counts simulated per-unit voltages per observation week, block of steps by block.

    The streaming form of :func:`evaluate_voltage_pu` (which uses it on the whole array):
    the same observation weeks (local time, DST weeks of 167/169 h), the same limits and
    counting rule, memory ``(K weeks, n_points)``.

    Parameters
    ----------
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware UTC start of every step that will be added, strictly increasing.
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'`` (built-in limit sets).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which observation weeks are aligned.
    point_ids : sequence of str
        One id per column of the blocks.
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base [p.u.].
    week_start : str or pandas.Timestamp, optional
        As in :func:`evaluate`; default the limit set's.
    limit_set : LimitSet, optional
        A user-defined limit set instead of the built-in ``standard``.

    Raises
    ------
    InputError
        Unknown standard, level or zone; naive, empty or unsorted times; bad ``u0_pu``.
    """

    def __init__(
        self,
        time_utc: pd.DatetimeIndex | npt.ArrayLike,
        standard: StandardId | str = "GOST 32144-2013",
        voltage_level: VoltageLevel = "LV",
        *,
        timezone: str,
        point_ids: Sequence[str],
        u0_pu: float = 1.0,
        week_start: str | pd.Timestamp | None = None,
        limit_set: LimitSet | None = None,
    ) -> None:
        ls = limit_set if limit_set is not None else get_limit_set(standard)
        ind = ls.indicator(voltage_level, "voltage_deviation")
        _check_timezone(timezone)
        if not (np.isfinite(u0_pu) and u0_pu > 0):
            msg = f"u0_pu must be positive [p.u.], got {u0_pu}"
            raise InputError(msg)
        t_ns = _time_axis(time_utc)
        ids = tuple(str(p) for p in point_ids)
        ids = _point_ids(ids, len(ids))
        extra = (
            (f"{ind.citation}: δU(−), δU(+) estimated from simulated step voltages",)
            if ind.kind == "voltage_under_over_deviation"
            else ()
        )
        per = _periods(ls, ind, t_ns, timezone, week_start, None, extra)
        self._ls, self._ind, self._timezone = ls, ind, timezone
        self._u0 = float(u0_pu)
        self._ids = ids
        self._t_ns = t_ns
        self._bounds = per.bounds
        self._notes = per.notes
        self._period = (np.searchsorted(per.bounds, t_ns, side="right") - 1).astype(np.int64)
        self._next = 0
        shape = (len(per.bounds) - 1, len(ids))
        self._n_valid = np.zeros(shape, dtype=np.int64)
        self._n1 = np.zeros(shape, dtype=np.int64)
        self._n2 = np.zeros(shape, dtype=np.int64)
        self._max, self._min = np.full(shape, -np.inf), np.full(shape, np.inf)
        self._max_step = np.full(shape, -1, dtype=np.int64)
        self._min_step = np.full(shape, -1, dtype=np.int64)
        self._max_vm, self._min_vm = np.full(shape, np.nan), np.full(shape, np.nan)

    @property
    def n_steps(self) -> int:
        """Steps of the time axis."""
        return len(self._t_ns)

    def add(self, offset: int, vm_pu: npt.ArrayLike) -> None:
        """Count the steps ``offset .. offset + len(vm_pu) - 1``.

        Parameters
        ----------
        offset : int
            Position in ``time_utc`` of the block's first step; blocks come in time order
            and do not overlap.
        vm_pu : array_like, shape (steps, n_points)
            Voltage magnitudes [p.u.]; ``NaN`` marks a step without a result.
        """
        vm = np.asarray(vm_pu, dtype=np.float64)
        vm = _as_2d(vm, vm.shape[0] if vm.ndim else -1, "vm_pu")
        self._add(offset, vm, (vm / self._u0 - 1.0) * 100.0)

    def _add(self, offset: int, vm: FloatArray, d: FloatArray) -> None:
        n_rows, n = d.shape
        if n != len(self._ids):
            msg = f"vm_pu has {n} columns but the counter has {len(self._ids)} points"
            raise InputError(msg)
        stop = offset + n_rows
        if offset < self._next or stop > len(self._t_ns):
            msg = (
                f"steps {offset}..{stop - 1}: blocks must follow each other in time order "
                f"within the {len(self._t_ns)} steps of time_utc (next free step {self._next})"
            )
            raise InputError(msg)
        self._next = stop
        if n_rows == 0:
            return
        valid = np.isfinite(d)
        per = self._period[offset:stop]
        cuts = np.flatnonzero(np.diff(per)) + 1
        cols = np.arange(n)
        for s, e in zip((0, *cuts.tolist()), (*cuts.tolist(), n_rows), strict=True):
            k = int(per[s])
            ext = _extremes(d[s:e], d[s:e], valid[s:e], self._ind)
            self._n_valid[k] += ext.n_valid
            self._n1[k] += ext.n1
            self._n2[k] += ext.n2
            for new, row, cur, step, at_vm in (
                (ext.max_m > self._max[k], ext.max_row, self._max, self._max_step, self._max_vm),
                (ext.min_m < self._min[k], ext.min_row, self._min, self._min_step, self._min_vm),
            ):
                j = cols[new]
                r = row[j]
                cur[k, j] = d[s + r, j]
                step[k, j] = offset + s + r
                at_vm[k, j] = vm[s + r, j]

    def counts(self) -> SimulatedVoltageCounts:
        """The counts so far (steps never added count as missing)."""
        has_max, has_min = self._max_step >= 0, self._min_step >= 0
        bounds = self._bounds.astype("datetime64[ns]")
        return SimulatedVoltageCounts(
            limit_set=self._ls,
            voltage_level=self._ind.voltage_level,
            timezone=self._timezone,
            u0_pu=self._u0,
            point_ids=self._ids,
            time_utc=pd.DatetimeIndex(
                self._t_ns.astype("datetime64[ns]"), name="time_utc"
            ).tz_localize("UTC"),
            period_start_utc=pd.DatetimeIndex(bounds[:-1]).tz_localize("UTC"),
            period_end_utc=pd.DatetimeIndex(bounds[1:]).tz_localize("UTC"),
            n_valid=self._n_valid.copy(),
            n1=self._n1.copy(),
            n2=self._n2.copy(),
            max_deviation_percent=np.where(has_max, self._max, np.nan),
            max_step=self._max_step.copy(),
            max_vm_pu=self._max_vm.copy(),
            min_deviation_percent=np.where(has_min, self._min, np.nan),
            min_step=self._min_step.copy(),
            min_vm_pu=self._min_vm.copy(),
            notes=self._notes,
        )


def evaluate_voltage_counts(
    counts: SimulatedVoltageCounts,
    *,
    step: str | pd.Timedelta | None = None,
    min_availability_percent: float | None = None,
) -> SimulatedVoltageEvaluation:
    """Weekly verdicts and horizon summary of simulated voltages from their counts.

    The count-to-verdict rule of :func:`evaluate_voltage_pu` (which calls the same code),
    for counts accumulated while streaming; gives the same verdicts, counts, shares,
    worst values and times. Only the weekly 95th / 5th percentiles, which need every
    value, are NaN (a note says so).

    Parameters
    ----------
    counts : SimulatedVoltageCounts
        From :meth:`SimulatedVoltageCounter.counts`.
    step : str or pandas.Timedelta, optional
        Simulation step; default the smallest spacing of ``counts.time_utc``.
    min_availability_percent : float, optional
        Minimum ``100 * N / N_expected`` for a verdict [%]; default the limit set's.

    Returns
    -------
    SimulatedVoltageEvaluation

    Raises
    ------
    InputError
        Bad availability threshold or step.
    DataQualityError
        Steps off the regular simulation grid.
    """
    t_ns = utc_ns(counts.time_utc)
    step_ns = _simulation_step(step, t_ns)
    _check_sim_grid(t_ns, step_ns)
    min_av = _min_availability(counts.limit_set, min_availability_percent)
    note = (
        "weekly p95/p05 values are not available from step counts (NaN); verdicts, "
        "shares and worst values are exact"
    )
    return _evaluate_counts(counts, t_ns, step_ns, min_av, None, (note,))


def _check_sim_grid(t_ns: IntArray, step_ns: int) -> None:
    _check_grid(
        t_ns,
        step_ns,
        int(t_ns[0]),
        f"{pd.Timedelta(step_ns)} simulation",
        "simulation steps must be regular (a missing step may be left out or NaN)",
    )


def _evaluate_counts(
    counts: SimulatedVoltageCounts,
    t_ns: IntArray,
    step_ns: int,
    min_availability_percent: float,
    quantiles: tuple[FloatArray, FloatArray] | None,
    extra_notes: tuple[str, ...],
) -> SimulatedVoltageEvaluation:
    """Weekly evaluation and horizon summary from counts (both entry points)."""
    ind = counts.indicator
    bounds = np.concatenate([utc_ns(counts.period_start_utc), utc_ns(counts.period_end_utc[-1:])])
    shape = counts.n_valid.shape

    def times(steps: IntArray) -> TimeArray:
        out = np.full(steps.shape, np.datetime64("NaT", "ns"))
        ok = steps >= 0
        out[ok] = t_ns[steps[ok]].astype("datetime64[ns]")
        return out

    max_v, min_v = counts.max_deviation_percent, counts.min_deviation_percent
    pick_lo = _worst_is_min(max_v, min_v, ind)
    p95, p05 = quantiles if quantiles is not None else (np.full(shape, np.nan),) * 2
    basis = (
        f"simulation steps of {pd.Timedelta(step_ns)} (power-flow snapshots), not "
        "IEC 61000-4-30 10-min aggregates; counts and shares are over steps"
    )
    weekly = _indicator_evaluation(
        ind,
        bounds,
        _n_expected(bounds, int(t_ns[0]), step_ns),
        _PeriodValues(
            n_valid=counts.n_valid,
            n_flagged=np.zeros(shape, dtype=np.int64),
            n1=counts.n1,
            n2=counts.n2,
            max_value=max_v,
            min_value=min_v,
            p95_value=p95,
            p05_value=p05,
            worst_value=np.where(pick_lo, min_v, max_v),
            worst_time_utc=times(np.where(pick_lo, counts.min_step, counts.max_step)),
        ),
        min_availability_percent=min_availability_percent,
        basis=basis,
        point_ids=counts.point_ids,
        notes=(*counts.notes, *extra_notes),
    )
    return _horizon_summary(weekly, counts, ind, step_ns, times)


def _horizon_summary(
    weekly: IndicatorEvaluation,
    counts: SimulatedVoltageCounts,
    ind: Indicator,
    step_ns: int,
    times: Callable[[IntArray], TimeArray],
) -> SimulatedVoltageEvaluation:
    """Share out of the narrowest band and the worst step over the whole horizon, from
    the weekly counts (the weeks partition the steps; ties go to the earliest step)."""
    n_valid = counts.n_valid.sum(axis=0)
    n_out = (counts.n1 if ind.share_limit is not None else counts.n2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_valid > 0, 100.0 * n_out / n_valid, np.nan)
    cols = np.arange(n_valid.shape[0])
    k_hi = np.where(counts.max_step >= 0, counts.max_deviation_percent, -np.inf).argmax(axis=0)
    k_lo = np.where(counts.min_step >= 0, counts.min_deviation_percent, np.inf).argmin(axis=0)
    max_v = counts.max_deviation_percent[k_hi, cols]
    min_v = counts.min_deviation_percent[k_lo, cols]
    pick_lo = _worst_is_min(max_v, min_v, ind)
    worst_step = np.where(pick_lo, counts.min_step[k_lo, cols], counts.max_step[k_hi, cols])
    worst_vm = np.where(pick_lo, counts.min_vm_pu[k_lo, cols], counts.max_vm_pu[k_hi, cols])
    u0_pu = counts.u0_pu
    band = ind.narrowest_limit
    return SimulatedVoltageEvaluation(
        weekly=weekly,
        basis=weekly.basis,
        step_s=step_ns / _NS,
        u0_pu=float(u0_pu),
        band_share_percent=band.share_percent,
        band_lower_pu=np.nan if band.lower is None else u0_pu * (1 + band.lower / 100),
        band_upper_pu=np.nan if band.upper is None else u0_pu * (1 + band.upper / 100),
        point_ids=weekly.point_ids,
        n_steps_valid=n_valid,
        share_out_of_band_percent=share,
        worst_vm_pu=np.where(worst_step >= 0, worst_vm, np.nan),
        worst_time_utc=times(worst_step),
        notes=weekly.notes,
    )


def evaluate_voltage_pu(
    vm_pu: npt.ArrayLike,
    time_utc: pd.DatetimeIndex | npt.ArrayLike,
    standard: StandardId | str = "GOST 32144-2013",
    voltage_level: VoltageLevel = "LV",
    *,
    timezone: str,
    point_ids: Sequence[str] | None = None,
    step: str | pd.Timedelta | None = None,
    u0_pu: float = 1.0,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
    limit_set: LimitSet | None = None,
    check_units: bool = True,
) -> SimulatedVoltageEvaluation:
    """Check simulated per-unit voltages against a standard's supply-voltage rule.

    Uses the same limits (indicator ``voltage_deviation``) and the same core evaluation as
    :func:`evaluate`, with simulation steps in place of 10-min aggregates. The steps are
    counted by :class:`SimulatedVoltageCounter` and judged by the code of
    :func:`evaluate_voltage_counts`, so a streamed count gives the same result.

    Parameters
    ----------
    vm_pu : array_like, shape (T, n_points)
        Voltage magnitudes [p.u.] per step (e.g. pandapower ``res_bus.vm_pu``); ``NaN``
        marks a step without a result (gap).
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware step starts (UTC) on a regular grid (gaps allowed).
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'`` (built-in limit sets).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which observation weeks are aligned.
    point_ids : sequence of str, optional
    step : str or pandas.Timedelta, optional
        Simulation step; default the smallest spacing of ``time_utc``.
    u0_pu : float
        The reference voltage U0 expressed in the simulation's per-unit base [p.u.], e.g.
        380 / 400 = 0.95 when the network's LV base is 0.4 kV and U0 is 380 V.
    week_start, min_availability_percent
        As in :func:`evaluate`.
    limit_set : LimitSet, optional
        A user-defined limit set to use instead of the built-in ``standard``.
    check_units : bool
        Refuse values that look like percent or volts.

    Returns
    -------
    SimulatedVoltageEvaluation

    Notes
    -----
    The deviation is ``(vm_pu / u0_pu - 1) * 100`` [% of U0]. A simulated step is a
    snapshot, not a 10-min aggregate of 10/12-cycle values (IEC 61000-4-30), so the
    GOST 32144-2013 δU(−), δU(+) are estimated from it; ``basis`` says so.
    """
    ls = limit_set if limit_set is not None else get_limit_set(standard)
    ls.indicator(voltage_level, "voltage_deviation")
    _check_timezone(timezone)
    if not u0_pu > 0:
        msg = f"u0_pu must be positive [p.u.], got {u0_pu}"
        raise InputError(msg)
    t_ns = _time_axis(time_utc)
    step_ns = _simulation_step(step, t_ns)
    _check_sim_grid(t_ns, step_ns)
    if point_ids is None and isinstance(vm_pu, pd.DataFrame):
        point_ids = [str(c) for c in vm_pu.columns]
    vm = _as_2d(vm_pu, len(t_ns), "vm_pu")
    if check_units:
        _check_pu_scale(vm, u0_pu)
    min_av = _min_availability(ls, min_availability_percent)
    d = (vm / u0_pu - 1.0) * 100.0
    counter = SimulatedVoltageCounter(
        time_utc,
        voltage_level=voltage_level,
        timezone=timezone,
        point_ids=_point_ids(point_ids, d.shape[1]),
        u0_pu=u0_pu,
        week_start=week_start,
        limit_set=ls,
    )
    counter._add(0, vm, d)
    counts = counter.counts()
    # the percentiles (information only) need every value: per period from the array
    starts = np.searchsorted(t_ns, counter._bounds[:-1], side="left")
    ends = np.searchsorted(t_ns, counter._bounds[1:], side="left")
    p95, p05 = np.full(counts.n_valid.shape, np.nan), np.full(counts.n_valid.shape, np.nan)
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        if e > s:
            block = d[s:e]
            p95[k], p05[k] = _quantiles(block, np.isfinite(block), counts.n_valid[k], (0.95, 0.05))
    return _evaluate_counts(counts, t_ns, step_ns, min_av, (p95, p05), ())


def _simulation_step(step: str | pd.Timedelta | None, t_ns: IntArray) -> int:
    if step is not None:
        step_ns = int(pd.Timedelta(step).value)
    elif len(t_ns) >= 2:
        step_ns = int(np.diff(t_ns).min())
    else:
        msg = "a single timestamp does not define the simulation step: pass step='15min'"
        raise InputError(msg)
    if step_ns <= 0:
        msg = f"step must be positive, got {pd.Timedelta(step_ns)}"
        raise InputError(msg)
    return step_ns
