"""Weekly assessment of measured files with verdicts known by construction, and potential
deviations of the network twin."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.quality import (
    MeasurementSet,
    assess,
    event_sources,
    find_events,
    potential_deviations,
    read_measurements,
    register_event_source,
)
from gridtwin.quality import assessment as assessment_module

GOST = "GOST 32144-2013"
EN = "EN 50160:2010"
MSK = "Europe/Moscow"
# Monday 2025-06-02 00:00 Moscow (UTC+3): one observation week of 1008 10-min intervals
WEEK = pd.date_range("2025-06-01T21:00Z", periods=1008, freq="10min")
STAMPS = list(WEEK.strftime("%Y-%m-%dT%H:%M:%SZ"))

#: verdicts of :func:`golden_week_csv` under GOST 32144-2013 LV, U0 = 220 V
GOLDEN_VERDICTS = {
    "ok": "pass",
    "over": "fail",
    "edge": "pass",
    "gap": "insufficient data",
    "flagged": "pass",
    "thdfail": "fail",
}


def golden_week_csv(path: Path) -> dict[str, str]:
    """A long-layout week of 6 points (voltage a, b, c; THD at two points).

    - ``ok``: 220 V all week; THD 9 % in 50 intervals (50/1008 = 4.96 % <= 5 %): pass;
    - ``over``: 242.5 V once on phase b (δU(+) = 10.2 % > 10 %): fail (N2 = 1);
    - ``edge``: exactly 242.0 V and 198.0 V (±10.0 %, at the limits): pass;
    - ``gap``: 120 intervals missing (availability 88.1 % < 90 %): insufficient data;
    - ``flagged``: 150 V once, flagged (a dip): excluded, pass;
    - ``thdfail``: THD 9 % in 51 intervals (5.06 % > 5 %): fail.
    """
    base = np.full((1008, 6, 3), 220.0)
    ids = list(GOLDEN_VERDICTS)
    base[400, ids.index("over"), 1] = 242.5
    base[10, ids.index("edge"), 0] = 242.0
    base[20, ids.index("edge"), 2] = 198.0
    base[500, ids.index("flagged"), :] = 150.0
    flagged = np.zeros(base.shape, dtype=bool)
    flagged[500, ids.index("flagged"), :] = True
    t_idx, p_idx, ph_idx = np.meshgrid(np.arange(1008), np.arange(6), np.arange(3), indexing="ij")
    keep = ~((p_idx == ids.index("gap")) & (t_idx >= 600) & (t_idx < 720))
    volt = pd.DataFrame(
        {
            "timestamp": np.asarray(STAMPS, dtype=object)[t_idx[keep]],
            "point_id": np.asarray(ids, dtype=object)[p_idx[keep]],
            "indicator": "voltage",
            "phase": np.array(["a", "b", "c"], dtype=object)[ph_idx[keep]],
            "value": base[keep],
            "unit": "V",
            "flagged": np.where(flagged[keep], "true", ""),
        }
    )
    thd_rows = []
    for pid, n_high in (("ok", 50), ("thdfail", 51)):
        thd = np.full(1008, 3.0)
        thd[5 : 5 + 19 * n_high : 19] = 9.0
        thd_rows.append(
            pd.DataFrame(
                {
                    "timestamp": STAMPS,
                    "point_id": pid,
                    "indicator": "thd",
                    "phase": "a",
                    "value": thd,
                    "unit": "percent",
                    "flagged": "",
                }
            )
        )
    pd.concat([volt, *thd_rows], ignore_index=True).to_csv(path, index=False)
    return dict(GOLDEN_VERDICTS)


# --------------------------------------------------------------------------- golden weeks


def test_golden_week_gost_lv_verdicts(tmp_path: Path) -> None:
    expected = golden_week_csv(tmp_path / "week.csv")
    a = assess(read_measurements(tmp_path / "week.csv"), GOST, timezone=MSK)
    assert dict(zip(a.points["point_id"], a.points["verdict"], strict=True)) == expected
    t = a.table.set_index(["point_id", "indicator"])
    over = t.loc[("over", "voltage_deviation")]
    assert (over["n2"], over["worst_phase"], over["verdict"]) == (1, "b", "fail")
    assert over["max_value"] == pytest.approx(100 * 22.5 / 220)
    assert over["worst_time_utc"] == WEEK[400]
    assert t.loc[("edge", "voltage_deviation"), "n2"] == 0
    gap = t.loc[("gap", "voltage_deviation")]
    assert gap["n_valid"] == 888
    assert gap["availability_percent"] == pytest.approx(100 * 888 / 1008)
    fl = t.loc[("flagged", "voltage_deviation")]
    assert (fl["n_flagged"], fl["n_valid"]) == (1, 1007)
    assert t.loc[("ok", "thd"), "n1"] == 50
    assert t.loc[("thdfail", "thd"), "n1"] == 51
    assert t.loc[("thdfail", "thd"), "verdict"] == "fail"
    points = a.points.set_index("point_id")
    assert points.loc["thdfail", "failed_indicators"] == "thd"
    assert points.loc["gap", "insufficient_indicators"] == "voltage_deviation"
    # per phase detail: 6 points x 3 phases of voltage + 2 THD rows
    assert len(a.detail) == 6 * 3 + 2
    assert a.events["kind"].tolist() == ["flagged interval"]
    assert any("estimated from 10-min mean voltages" in n for n in a.notes)
    assert set(a.limits["indicator"]) == {"voltage_deviation", "thd"}
    json.dumps(a.to_dict())  # JSON-ready


def test_en50160_line_voltages_use_the_line_nominal() -> None:
    v = np.full((1008, 2, 3), 400.0)
    v[5 : 5 + 19 * 50 : 19, 0, 0] = 355.0  # -11.25 %: outside the 95 % band, inside -15 %
    v[5 : 5 + 19 * 51 : 19, 1, 0] = 355.0
    ms = MeasurementSet.from_arrays(
        "voltage", WEEK, v, point_ids=["l50", "l51"], phases=("ab", "bc", "ca"), unit="V"
    )
    a = assess(ms, EN, timezone=MSK)
    assert a.nominal_line_v == 400.0
    assert a.points["verdict"].tolist() == ["pass", "fail"]
    assert a.table["n1"].tolist() == [50, 51]


def test_events_flag_the_intervals_they_overlap(tmp_path: Path) -> None:
    golden_week_csv(tmp_path / "week.csv")
    ms = read_measurements(tmp_path / "week.csv")
    dip = pd.DataFrame(
        {
            "point_id": ["over", "nowhere"],
            "kind": "swell",
            "start_utc": [WEEK[400] + pd.Timedelta(minutes=3)] * 2,
            "duration_s": [0.4, 1.0],
        }
    )
    a = assess(ms, GOST, timezone=MSK, events=dip)
    assert a.verdict("over") == "pass"
    row = a.table.set_index(["point_id", "indicator"]).loc[("over", "voltage_deviation")]
    assert row["n_flagged"] == 1
    assert "swell" in set(a.events["kind"])
    assert any("points without measurements were ignored: nowhere" in n for n in a.notes)


def test_measured_under_over_deviation_decides_gost_voltage() -> None:
    under = np.zeros((1008, 1))
    over = np.full((1008, 1), 1.0)
    over[300, 0] = 10.5
    ms = MeasurementSet.from_arrays(
        "voltage", WEEK, np.full((1008, 1), 220.0), point_ids=["P"]
    ).combine(
        MeasurementSet.from_arrays("du_minus", WEEK, under, point_ids=["P"]),
        MeasurementSet.from_arrays("du_plus", WEEK, over, point_ids=["P"]),
    )
    a = assess(ms, GOST, timezone=MSK)
    row = a.detail.iloc[0]
    assert (row["measured"], row["verdict"], row["n2"]) == (
        "voltage_under_over_deviation",
        "fail",
        1,
    )
    assert any("judged on the measured δU(−), δU(+)" in n for n in a.notes)
    en = assess(ms, EN, timezone=MSK)  # EN 50160 judges the r.m.s. voltage instead
    assert en.verdict("P") == "pass"
    assert any("not δU(−)/δU(+)" in n for n in en.notes)


def test_frequency_10s_values_counted_per_week() -> None:
    t = pd.date_range("2025-06-01T21:00Z", periods=60480, freq="10s")
    f = np.full((60480, 2), 50.0)
    f[:3024, 0] = 50.3  # 3024 / 60480 = 5 % exactly outside ±0.2 Hz: pass
    f[:3025, 1] = 50.3
    ms = MeasurementSet.from_arrays("frequency", t, f, point_ids=["f5", "f5+"], unit="Hz")
    a = assess(ms, GOST, timezone=MSK)
    assert a.table["n_expected"].tolist() == [60480, 60480]
    assert a.points["verdict"].tolist() == ["pass", "fail"]
    iso = assess(ms, GOST, timezone=MSK, isolated_system=True)
    assert iso.table["indicator"].tolist() == ["frequency_deviation_isolated"] * 2
    assert iso.points["verdict"].tolist() == ["pass", "pass"]


def test_mv_needs_the_agreed_voltage() -> None:
    ms = MeasurementSet.from_arrays(
        "voltage", WEEK, np.full((1008, 1), 10000.0), point_ids=["M"], phases=("ab",)
    )
    with pytest.raises(InputError, match="nominal_line_v=10000"):
        assess(ms, GOST, timezone=MSK, voltage_level="MV")
    a = assess(ms, GOST, timezone=MSK, voltage_level="MV", nominal_line_v=10000.0)
    assert a.verdict("M") == "pass"


def test_indicator_selection_and_unknown_names(tmp_path: Path) -> None:
    golden_week_csv(tmp_path / "week.csv")
    ms = read_measurements(tmp_path / "week.csv")
    a = assess(ms, GOST, timezone=MSK, indicators=["thd"])
    assert set(a.table["indicator"]) == {"thd"}
    with pytest.raises(InputError, match="unknown indicator"):
        assess(ms, GOST, timezone=MSK, indicators=["flicker"])


def test_event_sources_are_a_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assessment_module, "_EVENT_SOURCES", dict(assessment_module._EVENT_SOURCES))
    ms = MeasurementSet.from_arrays("voltage", WEEK[:3], np.full((3, 1), 220.0), point_ids=["P"])

    def detector(m: MeasurementSet) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "point_id": [m.point_ids[0]],
                "kind": ["dip"],
                "start_utc": [WEEK[1]],
                "duration_s": [0.2],
                "extreme_percent": [70.0],
            }
        )

    register_event_source("test-detector", detector)
    assert "test-detector" in event_sources()
    ev = find_events(ms, "test-detector")
    assert ev.loc[0, "end_utc"] == WEEK[1] + pd.Timedelta(seconds=0.2)
    with pytest.raises(InputError, match="already registered"):
        register_event_source("test-detector", detector)
    with pytest.raises(InputError, match="unknown event source"):
        find_events(ms, "nope")


# --------------------------------------------------------------------------- potential


def test_potential_deviations_from_forecast_voltages() -> None:
    time = pd.date_range("2025-06-01T21:00Z", periods=7 * 96, freq="15min")
    vm = pd.DataFrame({"A": 0.95, "B": 0.95}, index=time)
    vm.iloc[200:203, 1] = 1.06  # +11.6 % of U0 = 0.95 p.u.
    pot = potential_deviations(
        vm, u0_pu=0.95, timezone=MSK, cause={"B": "PV export"}, feeders={"B": "F2"}
    )
    assert pot.table["point_id"].tolist() == ["B"]
    row = pot.table.iloc[0]
    assert (row["direction"], row["feeder"], row["cause"]) == ("over", "F2", "PV export")
    assert row["first_time_utc"] == time[200]
    assert row["n_steps_out"] == 3
    with pytest.raises(InputError, match="tz-aware"):
        potential_deviations(vm.tz_localize(None))


def test_a_forecast_shorter_than_a_week_reports_certain_failures_only() -> None:
    day = pd.date_range("2025-06-01T21:00Z", periods=96, freq="15min")  # 1 of 672 steps
    vm = pd.DataFrame({"n1_34": 1.0, "n1_33": 1.0, "n2": 1.0}, index=day)
    vm.iloc[:34, 0] = 0.88  # -12 %: outside the EN 50160 95 % band, inside -15 %
    vm.iloc[:33, 1] = 0.88
    vm.iloc[10, 2] = 0.84  # -16 %: outside the 100 % band
    pot = potential_deviations(vm, standard=EN, timezone=MSK)
    rows = pot.table.set_index("point_id")
    # 34 > 5 % of the 672 steps of the week (33.6): fails whatever the other 6 days hold
    assert sorted(rows.index) == ["n1_34", "n2"]
    assert "N1 = 34 > 5 % of the 672 steps" in rows.loc["n1_34", "rule"]
    assert "whatever the rest holds" in rows.loc["n2", "rule"]
    assert rows.loc["n2", "first_time_utc"] == day[10]
