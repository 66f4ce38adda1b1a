"""Probabilistic day-ahead and week-ahead forecasts of load and generation series.

LightGBM quantile models with local-time calendar features (``holidays`` for the
jurisdiction, DST-aware clock), lags that respect when data became available, and
statsforecast baselines; a stated fallback (profile quantiles, or the last value) for a
series that is short, gappy, flat or empty. Backtests score them rolling over held-out
days (:mod:`gridtwin.forecast.backtest`). See ``docs/forecast.md``.

LightGBM and statsforecast are imported only by the functions that use them.
"""

from gridtwin.forecast._core import Forecaster, available_count, forecast_series, to_grid
from gridtwin.forecast._metrics import (
    crps_quantiles,
    mae,
    mase,
    observed_range,
    pinball,
    rcrps,
    rmae,
    seasonal_naive_scale,
)
from gridtwin.forecast._spec import DEFAULT_QUANTILES, METHODS, ForecastResult, ForecastSpec

__all__ = [
    "DEFAULT_QUANTILES",
    "METHODS",
    "ForecastResult",
    "ForecastSpec",
    "Forecaster",
    "available_count",
    "crps_quantiles",
    "forecast_series",
    "mae",
    "mase",
    "observed_range",
    "pinball",
    "rcrps",
    "rmae",
    "seasonal_naive_scale",
    "to_grid",
]
