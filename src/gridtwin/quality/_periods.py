"""Observation periods: local weeks (or calendar years) in UTC and their expected intervals.

Owns the parsing of a week start (``'mon 00:00'`` or a timestamp), the period boundaries
aligned in local time (DST weeks of 167/169 h), the number of grid intervals expected in
each period, the availability threshold and the notes every evaluation prints about them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._limits import WEEKDAYS, Indicator, LimitSet
from gridtwin.timeseries import utc_ns

IntArray = npt.NDArray[np.int64]

_WEEK_START = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")


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
    """Integer ceiling division."""
    return -((-a) // b)


def _n_expected(bounds: IntArray, origin_ns: int, step_ns: int) -> IntArray:
    """Grid intervals (``origin + k * step``) whose start lies in each period."""
    return (
        _ceil_div(bounds[1:] - origin_ns, step_ns) - _ceil_div(bounds[:-1] - origin_ns, step_ns)
    ).astype(np.int64)


@dataclass(frozen=True)
class _Periods:
    """Observation periods, availability threshold and notes of one evaluation."""

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
