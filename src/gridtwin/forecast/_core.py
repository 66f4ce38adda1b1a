"""The forecaster: cut the history at the issue time, check each series, forecast it with
the chosen method or a stated fallback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.forecast._fallback import (
    check_series,
    constant_forecast,
    profile_forecast,
    weekly_naive,
)
from gridtwin.forecast._features import DAY_NS, Grid, calendar_features
from gridtwin.forecast._gbm import GbmModel, fit_gbm, predict_gbm
from gridtwin.forecast._spec import ForecastResult, ForecastSpec
from gridtwin.timeseries import utc_ns

__all__ = ["Forecaster", "available_count", "forecast_series"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def available_count(
    start_utc: pd.Timestamp, step: pd.Timedelta, n: int, until_utc: pd.Timestamp
) -> int:
    """How many intervals of a regular grid had ended by ``until_utc``."""
    count = (int(until_utc.value) - int(start_utc.value)) // int(step.value)
    return int(np.clip(count, 0, n))


def _day_ordinal(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _calendar(grid: Grid, spec: ForecastSpec, hist: FloatArray) -> dict[str, FloatArray]:
    # the season (day of year) only from a year of history on: trees do not extrapolate
    with_season = hist.shape[1] >= 365 * grid.steps_per_day
    return calendar_features(grid, spec.country, spec.subdivision, with_season=with_season)


class Forecaster:
    """Forecasts of many series on one regular grid, for local days chosen per call.

    :meth:`fit` trains (LightGBM) on what was available when the forecast of a given day
    was issued; :meth:`predict` forecasts a day with the history available at *its*
    issue time (a model trained earlier is reused: backtests refit weekly).
    """

    def __init__(self, spec: ForecastSpec) -> None:
        self.spec = spec
        self.model: GbmModel | None = None
        self.trained_for: dt.date | None = None

    def _cut(
        self, values: FloatArray, start_utc: pd.Timestamp, step: pd.Timedelta, first_day: dt.date
    ) -> tuple[FloatArray, Grid, pd.Timestamp]:
        spec = self.spec
        if values.ndim != 2:
            msg = "values must be a 2-D array (series x intervals)"
            raise InputError(msg)
        issue = spec.issue_utc(first_day)
        until = issue - pd.Timedelta(seconds=spec.data_delay_s)
        n_avail = available_count(start_utc, step, values.shape[1], until)
        # the cut: nothing after the issue time (less the delay) is read past this line
        hist = np.array(values[:, :n_avail], dtype=np.float64, copy=True)
        end_local = pd.Timestamp(first_day + dt.timedelta(days=spec.horizon_days))
        end_utc = end_local.tz_localize(spec.tz, nonexistent="shift_forward", ambiguous=True)
        n_grid = available_count(start_utc, step, 10**12, end_utc.tz_convert("UTC"))
        grid = Grid(start_utc=start_utc, step=step, n=n_grid, tz=spec.tz)
        return hist, grid, issue

    def fit(
        self,
        values: FloatArray,
        start_utc: pd.Timestamp,
        step: pd.Timedelta,
        first_day: dt.date,
    ) -> Forecaster:
        """Train on the values available when the forecast of ``first_day`` is issued."""
        if self.spec.method != "gbm":
            return self
        hist, grid, _ = self._cut(values, start_utc, step, first_day)
        ok = np.flatnonzero([r is None for r in check_series(hist, grid, self.spec)])
        if ok.size:
            cal = _calendar(grid, self.spec, hist)
            self.model = fit_gbm(hist, grid, cal, self.spec, ok.astype(np.int64))
            self.trained_for = first_day
        return self

    # long: one pass over the methods and fallbacks, kept together so none is silent
    def predict(
        self,
        values: FloatArray,
        start_utc: pd.Timestamp,
        step: pd.Timedelta,
        first_day: dt.date,
        series_ids: Sequence[str] | None = None,
    ) -> ForecastResult:
        """Quantile forecasts of local days ``first_day ..`` for every row of ``values``."""
        spec = self.spec
        n_series = values.shape[0]
        ids = (
            tuple(series_ids) if series_ids is not None else tuple(f"s{i}" for i in range(n_series))
        )
        if len(ids) != n_series:
            msg = f"{len(ids)} series ids for {n_series} series"
            raise InputError(msg)
        hist, grid, issue = self._cut(values, start_utc, step, first_day)
        day0 = _day_ordinal(first_day)
        pos = grid.positions_of_days(day0, spec.horizon_days)
        if pos.size == 0 or pos[0] < hist.shape[1]:
            msg = f"first day {first_day}: the grid does not reach it after the issue time"
            raise InputError(msg)
        reasons = check_series(hist, grid, spec)
        n_q = len(spec.quantiles)
        out = np.full((n_series, len(pos), n_q), np.nan)
        methods: list[str] = [spec.method] * n_series
        ok = np.flatnonzero([r is None for r in reasons]).astype(np.int64)
        notes: list[str] = []
        if ok.size:
            if spec.method == "gbm":
                if self.model is None or self.trained_for is None or self.trained_for > first_day:
                    self.fit(values, start_utc, step, first_day)
                if self.model is None:
                    msg = "no model could be trained (no series passed the checks)"
                    raise InputError(msg)
                # the features the model was trained with (the season or not)
                with_season = "doy_sin" in self.model.feature_names
                cal = calendar_features(
                    grid, spec.country, spec.subdivision, with_season=with_season
                )
                out[ok] = predict_gbm(self.model, hist, grid, cal, spec, ok, day0)
            elif spec.method == "weekly_naive":
                out[ok] = weekly_naive(hist, grid, spec, ok, day0)
            else:
                from gridtwin.forecast._sf import sf_forecast

                out[ok] = sf_forecast(hist, grid, spec, ok, pos, spec.method)
        for i, reason in enumerate(reasons):
            if reason is None:
                continue
            kind = reason.split(":")[0]
            one = np.array([i], dtype=np.int64)
            if kind == "flat":
                out[i] = constant_forecast(hist, one, len(pos), n_q)[0]
                methods[i] = "constant"
            elif kind == "empty":
                methods[i] = "none"
            else:
                out[i] = profile_forecast(hist, grid, spec, one, pos)[0]
                methods[i] = "profile"
            notes.append(f"{ids[i]}: {reason}; forecast by {methods[i]}")
        n_hist = hist.shape[1]
        return ForecastResult(
            series_ids=ids,
            time_utc=grid.times_utc[pos],
            quantiles=spec.quantiles,
            values=out,
            methods=tuple(methods),
            fallbacks=tuple(reasons),
            issue_utc=issue,
            available_until_utc=start_utc + step * n_hist,
            notes=tuple(notes),
        )


def forecast_series(
    series: pd.Series | pd.DataFrame, first_day: dt.date, spec: ForecastSpec
) -> ForecastResult:
    """Forecast one series (or the columns of a frame) indexed by tz-aware interval starts.

    The index must be regular (gaps as NaN or absent rows are both fine: rows are
    reindexed onto the regular grid); duplicated times are refused.
    """
    frame = series.to_frame() if isinstance(series, pd.Series) else series
    values, start, step = to_grid(frame)
    names = [str(c) for c in frame.columns]
    return Forecaster(spec).predict(values, start, step, first_day, names)


def to_grid(frame: pd.DataFrame) -> tuple[FloatArray, pd.Timestamp, pd.Timedelta]:
    """A frame indexed by tz-aware interval starts as ``(values (series x steps), start, step)``."""
    from gridtwin.errors import DataQualityError

    idx = frame.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        msg = "the series' index must be tz-aware interval starts (UTC or with an offset)"
        raise InputError(msg)
    if idx.has_duplicates:
        dup = idx[idx.duplicated()][0]
        msg = f"the series has duplicated times (first: {dup}); keep one value per interval"
        raise DataQualityError(msg)
    if len(idx) < 2:
        msg = "the series has fewer than two values"
        raise InputError(msg)
    frame = frame.sort_index()
    idx = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    ns = utc_ns(idx)
    step_ns = int(np.min(np.diff(ns)))
    if DAY_NS % step_ns:
        msg = f"step {pd.Timedelta(step_ns)}: a forecast step must divide a day (15min, 30min, 1h)"
        raise InputError(msg)
    offsets = (ns - ns[0]) % step_ns
    if np.any(offsets):
        bad = idx[np.flatnonzero(offsets)[0]]
        msg = f"time {bad} is off the {pd.Timedelta(step_ns)} grid that starts at {idx[0]}"
        raise DataQualityError(msg)
    step = pd.Timedelta(step_ns)
    full = pd.date_range(idx[0], idx[-1], freq=step)
    values = frame.set_axis(idx).reindex(full).to_numpy(dtype=np.float64).T
    return np.ascontiguousarray(values), pd.Timestamp(idx[0]), step
