"""Equipment trends: a synthetic rising daily cycle warns with the right time to the
limit, a flat noisy one (and one rising too slowly) does not; the warning is a potential
alarm of the alarm system; a generator drifting below its expected curve warns too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.alarms import PotentialAlarm
from gridtwin.assets.trends import daily_peaks, daily_ratio, fit_trend, trend_alarm
from gridtwin.errors import InputError

DAYS = 28
T = pd.date_range("2026-03-01", periods=DAYS * 96, freq="15min", tz="UTC")
HOUR = (T.hour + T.minute / 60).to_numpy()
CYCLE = np.sin(np.pi * np.clip(HOUR - 6, 0, 12) / 12)  # 0 at night, 1 at 12:00


def loading(
    start_peak: float, rise_per_day: float, seed: int = 1, noise: float = 2.0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    day = (T - T[0]).total_seconds().to_numpy() / 86400.0
    return 30 + (start_peak - 30 + rise_per_day * day) * CYCLE + rng.normal(0, noise, len(T))


def test_daily_peaks_take_each_days_highest_and_skip_thin_days() -> None:
    v = loading(80, 0)
    v[:60] = np.nan  # the first day has 36 of 96 intervals: left out
    peaks = daily_peaks(T, v)
    assert len(peaks) == DAYS - 1
    assert peaks.index[0] == pd.Timestamp("2026-03-02", tz="UTC")
    assert peaks.iloc[3] == pytest.approx(np.nanmax(v[4 * 96 : 5 * 96]))


def test_a_rising_trend_projects_the_time_to_the_limit_and_warns() -> None:
    # peak 60 % + 1 %/day (at noon of day d: 60.5 + d), noise sigma 0.5 (the daily maximum
    # is the noon interval's, biased up by a fraction of sigma): the fitted line reaches
    # 100 % about 12.5 days after the last day's point (day 27, 87.5 %)
    peaks = daily_peaks(T, loading(60, 1.0, noise=0.5))
    trend = fit_trend(peaks, quantity="loading_percent", limit=100, horizon_s=14 * 86400)
    assert trend is not None
    assert trend.slope_per_day == pytest.approx(1.0, abs=0.05)
    assert trend.slope_low_per_day > 0
    days_left = trend.time_to_limit_s / 86400  # type: ignore[operator]
    assert days_left == pytest.approx(12.5, abs=0.5)
    assert trend.warning
    now = trend.last_utc + dt.timedelta(days=1)
    alarm = trend_alarm(trend, "line:5", now_utc=now)
    assert isinstance(alarm, PotentialAlarm)
    assert alarm.instance_id == "trend-loading-percent@line:5"
    assert alarm.first_active_utc == trend.limit_utc
    assert alarm.lead_time_s == pytest.approx(trend.time_to_limit_s - 86400)  # type: ignore[operator]
    assert "reaches 100 in" in alarm.message


def test_a_flat_noisy_series_raises_nothing() -> None:
    peaks = daily_peaks(T, loading(95, 0.0, seed=7))  # close to the limit, but flat
    trend = fit_trend(peaks, quantity="loading_percent", limit=100, horizon_s=30 * 86400)
    assert trend is not None
    assert trend.slope_low_per_day <= 0 <= trend.slope_high_per_day
    assert trend.time_to_limit_s is None
    assert not trend.warning
    assert trend_alarm(trend, "line:5", now_utc=trend.last_utc) is None
    assert "not heading for 100" in trend.describe()


def test_a_slow_rise_beyond_the_horizon_does_not_warn() -> None:
    peaks = daily_peaks(T, loading(40, 0.5))
    trend = fit_trend(peaks, quantity="loading_percent", limit=100, horizon_s=14 * 86400)
    assert trend is not None
    assert trend.time_to_limit_s is not None
    assert trend.time_to_limit_s > 14 * 86400
    assert not trend.warning


def test_beyond_the_limit_already_projects_zero() -> None:
    peaks = daily_peaks(T, loading(120, 0.5))
    trend = fit_trend(peaks, quantity="loading_percent", limit=100)
    assert trend is not None
    assert trend.time_to_limit_s == 0.0
    assert trend.warning


def test_a_generator_drifting_below_its_expected_curve() -> None:
    expected = 100 * CYCLE
    day = (T - T[0]).total_seconds().to_numpy() / 86400.0
    rng = np.random.default_rng(3)
    measured = expected * (1.0 - 0.005 * day) * rng.normal(1, 0.02, len(T))  # soiling, -0.5 %/day
    ratio = daily_ratio(T, measured, expected)
    assert len(ratio) == DAYS
    assert ratio.iloc[0] == pytest.approx(1.0, abs=0.03)
    trend = fit_trend(ratio, quantity="output_ratio", limit=0.8, direction="falling")
    assert trend is not None
    assert trend.warning
    # the ratio of day d (its middle, noon) is about 1 - 0.005 (d + 0.5): 0.8 at day 39.5,
    # 12.5 days after the last point (day 27 at 00:00 UTC)
    assert trend.time_to_limit_s / 86400 == pytest.approx(12.5, abs=1.5)  # type: ignore[operator]
    healthy = daily_ratio(T, expected * rng.normal(1, 0.02, len(T)), expected)
    flat = fit_trend(healthy, quantity="output_ratio", limit=0.8, direction="falling")
    assert flat is not None
    assert not flat.warning


def test_few_points_and_bad_arguments() -> None:
    short = pd.Series([1.0, 2, 3], index=T[:3])
    assert fit_trend(short, quantity="x", limit=5) is None
    with pytest.raises(InputError, match="direction"):
        fit_trend(short, quantity="x", limit=5, direction="up")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="tz-aware"):
        daily_peaks(pd.DatetimeIndex(T.tz_localize(None)), np.ones(len(T)))
