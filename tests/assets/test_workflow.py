"""Condition indicators, ranking and trends read from a real store holding a synthetic
twin state history: a transformer whose evening peak rises 1.5 %/day into overload, a
line loaded flat at 60 %, and a line with a two-day gap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from gridtwin.assets import register_from_records
from gridtwin.store import MeasurementBatch, MeasurementPoint, MeasurementStore, open_store
from gridtwin.workflows.assets import (
    TrendLimits,
    condition_indicators,
    equipment_trends,
    rank_from_store,
)

DAYS = 21
T = pd.date_range("2016-03-01", periods=DAYS * 96, freq="15min", tz="UTC")
CYCLE = np.sin(np.pi * np.clip((T.hour + T.minute / 60).to_numpy() - 8, 0, 12) / 12)
DAY = (T - T[0]).total_seconds().to_numpy() / 86400.0
END = T[-1] + pd.Timedelta(minutes=15)
AS_OF = dt.date(2026, 7, 1)


def _series() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    trafo = 35 + (80 - 35 + 1.5 * DAY) * CYCLE + rng.normal(0, 1.5, len(T))  # 80 → 111 %
    flat = 20 + 40 * CYCLE + rng.normal(0, 1.5, len(T))
    gappy = flat.copy()
    gappy[5 * 96 : 7 * 96] = np.nan
    return {"trafo:0": trafo, "line:1": flat, "line:2": gappy}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeasurementStore]:
    location = str(tmp_path_factory.mktemp("assets") / "store")
    series = _series()
    with open_store(location, create=True) as s:
        s.add_points(
            [
                MeasurementPoint(
                    f"twin:{e}:loading",
                    "loading",
                    "%",
                    element=e,
                    source="twin",
                )
                for e in series
            ]
        )
        for e, v in series.items():
            ok = ~np.isnan(v)
            pid = np.full(int(ok.sum()), f"twin:{e}:loading", dtype=object)
            s.write(MeasurementBatch.build(pid, T[ok].tz_localize(None).to_numpy(), v[ok]))
        yield s


def test_indicators_from_the_history(store: MeasurementStore) -> None:
    ind, hot = condition_indicators(store, ["trafo:0", "line:1", "line:2", "line:9"], T[0], END)
    assert set(ind) == {"trafo:0", "line:1", "line:2"}  # line:9 has no stored state
    t = ind["trafo:0"]
    assert t.observed_days == pytest.approx(DAYS)
    assert t.peak_loading_percent == pytest.approx(_series()["trafo:0"].max())
    assert t.overload_intervals == int((_series()["trafo:0"] > 100).sum()) > 0
    assert t.max_hot_spot_c is not None
    assert t.max_hot_spot_c > 98
    assert t.loss_of_life_h is not None
    assert t.loss_of_life_h > 0
    assert t.equivalent_ageing_rate == pytest.approx(t.loss_of_life_h / (DAYS * 24))
    assert ind["line:2"].observed_days == pytest.approx(DAYS - 2)
    assert ind["line:1"].overload_intervals == 0
    assert ind["line:1"].max_hot_spot_c is None
    assert list(hot) == ["trafo:0"]
    assert len(hot["trafo:0"]) == len(T)


def test_the_ranking_puts_the_overloaded_transformer_first(store: MeasurementStore) -> None:
    reg = register_from_records(
        [
            {
                "element": e,
                "type": "transformer" if e.startswith("trafo") else "line",
                "year_installed": 1995,
                "rated_life_years": 40,
                "maintenance_interval_years": 6,
                "maintenance": [{"date": "2024-05-01"}],
            }
            for e in ("line:1", "trafo:0", "line:2")
        ]
    )
    out = rank_from_store(reg, store, as_of=AS_OF, end_utc=END, window_days=DAYS)
    assert out.start_utc == T[0]
    assert out.end_utc == END
    assert next(h.element for h in out.assets) == "trafo:0"
    first = out.assets[0]
    assert first.duty_factor > 1.0
    assert first.health_score > out.assets[1].health_score
    assert any("intervals above 100 %" in r for r in first.reasons)
    alone = rank_from_store(reg, None, as_of=AS_OF)
    assert all(h.indicators.observed_days == 0 for h in alone.assets)
    assert "no store" in alone.notes[0]


def test_trends_warn_for_the_rising_transformer_only(store: MeasurementStore) -> None:
    found = equipment_trends(
        store,
        ["trafo:0", "line:1", "line:2"],
        end_utc=END,
        window_days=DAYS,
        limits=TrendLimits(horizon_days=30),
    )
    by = {(t.element, t.trend.quantity): t for t in found}
    load = by[("trafo:0", "loading_percent")]
    assert load.trend.slope_per_day == pytest.approx(1.5, abs=0.2)
    assert load.trend.warning
    assert load.alarm is not None
    assert load.trend.time_to_limit_s == 0.0  # its fitted peak is above 100 % already
    hot = by[("trafo:0", "hot_spot_c")]
    assert hot.trend.slope_per_day > 0
    assert hot.alarm is not None
    assert hot.alarm.rule_id == "trend-hot-spot-c"
    assert not by[("line:1", "loading_percent")].trend.warning
    assert not by[("line:2", "loading_percent")].trend.warning
    assert by[("line:2", "loading_percent")].trend.n_points == DAYS - 2
    assert found[0].trend.warning  # warnings first
