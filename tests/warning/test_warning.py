"""The early warning on a small LV feeder built here: the stress band against simulate,
the copula's marginals and dependence, the probabilities, the findings and the measures.

The feeder stands for SimBench's 1-LV-semiurb4--0-sw (the service's demo grid): a
20/0.4 kV transformer with an off-circuit tap changer on the HV side whose type is unset
(as in SimBench's pandapower nets), a radial 0.4 kV cable with households along it and
one rooftop PV unit, no normally-open switch.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.alarms import default_rules
from gridtwin.network import NetworkModel, Profiles, from_net, simulate
from gridtwin.warning import (
    NodalForecast,
    SamplingSpec,
    ScenarioEngine,
    WarningSpec,
    assess,
    band_setpoints,
    early_warning,
    findings,
    limits_of,
    propose_measures,
    quantile_power_flow,
    sample_scenarios,
)
from gridtwin.warning._qpf import _inverse
from gridtwin.workflows.live_alarms import element_infos

LEVELS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95)
T0 = pd.Timestamp("2016-03-02T00:00Z")


def feeder(n_loads: int = 6) -> NetworkModel:
    import pandapower as pp

    net = pp.create_empty_network(name="test feeder")
    mv = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    lv = pp.create_bus(net, 0.4)
    pp.create_transformer(net, mv, lv, std_type="0.4 MVA 20/0.4 kV")
    net.trafo["tap_changer_type"] = None
    prev = lv
    for k in range(n_loads):
        b = pp.create_bus(net, 0.4)
        pp.create_line(net, prev, b, length_km=0.08, std_type="NAYY 4x150 SE")
        pp.create_load(net, b, p_mw=0.01, q_mvar=0.002, name=f"house {k}")
        prev = b
    pp.create_sgen(net, prev, p_mw=0.03, sn_mva=0.03, name="pv")
    return from_net(net, name="test feeder")


def peak_forecast(model: NetworkModel, peak_kw: float, steps: int = 96) -> NodalForecast:
    """Every load: a daily shape with an evening peak of ``peak_kw`` at 19:00 (P50),
    spread widening with the level; PV: a midday bell of up to 25 kW."""
    hours = np.arange(steps) / 4.0
    shape = 0.3 + 0.7 * np.exp(-0.5 * ((hours - 19.0) / 1.5) ** 2)
    spread = np.array([0.7, 0.77, 0.87, 0.95, 1.0, 1.05, 1.13, 1.25, 1.35])
    n = len(model.net.load)
    p50 = np.repeat(shape[None, :], n, axis=0) * peak_kw / 1000.0
    load = p50[:, :, None] * spread[None, None, :]
    sun = np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0, None) * 0.025
    pv = sun[None, :, None] * np.linspace(0.4, 1.1, 9)[None, None, :]
    return NodalForecast(
        time_utc=pd.date_range(T0, periods=steps, freq="15min"),
        quantiles=LEVELS,
        load_ids=np.asarray(model.net.load.index, dtype=np.int64),
        load_p_mw=load,
        sgen_ids=np.asarray(model.net.sgen.index, dtype=np.int64),
        sgen_p_mw=pv,
    )


def test_the_band_is_the_same_as_simulate_of_its_setpoints() -> None:
    model = feeder()
    fc = peak_forecast(model, 40.0)
    band = quantile_power_flow(model, fc)
    lp, gp = band_setpoints(fc)
    rows = lp.shape[0] * lp.shape[1]
    axis = pd.date_range("2000-01-01", periods=rows, freq="15min", tz="UTC", name="time_utc")
    net = model.net
    load_p = pd.DataFrame(lp.reshape(rows, -1), index=axis, columns=net.load.index)
    sgen_p = pd.DataFrame(gp.reshape(rows, -1), index=axis, columns=net.sgen.index)
    empty = pd.DataFrame(index=axis)
    prof = Profiles(
        time_utc=axis,
        load_p_mw=load_p,
        load_q_mvar=load_p * 0.2,
        sgen_p_mw=sgen_p,
        sgen_q_mvar=sgen_p * 0.0,
        storage_p_mw=empty,
        storage_q_mvar=empty,
        gen_p_mw=empty,
    )
    ref = simulate(model, prof)
    assert band.vm_pu.shape == (9, 96, len(net.bus))
    np.testing.assert_allclose(band.vm_pu.reshape(rows, -1), ref.vm_pu, atol=1e-9)
    np.testing.assert_allclose(
        band.line_loading_percent.reshape(rows, -1), ref.line_loading_percent, atol=1e-7
    )
    # loads high with PV low is the low-voltage end of the band, at every step
    assert (band.vm_pu[-1].min(axis=1) <= band.vm_pu[0].min(axis=1) + 1e-12).all()
    # a second batch on the same engine gives the same answer (set-points rewritten in place)
    engine = ScenarioEngine(model, fc, 9)
    again = [quantile_power_flow(model, fc, engine=engine).vm_pu for _ in range(2)]
    np.testing.assert_array_equal(again[0], again[1])
    np.testing.assert_allclose(again[0], band.vm_pu, atol=1e-12)


def test_the_quantile_function_hits_the_levels_and_extrapolates() -> None:
    levels = np.asarray(LEVELS)
    values = np.array([[[1, 2, 3, 4, 5, 6, 7, 8, 9]]], dtype=float)  # (1, 1, Q)
    u = levels[None, None, :]
    got = _inverse(levels, values, u.reshape(1, 1, -1)[:, :, :].transpose(0, 1, 2)[:, :, :1])
    assert got.shape == (1, 1, 1)
    for q, v in zip(LEVELS, values[0, 0], strict=True):
        assert _inverse(levels, values, np.full((1, 1, 1), q))[0, 0, 0] == pytest.approx(v)
    # between 0.5 and 0.65 linearly; beyond 0.95 on the outer pair's slope (0.05 -> 1)
    assert _inverse(levels, values, np.full((1, 1, 1), 0.575))[0, 0, 0] == pytest.approx(5.5)
    assert _inverse(levels, values, np.full((1, 1, 1), 0.995))[0, 0, 0] == pytest.approx(9.9)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_the_samples_keep_each_loads_quantiles(rho: float) -> None:
    fc = peak_forecast(feeder(), 40.0, steps=8)
    load, _ = sample_scenarios(fc, SamplingSpec(n_samples=4000, rho_load=rho, seed=3))
    for k, q in enumerate(LEVELS):
        below = (load < fc.load_p_mw[:, :, k].T[None, :, :]).mean()
        assert below == pytest.approx(q, abs=0.03), (rho, q, below)
    corr = np.corrcoef(load[:, 0, 0], load[:, 0, 1])[0, 1]
    if rho == 0.0:
        assert abs(corr) < 0.1
    elif rho == 1.0:
        assert corr > 0.99
    else:
        assert 0.3 < corr < 0.7


def test_the_band_bounds_the_sampled_voltages_and_equals_them_when_comonotone() -> None:
    from gridtwin.warning import sampled_power_flow

    model = feeder()
    fc = peak_forecast(model, 40.0)
    band = quantile_power_flow(model, fc)
    step = 76  # 19:00, no sun
    lowest_band = np.nanmin(band.vm_pu[-1, step])  # every load at its 0.95 quantile
    engine = ScenarioEngine(model, fc, 3000)
    spreads = {}
    for rho in (0.0, 0.5, 1.0):
        sp = SamplingSpec(n_samples=3000, rho_load=rho, seed=1)
        sampled = sampled_power_flow(model, fc, sp, steps=np.array([step]), engine=engine)
        vmin = np.nanmin(sampled.vm_pu[:, 0], axis=1)
        spreads[rho] = float(np.quantile(vmin, 0.95) - np.quantile(vmin, 0.05))
        if rho == 1.0:  # comonotone: the band's scenario is the voltage's 5 % quantile
            assert np.quantile(vmin, 0.05) == pytest.approx(lowest_band, abs=2e-3)
        else:  # less dependence: fewer samples below the band's low end
            assert (vmin < lowest_band).mean() < 0.05
    # weaker dependence, narrower spread: the band is the wide (bounding) end
    assert spreads[0.0] < spreads[0.5] < spreads[1.0]


def test_an_evening_peak_below_the_band_is_found_and_a_tap_removes_it() -> None:
    model = feeder()
    rules = default_rules("EN 50160:2010")
    fc = peak_forecast(model, 38.0)
    sp = SamplingSpec(n_samples=200, seed=0)
    band = quantile_power_flow(model, fc)
    lim = limits_of(rules, band, element_infos(model, "EN 50160:2010"))
    base = assess(model, fc, lim, sp, band_flow=band)
    issue = T0 - pd.Timedelta(hours=18)
    found = findings(rules, lim, base.probability, base.median, base.band, fc.time_utc, issue, 0.2)
    low = [f for f in found if f.rule_id == "customer-voltage-low-lv"]
    assert low, "the evening peak must break the lower band"
    far = max(low, key=lambda f: int(f.element.split(":")[1]))
    assert 0.2 <= far.probability <= 1.0
    assert far.first_utc.hour in range(16, 20)
    assert far.peak_utc.hour in range(17, 21)
    assert far.lead_time_s == (far.first_utc - issue).total_seconds() > 0
    assert far.band_value < far.limit  # the stress band is beyond it too
    alarm = far.potential_alarm()
    assert (alarm.probability, alarm.source) == (far.probability, "forecast")
    assert alarm.instance_id == f"customer-voltage-low-lv@{far.element}"
    measures = propose_measures(model, fc, base, found, lim, sp, 0.2)
    kinds = {m.kind for m in measures}
    assert {"tap", "curtail_pv", "q_u"} <= kinds
    best = measures[0]
    assert best.kind == "tap", best
    assert best.settings["tap_pos"] < 0
    assert f"customer-voltage-low-lv@{far.element}" in best.findings_removed
    assert best.removed > 0
    assert best.cost_eur > 0
    # the wrong way round makes it worse: checked, not assumed
    up = [m for m in measures if m.kind == "tap" and m.settings["tap_pos"] > 0]
    assert up
    assert all(m.removed == 0 for m in up)


def test_a_quiet_day_has_no_finding_and_no_measure() -> None:
    model = feeder()
    fc = peak_forecast(model, 5.0)
    rules = default_rules("EN 50160:2010")
    band = quantile_power_flow(model, fc)
    lim = limits_of(rules, band, element_infos(model, "EN 50160:2010"))
    base = assess(model, fc, lim, SamplingSpec(n_samples=50), band_flow=band)
    assert base.sampled_steps.size == 0
    assert base.sampled_flow is None
    issue = T0 - pd.Timedelta(hours=18)
    assert (
        findings(rules, lim, base.probability, base.median, base.band, fc.time_utc, issue, 0.2)
        == []
    )


def history(model: NetworkModel, days: int, peak_kw: float) -> Profiles:
    """``days`` of 15-min history: the forecast's P50 shape with day-to-day noise."""
    steps = days * 96
    axis = pd.date_range(
        T0 - pd.Timedelta(days=days - 2), periods=steps, freq="15min", name="time_utc"
    )
    hours = (np.arange(steps) % 96) / 4.0
    rng = np.random.default_rng(5)
    shape = 0.3 + 0.7 * np.exp(-0.5 * ((hours - 19.0) / 1.5) ** 2)
    n = len(model.net.load)
    p = shape[:, None] * peak_kw / 1000.0 * rng.lognormal(0.0, 0.15, (steps, n))
    load = pd.DataFrame(p, index=axis, columns=model.net.load.index)
    sun = np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0, None) * 0.025
    sgen = pd.DataFrame(
        sun[:, None] * rng.uniform(0.3, 1.0, (steps, 1)), index=axis, columns=model.net.sgen.index
    )
    empty = pd.DataFrame(index=axis)
    return Profiles(
        time_utc=axis,
        load_p_mw=load,
        load_q_mvar=load * 0.2,
        sgen_p_mw=sgen,
        sgen_q_mvar=sgen * 0.0,
        storage_p_mw=empty,
        storage_q_mvar=empty,
        gen_p_mw=empty,
    )


def test_early_warning_from_history_end_to_end() -> None:
    model = feeder()
    prof = history(model, 40, 45.0)
    spec = WarningSpec(
        method="weekly_naive",
        history_days=30,
        standard="EN 50160:2010",
        sampling=SamplingSpec(n_samples=100),
    )
    report = early_warning(model, dt.date(2016, 3, 2), spec, profiles=prof)
    assert report.time_utc[0] == T0
    assert len(report.time_utc) == 96
    assert report.issue_utc == pd.Timestamp("2016-03-01T06:00Z")
    low = [f for f in report.findings if f.rule_id == "customer-voltage-low-lv"]
    assert low
    m = report.measure_for(low[-1])
    assert m is not None
    assert m.kind == "tap"
    body = report.to_dict()
    assert (
        body["findings"][0]["measure"] is not None
        or body["findings"][0]["rule_id"] != "customer-voltage-low-lv"
    )
    assert "load transfer not checked: the net has no normally-open switch" in report.notes
    assert len(report.potential_alarms()) == len(report.findings)
    assert report.timings_s["total"] > 0


def test_bad_settings_name_the_field() -> None:
    from gridtwin.errors import InputError

    with pytest.raises(InputError, match="threshold"):
        WarningSpec(threshold=0.01)
    with pytest.raises(InputError, match="rho_load"):
        SamplingSpec(rho_load=1.5)
    model = feeder()
    with pytest.raises(InputError, match="history"):
        early_warning(
            model,
            dt.date(2016, 3, 2),
            WarningSpec(method="weekly_naive"),
            profiles=history(model, 20, 10.0),
        )
