"""The health index and the ranking: the ageing curve's anchor points, each modifier,
the collar after a recent failure, and the ranking against the calendar plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridtwin.assets import (
    ConditionIndicators,
    assess,
    health_band,
    rank_assets,
    register_from_records,
)

AS_OF = dt.date(2026, 7, 1)


def rec(element: str = "line:1", **kw: Any) -> Any:
    base: dict[str, Any] = {
        "element": element,
        "type": "transformer" if element.startswith("trafo") else "line",
        "year_installed": 2006,
        "rated_life_years": 40,
        "maintenance_interval_years": 5,
        "maintenance": [{"date": "2024-01-10"}],
    }
    base.update(kw)
    return register_from_records([base]).assets[0]


def test_the_ageing_curve_runs_from_half_to_five_and_a_half() -> None:
    new = assess(rec(year_installed=2026), None, AS_OF)
    assert new.initial_health_score == pytest.approx(0.5)
    at_life = assess(rec(year_installed=1986), None, AS_OF)
    assert at_life.initial_health_score == pytest.approx(5.5)
    old = assess(rec(year_installed=1950), None, AS_OF)
    assert old.initial_health_score == 5.5  # CNAIM's cap
    mid = assess(rec(year_installed=2006), None, AS_OF)
    assert 0.5 < mid.initial_health_score < 5.5
    assert mid.health_index == "HI1"
    assert "no state history" in mid.notes[0]


def test_bands() -> None:
    assert [health_band(s) for s in (0.5, 4.0, 5.5, 6.5, 8.0, 10)] == [
        "HI1",
        "HI2",
        "HI3",
        "HI4",
        "HI5",
        "HI5",
    ]


def test_overloads_raise_the_duty_factor_and_the_score() -> None:
    calm = ConditionIndicators(observed_days=7, peak_loading_percent=60)
    hot = ConditionIndicators(
        observed_days=7,
        peak_loading_percent=130,
        overload_intervals=40,
        overload_share_percent=6.0,
    )
    a, b = assess(rec(), calm, AS_OF), assess(rec(), hot, AS_OF)
    assert a.duty_factor == 0.95
    assert b.duty_factor == 1.4
    assert b.expected_life_years == pytest.approx(40 / 1.4)
    assert b.health_score > a.health_score * 1.3
    assert any("40 intervals above 100 %" in r for r in b.reasons)


def test_a_transformer_ageing_fast_gets_the_iec_duty() -> None:
    ind = ConditionIndicators(
        observed_days=7, peak_loading_percent=95, equivalent_ageing_rate=1.8, max_hot_spot_c=125
    )
    h = assess(rec("trafo:0"), ind, AS_OF)
    assert h.duty_factor == pytest.approx(1.8)
    assert any("IEC 60076-7 ageing rate 1.80" in r for r in h.reasons)
    assert any("hot spot up to 125" in r for r in h.reasons)


def test_a_recent_failure_holds_the_score_at_five_and_a_half() -> None:
    h = assess(rec(failures=[{"date": "2025-11-02", "kind": "joint"}]), None, AS_OF)
    assert h.health_score == pytest.approx(5.5)
    assert h.health_index == "HI3"
    assert any("1 failure(s)" in r for r in h.reasons)
    older = assess(rec(failures=[{"date": "2019-11-02"}]), None, AS_OF)
    assert older.health_score < 5.5  # only the modifier, no collar


def test_the_ranking_against_the_calendar_plan() -> None:
    reg = register_from_records(
        [
            # young, calendar visit overdue: condition says it can wait
            {
                "element": "line:1",
                "type": "line",
                "year_installed": 2020,
                "rated_life_years": 45,
                "maintenance_interval_years": 4,
                "maintenance": [{"date": "2022-03-01"}],
            },
            # old, failed last year, visited recently: condition says bring it forward
            {
                "element": "trafo:0",
                "type": "transformer",
                "year_installed": 1984,
                "rated_life_years": 40,
                "maintenance_interval_years": 6,
                "criticality": 3,
                "maintenance": [{"date": "2025-09-01"}],
                "failures": [{"date": "2025-12-24"}],
            },
            {
                "element": "line:2",
                "type": "line",
                "year_installed": 2000,
                "rated_life_years": 45,
                "maintenance_interval_years": 8,
                "maintenance": [{"date": "2021-01-01"}],
            },
        ]
    )
    ranked = rank_assets(reg, {}, AS_OF)
    assert [h.element for h in ranked] == ["trafo:0", "line:2", "line:1"]
    assert [h.rank for h in ranked] == [1, 2, 3]
    by = {h.element: h for h in ranked}
    assert by["line:1"].calendar_rank == 1
    assert by["line:1"].advice == "defer"
    assert by["trafo:0"].calendar_rank == 3
    assert by["trafo:0"].advice == "bring forward"
    assert by["trafo:0"].risk == pytest.approx(by["trafo:0"].pof_relative * 3)
    assert by["line:1"].days_to_calendar_due < 0
    assert any("overdue" in r for r in by["line:1"].reasons)
