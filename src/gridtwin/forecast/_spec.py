"""A forecast request (:class:`ForecastSpec`) and its answer (:class:`ForecastResult`)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError

__all__ = [
    "DEFAULT_QUANTILES",
    "METHODS",
    "ForecastResult",
    "ForecastSpec",
    "Method",
]

FloatArray = npt.NDArray[np.float64]

#: Quantile levels forecast by default (P50 is the point forecast).
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)

Method = Literal["gbm", "weekly_naive", "sf_seasonal_naive", "sf_mstl"]
#: ``gbm``: LightGBM quantile models; ``weekly_naive``: the value one week (local clock)
#: before; ``sf_seasonal_naive`` and ``sf_mstl``: statsforecast's SeasonalNaive and
#: MSTL + AutoETS with their prediction intervals.
METHODS: tuple[str, ...] = ("gbm", "weekly_naive", "sf_seasonal_naive", "sf_mstl")


@dataclass(frozen=True)
class ForecastSpec:
    """A day-ahead (``horizon_days=1``) or week-ahead (7) forecast request.

    The forecast of local days ``D .. D + horizon_days - 1`` is issued at
    ``issue_time_local`` on day ``D - 1`` (local time of ``tz``); it uses only the
    intervals that ended ``data_delay_s`` or more before the issue time.

    Attributes
    ----------
    tz : str
        IANA zone of the series' jurisdiction: days, clock-time lags and calendar features
        are local (DST-aware).
    country, subdivision : str, optional
        ``holidays`` codes of the jurisdiction (e.g. ``DE``, ``GB``/``ENG``); no holiday
        features when ``country`` is None.
    quantiles : tuple of float
        Quantile levels, increasing, strictly between 0 and 1; 0.5 must be one of them.
    horizon_days : int
        Local days forecast (1 to 14).
    issue_time_local : datetime.time
        Clock time of the day before the first forecast day when the forecast is issued.
    data_delay_s : float
        How long after an interval's end its value becomes available.
    method : str
        One of :data:`METHODS`.
    min_history_days : int
        Below this many days with data the series falls back to the profile forecast.
    max_gap_share : float
        Above this share of missing intervals in the last 28 days: profile fallback.
    max_history_days : int
        History used for training (most recent days).
    max_train_rows : int
        Training rows kept (a seeded random sample when there are more).
    num_boost_round, learning_rate, num_leaves : LightGBM's settings.
    n_jobs : int
        Threads used by LightGBM and statsforecast.
    seed : int
        Seed of the row sample and of LightGBM.
    """

    tz: str = "UTC"
    country: str | None = None
    subdivision: str | None = None
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    horizon_days: int = 1
    issue_time_local: dt.time = dt.time(6, 0)
    data_delay_s: float = 0.0
    method: Method = "gbm"
    min_history_days: int = 14
    max_gap_share: float = 0.3
    max_history_days: int = 371
    max_train_rows: int = 100_000
    num_boost_round: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 31
    n_jobs: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        q = self.quantiles
        if not q or any(not 0 < x < 1 for x in q) or any(b <= a for a, b in itertools.pairwise(q)):
            msg = f"quantiles {list(q)}: give increasing levels strictly between 0 and 1"
            raise InputError(msg)
        if 0.5 not in q:
            msg = f"quantiles {list(q)}: include 0.5 (the median is the point forecast)"
            raise InputError(msg)
        if not 1 <= self.horizon_days <= 14:
            msg = f"horizon_days {self.horizon_days}: use 1 (day-ahead) to 14"
            raise InputError(msg)
        if self.method not in METHODS:
            msg = f"method {self.method!r}: use one of {', '.join(METHODS)}"
            raise InputError(msg)
        if self.data_delay_s < 0:
            msg = f"data_delay_s {self.data_delay_s}: a delay cannot be negative"
            raise InputError(msg)
        if self.min_history_days < 1 or not 0 <= self.max_gap_share <= 1:
            msg = "min_history_days must be >= 1 and max_gap_share between 0 and 1"
            raise InputError(msg)

    def issue_utc(self, first_day: dt.date) -> pd.Timestamp:
        """When the forecast of ``first_day`` (a local date) is issued, in UTC."""
        local = pd.Timestamp(
            dt.datetime.combine(first_day - dt.timedelta(days=1), self.issue_time_local)
        )
        return local.tz_localize(self.tz, nonexistent="shift_forward", ambiguous=True).tz_convert(
            "UTC"
        )


@dataclass(frozen=True)
class ForecastResult:
    """Quantile forecasts of several series for the same local days.

    Attributes
    ----------
    series_ids : tuple of str
    time_utc : pandas.DatetimeIndex
        Start of each forecast interval (UTC).
    quantiles : tuple of float
    values : numpy.ndarray, shape (n_series, n_steps, n_quantiles)
        Non-crossing along the last axis; NaN for a series that could not be forecast.
    methods : tuple of str
        The method used for each series (``profile`` or ``constant`` when it fell back).
    fallbacks : tuple of str or None
        Why a series fell back (None when it did not).
    issue_utc : pandas.Timestamp
        The issue time.
    available_until_utc : pandas.Timestamp
        End of the last interval the forecast could use.
    notes : tuple of str
    """

    series_ids: tuple[str, ...]
    time_utc: pd.DatetimeIndex
    quantiles: tuple[float, ...]
    values: FloatArray
    methods: tuple[str, ...]
    fallbacks: tuple[str | None, ...]
    issue_utc: pd.Timestamp
    available_until_utc: pd.Timestamp
    notes: tuple[str, ...] = field(default=())

    @property
    def median(self) -> FloatArray:
        """The P50 forecast, shape (n_series, n_steps)."""
        return np.asarray(self.values[:, :, self.quantiles.index(0.5)], dtype=np.float64)

    def frame(self) -> pd.DataFrame:
        """Long table: ``series_id, ts_utc, lead_s, method, fallback, q0.05, ...``."""
        n, t, _ = self.values.shape
        lead_s = (self.time_utc - self.issue_utc).total_seconds().to_numpy()
        out = pd.DataFrame(
            {
                "series_id": np.repeat(np.asarray(self.series_ids, dtype=object), t),
                "ts_utc": np.tile(self.time_utc, n),
                "lead_s": np.tile(lead_s, n),
                "method": np.repeat(np.asarray(self.methods, dtype=object), t),
                "fallback": np.repeat(np.asarray(self.fallbacks, dtype=object), t),
            }
        )
        for j, q in enumerate(self.quantiles):
            out[f"q{q:g}"] = self.values[:, :, j].reshape(-1)
        return out
