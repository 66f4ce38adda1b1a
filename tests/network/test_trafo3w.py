"""Three-winding transformers (pandapower ``trafo3w``) in the balanced fixed-point time
series: agreement with pandapower, statistics, Parquet, validation, checks, N-1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import (
    Controls,
    KeepSummary,
    NetworkModel,
    PowerFlowOptions,
    PowerFlowResult,
    Profiles,
    StatisticsSpec,
    TapControl,
    from_net,
    read_parquet,
    simulate,
    validate,
)
from gridtwin.network.checks import check, check_statistics_spec
from gridtwin.network.contingency import GridLimits, contingency_analysis
from tests.network.util import feature_model, hours, pandapower_step

#: Largest allowed difference to pandapower (pu, degree, kA, %, MW, Mvar).
ATOL = 1e-8
N_STEPS = 6
T3_FIELDS = (
    "trafo3w_i_hv_ka",
    "trafo3w_i_mv_ka",
    "trafo3w_i_lv_ka",
    "trafo3w_loading_percent",
)


def trafo3w_net() -> Any:
    """110 kV slack, a 110/20/10 kV three-winding transformer (HV tap off neutral, LV
    winding shifted 150°), loads on both MV sides (one behind a 20 kV cable, one behind a
    10 kV cable with PV), and a 0.4 kV feeder behind a 20/0.4 kV transformer."""
    net = pp.create_empty_network(f_hz=50.0)
    hv = pp.create_bus(net, vn_kv=110.0, name="110 kV")
    mv = pp.create_bus(net, vn_kv=20.0, name="20 kV")
    lv = pp.create_bus(net, vn_kv=10.0, name="10 kV")
    mv2 = pp.create_bus(net, vn_kv=20.0, name="20 kV feeder end")
    lv2 = pp.create_bus(net, vn_kv=10.0, name="10 kV feeder end")
    sub = pp.create_bus(net, vn_kv=0.4, name="0.4 kV busbar")
    house = pp.create_bus(net, vn_kv=0.4, name="0.4 kV feeder end")
    pp.create_ext_grid(net, hv, vm_pu=1.01, va_degree=2.0)
    pp.create_transformer3w_from_parameters(
        net,
        hv,
        mv,
        lv,
        vn_hv_kv=110.0,
        vn_mv_kv=20.5,
        vn_lv_kv=10.2,
        sn_hv_mva=40.0,
        sn_mv_mva=25.0,
        sn_lv_mva=20.0,
        vk_hv_percent=10.5,
        vk_mv_percent=7.0,
        vk_lv_percent=12.0,
        vkr_hv_percent=0.4,
        vkr_mv_percent=0.35,
        vkr_lv_percent=0.45,
        pfe_kw=30.0,
        i0_percent=0.2,
        shift_mv_degree=0.0,
        shift_lv_degree=150.0,
        tap_side="hv",
        tap_neutral=0,
        tap_min=-9,
        tap_max=9,
        tap_step_percent=1.5,
        tap_pos=2,
        tap_changer_type="Ratio",
        name="T3",
    )
    pp.create_line_from_parameters(net, mv, mv2, 3.0, 0.16, 0.12, 280.0, 0.4)
    pp.create_line_from_parameters(net, lv, lv2, 2.0, 0.2, 0.1, 300.0, 0.45)
    pp.create_transformer_from_parameters(
        net,
        mv2,
        sub,
        sn_mva=0.63,
        vn_hv_kv=20.0,
        vn_lv_kv=0.4,
        vkr_percent=1.1,
        vk_percent=6.0,
        pfe_kw=1.0,
        i0_percent=0.25,
        shift_degree=150.0,
        vector_group="Dyn5",
    )
    pp.create_line_from_parameters(net, sub, house, 0.2, 0.2, 0.08, 250.0, 0.27)
    pp.create_load(net, mv2, p_mw=8.0, q_mvar=2.0)
    pp.create_load(net, mv, p_mw=5.0, q_mvar=1.5)
    pp.create_load(net, lv2, p_mw=4.0, q_mvar=1.5)
    pp.create_load(net, house, p_mw=0.1, q_mvar=0.03)
    pp.create_sgen(net, lv2, p_mw=1.0, q_mvar=0.0)
    return net


def trafo3w_profiles(net: Any, n_steps: int = N_STEPS, seed: int = 3) -> Profiles:
    rng = np.random.default_rng(seed)
    idx = hours(n_steps)
    loads = net.load.index
    factor = rng.uniform(0.4, 1.6, (n_steps, len(loads)))
    return Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame(factor * net.load.p_mw.to_numpy(), index=idx, columns=loads),
        load_q_mvar=pd.DataFrame(factor * net.load.q_mvar.to_numpy(), index=idx, columns=loads),
        sgen_p_mw=pd.DataFrame(
            rng.uniform(0.0, 3.0, (n_steps, len(net.sgen))), index=idx, columns=net.sgen.index
        ),
        sgen_q_mvar=pd.DataFrame(
            np.zeros((n_steps, len(net.sgen))), index=idx, columns=net.sgen.index
        ),
    )


def trafo3w_model(change: Callable[[Any], None] | None = None) -> NetworkModel:
    net = trafo3w_net()
    if change is not None:
        change(net)
    return from_net(net, trafo3w_profiles(net), name="trafo3w")


def _lv_tap_loss_mv(net: Any) -> None:
    net.trafo3w.loc[0, ["tap_side", "tap_pos"]] = ["lv", -3]
    net.trafo3w["loss_side"] = "mv"


def _parallel_open_and_out_of_service(net: Any) -> None:
    """A second unit in parallel, open at its LV terminal; a third out of service."""
    pp.create_transformer3w(net, 0, 1, 2, std_type="63/25/38 MVA 110/20/10 kV", name="T3b")
    pp.create_switch(net, 2, 1, et="t3", closed=False)
    pp.create_transformer3w(
        net, 0, 1, 2, std_type="63/25/38 MVA 110/20/10 kV", in_service=False, name="spare"
    )


VARIANTS: dict[str, Callable[[Any], None] | None] = {
    "hv_tap": None,
    "lv_tap_loss_mv": _lv_tap_loss_mv,
    "parallel_open_oos": _parallel_open_and_out_of_service,
}


def _differences(model: NetworkModel, res: PowerFlowResult) -> dict[str, float]:
    """Largest absolute difference of every compared quantity to pandapower's runpp."""
    prof = model.profiles
    assert prof is not None
    worst: dict[str, float] = {}
    for t in range(res.n_steps):
        ref = pandapower_step(model, prof, t, tolerance_mva=1e-12)
        r3 = ref.res_trafo3w.reindex(res.trafo3w_ids)
        pairs = {
            "vm_pu": (res.vm_pu[t], ref.res_bus.vm_pu.reindex(res.bus_ids)),
            "va_degree": (res.va_degree[t], ref.res_bus.va_degree.reindex(res.bus_ids)),
            "trafo3w_i_hv_ka": (res.trafo3w_i_hv_ka[t], r3.i_hv_ka),
            "trafo3w_i_mv_ka": (res.trafo3w_i_mv_ka[t], r3.i_mv_ka),
            "trafo3w_i_lv_ka": (res.trafo3w_i_lv_ka[t], r3.i_lv_ka),
            "trafo3w_loading_percent": (res.trafo3w_loading_percent[t], r3.loading_percent),
            "line_loading_percent": (
                res.line_loading_percent[t],
                ref.res_line.loading_percent.reindex(res.line_ids),
            ),
            "line_i_ka": (res.line_i_ka[t], ref.res_line.i_ka.reindex(res.line_ids)),
            "trafo_loading_percent": (
                res.trafo_loading_percent[t],
                ref.res_trafo.loading_percent.reindex(res.trafo_ids),
            ),
            "ext_grid_p_mw": (res.ext_grid_p_mw[t], ref.res_ext_grid.p_mw),
            "ext_grid_q_mvar": (res.ext_grid_q_mvar[t], ref.res_ext_grid.q_mvar),
            "p_loss_mw": (
                np.array([res.p_loss_mw[t]]),
                np.array(
                    [
                        ref.res_line.pl_mw.sum()
                        + ref.res_trafo.pl_mw.sum()
                        + ref.res_trafo3w.pl_mw.sum()
                    ]
                ),
            ),
        }
        for name, (got, want) in pairs.items():
            expected = np.asarray(want, dtype=float)
            assert np.isfinite(got).all(), name
            assert np.isfinite(expected).all(), name
            worst[name] = max(worst.get(name, 0.0), float(np.max(np.abs(got - expected))))
    return worst


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_fixed_point_matches_pandapower(variant: str) -> None:
    model = trafo3w_model(VARIANTS[variant])
    # a tight tolerance: at the default 1e-10 pu line loadings differ up to ~7e-9 %
    res = simulate(model, options=PowerFlowOptions(error_tolerance_pu=1e-12))
    assert res.converged.all()
    assert res.trafo3w_ids.tolist() == model.net.trafo3w.index.tolist()
    for name in T3_FIELDS:
        assert getattr(res, name).shape == (N_STEPS, len(model.net.trafo3w)), name
    assert (res.trafo3w_loading_percent[:, 0] > 10.0).all()  # the comparison is not vacuous
    worst = _differences(model, res)
    assert set(worst) >= {*T3_FIELDS, "p_loss_mw", "ext_grid_p_mw", "ext_grid_q_mvar"}
    assert max(worst.values()) <= ATOL, worst


def test_out_of_service_unit_carries_nothing() -> None:
    model = trafo3w_model(_parallel_open_and_out_of_service)
    res = simulate(model)
    for name in T3_FIELDS:
        np.testing.assert_array_equal(getattr(res, name)[:, 2], 0.0, err_msg=name)
    # the unit open at its LV terminal carries no LV current but shares the MV load
    np.testing.assert_allclose(res.trafo3w_i_lv_ka[:, 1], 0.0, atol=1e-12)
    assert (res.trafo3w_i_mv_ka[:, 1] > 0.05).all()


def test_streamed_statistics_equal_the_full_result(tmp_path: Path) -> None:
    model = trafo3w_model(_parallel_open_and_out_of_service)
    full = simulate(model)
    spec = StatisticsSpec(loading_limits_percent=(30.0, 50.0, 100.0))
    stats = simulate(
        model,
        options=PowerFlowOptions(chunk_steps=2),
        keep=KeepSummary(statistics=spec, parquet=tmp_path / "s.parquet"),
    )
    ref = full.statistics(spec)
    for got in (stats, ref):
        np.testing.assert_array_equal(got.trafo3w_ids, full.trafo3w_ids)
        np.testing.assert_array_equal(
            got.trafo3w_loading_max_percent, np.max(full.trafo3w_loading_percent, axis=0)
        )
        np.testing.assert_array_equal(
            got.trafo3w_loading_max_step, np.argmax(full.trafo3w_loading_percent, axis=0)
        )
        for k, lim in enumerate(spec.loading_limits_percent):
            np.testing.assert_array_equal(
                got.trafo3w_steps_above[k], (full.trafo3w_loading_percent > lim).sum(axis=0)
            )
    assert stats.trafo3w_steps_above[:2].sum() > 0  # some limits are exceeded
    pd.testing.assert_frame_equal(stats.trafo3w_table(), ref.trafo3w_table())
    assert list(stats.trafo3w_table().index) == full.trafo3w_ids.tolist()
    assert stats.summary() == full.summary()
    summary = full.summary()
    k = int(np.argmax(np.max(full.trafo3w_loading_percent, axis=0)))
    assert summary.trafo3w_loading_max_percent == np.max(full.trafo3w_loading_percent)
    assert summary.trafo3w_loading_max_trafo3w == int(full.trafo3w_ids[k])
    # the file streamed while simulating holds the same trafo3w series
    back = read_parquet(tmp_path / "s.parquet")
    for name in T3_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(full, name), err_msg=name)


def test_parquet_round_trip_keeps_trafo3w(tmp_path: Path) -> None:
    model = trafo3w_model(_parallel_open_and_out_of_service)
    res = simulate(model)
    path = res.write_parquet(tmp_path / "r.parquet", chunk_steps=4)
    back = read_parquet(path)
    np.testing.assert_array_equal(back.trafo3w_ids, res.trafo3w_ids)
    for name in (*T3_FIELDS, "vm_pu", "p_loss_mw", "trafo_loading_percent"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name), err_msg=name)
    frames = res.to_frames()
    assert {f"trafo3w.{q}" for q in ("i_hv_ka", "i_mv_ka", "i_lv_ka", "loading_percent")} <= set(
        frames
    )
    assert list(frames["trafo3w.loading_percent"].columns) == res.trafo3w_ids.tolist()


def test_results_without_trafo3w_have_empty_fields() -> None:
    model = feature_model()
    options: list[dict[str, Any]] = [{}, {"method": "iterative_current"}]
    for kw in options:
        res = simulate(model, options=PowerFlowOptions(**kw))
        assert res.trafo3w_ids.shape == (0,)
        for name in T3_FIELDS:
            assert getattr(res, name).shape == (res.n_steps, 0), (kw, name)
        assert np.isnan(res.summary().trafo3w_loading_max_percent)
    res = simulate(model, options=PowerFlowOptions(symmetric=False, zero_sequence="lv_cable_4x"))
    assert res.trafo3w_i_hv_ka.shape == (res.n_steps, 0, 3)
    assert res.trafo3w_loading_percent.shape == (res.n_steps, 0)


def test_pgm_methods_refuse_trafo3w() -> None:
    model = trafo3w_model()
    report = validate(model, solver="pgm")
    issue = next(i for i in report.errors if i.table == "trafo3w")
    assert (issue.index, issue.column) == (0, None)
    assert "fixed-point solver only" in issue.message
    options: list[dict[str, Any]] = [
        {"method": "iterative_current"},
        {"method": "newton_raphson"},
        {"symmetric": False},
    ]
    for kw in options:
        with pytest.raises(InputError, match=r"trafo3w\[0\]: .*fixed-point solver only"):
            simulate(model, options=PowerFlowOptions(**kw))
    assert validate(model, solver="fixed_point").ok


def test_pgm_accepts_out_of_service_trafo3w() -> None:
    def off(net: Any) -> None:
        net.trafo3w.loc[0, "in_service"] = False
        pp.create_ext_grid(net, 1, vm_pu=1.0)  # the 20 kV side is fed directly
        pp.create_ext_grid(net, 2, vm_pu=1.0)

    model = trafo3w_model(off)
    res = simulate(model, options=PowerFlowOptions(method="iterative_current"))
    assert res.converged.all()
    assert res.trafo3w_ids.shape == (0,)
    fixed = simulate(model)
    np.testing.assert_array_equal(fixed.trafo3w_loading_percent, 0.0)
    np.testing.assert_allclose(fixed.vm_pu, res.vm_pu, atol=1e-8)


def test_newton_raphson_fallback_with_trafo3w() -> None:
    """The fallback solves pandapower's own case, three-winding transformers included."""
    model = trafo3w_model()
    res = simulate(model, options=PowerFlowOptions(max_iterations=1))
    assert res.converged.all()
    assert any("re-solved with Newton-Raphson" in n for n in res.notes)
    ref = simulate(model)
    np.testing.assert_allclose(res.vm_pu, ref.vm_pu, rtol=0, atol=1e-9)
    for name in T3_FIELDS:
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), rtol=1e-7, atol=1e-9)


def _where(model: NetworkModel) -> set[tuple[str, int | None, str | None]]:
    return {(i.table, i.index, i.column) for i in validate(model, solver="fixed_point").errors}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("sn_mv_mva", 0.0),
        ("vn_lv_kv", np.nan),
        ("vk_hv_percent", -1.0),
        ("vkr_mv_percent", -0.1),
        ("vkr_lv_percent", 12.0),  # = vk_lv_percent
        ("pfe_kw", np.nan),
    ],
)
def test_validation_names_the_parameter(column: str, value: float) -> None:
    def spoil(net: Any) -> None:
        net.trafo3w.loc[0, column] = value

    model = trafo3w_model(spoil)
    assert ("trafo3w", 0, column) in _where(model)
    with pytest.raises(InputError, match=rf"trafo3w\[0\]\.{column}"):
        simulate(model)


def test_validation_of_taps_buses_and_switches() -> None:
    def taps(net: Any) -> None:
        net.trafo3w.loc[0, "tap_side"] = None
        pp.create_transformer3w(net, 0, 1, 2, std_type="63/25/38 MVA 110/20/10 kV")
        net.trafo3w.loc[1, ["tap_changer_type", "tap_pos"]] = ["Ideal", 3]
        sw = pp.create_switch(net, 0, 1, et="t3")
        net.switch.loc[sw, "bus"] = 5  # not a terminal of trafo3w 1

    where = _where(trafo3w_model(taps))
    assert {
        ("trafo3w", 0, "tap_side"),
        ("trafo3w", 1, "tap_changer_type"),
        ("switch", 0, "bus"),
    } <= where

    def no_bus(net: Any) -> None:
        net.trafo3w.loc[0, "lv_bus"] = 99

    assert ("trafo3w", 0, "lv_bus") in _where(trafo3w_model(no_bus))

    def untyped(net: Any) -> None:
        net.trafo3w.loc[0, "tap_changer_type"] = None

    report = validate(trafo3w_model(untyped), solver="fixed_point")
    assert report.ok
    assert ("trafo3w", 0, "tap_pos") in {(i.table, i.index, i.column) for i in report.warnings}


def test_topology_follows_open_trafo3w_switches() -> None:
    def open_lv(net: Any) -> None:
        pp.create_switch(net, 2, 0, et="t3", closed=False)

    report = validate(trafo3w_model(open_lv), solver="fixed_point")
    errors = {(i.table, i.index) for i in report.errors}
    # the 10 kV side loses its only supply: its feeder end (bus 4) has a load, bus 2 none
    assert ("bus", 4) in errors
    assert ("bus", 2) in {(i.table, i.index) for i in report.warnings}
    assert ("bus", 1) not in errors


def test_checks_and_limits_include_trafo3w() -> None:
    model = trafo3w_model(_parallel_open_and_out_of_service)
    full = simulate(model)
    report = check(model, full)
    tr = report.transformers
    rows = tr[tr["element"] == "trafo3w"].set_index("trafo")
    assert rows.index.tolist() == full.trafo3w_ids.tolist()
    np.testing.assert_array_equal(
        rows["max_loading_percent"], np.max(full.trafo3w_loading_percent, axis=0)
    )
    assert rows["loss_of_life_h"].isna().all()
    assert rows["hours_above_limit"].tolist() == [0.0, 0.0, 0.0]
    assert (tr[tr["element"] == "trafo"]["loss_of_life_h"] >= 0).all()
    assert any("two-winding transformers only" in n for n in report.notes)
    assert report.violations()["trafo3w_overloaded"] == 0
    streamed = simulate(model, keep=KeepSummary(statistics=check_statistics_spec(model)))
    got = check(model, streamed)
    pd.testing.assert_frame_equal(got.transformers, report.transformers, rtol=1e-12)
    assert got.violations() == report.violations()
    assert got.limiting_element() == report.limiting_element()

    def small(net: Any) -> None:  # an overloaded three-winding transformer
        net.trafo3w.loc[0, ["sn_hv_mva", "sn_mv_mva", "sn_lv_mva"]] = [20.0, 12.5, 10.0]

    model = trafo3w_model(small)
    res = simulate(model)
    report = check(model, res)
    assert report.violations()["trafo3w_overloaded"] == 1
    assert report.limiting_element().startswith("trafo3w 0 at ")
    three = report.transformers.set_index("element").loc["trafo3w"]
    assert three["hours_above_limit"] == 0.25 * (res.trafo3w_loading_percent[:, 0] > 100).sum()
    assert any(v.startswith("trafo3w loading 0: ") for v in GridLimits().violations(res))


def test_contingency_with_trafo3w_outage() -> None:
    model = trafo3w_model()
    frame = contingency_analysis(model, elements=("trafo3w", "line"), steps=[0, 1])
    assert frame["element"].tolist() == ["trafo3w", "line", "line", "line"]
    outage = frame.iloc[0]
    assert outage["loads_lost"] == len(model.net.load)  # everything is behind it
    assert bool(outage["converged"])
    line = frame[frame["element"] == "line"].set_index("index")
    assert line.loc[0, "loads_lost"] == 2  # the 20 kV cable feeds the LV transformer


def test_tap_control_of_a_two_winding_transformer_beside_trafo3w() -> None:
    def oltc(net: Any) -> None:
        cols = ["tap_side", "tap_neutral", "tap_min", "tap_max", "tap_step_percent", "tap_pos"]
        net.trafo.loc[0, cols] = ["hv", 0, -2, 2, 2.5, 0]
        net.trafo["tap_changer_type"] = "Ratio"

    model = trafo3w_model(oltc)
    res = simulate(
        model,
        options=PowerFlowOptions(error_tolerance_pu=1e-12),
        controls=Controls(taps=[TapControl(0, 0.99, 1.01)]),
    )
    assert res.trafo_tap_pos is not None
    assert len(set(res.trafo_tap_pos[:, 0].tolist())) > 1  # the tap moves
    prof = model.profiles
    assert prof is not None
    for t in range(res.n_steps):
        net = model.copy_net()
        net.trafo.loc[0, "tap_pos"] = res.trafo_tap_pos[t, 0]
        ref = pandapower_step(from_net(net, prof), prof, t, tolerance_mva=1e-12)
        np.testing.assert_allclose(res.vm_pu[t], ref.res_bus.vm_pu, rtol=0, atol=ATOL)
        np.testing.assert_allclose(
            res.trafo3w_loading_percent[t], ref.res_trafo3w.loading_percent, rtol=0, atol=ATOL
        )
        np.testing.assert_allclose(
            res.trafo_loading_percent[t], ref.res_trafo.loading_percent, rtol=0, atol=ATOL
        )
