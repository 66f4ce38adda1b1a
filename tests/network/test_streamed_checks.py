"""Checks from streaming statistics: ``check(model, simulate(..., keep="summary",
statistics=check_statistics_spec(...)))`` gives the customer-voltage verdicts, shares out of
band and worst voltages of the full-result check (the weekly counts are accumulated while
simulating and judged by the same count-to-verdict code), the same line and transformer
tables where the statistics hold what they need, and says in the notes what is missing."""

from __future__ import annotations

import functools

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import (
    KeepSummary,
    NetworkModel,
    PowerFlowOptions,
    PowerFlowResult,
    PowerFlowStatistics,
    Profiles,
    StatisticsSpec,
    from_net,
    simulate,
)
from gridtwin.network._results import StatisticsAccumulator
from gridtwin.network.checks import (
    CheckReport,
    Standard,
    VoltageCheckSpec,
    check,
    check_statistics_spec,
    voltage_check_spec,
)
from gridtwin.quality import (
    SimulatedVoltageCounter,
    evaluate_voltage_counts,
    evaluate_voltage_pu,
)
from tests.network.util import LV_CODE, feature_net, feature_profiles, simbench_model

GOST: Standard = "GOST 32144-2013"
EN: Standard = "EN 50160:2010"
TZ = "Europe/Berlin"
#: three weeks from Friday 2016-01-01: partial first and last weeks, two whole weeks
STEPS = slice(0, 3 * 672)
#: 2016-03-14 .. 2016-04-03 (UTC): the week of 2016-03-21 lasts 167 h in Berlin
DST_STEPS = slice(7008, 7008 + 3 * 672)
#: load scaling that makes some customers fail both standards and overloads some cables
FACTOR = 8.0
#: worst voltages: the two runs solve the same steps, so they agree to round-off at most
VM_ATOL = 1e-12


def _lv() -> NetworkModel:
    return simbench_model(LV_CODE)


@functools.lru_cache(maxsize=2)
def _scaled(factor: float) -> Profiles:
    prof = _lv().profiles
    assert prof is not None
    return prof.replace(load_p_mw=prof.load_p_mw * factor, load_q_mvar=prof.load_q_mvar * factor)


@functools.lru_cache(maxsize=4)
def _full(steps: tuple[int, int]) -> PowerFlowResult:
    return simulate(_lv(), _scaled(FACTOR), steps=slice(*steps))


def _streamed(steps: slice, spec: StatisticsSpec) -> PowerFlowStatistics:
    return simulate(
        _lv(),
        _scaled(FACTOR),
        steps=steps,
        options=PowerFlowOptions(chunk_steps=500),
        keep=KeepSummary(statistics=spec),
    )


def _assert_voltage_equal(full: CheckReport, streamed: CheckReport) -> None:
    a, b = full.voltage, streamed.voltage
    assert list(a.columns) == list(b.columns)
    exact = [c for c in a.columns if c != "worst_vm_pu"]
    pd.testing.assert_frame_equal(a[exact], b[exact], check_exact=True)
    np.testing.assert_allclose(b["worst_vm_pu"], a["worst_vm_pu"], rtol=0, atol=VM_ATOL)
    pd.testing.assert_frame_equal(
        full.feeders.drop(columns="worst_vm_pu"),
        streamed.feeders.drop(columns="worst_vm_pu"),
        check_exact=True,
    )


def _assert_lines_equal(full: CheckReport, streamed: CheckReport) -> None:
    a, b = full.lines, streamed.lines
    assert list(a.columns) == list(b.columns)
    exact = [c for c in a.columns if c != "max_loading_ratio"]
    pd.testing.assert_frame_equal(a[exact], b[exact], check_exact=True)
    np.testing.assert_allclose(b["max_loading_ratio"], a["max_loading_ratio"], rtol=1e-12)


def _assert_trafos_equal(full: CheckReport, streamed: CheckReport) -> None:
    pd.testing.assert_frame_equal(full.transformers, streamed.transformers, rtol=1e-12)


@pytest.mark.parametrize("standard", [GOST, EN])
def test_streamed_check_equals_the_full_check(standard: Standard) -> None:
    model = _lv()
    full = _full((STEPS.start, STEPS.stop))
    spec = check_statistics_spec(model, standard=standard, timezone=TZ)
    stats = _streamed(STEPS, spec)
    ref = check(model, full, standard=standard, timezone=TZ)
    got = check(model, stats, standard=standard, timezone=TZ)
    # the scaled load exercises every verdict: some customers fail, others pass
    assert {"pass", "fail"} <= set(ref.voltage["verdict"])
    assert set(ref.lines["status"]) == {"ok", "warning", "alarm"}
    _assert_voltage_equal(ref, got)
    _assert_lines_equal(ref, got)
    _assert_trafos_equal(ref, got)
    assert got.violations() == ref.violations()
    assert got.limiting_element() == ref.limiting_element()
    # memory: weekly counts per customer, never T x n (4 local weeks over 3 x 672 steps)
    n_customers = len(ref.voltage)
    assert [c.n_valid.shape for c in stats.voltage_counts] == [(4, n_customers)]
    assert "weekly p95/p05 values are not available from step counts" in " ".join(got.notes)
    # the statistics of a full result carry the same counts
    again = check(model, full.statistics(spec), standard=standard, timezone=TZ)
    _assert_voltage_equal(ref, again)
    _assert_lines_equal(ref, again)


def test_streamed_weekly_counts_across_a_dst_week() -> None:
    model = _lv()
    spec = check_statistics_spec(model, standard=EN, timezone=TZ)
    stats = _streamed(DST_STEPS, spec)
    full = _full((DST_STEPS.start, DST_STEPS.stop))
    ref = check(model, full, standard=EN, timezone=TZ)
    got = check(model, stats, standard=EN, timezone=TZ)
    _assert_voltage_equal(ref, got)
    _assert_lines_equal(ref, got)
    _assert_trafos_equal(ref, got)
    # the weekly evaluation itself, week by week, against the full-array evaluation
    (counts,) = stats.voltage_counts
    assert counts.voltage_level == "LV"
    streamed = evaluate_voltage_counts(counts, step=stats.step_duration)
    cols = [list(full.bus_ids).index(int(b)) for b in counts.point_ids]
    direct = evaluate_voltage_pu(
        full.vm_pu[:, cols],
        full.time_utc,
        EN,
        "LV",
        timezone=TZ,
        point_ids=counts.point_ids,
        step=full.step_duration,
        u0_pu=counts.u0_pu,
    )
    drop = ["p95_percent", "p05_percent"]
    weekly = streamed.weekly.to_frame()
    pd.testing.assert_frame_equal(
        weekly.drop(columns=drop), direct.weekly.to_frame().drop(columns=drop)
    )
    pd.testing.assert_frame_equal(streamed.to_frame(), direct.to_frame())
    # Monday 2016-03-21 00:00 CET .. Monday 2016-03-28 00:00 CEST: 167 h = 668 steps
    hours = (streamed.weekly.period_end_utc - streamed.weekly.period_start_utc) / pd.Timedelta("1h")
    assert hours.tolist() == [168.0, 167.0, 168.0, 168.0]
    assert streamed.weekly.n_expected.tolist() == [672, 668, 672, 672]
    assert (streamed.weekly.n_valid[1] == 668).all()
    assert streamed.weekly.period_start_utc[1] == pd.Timestamp("2016-03-20 23:00", tz="UTC")
    assert {"pass", "fail", "insufficient data"} <= set(weekly["verdict"])
    assert "fail" in set(streamed.weekly.verdict[1])  # the DST week itself has a failure


def _feature_model_with_mv_customer() -> NetworkModel:
    net = feature_net()
    pp.create_load(net, 0, p_mw=0.05, q_mvar=0.01)  # a 20 kV customer
    return from_net(net, feature_profiles(net, n_steps=96 * 9, seed=3), name="feature-mv")


def test_unbalanced_streamed_check_with_lv_and_mv_customers() -> None:
    model = _feature_model_with_mv_customer()
    phases = {0: "a", 1: "b"}
    full = simulate(
        model,
        options=PowerFlowOptions(symmetric=False, zero_sequence="lv_cable_4x", load_phases=phases),
    )
    for standard in (GOST, EN):
        spec = check_statistics_spec(model, standard=standard, timezone="Europe/Moscow")
        stats = simulate(
            model,
            options=PowerFlowOptions(
                chunk_steps=100, symmetric=False, zero_sequence="lv_cable_4x", load_phases=phases
            ),
            keep=KeepSummary(statistics=spec),
        )
        ref = check(model, full, standard=standard, timezone="Europe/Moscow")
        got = check(model, stats, standard=standard, timezone="Europe/Moscow")
        assert set(ref.voltage["voltage_level"]) == {"LV", "MV"}
        assert [c.voltage_level for c in stats.voltage_counts] == ["LV", "MV"]
        _assert_voltage_equal(ref, got)
        _assert_lines_equal(ref, got)
        _assert_trafos_equal(ref, got)


def test_statistics_without_voltage_counts_are_refused_with_the_field_to_set() -> None:
    model = _lv()
    plain = _streamed(slice(0, 8), StatisticsSpec())
    with pytest.raises(
        InputError, match=r"StatisticsSpec\.voltage_check is None.*check_statistics"
    ):
        check(model, plain, standard=GOST, timezone=TZ)
    counted = _streamed(slice(0, 8), check_statistics_spec(model, standard=GOST, timezone=TZ))
    with pytest.raises(InputError, match=r"counted customer voltages for GOST 32144-2013"):
        check(model, counted, standard=EN, timezone=TZ)
    with pytest.raises(InputError, match=r"with weeks in Europe/Berlin, not .* in UTC"):
        check(model, counted, standard=GOST, timezone="UTC")
    # a spec for other buses than the model's customers
    other = VoltageCheckSpec(GOST, TZ, (1, 2), ("LV", "LV"), (0.95, 0.95))
    odd = _streamed(slice(0, 8), StatisticsSpec(voltage_check=other))
    with pytest.raises(InputError, match=r"does not cover the LV customer buses"):
        check(model, odd, standard=GOST, timezone=TZ)


def test_what_statistics_cannot_reproduce_is_nan_and_stated_in_the_notes() -> None:
    model = _lv()
    full = _full((STEPS.start, STEPS.stop))
    # default loading limits (100 % only), no transformer series, one given cable rating
    spec = StatisticsSpec(
        voltage_check=voltage_check_spec(model, standard=GOST, timezone=TZ), trafo_series=False
    )
    stats = _streamed(STEPS, spec)
    given_line = int(full.line_ids[0])
    ratings = {given_line: 150.0}
    ref = check(model, full, standard=GOST, timezone=TZ, cable_ratings_a=ratings)
    got = check(model, stats, standard=GOST, timezone=TZ, cable_ratings_a=ratings)
    _assert_voltage_equal(ref, got)
    a, b = ref.lines.set_index("line"), got.lines.set_index("line")
    np.testing.assert_allclose(b["max_loading_ratio"], a["max_loading_ratio"], rtol=1e-12)
    assert b["status"].tolist() == a["status"].tolist()
    assert b["hours_above_warn"].isna().all()  # 90 % was not counted
    own = b.index != given_line
    assert b.loc[own, "hours_above_limit"].tolist() == a.loc[own, "hours_above_limit"].tolist()
    assert b.loc[own, "first_above_limit_utc"].equals(a.loc[own, "first_above_limit_utc"])
    assert pd.isna(b.loc[given_line, "hours_above_limit"])
    assert pd.isna(b.loc[given_line, "first_above_limit_utc"])
    assert (a["hours_above_limit"] > 0).any()  # the comparison is not vacuous
    np.testing.assert_allclose(
        got.transformers["max_loading_percent"], ref.transformers["max_loading_percent"]
    )
    assert got.transformers["loss_of_life_h"].isna().all()
    notes = " ".join(got.notes)
    assert "loading_limits_percent lacks 90 % (warn_ratio)" in notes
    assert "1 line(s) with a given rating" in notes
    assert "StatisticsSpec.trafo_series=False" in notes


def test_voltage_check_spec_is_validated() -> None:
    with pytest.raises(InputError, match="unknown standard"):
        VoltageCheckSpec("IEC 99", TZ, (1,), ("LV",), (1.0,))
    with pytest.raises(InputError, match="unknown time zone"):
        VoltageCheckSpec(GOST, "Mars/Olympus", (1,), ("LV",), (1.0,))
    with pytest.raises(InputError, match="one of each per bus"):
        VoltageCheckSpec(GOST, TZ, (1, 2), ("LV",), (1.0,))
    with pytest.raises(InputError, match="unique"):
        VoltageCheckSpec(GOST, TZ, (1, 1), ("LV", "LV"), (1.0, 1.0))
    with pytest.raises(InputError, match="'LV' or 'MV'"):
        VoltageCheckSpec(GOST, TZ, (1,), ("HV",), (1.0,))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="positive"):
        VoltageCheckSpec(GOST, TZ, (1,), ("LV",), (0.0,))
    with pytest.raises(InputError, match="must be a VoltageCheckSpec"):
        StatisticsSpec(voltage_check="GOST")  # type: ignore[arg-type]
    spec = VoltageCheckSpec(GOST, TZ, (3, 1, 2), ("LV", "MV", "LV"), (0.95, 1.0, 0.95))
    assert spec.groups() == (("LV", 0.95, (3, 2)), ("MV", 1.0, (1,)))
    ids = {k: np.arange(3) for k in ("bus_ids", "line_ids", "trafo_ids", "ext_grid_ids")}
    with pytest.raises(InputError, match="pass time_utc="):
        StatisticsAccumulator(StatisticsSpec(voltage_check=spec), ids, True, 4)
    unknown = VoltageCheckSpec(GOST, TZ, (7,), ("LV",), (0.95,))
    t = pd.date_range("2016-01-01", periods=4, freq="15min", tz="UTC")
    with pytest.raises(InputError, match=r"bus id\(s\) \[7\] are not buses"):
        StatisticsAccumulator(StatisticsSpec(voltage_check=unknown), ids, True, 4, time_utc=t)
    with pytest.raises(InputError, match="warn_ratio"):
        check_statistics_spec(_lv(), warn_ratio=1.5)
    assert check_statistics_spec(_lv(), warn_ratio=0.8).loading_limits_percent == (80.0, 100.0)


# --------------------------------------------------------------- the shared quality rule


def test_weekly_counts_give_the_verdicts_of_the_full_evaluation() -> None:
    # two whole weeks from Monday 2025-06-02 00:00 Moscow time, 15-min steps
    t = pd.date_range("2025-06-01 21:00", periods=2 * 672, freq="15min", tz="UTC")
    vm = np.ones((len(t), 4))
    vm[:33, 1] = 0.89  # week 1: 33 / 672 = 4.91 % beyond +/-10 %
    vm[:34, 2] = 0.89  # week 1: 34 / 672 = 5.06 %
    vm[700, 3] = 0.84  # week 2: one step below -15 % (EN 100 % band)
    vm[672:772, 0] = np.nan  # week 2: 572 / 672 = 85 % valid < 90 %
    ids = ["a", "b", "c", "d"]
    expected = {
        EN: [["pass", "pass", "fail", "pass"], ["insufficient data", "pass", "pass", "fail"]],
        GOST: [["pass", "fail", "fail", "pass"], ["insufficient data", "pass", "pass", "fail"]],
    }
    for standard, verdicts in expected.items():
        counter = SimulatedVoltageCounter(
            t, standard, "LV", timezone="Europe/Moscow", point_ids=ids
        )
        for start in range(0, len(t), 250):
            counter.add(start, vm[start : start + 250])
        counts = counter.counts()
        assert counts.n_valid.tolist() == [[672] * 4, [572, 672, 672, 672]]
        n_beyond_10 = [[0, 33, 34, 0], [0, 0, 0, 1]]
        assert counts.n1.tolist() == (n_beyond_10 if standard == EN else [[0] * 4] * 2)
        assert counts.n2.tolist() == ([[0] * 4, [0, 0, 0, 1]] if standard == EN else n_beyond_10)
        ev = evaluate_voltage_counts(counts)
        assert ev.weekly.verdict.tolist() == verdicts
        assert ev.weekly.n_expected.tolist() == [672, 672]
        np.testing.assert_allclose(
            ev.share_out_of_band_percent, [0.0, 3300 / 1344, 3400 / 1344, 100 / 1344]
        )
        assert ev.worst_vm_pu.tolist() == [1.0, 0.89, 0.89, 0.84]
        assert ev.worst_time_utc.tolist() == [t[0].value, t[0].value, t[0].value, t[700].value]
        assert np.isnan(ev.weekly.p95_value).all()
        # the full-array evaluation runs through the same counting and verdict code
        full = evaluate_voltage_pu(vm, t, standard, "LV", timezone="Europe/Moscow", point_ids=ids)
        drop = ["p95_percent", "p05_percent"]
        pd.testing.assert_frame_equal(
            ev.weekly.to_frame().drop(columns=drop), full.weekly.to_frame().drop(columns=drop)
        )
        pd.testing.assert_frame_equal(ev.to_frame(), full.to_frame())
    # blocks in time order only, with the counter's columns
    counter = SimulatedVoltageCounter(t, EN, "LV", timezone="Europe/Moscow", point_ids=ids)
    counter.add(10, vm[10:20])
    with pytest.raises(InputError, match="time order"):
        counter.add(0, vm[:5])
    with pytest.raises(InputError, match="4 points"):
        counter.add(20, vm[20:30, :2])
    # steps never added are missing: the week has too few valid steps for a verdict
    assert set(evaluate_voltage_counts(counter.counts()).weekly.verdict.ravel()) == {
        "insufficient data"
    }
