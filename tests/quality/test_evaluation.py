"""Weekly evaluation: golden weeks with verdicts known by construction.

Each synthetic week holds a constant in-band voltage with a known number of intervals
moved exactly to a limit, just inside it or just beyond it, so N, N1, N2 and the verdict
follow from the construction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality import (
    UnderOverDeviation,
    evaluate,
    evaluate_voltage_pu,
    get_limit_set,
    infer_voltage_unit,
    load_limit_set,
    under_over_deviation,
)

GOST = "GOST 32144-2013"
EN = "EN 50160:2010"
MSK = "Europe/Moscow"


def week_index(start_local: str, tz: str, weeks: int = 1, step: str = "10min") -> pd.DatetimeIndex:
    """UTC interval starts from a local start over whole local weeks."""
    start = pd.Timestamp(start_local).tz_localize(tz)
    end = (pd.Timestamp(start_local) + pd.Timedelta(days=7 * weeks)).tz_localize(tz)
    return pd.date_range(
        start.tz_convert("UTC"), end.tz_convert("UTC"), freq=step, inclusive="left"
    )


WEEK = week_index("2025-06-02", MSK)  # Monday 00:00 Moscow (UTC+3), 1008 intervals


def column(base: float, changes: dict[int, float] | None = None, n: int = 1008) -> np.ndarray:
    col = np.full(n, float(base))
    for i, v in (changes or {}).items():
        col[i] = v
    return col


def spread(count: int, value: float, start: int = 5) -> dict[int, float]:
    """``count`` distinct intervals set to ``value``, spread over the week."""
    stride = max(1, 1000 // count)
    return {start + stride * k: value for k in range(count)}


# --------------------------------------------------------------------------- EN 50160


def test_en50160_lv_golden_week() -> None:
    # U_n = 230 V: 95 % band 207..253 V, 100 % band 195.5..253 V (EN 50160:2010 4.2.2)
    cols = {
        "N1=50 pass": column(230, spread(50, 205.0)),  # 50/1008 = 4.96 % <= 5 %
        "N1=51 fail": column(230, spread(51, 205.0)),  # 51/1008 = 5.06 % > 5 %
        "at 95% limits": column(230, {**spread(20, 207.0), **spread(20, 253.0, 6)}),
        "at -15 %": column(230, {100: 195.5}),  # N1=1, N2=0
        "beyond -15 %": column(230, {100: 195.4}),  # N2=1
        "beyond +10 %": column(230, {300: 253.1}),  # N1=1 and N2=1
        "just inside": column(230, spread(200, 207.1)),
    }
    res = evaluate(
        np.column_stack(list(cols.values())),
        WEEK,
        "voltage_deviation",
        EN,
        timezone=MSK,
        point_ids=list(cols),
    )
    assert res.n_expected.tolist() == [1008]
    assert res.n_valid[0].tolist() == [1008] * 7
    assert res.n1[0].tolist() == [50, 51, 0, 1, 1, 1, 0]
    assert res.n2[0].tolist() == [0, 0, 0, 0, 1, 1, 0]
    assert res.verdict[0].tolist() == ["pass", "fail", "pass", "pass", "fail", "fail", "pass"]
    assert res.rule[0, 1].startswith("fail: N1/N > 5 %")
    assert res.rule[0, 4].startswith("fail: N2 > 0")
    assert res.rule[0, 0].startswith("pass:")
    assert "EN 50160:2010 4.2.2" in res.rule[0, 0]
    assert res.t1_percent[0, 0] == pytest.approx(100 * 50 / 1008)
    assert res.min_value[0, 4] == pytest.approx((195.4 - 230) / 230 * 100)
    assert res.worst_value[0, 5] == pytest.approx((253.1 - 230) / 230 * 100)
    assert res.worst_time_utc[0, 5] == WEEK[300].to_datetime64()
    assert res.worst_time_utc[0, 4] == WEEK[100].to_datetime64()


def test_share_rule_exactly_at_five_percent_with_flags() -> None:
    # 8 flagged intervals leave N = 1000; 50 beyond the 95 % band is exactly 5 %.
    flags = np.zeros((1008, 2), dtype=bool)
    flags[1000:, :] = True
    values = np.column_stack([column(230, spread(50, 205.0)), column(230, spread(51, 205.0))])
    res = evaluate(values, WEEK, "voltage_deviation", EN, timezone=MSK, flags=flags)
    assert res.n_valid[0].tolist() == [1000, 1000]
    assert res.n_flagged[0].tolist() == [8, 8]
    assert res.n1[0].tolist() == [50, 51]
    assert res.verdict[0].tolist() == ["pass", "fail"]


def test_en50160_mv_uses_99_percent_and_declared_voltage() -> None:
    # MV (5.2.2): 99 % within +/-10 %, 100 % within +/-15 % of U_c = 10 kV. 1 % of 1008 = 10.08
    values = np.column_stack(
        [
            column(10_000, spread(10, 11_200.0)),
            column(10_000, spread(11, 11_200.0)),
            column(10_000, {7: 11_500.0}),
            column(10_000, {7: 11_510.0}),
        ]
    )
    with pytest.raises(InputError, match="pass nominal_v = the agreed/declared"):
        evaluate(values, WEEK, "voltage_deviation", EN, voltage_level="MV", timezone=MSK)
    res = evaluate(
        values, WEEK, "voltage_deviation", EN, voltage_level="MV", timezone=MSK, nominal_v=10_000
    )
    assert res.n1[0].tolist() == [10, 11, 1, 1]
    assert res.n2[0].tolist() == [0, 0, 0, 1]
    assert res.verdict[0].tolist() == ["pass", "fail", "pass", "fail"]


# --------------------------------------------------------------------------- GOST 32144


def test_gost_voltage_needs_100_percent_of_the_week() -> None:
    # U_nom 220 V: 198..242 V for 100 % of the week (GOST 32144-2013 4.2.2), no 95 % clause
    values = np.column_stack(
        [
            column(220, {**spread(30, 198.0), **spread(30, 242.0, 6)}),  # at the limits
            column(220, {500: 197.9}),
            column(220, {500: 242.1}),
            column(220, spread(50, 205.0)),  # -6.8 %: passes GOST whatever the share
        ]
    )
    res = evaluate(values, WEEK, "voltage_deviation", GOST, timezone=MSK)
    assert res.n2[0].tolist() == [0, 1, 1, 0]
    assert res.verdict[0].tolist() == ["pass", "fail", "fail", "pass"]
    assert res.n1[0].tolist() == [0, 0, 0, 0]
    assert np.isnan(res.t1_percent).all()
    assert np.isnan(res.share_limit_percent)
    assert "estimated from the mean" in res.basis
    assert any("lower bounds" in n for n in res.notes)
    frame = res.to_frame()
    assert frame["n1"].isna().all()


def test_gost_under_over_deviation_input() -> None:
    under = np.zeros((1008, 3))
    over = np.zeros((1008, 3))
    under[10, 0], over[20, 0] = 10.0, 10.0  # exactly at the limits
    under[10, 1] = 10.01
    over[20, 2] = 10.01
    under[30, 2] = 9.0
    res = evaluate(UnderOverDeviation(under, over), WEEK, "voltage_deviation", GOST, timezone=MSK)
    assert res.n2[0].tolist() == [0, 1, 1]
    assert res.verdict[0].tolist() == ["pass", "fail", "fail"]
    assert res.min_value[0].tolist() == [-10.0, -10.01, -9.0]  # -(largest dU(-))
    assert res.max_value[0].tolist() == [10.0, 0.0, 10.01]
    assert "5.12" in res.basis
    assert not any("lower bounds" in n for n in res.notes)
    with pytest.raises(InputError, match=r"10-min mean r\.m\.s\."):
        evaluate(UnderOverDeviation(under, over), WEEK, "voltage_deviation", EN, timezone=MSK)
    with pytest.raises(DataQualityError, match=r"under_percent\[0, 0\] = -1 is negative"):
        evaluate(
            UnderOverDeviation(under - 1.0, over), WEEK, "voltage_deviation", GOST, timezone=MSK
        )


def test_under_over_deviation_formula() -> None:
    # three 10/12-cycle values in one interval, U0 = 220 V (IEC 61000-4-30 5.12)
    u = np.array([[[200.0], [220.0], [240.0]], [[np.nan], [np.nan], [np.nan]]])
    d = under_over_deviation(u, 220.0)
    um_minus = np.sqrt((200**2 + 220**2 + 220**2) / 3)
    um_plus = np.sqrt((220**2 + 220**2 + 240**2) / 3)
    assert d.under_percent[0, 0] == pytest.approx((220 - um_minus) / 220 * 100)
    assert d.over_percent[0, 0] == pytest.approx((um_plus - 220) / 220 * 100)
    assert d.under_percent[0, 0] == pytest.approx(2.93565, abs=1e-5)
    assert np.isnan(d.under_percent[1, 0])
    assert np.isnan(d.over_percent[1, 0])
    # the deviation of the 10-min mean is a lower bound of both
    mean = np.sqrt(np.mean(u[0, :, 0] ** 2))
    assert d.under_percent[0, 0] >= max(0.0, (220 - mean) / 220 * 100)
    assert d.over_percent[0, 0] >= max(0.0, (mean - 220) / 220 * 100)
    # one U0 per point
    two = under_over_deviation(np.full((1, 3, 2), 230.0), np.array([220.0, 230.0]))
    assert two.over_percent[0].tolist() == pytest.approx([100 * 10 / 220, 0.0])


def test_gost_mv_needs_agreed_voltage() -> None:
    values = column(10_500, {3: 11_600.0})[:, None]
    with pytest.raises(InputError, match="no default nominal voltage"):
        evaluate(values, WEEK, "voltage_deviation", GOST, voltage_level="MV", timezone=MSK)
    res = evaluate(
        values, WEEK, "voltage_deviation", GOST, voltage_level="MV", timezone=MSK, nominal_v=10_500
    )
    assert (res.n2[0, 0], res.verdict[0, 0]) == (1, "fail")


def test_gost_frequency_10s_values() -> None:
    idx = week_index("2025-06-02", MSK, step="10s")
    assert len(idx) == 60_480
    vals = np.full((len(idx), 4), 50.0)
    vals[:3024, 0] = 50.3  # exactly 5 % beyond 0.2 Hz -> pass
    vals[:3025, 1] = 49.7  # 5.002 % -> fail
    vals[100, 2] = 50.4  # at the 100 % limit
    vals[100, 3] = 50.41  # beyond it
    res = evaluate(vals, idx, "frequency_deviation", GOST, timezone=MSK)
    assert res.n_expected.tolist() == [60_480]
    assert res.n1[0].tolist() == [3024, 3025, 1, 1]
    assert res.n2[0].tolist() == [0, 0, 0, 1]
    assert res.verdict[0].tolist() == ["pass", "fail", "pass", "fail"]
    assert res.max_value[0, 3] == pytest.approx(0.41)
    with pytest.raises(InputError, match="look like deviations"):
        evaluate(vals - 50.0, idx, "frequency_deviation", GOST, timezone=MSK)
    with pytest.raises(DataQualityError, match=r"time_utc\[0\] = .*21:00:05\+00:00 is off the 10s"):
        evaluate(vals, idx + pd.Timedelta("5s"), "frequency_deviation", GOST, timezone=MSK)


def test_en_frequency_is_counted_over_a_year() -> None:
    idx = week_index("2025-06-02", "Europe/Berlin", step="10s")
    vals = np.full((len(idx), 1), 50.0)
    res = evaluate(vals, idx, "frequency_deviation", EN, timezone="Europe/Berlin")
    assert res.n_expected.tolist() == [365 * 24 * 360]
    assert res.period_start_utc[0] == pd.Timestamp("2025-01-01", tz="Europe/Berlin")
    assert res.verdict[0, 0] == "insufficient data"


def test_harmonics_use_the_15x_maximum_and_refuse_negative_values() -> None:
    vals = np.column_stack([column(1.0, {4: 9.0}), column(1.0, {4: 9.01})])
    res = evaluate(vals, WEEK, "harmonic_5", GOST, timezone=MSK)
    assert res.n1[0].tolist() == [1, 1]
    assert res.n2[0].tolist() == [0, 1]
    assert res.verdict[0].tolist() == ["pass", "fail"]
    with pytest.raises(DataQualityError, match=r"values\[0, 0\] = -1 is negative"):
        evaluate(-vals, WEEK, "thd", GOST, timezone=MSK)


def test_plt_uses_2h_values_on_10min_ticks() -> None:
    # Moscow weeks start at 21:00 UTC: 2-h values (12 consecutive 10-min values) follow the
    # first one every 2 h, on the 10-min UTC ticks, not on even UTC hours.
    idx = week_index("2025-06-02", MSK, step="2h")
    assert len(idx) == 84
    res = evaluate(
        np.column_stack([column(0.5, {3: 1.0}, 84), column(0.5, {3: 1.01}, 84)]),
        idx,
        "plt",
        GOST,
        timezone=MSK,
    )
    assert res.n_expected.tolist() == [84]
    assert res.verdict[0].tolist() == ["pass", "fail"]
    skewed = idx.tolist()
    skewed[5] = skewed[5] + pd.Timedelta("1h")
    with pytest.raises(DataQualityError, match=r"time_utc\[5\] .* off the 2h grid"):
        evaluate(np.full((84, 1), 0.5), pd.DatetimeIndex(skewed), "plt", GOST, timezone=MSK)
    with pytest.raises(DataQualityError, match=r"time_utc\[0\] .* off the 10-min UTC"):
        evaluate(np.full((84, 1), 0.5), idx + pd.Timedelta("5min"), "plt", GOST, timezone=MSK)


# --------------------------------------------------------------------------- flags, gaps


def test_flagged_intervals_are_excluded() -> None:
    vals = np.column_stack([column(230, spread(60, 190.0)), column(230, spread(60, 190.0))])
    flags = np.zeros(1008, dtype=bool)
    flags[list(spread(60, 190.0))] = True  # the dip intervals, all points
    res = evaluate(vals, WEEK, "voltage_deviation", EN, timezone=MSK, flags=flags)
    assert res.n_flagged[0].tolist() == [60, 60]
    assert res.n_valid[0].tolist() == [948, 948]
    assert res.n1[0].tolist() == [0, 0]
    assert res.n2[0].tolist() == [0, 0]
    assert res.verdict[0].tolist() == ["pass", "pass"]
    assert res.availability_percent[0, 0] == pytest.approx(100 * 948 / 1008)
    unflagged = evaluate(vals, WEEK, "voltage_deviation", EN, timezone=MSK)
    assert unflagged.verdict[0].tolist() == ["fail", "fail"]


def test_gap_week_has_insufficient_data() -> None:
    keep = np.ones(1008, dtype=bool)
    keep[200:350] = False  # 150 intervals absent: 858 / 1008 = 85.1 %
    vals = np.column_stack([column(230), column(230, {10: np.nan})])
    vals[400:450, 1] = np.nan  # and 50 NaN in point 1
    res = evaluate(vals[keep], WEEK[keep], "voltage_deviation", EN, timezone=MSK)
    assert res.n_expected.tolist() == [1008]
    assert res.n_valid[0].tolist() == [858, 807]
    assert res.n_missing[0].tolist() == [150, 201]
    assert res.verdict[0].tolist() == ["insufficient data"] * 2
    assert res.rule[0, 0].startswith("insufficient data: fewer than 90 %")
    relaxed = evaluate(
        vals[keep], WEEK[keep], "voltage_deviation", EN, timezone=MSK, min_availability_percent=80
    )
    assert relaxed.verdict[0].tolist() == ["pass", "pass"]
    # the threshold is inclusive: exactly 90 % valid is enough
    keep90 = np.ones(1008, dtype=bool)
    keep90[: 1008 - 908] = False  # 908 / 1008 = 90.08 %; 907 would be 89.98 %
    ok = evaluate(vals[keep90, :1], WEEK[keep90], "voltage_deviation", EN, timezone=MSK)
    assert ok.verdict[0, 0] == "pass"
    keep_short = keep90.copy()
    keep_short[100] = False
    short = evaluate(vals[keep_short, :1], WEEK[keep_short], "voltage_deviation", EN, timezone=MSK)
    assert short.verdict[0, 0] == "insufficient data"


def test_partial_weeks_at_the_edges_and_per_week_verdicts() -> None:
    idx = week_index("2025-06-02", MSK, weeks=3)
    vals = np.full((len(idx), 1), 230.0)
    vals[1008 + 50, 0] = 190.0  # week 2 fails
    start = 1008 - 500  # data from Thursday of week 1
    res = evaluate(vals[start:], idx[start:], "voltage_deviation", EN, timezone=MSK)
    assert len(res.period_start_utc) == 3
    assert res.n_valid[:, 0].tolist() == [500, 1008, 1008]
    assert res.verdict[:, 0].tolist() == ["insufficient data", "fail", "pass"]
    frame = res.to_frame()
    assert len(frame) == 3
    assert {"max_percent", "p95_percent", "worst_time_utc", "verdict", "rule"} <= set(frame)
    assert frame["period_start_utc"].dt.tz is not None


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    ("monday", "hours", "expected"),
    [
        ("2025-03-24", 167, 1002),  # Europe/Berlin spring forward on Sunday 30 March
        ("2025-10-20", 169, 1014),  # fall back on Sunday 26 October
        ("2025-06-02", 168, 1008),
    ],
)
def test_dst_weeks(monday: str, hours: int, expected: int) -> None:
    tz = "Europe/Berlin"
    idx = week_index(monday, tz)
    assert len(idx) == hours * 6 == expected
    vals = np.full((len(idx), 2), 230.0)
    vals[-1, 1] = 190.0  # Sunday 23:50 local is still this week
    res = evaluate(vals, idx, "voltage_deviation", EN, timezone=tz)
    assert res.n_expected.tolist() == [expected]
    assert res.availability_percent[0].tolist() == [100.0, 100.0]
    assert res.verdict[0].tolist() == ["pass", "fail"]
    assert res.period_start_utc[0] == pd.Timestamp(monday, tz=tz)
    next_monday = (pd.Timestamp(monday) + pd.Timedelta(days=7)).tz_localize(tz)
    assert res.period_end_utc[0] == next_monday
    assert (res.period_end_utc[0] - res.period_start_utc[0]) == pd.Timedelta(hours=hours)


def test_two_weeks_across_dst_have_their_own_counts() -> None:
    idx = week_index("2025-03-24", "Europe/Berlin", weeks=2)
    res = evaluate(
        np.full((len(idx), 1), 230.0), idx, "voltage_deviation", EN, timezone="Europe/Berlin"
    )
    assert res.n_expected.tolist() == [1002, 1008]
    assert res.n_valid[:, 0].tolist() == [1002, 1008]


def test_week_alignment_monday_local_and_configurable() -> None:
    idx = week_index("2025-06-04 12:00", MSK, weeks=2)  # Wednesday noon
    vals = np.full((len(idx), 1), 220.0)
    default = evaluate(vals, idx, "voltage_deviation", GOST, timezone=MSK)
    assert default.period_start_utc[0] == pd.Timestamp("2025-06-02 00:00", tz=MSK)
    assert default.period_start_utc[0] == pd.Timestamp("2025-06-01 21:00", tz="UTC")
    assert len(default.period_start_utc) == 3
    assert default.verdict[:, 0].tolist() == ["insufficient data", "pass", "insufficient data"]
    for ws in ("wed 12:00", pd.Timestamp("2025-06-04 12:00", tz=MSK)):
        campaign = evaluate(vals, idx, "voltage_deviation", GOST, timezone=MSK, week_start=ws)
        assert campaign.period_start_utc[0] == pd.Timestamp("2025-06-04 12:00", tz=MSK)
        assert campaign.n_valid[:, 0].tolist() == [1008, 1008]
        assert campaign.verdict[:, 0].tolist() == ["pass", "pass"]
    with pytest.raises(InputError, match="must look like 'mon 00:00'"):
        evaluate(vals, idx, "voltage_deviation", GOST, timezone=MSK, week_start="monday")


def test_interval_belongs_to_the_week_where_it_starts() -> None:
    idx = week_index("2025-06-02", MSK, weeks=2)
    vals = np.full((len(idx), 1), 220.0)
    vals[1007, 0] = 250.0  # Sunday 23:50 local: week 1
    res = evaluate(vals, idx, "voltage_deviation", GOST, timezone=MSK)
    assert res.n2[:, 0].tolist() == [1, 0]


def test_off_grid_and_unsorted_timestamps() -> None:
    bad = WEEK.tolist()
    bad[3] = bad[3] + pd.Timedelta("5min")
    vals = np.full((1008, 1), 230.0)
    with pytest.raises(
        DataQualityError, match=r"time_utc\[3\] = 2025-06-01T21:35:00\+00:00 is off the 10min UTC"
    ):
        evaluate(vals, pd.DatetimeIndex(bad), "voltage_deviation", EN, timezone=MSK)
    dup = WEEK.tolist()
    dup[5] = dup[4]
    with pytest.raises(DataQualityError, match=r"time_utc\[5\] .* is not after time_utc\[4\]"):
        evaluate(vals, pd.DatetimeIndex(dup), "voltage_deviation", EN, timezone=MSK)
    with pytest.raises(InputError, match="must be tz-aware"):
        evaluate(vals, WEEK.tz_localize(None), "voltage_deviation", EN, timezone=MSK)
    with pytest.raises(InputError, match="unknown time zone 'Moscow'"):
        evaluate(vals, WEEK, "voltage_deviation", EN, timezone="Moscow")


def test_interval_end_labels() -> None:
    vals = column(230, {10: 190.0})[:, None]
    ends = evaluate(
        vals, WEEK + pd.Timedelta("10min"), "voltage_deviation", EN, timezone=MSK, time_label="end"
    )
    starts = evaluate(vals, WEEK, "voltage_deviation", EN, timezone=MSK)
    assert ends.worst_time_utc[0, 0] == starts.worst_time_utc[0, 0] == WEEK[10].to_datetime64()
    assert ends.n_valid.tolist() == starts.n_valid.tolist() == [[1008]]


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("values", "nominal", "unit"),
    [
        ([229.0, 231.0], 230.0, "V"),
        ([0.229, 0.231], 230.0, "kV"),
        ([0.98, 1.02], 230.0, "pu"),
        ([98.0, 101.0], 230.0, "percent"),
        ([398.0, 402.0], 230.0, "line_to_line_V"),
        ([229.0, 231.0], 400.0, "phase_to_neutral_V"),
        ([10.4, 10.6], 10_500.0, "kV"),
        ([57.0, 58.0], 57.7, "V"),  # VT secondary voltage, not percent
        ([5.0, 6.0], 230.0, "unknown"),
        ([np.nan], 230.0, "unknown"),
    ],
)
def test_infer_voltage_unit(values: list[float], nominal: float, unit: str) -> None:
    assert infer_voltage_unit(values, nominal) == unit


def test_wrong_units_are_refused_with_a_fix() -> None:
    vals = np.full((1008, 2), 230.0)
    with pytest.raises(InputError, match="look like kV: multiply them by 1000"):
        evaluate(vals / 1000, WEEK, "voltage_deviation", EN, timezone=MSK)
    with pytest.raises(InputError, match="look like per-unit"):
        evaluate(vals / 230, WEEK, "voltage_deviation", EN, timezone=MSK)
    with pytest.raises(InputError, match="line-to-line"):
        evaluate(vals * np.sqrt(3), WEEK, "voltage_deviation", EN, timezone=MSK)
    res = evaluate(
        vals / 1000, WEEK, "voltage_deviation", EN, timezone=MSK, nominal_v=0.23, check_units=False
    )
    assert res.verdict[0].tolist() == ["pass", "pass"]


# --------------------------------------------------------------------------- statistics


def test_percentiles_are_numpy_linear_on_valid_values() -> None:
    rng = np.random.default_rng(7)
    vals = 230 + rng.normal(0, 6, (1008, 3))
    vals[rng.random((1008, 3)) < 0.03] = np.nan
    flags = rng.random((1008, 3)) < 0.02
    res = evaluate(
        vals, WEEK, "voltage_deviation", EN, timezone=MSK, flags=flags, check_units=False
    )
    d = (vals - 230) / 230 * 100
    for j in range(3):
        valid = d[~np.isnan(d[:, j]) & ~flags[:, j], j]
        assert res.n_valid[0, j] == valid.size
        assert res.p95_value[0, j] == pytest.approx(np.percentile(valid, 95))
        assert res.p05_value[0, j] == pytest.approx(np.percentile(valid, 5))
        assert res.max_value[0, j] == pytest.approx(valid.max())
        assert res.n1[0, j] == np.count_nonzero(np.abs(valid) > 10)


def test_user_defined_limit_set_runs_through_the_same_evaluation(tmp_path: Path) -> None:
    data = yaml.safe_load(Path(get_limit_set(EN).path).read_text(encoding="utf-8"))
    data["id"] = "early warning +/-5 %"
    data["levels"]["LV"]["indicators"]["voltage_deviation"]["limits"] = [
        {"share_percent": 100, "lower": -5.0, "upper": 5.0}
    ]
    path = tmp_path / "warn.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    vals = np.column_stack([column(230, {1: 241.5}), column(230, {1: 241.6})])
    res = evaluate(vals, WEEK, "voltage_deviation", load_limit_set(path), timezone=MSK)
    assert res.verdict[0].tolist() == ["pass", "fail"]
    assert res.standard == "early warning +/-5 %"


# --------------------------------------------------------------------------- simulated


def day_15min() -> pd.DatetimeIndex:
    return pd.date_range("2025-06-02 21:00", periods=96, freq="15min", tz="UTC")


def test_simulated_voltage_share_out_of_band() -> None:
    t = day_15min()
    vm = np.ones((96, 3))
    vm[10:34, 1] = 0.88  # 24 of 96 steps below 0.9: 25 %
    vm[40:52, 2] = 1.12  # 12 steps above 1.1: 12.5 %
    vm[60:72, 2] = 0.95
    vm[80, 2] = 1.1  # at the band edge: inside
    res = evaluate_voltage_pu(vm, t, GOST, "LV", timezone=MSK, point_ids=["a", "b", "c"])
    assert res.step_s == 900.0
    assert (res.band_lower_pu, res.band_upper_pu) == pytest.approx((0.9, 1.1))
    assert res.n_steps_valid.tolist() == [96, 96, 96]
    assert res.share_out_of_band_percent.tolist() == [0.0, 25.0, 12.5]
    assert res.worst_vm_pu.tolist() == [1.0, 0.88, 1.12]
    assert res.worst_time_utc[1] == t[10].to_datetime64()
    assert res.worst_time_utc[2] == t[40].to_datetime64()
    assert "simulation steps" in res.basis
    assert "not IEC 61000-4-30" in res.basis
    assert res.weekly.basis == res.basis
    # one simulated day is not a week: no weekly verdict, but the counts are there
    assert res.weekly.n_expected.tolist() == [672]
    assert res.weekly.verdict[0].tolist() == ["insufficient data"] * 3
    assert res.weekly.n2[0].tolist() == [0, 24, 12]
    frame = res.to_frame()
    assert frame["share_out_of_band_percent"].tolist() == [0.0, 25.0, 12.5]


def test_simulated_week_verdict_matches_measured_rule() -> None:
    t = week_index("2025-06-02", MSK, step="15min")
    assert len(t) == 672
    vm = np.ones((672, 2))
    vm[:33, 0] = 0.89  # 33/672 = 4.9 % beyond +/-10 % (EN LV)
    vm[:34, 1] = 0.89  # 5.06 %
    res = evaluate_voltage_pu(vm, t, EN, "LV", timezone=MSK)
    assert res.weekly.n1[0].tolist() == [33, 34]
    assert res.weekly.verdict[0].tolist() == ["pass", "fail"]
    assert res.band_share_percent == 95.0
    gost = evaluate_voltage_pu(vm, t, GOST, "LV", timezone=MSK)
    assert gost.weekly.verdict[0].tolist() == ["fail", "fail"]
    assert any("estimated from simulated" in n for n in gost.notes)


def test_simulated_voltage_base_gaps_and_units() -> None:
    t = day_15min()
    vm = np.full((96, 1), 1.0)
    vm[5, 0] = 1.05
    vm[6, 0] = np.nan  # a failed power flow: a gap
    res = evaluate_voltage_pu(vm, t, GOST, timezone=MSK, u0_pu=0.95)  # 380 V on a 400 V base
    assert (res.band_lower_pu, res.band_upper_pu) == pytest.approx((0.855, 1.045))
    assert res.n_steps_valid.tolist() == [95]
    # 1.0 p.u. is +5.3 % of U0 (inside), 1.05 p.u. is +10.5 % (outside): 1 of 95 valid steps
    assert res.share_out_of_band_percent[0] == pytest.approx(100 / 95)
    assert (res.worst_vm_pu[0], res.worst_time_utc[0]) == (1.05, t[5].to_datetime64())
    with pytest.raises(InputError, match="look like percent: divide them by 100"):
        evaluate_voltage_pu(vm * 100, t, GOST, timezone=MSK)
    with pytest.raises(InputError, match="look like volts"):
        evaluate_voltage_pu(vm * 230, t, GOST, timezone=MSK)
    off = t.tolist()
    off[7] = off[7] + pd.Timedelta("5min")
    with pytest.raises(DataQualityError, match=r"time_utc\[7\] .* off the 0 days 00:15:00"):
        evaluate_voltage_pu(vm, pd.DatetimeIndex(off), GOST, timezone=MSK, step="15min")
    with pytest.raises(InputError, match=r"vm_pu has shape \(95, 1\)"):
        evaluate_voltage_pu(vm[:95], t, GOST, timezone=MSK)


def test_dataframe_columns_become_point_ids_and_notes_carry_the_edition() -> None:
    t = day_15min()
    frame = pd.DataFrame(np.ones((96, 2)), index=t, columns=["bus 7", "bus 9"])
    frame.iloc[3, 1] = 1.2
    res = evaluate_voltage_pu(frame, frame.index, GOST, timezone=MSK)
    assert res.point_ids == ("bus 7", "bus 9")
    assert res.to_frame().set_index("point_id")["worst_vm_pu"].to_dict() == {
        "bus 7": 1.0,
        "bus 9": 1.2,
    }
    assert any("Amendment No. 1" in n and "NOT been checked" in n for n in res.notes)
