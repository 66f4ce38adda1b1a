"""Weeks and worst values of an assessment: points measured in different weeks, the worst
value of the phase that has it, and weeks split by the timezone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridtwin.quality import MeasurementSet, assess

EN = "EN 50160:2010"
MON = pd.Timestamp("2025-06-02T00:00Z")  # a Monday


def test_points_measured_in_different_weeks_are_judged_on_their_own_weeks() -> None:
    # P1 measured in the first week, P2 in the sixth (a campaign moving the instrument)
    t = pd.date_range(MON, periods=6 * 1008, freq="10min")
    v = np.full((len(t), 2), np.nan)
    v[:1008, 0] = 230.0
    v[5 * 1008 :, 1] = 231.0
    ms = MeasurementSet.from_arrays("voltage", t, v, point_ids=["P1", "P2"], unit="V")
    a = assess(ms, EN, timezone="UTC")
    weeks = a.table.groupby("point_id")["period_start_utc"].agg(list).to_dict()
    assert weeks == {"P1": [MON], "P2": [MON + pd.Timedelta(weeks=5)]}
    assert dict(zip(a.points["point_id"], a.points["verdict"], strict=True)) == {
        "P1": "pass",
        "P2": "pass",
    }
    assert (a.table["verdict"] == "pass").all()


def test_a_gap_week_inside_a_points_campaign_still_lacks_data() -> None:
    t = pd.date_range(MON, periods=3 * 1008, freq="10min")
    v = np.full((len(t), 1), 230.0)
    v[1008:2016] = np.nan  # the middle week lost
    ms = MeasurementSet.from_arrays("voltage", t, v, point_ids=["P"], unit="V")
    a = assess(ms, EN, timezone="UTC")
    assert list(a.table["verdict"]) == ["pass", "insufficient data", "pass"]


def test_worst_value_comes_from_the_phase_that_has_it() -> None:
    # phases a and b at 231 V; one phase-c value at 252 V (+9.57 % of 230 V), all inside
    t = pd.date_range(MON, periods=1008, freq="10min")
    v = np.full((1008, 1, 3), 231.0)
    v[500, 0, 2] = 252.0
    ms = MeasurementSet.from_arrays("voltage", t, v, point_ids=["P"], phases=("a", "b", "c"))
    row = assess(ms, EN, timezone="UTC").table.iloc[0]
    assert row["verdict"] == "pass"
    assert row["worst_phase"] == "c"
    assert row["worst_value"] == pytest.approx(100 * (252 / 230 - 1))
    assert row["max_value"] == pytest.approx(row["worst_value"])
    assert row["worst_time_utc"] == t[500]
    # the low side: phase b down to 209 V (-9.13 %) is worse than phase c at +4.3 %
    v = np.full((1008, 1, 3), 230.0)
    v[10, 0, 1] = 209.0
    v[20, 0, 2] = 240.0
    ms = MeasurementSet.from_arrays("voltage", t, v, point_ids=["P"], phases=("a", "b", "c"))
    row = assess(ms, EN, timezone="UTC").table.iloc[0]
    assert (row["worst_phase"], row["worst_time_utc"]) == ("b", t[10])
    assert row["worst_value"] == pytest.approx(100 * (209 / 230 - 1))


def test_weeks_cut_by_the_timezone_point_to_week_start() -> None:
    # one Monday 00:00 UTC week read in Europe/Moscow: 165 h in one local week, 3 h in the
    # next, so the point's verdict is "insufficient data"
    t = pd.date_range(MON, periods=1008, freq="10min")
    ms = MeasurementSet.from_arrays(
        "voltage", t, np.full((1008, 1), 230.0), point_ids=["P"], unit="V"
    )
    a = assess(ms, EN, timezone="Europe/Moscow")
    assert list(a.table["verdict"]) == ["pass", "insufficient data"]
    note = next(n for n in a.notes if "cut the measuring campaign" in n)
    assert "point P, voltage_deviation: 1 of 2 observation weeks lack data" in note
    assert "--week-start '2025-06-02T03:00+03:00'" in note
    # what the note says works
    b = assess(ms, EN, timezone="Europe/Moscow", week_start=pd.Timestamp("2025-06-02T03:00+03:00"))
    assert list(b.table["verdict"]) == ["pass"]
    assert not any("cut the measuring campaign" in n for n in b.notes)


def test_a_campaign_split_in_two_short_weeks_says_so() -> None:
    # a 7-day campaign from Thursday: 4 days in one Monday week, 3 in the next
    t = pd.date_range(MON + pd.Timedelta(days=3), periods=1008, freq="10min")
    ms = MeasurementSet.from_arrays(
        "voltage", t, np.full((1008, 1), 230.0), point_ids=["P"], unit="V"
    )
    a = assess(ms, EN, timezone="UTC")
    assert set(a.table["verdict"]) == {"insufficient data"}
    note = next(n for n in a.notes if "cut the measuring campaign" in n)
    assert "every observation week lacks data" in note
    assert "--week-start '2025-06-05T00:00+00:00'" in note
    # a point that simply lacks data gets no such note
    v = np.full((1008, 1), np.nan)
    v[:100] = 230.0
    ms = MeasurementSet.from_arrays("voltage", t, v, point_ids=["P"], unit="V")
    assert not any("cut the" in n for n in assess(ms, EN, timezone="UTC").notes)
