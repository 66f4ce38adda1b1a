"""No value after the issue time reaches a forecast: the history is cut at the issue time
before any feature, training row or scale is built, and each training row reads only what
was available at its own issue time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.forecast import Forecaster, ForecastSpec, to_grid
from gridtwin.forecast._features import Grid, gather, lag_days, min_lag_days
from tests.forecast.util import load_series

FIRST_DAY = dt.date(2024, 3, 5)  # a Tuesday; issued Monday 4 March 06:00 Berlin time
SPEC = ForecastSpec(tz="Europe/Berlin", country="DE", num_boost_round=30, quantiles=(0.1, 0.5, 0.9))


def _forecast(
    values: np.ndarray, start: pd.Timestamp, step: pd.Timedelta, spec: ForecastSpec
) -> np.ndarray:
    return Forecaster(spec).predict(values, start, step, FIRST_DAY).values


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, pd.Timestamp, pd.Timedelta]:
    return to_grid(load_series("2024-01-01", 70).to_frame())


def _issue_position(start: pd.Timestamp, step: pd.Timedelta, spec: ForecastSpec) -> int:
    issue = spec.issue_utc(FIRST_DAY) - pd.Timedelta(seconds=spec.data_delay_s)
    return int((issue - start) / step)


@pytest.mark.parametrize("method", ["gbm", "weekly_naive", "sf_seasonal_naive"])
def test_poisoning_after_the_issue_time_changes_nothing(
    grid: tuple[np.ndarray, pd.Timestamp, pd.Timedelta], method: str
) -> None:
    values, start, step = grid
    spec = dataclasses.replace(SPEC, method=method)
    clean = _forecast(values, start, step, spec)
    cut = _issue_position(start, step, spec)
    poisoned = values.copy()
    poisoned[:, cut:] = 1e6  # the future, including the days forecast
    poisoned[:, cut + 7 :: 13] = np.nan
    assert np.array_equal(_forecast(poisoned, start, step, spec), clean, equal_nan=True)
    # the test can fail: a value just before the issue time does reach the forecast
    touched = values.copy()
    touched[:, cut - 8 * 96 : cut] *= 3.0
    assert not np.array_equal(_forecast(touched, start, step, spec), clean, equal_nan=True)


def test_a_data_delay_hides_the_last_intervals(
    grid: tuple[np.ndarray, pd.Timestamp, pd.Timedelta],
) -> None:
    values, start, step = grid
    spec = dataclasses.replace(SPEC, data_delay_s=3 * 3600.0)
    clean = _forecast(values, start, step, spec)
    cut = _issue_position(start, step, spec)
    assert cut == _issue_position(start, step, SPEC) - 12  # 3 h of 15-min intervals
    poisoned = values.copy()
    poisoned[:, cut:] = -5e5
    assert np.array_equal(_forecast(poisoned, start, step, spec), clean, equal_nan=True)


def test_lags_start_where_a_whole_day_had_ended() -> None:
    six = dt.time(6)
    assert min_lag_days(0, six, 0) == 2  # D-2 ended before D-1 06:00
    assert min_lag_days(0, six, 7 * 3600) == 3  # with a 7 h delay D-2 is not yet in
    assert min_lag_days(6, six, 0) == 8  # the 7th day of a week-ahead
    assert lag_days(0, six, 0) == (2, 3, 4, 5, 6, 7, 8, 14, 21, 28)
    assert min(lag_days(6, six, 0)) == 8
    assert 7 not in lag_days(6, six, 0)


def test_gather_never_reads_at_or_after_a_rows_availability() -> None:
    hist = np.arange(20, dtype=float).reshape(2, 10)
    series = np.array([0, 0, 1, 1])
    pos = np.array([3, 5, 5, 9])
    avail = np.array([4, 5, 6, 12])  # 12 is beyond the history: only its 10 values count
    got = gather(hist, series, pos, avail)
    assert np.array_equal(got, [3.0, np.nan, 15.0, 19.0], equal_nan=True)


def test_clock_time_lags_across_the_spring_change() -> None:
    grid = Grid(
        pd.Timestamp("2024-03-29", tz="UTC"), pd.Timedelta("15min"), 96 * 4, "Europe/Berlin"
    )
    lag1 = grid.lag_positions(1)
    local = grid.local_naive
    # 31 March 08:00 (summer time) looks back to 30 March 08:00 (winter time): 23 h
    p = int(np.flatnonzero(local == pd.Timestamp("2024-03-31 08:00"))[0])
    assert local[lag1[p]] == pd.Timestamp("2024-03-30 08:00")
    assert (grid.times_utc[p] - grid.times_utc[lag1[p]]) == pd.Timedelta(hours=23)
    # 31 March 02:30 does not exist: the day after, 02:30 has no lag
    q = int(np.flatnonzero(local == pd.Timestamp("2024-04-01 02:30"))[0])
    assert lag1[q] == -1
