"""Equipment trends: a robust trend on a history, the projected time to a limit, and an
early warning when that time falls inside a horizon.

A quantity that cycles every day (a transformer's hot spot, a cable's loading) is
trended on its **daily peaks** (the highest value of each UTC day with enough intervals);
a generator's output against its expected curve on the **daily ratio** of measured to
expected energy. The trend is the Theil–Sen line (the median of the pairwise slopes,
``scipy.stats.theilslopes``): robust to a few outlier days, unlike least squares. A
warning needs all of

- a slope toward the limit whose confidence interval (90 %) excludes zero: a flat or
  noisy series raises nothing;
- the fitted line reaching the limit within the horizon, counted from the last day's
  fitted value (a fitted value already beyond the limit projects 0 s).

A warning becomes a **potential alarm** of the alarm system
(:class:`gridtwin.alarms.PotentialAlarm`, rule ``trend-<quantity>``) whose lead time is the
projected time to the limit.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.alarms import PotentialAlarm
from gridtwin.errors import InputError
from gridtwin.timeseries import utc_ns

__all__ = [
    "Direction",
    "Trend",
    "daily_peaks",
    "daily_ratio",
    "fit_trend",
    "trend_alarm",
]

Direction = Literal["rising", "falling"]
_DAY_S = 86400.0
_DAY_NS = 86_400 * 10**9
#: Fewer points than this give no trend (a slope of 3 days says little).
MIN_POINTS = 5


@dataclass(frozen=True)
class Trend:
    """A Theil–Sen trend of a quantity against a limit.

    Attributes
    ----------
    quantity : str
        What was trended (``hot_spot_c``, ``loading_percent``, ``output_ratio``).
    n_points : int
        Points fitted (days).
    slope_per_day, slope_low_per_day, slope_high_per_day : float
        The slope and its 90 % confidence interval [unit/day].
    fitted_last : float
        The line's value at the last point.
    last_utc : datetime
        The last point's time.
    limit : float
    direction : {'rising', 'falling'}
        Which way the quantity must move to reach the limit.
    time_to_limit_s : float or None
        Projected time from ``last_utc`` to the limit (0: already beyond it); None when
        the trend does not head there significantly.
    limit_utc : datetime or None
        ``last_utc + time_to_limit_s``.
    horizon_s : float
    warning : bool
        The limit is projected within the horizon.
    """

    quantity: str
    n_points: int
    slope_per_day: float
    slope_low_per_day: float
    slope_high_per_day: float
    fitted_last: float
    last_utc: dt.datetime
    limit: float
    direction: Direction
    time_to_limit_s: float | None
    limit_utc: dt.datetime | None
    horizon_s: float
    warning: bool

    def describe(self) -> str:
        """One line for people."""
        head = (
            f"{self.quantity} {self.slope_per_day:+.3g}/day over {self.n_points} days "
            f"(90 %: {self.slope_low_per_day:+.3g} .. {self.slope_high_per_day:+.3g})"
        )
        if self.time_to_limit_s is None:
            return head + f"; not heading for {self.limit:g}"
        days = self.time_to_limit_s / _DAY_S
        return head + f"; reaches {self.limit:g} in {days:.1f} days"


TimesLike = pd.DatetimeIndex | pd.Series | pd.Index


def _utc_index(time_utc: TimesLike, name: str) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(time_utc)
    if idx.tz is None:
        msg = f"{name}: the times must be tz-aware (UTC interval starts)"
        raise InputError(msg)
    return idx.tz_convert("UTC")


def daily_peaks(
    time_utc: TimesLike,
    values: npt.ArrayLike,
    *,
    min_share: float = 0.5,
) -> pd.Series:
    """The highest value of each UTC day that has at least ``min_share`` of the day's
    intervals (the step is the median spacing); days with fewer are left out.

    Returns
    -------
    pandas.Series
        Indexed by the day's start (UTC).
    """
    ns = utc_ns(_utc_index(time_utc, "daily_peaks"))
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    ns, v = ns[ok], v[ok]
    if len(v) < 2:
        return pd.Series(dtype=np.float64, index=pd.DatetimeIndex([], tz="UTC"))
    step_s = float(np.median(np.diff(ns))) / 1e9
    per_day = _DAY_S / step_s if step_s > 0 else 1.0
    s = pd.Series(v, index=ns // _DAY_NS)
    grouped = s.groupby(level=0)
    peaks = grouped.max()[grouped.count().to_numpy() >= max(1.0, min_share * per_day)]
    days = pd.DatetimeIndex(peaks.index.to_numpy(np.int64) * _DAY_NS, tz="UTC")
    return pd.Series(peaks.to_numpy(np.float64), index=days)


def daily_ratio(
    time_utc: TimesLike,
    measured: npt.ArrayLike,
    expected: npt.ArrayLike,
    *,
    min_expected: float = 1e-9,
) -> pd.Series:
    """Each UTC day's measured energy over the expected (the sums of the intervals where
    both are known and the expectation is above ``min_expected``): a generator's output
    against its expected curve; days without expected output are left out."""
    day = utc_ns(_utc_index(time_utc, "daily_ratio")) // _DAY_NS
    frame = pd.DataFrame(
        {"m": np.asarray(measured, dtype=np.float64), "e": np.asarray(expected, dtype=np.float64)},
        index=day,
    ).dropna()
    frame = frame[frame["e"] > min_expected]
    sums = frame.groupby(level=0).sum()
    sums = sums[sums["e"] > min_expected]
    days = pd.DatetimeIndex(sums.index.to_numpy(np.int64) * _DAY_NS, tz="UTC")
    return pd.Series((sums["m"] / sums["e"]).to_numpy(np.float64), index=days)


def fit_trend(
    series: pd.Series,
    *,
    quantity: str,
    limit: float,
    direction: Direction = "rising",
    horizon_s: float = 30 * _DAY_S,
    confidence: float = 0.90,
) -> Trend | None:
    """The Theil–Sen trend of ``series`` (tz-aware index, e.g. :func:`daily_peaks`) and
    its projection to ``limit``; None with fewer than :data:`MIN_POINTS` points."""
    from scipy.stats import theilslopes

    if direction not in ("rising", "falling"):
        msg = f"direction={direction!r}: use rising or falling"
        raise InputError(msg)
    if not (math.isfinite(limit) and horizon_s > 0):
        msg = "limit must be finite and horizon_s positive"
        raise InputError(msg)
    s = series.dropna()
    if len(s) < MIN_POINTS:
        return None
    idx = _utc_index(s.index, "fit_trend")
    ns = utc_ns(idx)
    x_days = (ns - ns[0]) / 1e9 / _DAY_S
    y = s.to_numpy(dtype=np.float64)
    slope, intercept, low, high = theilslopes(y, x_days, alpha=confidence)
    last = float(intercept + slope * x_days[-1])
    sign = 1.0 if direction == "rising" else -1.0
    gap = sign * (limit - last)  # how far the fitted line still is from the limit
    significant = (low > 0.0) if direction == "rising" else (high < 0.0)
    t_limit: float | None
    if gap <= 0.0:
        t_limit = 0.0
    elif significant and sign * slope > 0.0:
        t_limit = gap / (sign * slope) * _DAY_S
    else:
        t_limit = None
    last_utc = idx[-1].to_pydatetime()
    return Trend(
        quantity=quantity,
        n_points=len(s),
        slope_per_day=float(slope),
        slope_low_per_day=float(low),
        slope_high_per_day=float(high),
        fitted_last=last,
        last_utc=last_utc,
        limit=float(limit),
        direction=direction,
        time_to_limit_s=t_limit,
        limit_utc=None if t_limit is None else last_utc + dt.timedelta(seconds=t_limit),
        horizon_s=float(horizon_s),
        warning=t_limit is not None and t_limit <= horizon_s,
    )


def trend_alarm(
    trend: Trend,
    element: str,
    *,
    now_utc: dt.datetime,
    priority: str = "low",
) -> PotentialAlarm | None:
    """The potential alarm of a trend that warns (None otherwise): rule
    ``trend-<quantity>`` on ``element``, first active at the projected time, its lead
    time counted from ``now_utc``."""
    if not trend.warning or trend.limit_utc is None:
        return None
    rule_id = f"trend-{trend.quantity.replace('_', '-')}"
    first = max(trend.limit_utc, now_utc)
    return PotentialAlarm(
        f"{rule_id}@{element}",
        rule_id,
        element,
        priority,
        first,
        (first - now_utc).total_seconds(),
        trend.fitted_last,
        trend.limit,
        f"{element}: trend early warning: {trend.describe()}",
    )
