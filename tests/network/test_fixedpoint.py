"""The fixed-point (Z-bus) solver: agreement with pandapower's Newton-Raphson on every
result field, with power-grid-model, voltage-dependent loads, determinism across chunks
and threads, and the Newton-Raphson fallback."""

from __future__ import annotations

import math
from typing import Any

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
    Profiles,
    from_net,
    simulate,
)
from gridtwin.network._fixedpoint import BLOCK_STEPS, build_fixed_point, segments_of
from gridtwin.network._results import RESULT_FIELDS

from .util import (
    LV_CODE,
    MV_CODE,
    feature_model,
    feature_net,
    feature_profiles,
    hours,
    pandapower_step,
    simbench_model,
    two_bus_net,
)


def _worst_vs_pandapower(
    model: NetworkModel, prof: Profiles, res: PowerFlowResult, steps: list[int], **kw: Any
) -> dict[str, float]:
    """Largest differences of every result field against pandapower's runpp."""
    worst: dict[str, float] = {}

    def note(name: str, ours: Any, theirs: Any) -> None:
        a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
        d = np.where(np.isnan(a) != np.isnan(b), np.inf, np.abs(a - b))  # NaN on one side
        d = d[~(np.isnan(a) & np.isnan(b))]
        worst[name] = max(worst.get(name, 0.0), float(np.max(d)) if d.size else 0.0)

    for k, t in enumerate(steps):
        net = pandapower_step(model, prof, t, **kw)
        note("vm_pu", res.vm_pu[k], net.res_bus.vm_pu.reindex(res.bus_ids))
        note("va_degree", res.va_degree[k], net.res_bus.va_degree.reindex(res.bus_ids))
        # out-of-service branches: pandapower NaN, gridtwin 0 (no current) like PGM
        on = net.line.in_service.reindex(res.line_ids).to_numpy(dtype=bool)
        line = net.res_line.reindex(res.line_ids)[on]
        note("line_i_ka", res.line_i_ka[k][on], line.i_ka)
        note("line_loading_percent", res.line_loading_percent[k][on], line.loading_percent)
        note("line_p_from_mw", res.line_p_from_mw[k][on], line.p_from_mw)
        on = net.trafo.in_service.reindex(res.trafo_ids).to_numpy(dtype=bool)
        tr = net.res_trafo.reindex(res.trafo_ids)[on]
        note("trafo_i_hv_ka", res.trafo_i_hv_ka[k][on], tr.i_hv_ka)
        note("trafo_i_lv_ka", res.trafo_i_lv_ka[k][on], tr.i_lv_ka)
        note("trafo_loading_percent", res.trafo_loading_percent[k][on], tr.loading_percent)
        eg = net.res_ext_grid.reindex(res.ext_grid_ids)
        note("ext_grid_p_mw", res.ext_grid_p_mw[k], eg.p_mw)
        note("ext_grid_q_mvar", res.ext_grid_q_mvar[k], eg.q_mvar)
        loss = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
        note("p_loss_mw", [res.p_loss_mw[k]], [loss])
    return worst


def _sampled(prof: Profiles, n: int = 8, seed: int = 5) -> list[int]:
    rng = np.random.default_rng(seed)
    total = prof.load_p_mw.to_numpy().sum(axis=1)
    return sorted({*rng.choice(prof.n_steps, size=n, replace=False).tolist(), int(total.argmax())})


@pytest.mark.parametrize("code", [LV_CODE, MV_CODE])
def test_fixed_point_matches_pandapower_on_simbench_steps(code: str) -> None:
    model = simbench_model(code)
    prof = model.profiles
    assert prof is not None
    steps = _sampled(prof)
    res = simulate(model, steps=steps, options=PowerFlowOptions(method="fixed_point"))
    assert res.converged.all()
    assert res.iterations is not None
    assert ((res.iterations >= 2) & (res.iterations <= 12)).all(), res.iterations
    assert any("fixed point" in n for n in res.notes)
    worst = _worst_vs_pandapower(model, prof, res, steps, tolerance_mva=1e-11)
    assert worst["vm_pu"] <= 1e-9, worst
    assert worst["va_degree"] <= 1e-7, worst
    assert worst["line_loading_percent"] <= 1e-6, worst
    assert worst["trafo_loading_percent"] <= 1e-6, worst
    assert worst["line_i_ka"] <= 1e-9, worst
    assert worst["ext_grid_p_mw"] <= 1e-8, worst
    assert worst["p_loss_mw"] <= 1e-8, worst


def test_fixed_point_matches_pandapower_on_the_feature_net() -> None:
    """Taps on both sides, phase shift, a slack angle, parallel units, df, line
    conductance, shunt, storage, sgen, open line ends, links, an isolated bus."""
    model = feature_model()
    prof = model.profiles
    assert prof is not None
    res = simulate(model, options=PowerFlowOptions(method="fixed_point"))
    worst = _worst_vs_pandapower(model, prof, res, list(range(prof.n_steps)), tolerance_mva=1e-12)
    for name, value in worst.items():
        assert value <= 1e-8, (name, worst)
    isolated = list(res.bus_ids).index(
        int(model.net.bus.index[model.net.bus.name == "isolated"][0])
    )
    assert np.isnan(res.vm_pu[:, isolated]).all()


def test_fixed_point_agrees_with_power_grid_model_newton_raphson() -> None:
    model = feature_model()
    fp = simulate(model, options=PowerFlowOptions(method="fixed_point"))
    nr = simulate(model, options=PowerFlowOptions(method="newton_raphson"))
    for name in RESULT_FIELDS:
        np.testing.assert_allclose(
            getattr(fp, name), getattr(nr, name), rtol=0, atol=1e-7, err_msg=name
        )


def test_two_bus_closed_form() -> None:
    """|V1| of an ideal source, a line R + jX and a load P + jQ: the quartic of the
    two-bus case, V^4 + (2(RP + XQ) - V0^2) V^2 + (P^2 + Q^2)(R^2 + X^2) = 0."""
    r, x, p, q = 0.08, 0.04, 0.05, 0.02  # ohm, MW, Mvar on 0.4 kV
    net = two_bus_net(r, x)
    idx = hours(2)
    prof = Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame([[p], [p / 2]], index=idx, columns=net.load.index),
        load_q_mvar=pd.DataFrame([[q], [q / 2]], index=idx, columns=net.load.index),
    )
    res = simulate(
        from_net(net, prof),
        options=PowerFlowOptions(method="fixed_point", error_tolerance_pu=1e-13),
    )
    v0 = 0.4
    for k, scale in enumerate((1.0, 0.5)):
        b = 2 * (r * p * scale + x * q * scale) - v0**2
        c = ((p * scale) ** 2 + (q * scale) ** 2) * (r**2 + x**2)
        v2 = (-b + math.sqrt(b * b - 4 * c)) / 2
        assert res.vm_pu[k, 1] == pytest.approx(math.sqrt(v2) / v0, abs=1e-12)


def _zip_model(z_p: float, i_p: float, z_q: float, i_q: float) -> NetworkModel:
    """The feature net with ZIP shares on the loads that are alone at their bus.

    pandapower averages the shares of the loads at a bus and applies them to the bus's
    net demand, sgens and storage included; gridtwin applies them per load. The two
    agree where a ZIP load is the only element at its bus, which is what this net has.
    """
    net = feature_net()
    alone = net.load.index[[0, 3]]  # buses a and lv1: no other load, sgen or storage
    for col, value in (
        ("const_z_p_percent", z_p),
        ("const_i_p_percent", i_p),
        ("const_z_q_percent", z_q),
        ("const_i_q_percent", i_q),
    ):
        net.load[col] = 0.0
        net.load.loc[alone, col] = value
    return from_net(net, feature_profiles(net), name="zip")


@pytest.mark.parametrize(("z_p", "i_p", "z_q", "i_q"), [(30, 20, 60, 10), (100, 0, 0, 100)])
def test_voltage_dependent_loads_match_pandapower(
    z_p: float, i_p: float, z_q: float, i_q: float
) -> None:
    model = _zip_model(z_p, i_p, z_q, i_q)
    prof = model.profiles
    assert prof is not None
    res = simulate(model)  # auto: the fixed point, the engine with ZIP loads
    plain = simulate(feature_model())
    assert np.nanmax(np.abs(res.vm_pu - plain.vm_pu)) > 1e-4  # the ZIP shares matter
    worst = _worst_vs_pandapower(
        model, prof, res, list(range(prof.n_steps)), tolerance_mva=1e-12, voltage_depend_loads=True
    )
    for name, value in worst.items():
        assert value <= 1e-8, (name, worst)


def test_voltage_dependent_loads_are_refused_by_power_grid_model() -> None:
    model = _zip_model(30, 20, 0, 0)
    with pytest.raises(InputError, match=r"load\[0\]\.const_z_p_percent.*fixed-point"):
        simulate(model, options=PowerFlowOptions(method="iterative_current"))
    bad = _zip_model(80, 30, 0, 0)  # 110 % of P
    with pytest.raises(InputError, match="exceed 100"):
        simulate(bad)


def test_results_do_not_depend_on_chunks_or_threads() -> None:
    model = simbench_model(LV_CODE)
    steps = slice(100, 100 + 3 * BLOCK_STEPS + 17)
    ref = simulate(model, steps=steps, options=PowerFlowOptions(method="fixed_point", threading=-1))
    for kw in ({"chunk_steps": 7}, {"chunk_steps": 200, "threading": 0}, {"threading": 2}):
        other = simulate(
            model,
            steps=steps,
            options=PowerFlowOptions(method="fixed_point", **kw),  # type: ignore[arg-type]
        )
        for name in ("vm_pu", "va_degree", "line_loading_percent", "ext_grid_p_mw", "p_loss_mw"):
            np.testing.assert_array_equal(getattr(other, name), getattr(ref, name), err_msg=name)


def test_segments_follow_absolute_blocks() -> None:
    pos = np.array([126, 127, 128, 129, 131, 132, 5], dtype=np.int64)
    assert segments_of(pos).tolist() == [0, 2, 4, 6, 7]
    assert segments_of(np.zeros(0, dtype=np.int64)).tolist() == [0]


def test_steps_beyond_the_iteration_limit_are_re_solved_with_newton_raphson() -> None:
    model = feature_model()
    ref = simulate(model, options=PowerFlowOptions(method="newton_raphson"))
    res = simulate(model, options=PowerFlowOptions(method="fixed_point", max_iterations=2))
    assert res.converged.all()
    assert any("re-solved with Newton-Raphson" in n for n in res.notes)
    assert res.iterations is not None
    assert (res.iterations == -1).all()  # every step needed the fallback
    assert ref.iterations is None  # power-grid-model does not report iterations
    np.testing.assert_allclose(res.vm_pu, ref.vm_pu, rtol=0, atol=1e-9)
    # ZIP loads too: the fallback solves pandapower's case with the voltage dependence
    zip_model = _zip_model(30, 20, 60, 10)
    zip_res = simulate(zip_model, options=PowerFlowOptions(max_iterations=2))
    assert zip_res.converged.all()
    assert any("re-solved with Newton-Raphson" in n for n in zip_res.notes)
    np.testing.assert_allclose(zip_res.vm_pu, simulate(zip_model).vm_pu, rtol=0, atol=1e-9)


def test_fixed_point_is_balanced_only_and_auto_picks_per_run() -> None:
    model = feature_model()
    with pytest.raises(InputError, match="balanced"):
        simulate(model, options=PowerFlowOptions(method="fixed_point", symmetric=False))
    unbalanced = simulate(
        model, options=PowerFlowOptions(symmetric=False, zero_sequence="lv_cable_4x")
    )
    assert any("iterative current" in n for n in unbalanced.notes)
    assert any("fixed point" in n for n in simulate(model).notes)


def test_build_reports_a_grid_without_slack() -> None:
    net = two_bus_net(0.1, 0.05)
    net.ext_grid["in_service"] = False
    with pytest.raises(InputError, match="slack"):
        build_fixed_point(net)


def test_build_does_not_touch_the_net() -> None:
    net = feature_net()
    before = pp.to_json(net)
    build_fixed_point(net)
    assert pp.to_json(net) == before


@pytest.mark.slow
def test_fixed_point_on_the_9099_bus_grid_matches_pandapower() -> None:
    """The MV+LV SimBench grid (112 transformers, open MV rings): a day in streaming mode
    and three of its steps against pandapower."""
    model = simbench_model("1-MVLV-semiurb-all-0-sw")
    prof = model.profiles
    assert prof is not None
    steps = [0, 47, 95]
    res = simulate(model, steps=steps, options=PowerFlowOptions(method="fixed_point", threading=0))
    assert res.converged.all()
    worst = _worst_vs_pandapower(model, prof, res, steps, tolerance_mva=1e-10)
    assert worst["vm_pu"] <= 1e-8, worst
    assert worst["line_loading_percent"] <= 1e-5, worst
    assert worst["trafo_loading_percent"] <= 1e-5, worst
    stats = simulate(
        model, steps=slice(0, 96), options=PowerFlowOptions(threading=0), keep=KeepSummary()
    )
    assert stats.converged.all()
    assert stats.vm_min_pu[~np.isnan(stats.vm_min_pu)].min() > 0.9


def _random_grid(seed: int, n_bus: int, n_extra: int) -> NetworkModel:
    """A 0.4 kV grid behind a 20/0.4 kV transformer: a random tree plus ``n_extra``
    closing lines (meshes), loads and PV at random buses, two steps of random set-points."""
    rng = np.random.default_rng(seed)
    net = pp.create_empty_network(f_hz=50.0)
    mv = pp.create_bus(net, vn_kv=20.0)
    buses = [pp.create_bus(net, vn_kv=0.4) for _ in range(n_bus)]
    pp.create_ext_grid(net, mv, vm_pu=float(rng.uniform(0.98, 1.04)))
    pp.create_transformer(net, mv, buses[0], std_type="0.63 MVA 20/0.4 kV")
    edges = [(int(rng.integers(0, k)), k) for k in range(1, n_bus)]
    while len(edges) < n_bus - 1 + n_extra:
        a, b = sorted(int(x) for x in rng.choice(n_bus, size=2, replace=False))
        if (a, b) not in edges:
            edges.append((a, b))
    for a, b in edges:
        pp.create_line_from_parameters(
            net,
            buses[a],
            buses[b],
            length_km=float(rng.uniform(0.02, 0.3)),
            r_ohm_per_km=float(rng.uniform(0.1, 0.6)),
            x_ohm_per_km=float(rng.uniform(0.07, 0.1)),
            c_nf_per_km=float(rng.uniform(0, 300)),
            max_i_ka=0.25,
        )
    for b in buses[1:]:
        pp.create_load(net, b, p_mw=float(rng.uniform(0, 0.02)), q_mvar=0.002)
        if rng.random() < 0.4:
            pp.create_sgen(net, b, p_mw=float(rng.uniform(0, 0.03)))
    idx = hours(2)
    lp = rng.uniform(0, 0.03, (2, len(net.load)))
    sp = rng.uniform(0, 0.03, (2, len(net.sgen)))
    prof = Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame(lp, index=idx, columns=net.load.index),
        load_q_mvar=pd.DataFrame(lp * 0.3, index=idx, columns=net.load.index),
        sgen_p_mw=pd.DataFrame(sp, index=idx, columns=net.sgen.index),
    )
    return from_net(net, prof, name=f"random-{seed}")


@pytest.mark.parametrize("seed", range(8))
def test_random_meshed_grids_match_pandapower(seed: int) -> None:
    """Random radial and meshed feeders (up to 6 closing lines): the sparse LU handles
    meshes and every field agrees with pandapower; a step that no engine can solve (the
    longest random feeders collapse under their load) is reported, never a number."""
    model = _random_grid(seed, n_bus=12 + 3 * seed, n_extra=seed % 7)
    prof = model.profiles
    assert prof is not None
    res = simulate(model, options=PowerFlowOptions(method="fixed_point"))
    solved = [k for k in range(prof.n_steps) if res.converged[k]]
    assert solved
    for k in range(prof.n_steps):
        if k not in solved:
            assert np.isnan(res.vm_pu[k]).all()
            with pytest.raises(pp.LoadflowNotConverged):
                pandapower_step(model, prof, k, tolerance_mva=1e-12)
    again = simulate(model, steps=solved, options=PowerFlowOptions(method="fixed_point"))
    worst = _worst_vs_pandapower(model, prof, again, solved, tolerance_mva=1e-12)
    assert worst["vm_pu"] <= 1e-9, (seed, worst)
    assert worst["va_degree"] <= 1e-7, (seed, worst)
    assert worst["line_loading_percent"] <= 1e-6, (seed, worst)
    assert worst["line_i_ka"] <= 1e-9, (seed, worst)
    assert worst["p_loss_mw"] <= 1e-9, (seed, worst)
