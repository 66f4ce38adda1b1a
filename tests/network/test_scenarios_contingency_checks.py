"""Scenarios, N-1 with switching, hosting capacity and checks on small hand-built grids."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import NetworkModel, Profiles, from_net, simulate
from gridtwin.network.ageing import simulate_thermal, thermal_parameters
from gridtwin.network.checks import check, compare_checks
from gridtwin.network.contingency import GridLimits, contingency_analysis, hosting_capacity
from gridtwin.network.scenarios import (
    ElectrificationSpec,
    cooking_profile,
    electrify,
    simbench_pair,
)

STEP = "15min"


def _time(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2016-01-04", periods=n, freq=STEP, tz="UTC")


def ring(n_steps: int = 4, load_mw: float = 0.2) -> NetworkModel:
    """A 20 kV ring of six buses fed at bus 0, open between buses 3 and 4."""
    net = pp.create_empty_network(sn_mva=1.0)
    buses = [pp.create_bus(net, vn_kv=20.0, name=f"b{i}") for i in range(6)]
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)]
    lines = [
        pp.create_line_from_parameters(
            net,
            buses[a],
            buses[b],
            length_km=2.0,
            r_ohm_per_km=0.2,
            x_ohm_per_km=0.1,
            c_nf_per_km=0.0,
            max_i_ka=0.2,
            name=f"l{a}{b}",
        )
        for a, b in pairs
    ]
    pp.create_switch(net, buses[4], lines[3], et="l", closed=False, name="open point")
    for b in buses[1:]:
        pp.create_load(net, b, p_mw=load_mw, q_mvar=0.0)
    time = _time(n_steps)
    p = pd.DataFrame(load_mw, index=time, columns=net.load.index)
    prof = Profiles.from_frames(time, load_p_mw=p, load_q_mvar=0.0 * p)
    return from_net(net, prof, name="ring")


def test_contingency_on_a_ring_with_an_open_point() -> None:
    model = ring()
    frame = contingency_analysis(model, steps=[0, 1])
    first = frame[(frame["element"] == "line") & (frame["index"] == 0)].iloc[0]
    # line 0-1 out: buses 1, 2, 3 lose supply; closing the open point restores them
    assert first["loads_lost"] == 3
    assert first["restored_by_switch"] == 0
    assert first["loads_restored"] == 3
    assert first["loads_still_lost"] == 0
    assert bool(first["converged"])
    # the open line 3-4 itself: nobody is lost
    open_line = frame[(frame["element"] == "line") & (frame["index"] == 3)].iloc[0]
    assert open_line["loads_lost"] == 0
    # without restoration the loads stay lost
    frame = contingency_analysis(model, steps=[0], restore=False)
    assert frame.loc[frame["index"] == 0, "loads_still_lost"].iloc[0] == 3


def test_contingency_flags_new_overloads_after_restoration() -> None:
    model = ring(load_mw=1.6)  # 5 x 1.6 MW through one feeder end after a fault
    limits = GridLimits(line_loading_max_percent=100.0, vm_min_pu=0.5)
    frame = contingency_analysis(model, steps=[0], limits=limits)
    first = frame[(frame["element"] == "line") & (frame["index"] == 0)].iloc[0]
    assert first["loads_restored"] == 3
    assert any("line loading 5" in v for v in first["new_violations"])


def test_hosting_capacity_of_a_two_bus_grid_matches_the_line_rating() -> None:
    net = pp.create_empty_network()
    b0, b1 = pp.create_bus(net, 0.4), pp.create_bus(net, 0.4)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(
        net,
        b0,
        b1,
        length_km=0.01,
        r_ohm_per_km=0.1,
        x_ohm_per_km=0.05,
        c_nf_per_km=0.0,
        max_i_ka=0.1,
    )
    pp.create_load(net, b1, p_mw=0.0)
    time = _time(2)
    zero = pd.DataFrame(0.0, index=time, columns=net.load.index)
    model = from_net(net, Profiles.from_frames(time, load_p_mw=zero, load_q_mvar=zero))
    limits = GridLimits(vm_min_pu=0.5, vm_max_pu=1.5)
    hc = hosting_capacity(model, kind="pv", buses=[b1], steps=[0], limits=limits, tolerance_mw=1e-5)
    # 100 A at ~0.4 kV: P = sqrt(3) x 0.4 kV x 0.1 kA x vm ~= 69.3 kW (short line, vm ~ 1)
    expected = math.sqrt(3) * 0.4 * 0.1
    assert hc["hosting_mw"].iloc[0] == pytest.approx(expected, rel=0.01)
    assert "line loading" in hc["limiting"].iloc[0]


def test_checks_find_low_voltage_and_overload_and_age_the_transformer() -> None:
    net = pp.create_empty_network()
    mv, lv, far = pp.create_bus(net, 20.0), pp.create_bus(net, 0.4), pp.create_bus(net, 0.4)
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net,
        mv,
        lv,
        sn_mva=0.25,
        vn_hv_kv=20,
        vn_lv_kv=0.4,
        vk_percent=4,
        vkr_percent=1,
        pfe_kw=0.5,
        i0_percent=0.2,
        shift_degree=150,
    )
    pp.create_line_from_parameters(
        net,
        lv,
        far,
        length_km=0.8,
        r_ohm_per_km=0.32,
        x_ohm_per_km=0.08,
        c_nf_per_km=0.0,
        max_i_ka=0.15,
    )
    pp.create_load(net, far, p_mw=0.1)
    n = 7 * 96 * 2
    time = _time(n)
    shape = np.where((np.arange(n) % 96 >= 68) & (np.arange(n) % 96 < 88), 0.12, 0.01)
    p = pd.DataFrame({0: shape}, index=time)
    model = from_net(net, Profiles.from_frames(time, load_p_mw=p, load_q_mvar=0.2 * p))
    result = simulate(model)
    report = check(model, result, standard="EN 50160:2010")
    row = report.voltage.iloc[0]
    assert row["bus"] == far
    assert row["verdict"] == "fail"  # evening voltage far below the band every day
    share = float(np.mean(result.vm_pu[:, list(result.bus_ids).index(far)] < 0.9))
    assert row["share_out_of_band_percent"] == pytest.approx(100 * share, abs=1e-9)
    assert report.lines["status"].iloc[0] == "alarm"
    direct = simulate_thermal(
        result.trafo_loading_percent.T / 100.0,
        np.full((1, n), 20.0),
        thermal_parameters("distribution_onan"),
        time_utc=result.time_utc,
    )
    assert report.transformers["loss_of_life_h"].iloc[0] == pytest.approx(
        float(direct.loss_of_life_h[0])
    )
    assert report.violations()["customer_buses_failing"] == 1
    assert report.limiting_element().startswith(f"bus {far} at 0.6")  # 3x the 10 % band
    comparison = compare_checks(report, report)
    assert list(comparison["case"]) == ["before", "after"]


def test_cooking_profile_is_a_share_of_rated_power_at_meal_times() -> None:
    time = pd.date_range("2016-01-04", periods=96 * 28, freq=STEP, tz="UTC")
    shape = cooking_profile(time, np.random.default_rng(0), tz="UTC")
    assert shape.min() >= 0.0
    assert shape.max() <= 0.8
    hours = time.hour.to_numpy()
    assert shape[(hours >= 1) & (hours < 10)].max() == 0.0  # nobody cooks at night
    dinner_days = (shape.reshape(28, 96)[:, 70:82].max(axis=1) > 0).mean()
    assert 0.7 <= dinner_days <= 1.0


def test_electrify_adds_appliances_and_keeps_the_input() -> None:
    model = ring(n_steps=96)
    with pytest.raises(InputError, match=r"share=1\.5"):
        ElectrificationSpec(share=1.5)
    net = model.net
    net.load["profile"] = "H0-A"
    spec = ElectrificationSpec(share=0.6, heat_pump_share=1.0, ev_share=1.0, seed=3)
    new, change = electrify(model, spec)
    assert len(model.net.load) == 5
    assert set(change.added["kind"]) == {"stove", "heat_pump", "ev_charger"}
    assert change.added["of_load"].nunique() == 3  # 60 % of 5 households
    new_ids = change.added["index"].tolist()
    assert set(new_ids) <= set(new.profiles.load_p_mw.columns)
    rated = change.added.set_index("index")["rated_kw"] / 1000.0
    peaks = new.profiles.load_p_mw[new_ids].max()
    assert (peaks <= rated + 1e-12).all()
    assert spec.design_kw_range == (6.0, 12.7)
    assert simulate(new, steps=slice(0, 8)).converged.all()


def test_simbench_pair_parses_codes() -> None:
    with pytest.raises(InputError, match="not a SimBench code"):
        simbench_pair("my-grid")
