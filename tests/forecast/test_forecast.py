"""Forecasts: quantiles that do not cross, local days with DST, holidays, week-ahead,
and fallbacks that are always stated."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.forecast import Forecaster, ForecastSpec, forecast_series, mae, to_grid
from gridtwin.forecast._features import Grid, calendar_features
from tests.forecast.util import load_series

SPEC = ForecastSpec(tz="Europe/Berlin", country="DE", num_boost_round=40)


def test_day_ahead_quantiles_beat_weekly_naive_on_a_known_shape() -> None:
    s = load_series("2024-01-01", 64)
    day = dt.date(2024, 3, 1)
    res = forecast_series(s, day, SPEC)
    assert res.values.shape == (1, 96, len(SPEC.quantiles))
    assert np.all(np.diff(res.values, axis=2) >= 0)  # non-crossing
    assert res.methods == ("gbm",)
    assert res.fallbacks == (None,)
    assert res.time_utc[0] == pd.Timestamp("2024-02-29 23:00", tz="UTC")
    truth = s.reindex(res.time_utc).to_numpy()
    naive = forecast_series(s, day, dataclasses.replace(SPEC, method="weekly_naive"))
    assert mae(truth, res.median[0]) < mae(truth, naive.median[0])
    inside = (truth >= res.values[0, :, 1]) & (truth <= res.values[0, :, -2])  # P10..P90
    assert 0.5 < inside.mean() <= 1.0
    frame = res.frame()
    assert list(frame.columns[:5]) == ["series_id", "ts_utc", "lead_s", "method", "fallback"]
    assert frame["lead_s"].iloc[0] == 18 * 3600  # issued 06:00 the day before, local


@pytest.mark.parametrize(
    ("day", "steps"), [(dt.date(2024, 3, 31), 92), (dt.date(2024, 10, 27), 100)]
)
def test_local_days_of_23_and_25_hours(day: dt.date, steps: int) -> None:
    start = (pd.Timestamp(day) - pd.Timedelta(days=40)).strftime("%Y-%m-%d")
    s = load_series(start, 42)
    spec = dataclasses.replace(SPEC, method="weekly_naive")
    res = forecast_series(s, day, spec)
    assert len(res.time_utc) == steps
    assert res.time_utc[0].tz_convert("Europe/Berlin") == pd.Timestamp(day, tz="Europe/Berlin")


def test_week_ahead_covers_seven_local_days() -> None:
    s = load_series("2024-01-01", 63)
    spec = dataclasses.replace(SPEC, horizon_days=7, num_boost_round=20, quantiles=(0.1, 0.5, 0.9))
    res = forecast_series(s, dt.date(2024, 2, 26), spec)
    assert res.values.shape == (1, 7 * 96, 3)
    assert np.isfinite(res.values).all()
    assert res.frame()["lead_s"].max() == (18 + 6 * 24 + 24) * 3600 - 900


def test_holiday_features_of_the_jurisdiction() -> None:
    grid = Grid(
        pd.Timestamp("2024-12-23 23:00", tz="UTC"), pd.Timedelta("1h"), 24 * 4, "Europe/Berlin"
    )
    feats = calendar_features(grid, "DE", None)
    by_day = pd.Series(feats["holiday"], index=grid.local_naive.date).groupby(level=0).max()
    assert by_day.to_dict() == {
        dt.date(2024, 12, 24): 0.0,
        dt.date(2024, 12, 25): 1.0,
        dt.date(2024, 12, 26): 1.0,
        dt.date(2024, 12, 27): 0.0,
    }
    assert feats["holiday_next_day"][0] == 1.0  # the 24th is the day before Christmas
    with pytest.raises(InputError, match="country 'XX'"):
        calendar_features(grid, "XX", None)


def test_fallbacks_are_stated_for_each_series() -> None:
    s = load_series("2024-01-01", 40)
    v, start, step = to_grid(s.to_frame())
    flat = np.full(v.shape[1], 4.2)
    short = np.full(v.shape[1], np.nan)
    short[-5 * 96 :] = v[0, -5 * 96 :]
    gappy = v[0].copy()
    gappy[-20 * 96 :: 2] = np.nan
    empty = np.full(v.shape[1], np.nan)
    values = np.vstack([v[0], flat, short, gappy, empty])
    ids = ["ok", "flat", "short", "gappy", "empty"]
    day = (start + step * v.shape[1]).tz_convert("Europe/Berlin").date()
    res = Forecaster(dataclasses.replace(SPEC, num_boost_round=20)).predict(
        values, start, step, day, ids
    )
    assert res.methods == ("gbm", "constant", "profile", "profile", "none")
    assert res.fallbacks[0] is None
    assert res.fallbacks[1].startswith("flat")
    # 5 days of data end at midnight; the cut at 06:00 the day before leaves 4.25
    assert res.fallbacks[2].startswith("short: 4.2 days")
    assert res.fallbacks[3].startswith("gaps: 34%")  # (20 - 0.75) / 2 of the last 28 days
    assert res.fallbacks[4].startswith("empty")
    assert np.all(res.values[1] == 4.2)
    assert np.isfinite(res.values[:4]).all()
    assert np.isnan(res.values[4]).all()
    assert np.all(np.diff(res.values[2], axis=1) >= 0)
    assert len(res.notes) == 4
    assert "short" in res.notes[1]


def test_bad_series_and_specs_are_refused() -> None:
    s = load_series("2024-01-01", 20)
    with pytest.raises(DataQualityError, match="duplicated times"):
        to_grid(pd.concat([s, s.iloc[:1]]).to_frame())
    with pytest.raises(InputError, match="tz-aware"):
        to_grid(s.tz_localize(None).to_frame())
    with pytest.raises(InputError, match=r"include 0\.5"):
        ForecastSpec(quantiles=(0.1, 0.9))
    with pytest.raises(InputError, match="increasing"):
        ForecastSpec(quantiles=(0.5, 0.1))
    with pytest.raises(InputError, match="method"):
        ForecastSpec(method="prophet")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="step"):
        to_grid(s.iloc[::7].to_frame())
