"""The time grid of a forecast and its features: local clock, holidays, lags, levels.

Leakage rule, enforced here by construction: every feature of a target interval is read
through :func:`gather`, which returns NaN for any position at or after that target's own
*availability position* (the first interval not yet ended, plus the data delay, at the
target's issue time). The forecaster also cuts the history at the real issue time before
anything else sees it (see ``_core``), so a value after the issue time cannot reach a
feature, a training row or a scale.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.timeseries import utc_ns

__all__ = ["Grid", "calendar_features", "gather", "lag_days", "min_lag_days", "window_stat"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Grid:
    """A regular UTC grid of interval starts, read on the local clock of ``tz``."""

    start_utc: pd.Timestamp
    step: pd.Timedelta
    n: int
    tz: str

    def __post_init__(self) -> None:
        step_ns = int(self.step.value)
        if step_ns <= 0 or DAY_NS % step_ns:
            msg = f"step {self.step}: a forecast step must divide a day (15min, 30min, 1h)"
            raise InputError(msg)

    @property
    def steps_per_day(self) -> int:
        """Intervals in a 24-hour day."""
        return DAY_NS // int(self.step.value)

    @cached_property
    def times_utc(self) -> pd.DatetimeIndex:
        """Start of every interval of the grid."""
        return pd.date_range(self.start_utc, periods=self.n, freq=self.step)

    @cached_property
    def local_naive(self) -> pd.DatetimeIndex:
        """Local wall-clock time of every interval start (no zone)."""
        return self.times_utc.tz_convert(self.tz).tz_localize(None)

    @cached_property
    def local_day(self) -> IntArray:
        """Local date of every interval, as days since 1970-01-01."""
        days = self.local_naive.normalize().as_unit("ns").to_numpy().view(np.int64)
        return np.asarray(days // DAY_NS, dtype=np.int64)

    @cached_property
    def _position_of_local(self) -> pd.Index:
        # the repeated hour when clocks go back keeps its first occurrence
        idx = pd.Index(self.local_naive)
        return idx[~idx.duplicated(keep="first")]

    def lag_positions(self, days: int) -> IntArray:
        """Position of the same local clock time ``days`` days earlier (-1 when none:
        before the grid, or a clock time skipped when clocks went forward)."""
        uniq = self._position_of_local
        target = self.local_naive - pd.Timedelta(days=days)
        found = uniq.get_indexer(target)
        first = np.flatnonzero(~pd.Index(self.local_naive).duplicated(keep="first"))
        return np.where(found >= 0, first[np.maximum(found, 0)], -1).astype(np.int64)

    def positions_of_days(self, first_day: int, n_days: int) -> IntArray:
        """Grid positions of the local days ``first_day .. first_day + n_days - 1``."""
        day = self.local_day
        return np.flatnonzero((day >= first_day) & (day < first_day + n_days)).astype(np.int64)

    def available_positions(
        self, days: IntArray, days_before: int, issue_time: dt.time, delay_s: float
    ) -> IntArray:
        """For targets on local ``days``: how many grid intervals had ended (plus the
        delay) when their forecast was issued, at ``issue_time`` on local day
        ``day - days_before``."""
        uniq, inverse = np.unique(days, return_inverse=True)
        issue_day = pd.to_datetime((uniq - days_before) * DAY_NS)
        local = issue_day + pd.Timedelta(
            hours=issue_time.hour, minutes=issue_time.minute, seconds=issue_time.second
        )
        summer = np.ones(len(local), dtype=bool)  # an ambiguous issue time: the first one
        issue = local.tz_localize(self.tz, nonexistent="shift_forward", ambiguous=summer)
        end_ns = utc_ns(issue) - int(delay_s * 1e9)
        count = (end_ns - int(self.start_utc.value)) // int(self.step.value)
        count = np.clip(count, 0, self.n).astype(np.int64)
        return np.asarray(count[inverse], dtype=np.int64)


def min_lag_days(horizon_day: int, issue_time: dt.time, delay_s: float) -> int:
    """The smallest lag in local days whose whole day had ended when a target on horizon
    day ``horizon_day`` (0 = the first forecast day) was issued."""
    issue_s = issue_time.hour * 3600 + issue_time.minute * 60 + issue_time.second
    return horizon_day + 2 + max(0, math.ceil((delay_s - issue_s) / 86_400))


def lag_days(horizon_day: int, issue_time: dt.time, delay_s: float) -> tuple[int, ...]:
    """Lags used for a horizon day: a week of daily lags from the smallest available one,
    and the same weekday 1-4 weeks before when available."""
    k0 = min_lag_days(horizon_day, issue_time, delay_s)
    weekly = {7 * w for w in range(1, 5) if 7 * w >= k0}
    return tuple(sorted(set(range(k0, k0 + 7)) | weekly))


def gather(
    hist: FloatArray, series: IntArray, positions: IntArray, available: IntArray
) -> FloatArray:
    """``hist[series, positions]`` where ``0 <= position < available`` (else NaN).

    The one way features read the history: a position at or after a target's own
    availability position is never read.
    """
    n_hist = hist.shape[1]
    ok = (positions >= 0) & (positions < np.minimum(available, n_hist))
    out = np.full(positions.shape, np.nan, dtype=np.float64)
    out[ok] = hist[series[ok], positions[ok]]
    return out


def window_stat(
    hist: FloatArray, series: IntArray, available: IntArray, width: int, absolute: bool = False
) -> FloatArray:
    """Mean (or mean absolute value) of each row's series over the ``width`` intervals
    before its availability position; NaN when none of them has a value."""
    n_hist = hist.shape[1]
    out = np.full(series.shape, np.nan, dtype=np.float64)
    ends = np.minimum(available, n_hist)
    uniq, inverse = np.unique(ends, return_inverse=True)
    for i, end in enumerate(uniq):
        lo = max(0, int(end) - width)
        if end <= lo:
            continue
        block = hist[:, lo:end]
        if absolute:
            block = np.abs(block)
        count = np.sum(np.isfinite(block), axis=1)
        total = np.nansum(block, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        rows = inverse == i
        out[rows] = mean[series[rows]]
    return out


def calendar_features(
    grid: Grid, country: str | None, subdivision: str | None, *, with_season: bool = True
) -> dict[str, FloatArray]:
    """Local-clock features of every grid position: time of day [h], day of week, day of
    year (as sine and cosine, only ``with_season``: trees cannot extrapolate it beyond
    the seasons they were trained on), and public holiday / day before / day after."""
    local = grid.local_naive
    feats: dict[str, FloatArray] = {
        "hour_of_day": (local.hour + local.minute / 60.0).to_numpy(dtype=np.float64),
        "day_of_week": local.dayofweek.to_numpy().astype(np.float64),
    }
    if with_season:
        doy = 2 * np.pi * (local.dayofyear.to_numpy() - 1) / 365.25
        feats["doy_sin"] = np.sin(doy)
        feats["doy_cos"] = np.cos(doy)
    if country is not None:
        days = grid.local_day
        hol = _holiday_days(
            country, subdivision, range(int(local.year.min()) - 1, int(local.year.max()) + 2)
        )
        feats["holiday"] = np.isin(days, hol).astype(np.float64)
        feats["holiday_next_day"] = np.isin(days + 1, hol).astype(np.float64)
        feats["holiday_prev_day"] = np.isin(days - 1, hol).astype(np.float64)
    return feats


def _holiday_days(country: str, subdivision: str | None, years: range) -> IntArray:
    import holidays

    try:
        cal = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    except (NotImplementedError, KeyError, ValueError) as exc:
        msg = (
            f"country {country!r} / subdivision {subdivision!r}: not known to the holidays "
            f"package ({exc}); give an ISO 3166 code such as DE, GB (subdivision ENG)"
        )
        raise InputError(msg) from exc
    epoch = dt.date(1970, 1, 1)
    return np.asarray(sorted((d - epoch).days for d in cal), dtype=np.int64)
