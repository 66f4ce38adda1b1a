"""Backtests: the target on a real measured series (Taylor's England and Wales demand),
and the backtest's bookkeeping on a synthetic one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gridtwin.forecast import ForecastSpec, to_grid
from gridtwin.forecast.backtest import backtest, last_days
from tests.forecast.util import load_series


def test_backtest_scores_every_method_per_lead_time() -> None:
    s = load_series("2024-01-01", 45)
    values, start, step = to_grid(s.to_frame())
    spec = ForecastSpec(tz="Europe/Berlin", num_boost_round=20, quantiles=(0.1, 0.5, 0.9))
    report = backtest(
        values, start, step, spec, days=4, methods=("gbm", "sf_seasonal_naive"), refit_days=2
    )
    assert report.days == tuple(dt.date(2024, 2, 11) + dt.timedelta(days=i) for i in range(4))
    table = report.table
    assert set(table["method"]) == {"weekly_naive", "gbm", "sf_seasonal_naive"}
    assert set(table["lead"]) == {"all", "18-24h", "24-30h", "30-36h", "36-42h"}
    naive = report.overall("weekly_naive")
    assert naive["skill_vs_weekly_naive"] == 0.0
    assert naive["n"] == 4 * 96
    # a point forecast's CRPS is its MAE
    assert naive["crps"] == pytest.approx(naive["mae"])
    sf = report.overall("sf_seasonal_naive")
    assert sf["mae"] == pytest.approx(naive["mae"])  # the same weekly values, from statsforecast
    assert sf["crps"] < sf["mae"]  # its interval earns something
    assert report.overall("gbm")["mase"] < naive["mase"]
    assert report.to_dict()["metrics"][0]["method"] == "weekly_naive"


def test_last_days_are_complete_local_days() -> None:
    s = load_series("2024-01-01", 10)
    _, start, step = to_grid(s.to_frame())
    assert last_days(start, step, len(s), "Europe/Berlin", 2) == [
        dt.date(2024, 1, 9),
        dt.date(2024, 1, 10),
    ]
    # one interval short of the end: the last day is incomplete
    assert last_days(start, step, len(s) - 1, "Europe/Berlin", 1) == [dt.date(2024, 1, 9)]


@pytest.mark.slow
def test_day_ahead_beats_weekly_naive_by_20_percent_on_real_demand() -> None:
    pytest.importorskip("pmdarima")
    from gridtwin.forecast.datasets import taylor_demand

    values, start, step = to_grid(taylor_demand().to_frame())
    spec = ForecastSpec(tz="Europe/London", country="GB", subdivision="ENG")
    report = backtest(values, start, step, spec, days=28, methods=("gbm",))
    gbm, naive = report.overall("gbm"), report.overall("weekly_naive")
    assert gbm["n"] == 28 * 48
    assert gbm["mase"] <= 0.8 * naive["mase"]
    assert gbm["skill_vs_weekly_naive"] >= 0.20
    assert gbm["rcrps"] < naive["rcrps"]
    assert np.isfinite(gbm["pinball"])
