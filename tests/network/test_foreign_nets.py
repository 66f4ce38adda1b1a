"""Networks no one here wrote (pandapower's own), and the defects they found: every net is
either solved as pandapower solves it or refused with a reason."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli.network import EXIT_NOT_CONVERGED
from gridtwin.cli.network import app as network_app
from gridtwin.network import (
    PowerFlowOptions,
    PowerFlowResult,
    from_net,
    read_parquet,
    simulate,
    static_profiles,
    validate,
)
from tests.network.test_trafo3w import trafo3w_net
from tests.network.util import two_bus_net


def _quiet(make):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def test_fed_bus_behind_relabelled_lines_is_not_refused_as_isolated() -> None:
    """The topology check read a position as a label: with line labels other than 0..n-1
    the wrong branch was dropped and fed buses were refused as isolated."""
    net = _quiet(pn.lv_schutterwald)
    assert not np.array_equal(net.line.index.to_numpy(), np.arange(len(net.line)))
    report = validate(from_net(net))
    assert not [e for e in report.errors if e.table == "bus"], report.errors[:3]


def test_open_branch_behind_relabelled_lines_isolates_its_bus() -> None:
    """An open line switch must cut its own line whatever the labels: here the line at the
    open switch's position has another line's label."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=0.4) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    for f, t in ((0, 1), (1, 2), (0, 3)):
        pp.create_line_from_parameters(
            net, b[f], b[t], 0.1, r_ohm_per_km=0.2, x_ohm_per_km=0.08, c_nf_per_km=0, max_i_ka=0.2
        )
        pp.create_load(net, b[t], p_mw=0.01)
    net.line.index = [0, 2, 1]  # line 1->2 has label 2, line 0->3 label 1
    pp.create_switch(net, b[2], 2, et="l", closed=False)
    report = validate(from_net(net))
    assert [(e.table, e.index) for e in report.errors] == [("bus", b[2])]


# --- the command line on foreign nets ----------------------------------------------------

runner = CliRunner()


def _saved(tmp_path: Path, net: Any, name: str) -> Path:
    path = tmp_path / f"{name}.json"
    pp.to_json(net, str(path))
    return path


def test_validate_checks_for_the_method_simulate_uses(tmp_path: Path) -> None:
    """validate refused trafo3w (checked for power-grid-model) while simulate solved it with
    the fixed point: validation follows --method, as simulate does."""
    path = _saved(tmp_path, trafo3w_net(), "trafo3w")
    assert runner.invoke(network_app, ["validate", "--net", str(path)]).exit_code == 0
    assert runner.invoke(network_app, ["simulate", "--net", str(path)]).exit_code == 0
    out = runner.invoke(network_app, ["validate", "--net", str(path), "--method", "newton_raphson"])
    assert out.exit_code == 1
    assert "trafo3w[0]" in out.output
    out = runner.invoke(network_app, ["simulate", "--net", str(path), "--method", "newton_raphson"])
    assert out.exit_code == 2
    assert "trafo3w[0]" in out.output


def test_simulate_that_does_not_converge_exits_non_zero(tmp_path: Path) -> None:
    """case11_iwamoto: pandapower does not converge either; the run used to exit 0."""
    net = _quiet(pn.case11_iwamoto)
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(net)
    path = _saved(tmp_path, net, "case11_iwamoto")
    out = runner.invoke(network_app, ["simulate", "--net", str(path), "--format", "json"])
    assert out.exit_code == EXIT_NOT_CONVERGED
    assert "1 step(s) did not converge" in out.stderr
    assert json.loads(out.stdout)["summary"]["converged_steps"] == 0
    out = runner.invoke(network_app, ["simulate", "--net", str(path), "--keep-going"])
    assert out.exit_code == 0, out.output


@pytest.mark.parametrize("content", ['{"x": 1}', "[1, 2]", '{"_module": "pandapower"}'])
def test_json_that_is_not_a_net_is_refused_naming_the_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "not-a-net.json"
    path.write_text(content)
    out = runner.invoke(network_app, ["simulate", "--net", str(path)])
    assert out.exit_code == 2
    assert out.exception is None or isinstance(out.exception, SystemExit)
    assert "not-a-net.json" in out.output
    assert "pandapower.to_json" in out.output


# --- what pandapower solves, the fixed point solves ----------------------------------------


def _max_dvm(net: Any, **options: Any) -> float:
    """Largest |vm| difference [pu] between gridtwin's snapshot and pandapower's runpp."""
    model = from_net(net)
    result = simulate(model, static_profiles(model), options=PowerFlowOptions(**options))
    assert isinstance(result, PowerFlowResult)
    _quiet(lambda: pp.runpp(net))
    ref = net.res_bus.vm_pu.to_numpy()
    both = np.isfinite(ref)
    assert np.array_equal(both, np.isfinite(result.vm_pu[0]))
    return float(np.max(np.abs(result.vm_pu[0][both] - ref[both])))


def test_mv_oberrhein_with_no_load_current_below_the_iron_losses() -> None:
    """pandapower takes the magnetising reactance as zero and solves; so does gridtwin,
    with a warning naming the transformer (it used to refuse)."""
    net = _quiet(pn.mv_oberrhein)
    report = validate(from_net(net))
    assert report.ok
    assert {(w.table, w.index) for w in report.warnings if w.column == "i0_percent"} == {
        ("trafo", 114),
        ("trafo", 142),
    }
    assert _max_dvm(net) < 1e-9
    assert _max_dvm(net, method="newton_raphson") < 1e-9


def _meshed_110kv() -> Any:
    """Two 110 kV paths between a source and a load bus, one through a transformer."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=110.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    line = {"r_ohm_per_km": 0.12, "x_ohm_per_km": 0.39, "c_nf_per_km": 9.5, "max_i_ka": 0.6}
    pp.create_line_from_parameters(net, b[0], b[1], 20.0, **line)
    pp.create_line_from_parameters(net, b[0], b[2], 25.0, **line)
    pp.create_line_from_parameters(net, b[2], b[3], 10.0, **line)
    pp.create_transformer_from_parameters(
        net, b[1], b[3], sn_mva=100, vn_hv_kv=110, vn_lv_kv=110, vkr_percent=0.3,
        vk_percent=12, pfe_kw=30, i0_percent=0.05,
    )  # fmt: skip
    pp.create_load(net, b[3], p_mw=60.0, q_mvar=20.0)
    return net


def test_phase_shifting_transformer_is_solved_as_pandapower_solves_it() -> None:
    net = _meshed_110kv()
    net.trafo["tap_changer_type"] = "Ideal"
    net.trafo[["tap_neutral", "tap_min", "tap_max", "tap_pos"]] = [0, -10, 10, 4]
    net.trafo["tap_step_degree"] = 1.5
    net.trafo["tap_side"] = "hv"
    net.trafo["shift_degree"] = 2.0
    assert _max_dvm(net) < 1e-9
    pp.runpp(net)
    assert abs(net.res_trafo.p_hv_mw.iloc[0]) > 1.0  # the shift moves power
    report = validate(from_net(net), solver="pgm")
    assert {(e.table, e.column) for e in report.errors} == {
        ("trafo", "tap_changer_type"),
        ("trafo", "shift_degree"),
    }


def test_series_capacitor_and_negative_no_load_current() -> None:
    """MATPOWER cases carry series compensation (negative reactance) and capacitive
    magnetising (negative i0_percent); pandapower solves them."""
    net = _meshed_110kv()
    net.line.loc[1, "x_ohm_per_km"] = -0.1
    net.trafo.loc[0, "i0_percent"] = -0.05
    report = validate(from_net(net))
    assert report.ok
    assert [w.table for w in report.warnings if w.column == "i0_percent"] == ["trafo"]
    assert _max_dvm(net) < 1e-9
    report = validate(from_net(net), solver="pgm")
    assert {(e.table, e.column) for e in report.errors} == {
        ("line", "x_ohm_per_km"),
        ("trafo", "i0_percent"),
    }


def _with_fixed_elements() -> Any:
    """The meshed net with a ward, a motor, an asymmetric load and sgen and an impedance."""
    net = _meshed_110kv()
    extra = pp.create_bus(net, vn_kv=110.0)
    pp.create_impedance(net, 2, extra, rft_pu=0.01, xft_pu=0.05, sn_mva=100.0)
    pp.create_ward(net, extra, ps_mw=15.0, qs_mvar=4.0, pz_mw=2.0, qz_mvar=-6.0)
    pp.create_motor(net, 1, pn_mech_mw=8.0, cos_phi=0.9, efficiency_percent=95.0,
                    loading_percent=80.0, scaling=0.9)  # fmt: skip
    pp.create_asymmetric_load(net, 2, p_a_mw=3.0, p_b_mw=1.0, p_c_mw=2.0, q_a_mvar=0.5,
                              scaling=0.8)  # fmt: skip
    pp.create_asymmetric_sgen(net, 3, p_a_mw=1.0, p_b_mw=1.0, p_c_mw=4.0, q_b_mvar=-0.3)
    return net


def test_wards_motors_asymmetric_elements_and_impedances_as_pandapower() -> None:
    net = _with_fixed_elements()
    assert _max_dvm(net) < 1e-9
    report = validate(from_net(net))
    assert report.ok
    assert {w.table for w in report.warnings if w.index is None} >= {
        "ward",
        "motor",
        "asymmetric_load",
        "asymmetric_sgen",
    }
    refused = {(e.table, e.index) for e in validate(from_net(net), solver="pgm").errors}
    assert refused == {("impedance", 0), ("ward", 0), ("motor", 0)}


def test_a_fixed_element_without_its_values_is_refused() -> None:
    net = _with_fixed_elements()
    net.motor.loc[0, "cos_phi"] = np.nan
    net.asymmetric_load.loc[0, "p_b_mw"] = np.nan
    errors = {(e.table, e.index, e.column) for e in validate(from_net(net)).errors}
    assert errors == {("motor", 0, "cos_phi"), ("asymmetric_load", 0, "p_b_mw")}


# --- voltage-controlled generators and the solution branch ---------------------------------


def _gens_as_sgens(net: Any) -> Any:
    """Every gen replaced by an sgen at the p and q pandapower solved for it."""
    _quiet(lambda: pp.runpp(net))
    for g in net.gen.index:
        pp.create_sgen(
            net,
            net.gen.at[g, "bus"],
            p_mw=net.res_gen.at[g, "p_mw"],
            q_mvar=net.res_gen.at[g, "q_mvar"],
        )
    net.gen.drop(net.gen.index, inplace=True)
    return net


@pytest.mark.parametrize(
    ("make", "vm_max_pu"), [(pn.case39, 1.0636), (pn.create_cigre_network_hv, 1.0436)]
)
def test_no_silent_high_voltage_solution(make: Any, vm_max_pu: float) -> None:
    """With fixed-q sgens in place of the gens, the fixed point converged to the other
    solution of the power-flow equations (1.742 and 2.377 pu) and said nothing. It is now
    checked against Newton-Raphson from pandapower's start, replaced, and noted."""
    net = _gens_as_sgens(_quiet(make))
    model = from_net(net)
    result = simulate(model, static_profiles(model))
    assert isinstance(result, PowerFlowResult)
    assert abs(np.nanmax(result.vm_pu) - vm_max_pu) < 1e-4
    assert _max_dvm(net) < 1e-8
    assert any("non-operable solution; replaced" in n for n in result.notes)


@pytest.mark.parametrize(
    "make",
    [
        pn.case9,
        pn.case39,
        pn.case118,
        pn.case145,  # negative r and vkr: network equivalents
        pn.case300,
        pn.case1888rte,  # a Jacobian pattern whose all-ones probe is singular
        pn.create_cigre_network_hv,
        pn.iceland,
    ],
)
def test_voltage_controlled_generators_as_pandapower(make: Any) -> None:
    net = _quiet(make)
    assert _in_service_gens(net)
    assert _max_dvm(net) < 1e-8
    refused = validate(from_net(net), solver="pgm")
    assert "gen" in {e.table for e in refused.errors}


def _in_service_gens(net: Any) -> int:
    return int(net.gen["in_service"].sum())


def test_reactive_limits_as_pandapower() -> None:
    """enforce_q_lims: generators that would exceed their limits hold them (case118: six
    do), as pandapower's runpp(enforce_q_lims=True)."""
    net = _quiet(pn.case118)
    _quiet(lambda: pp.runpp(net))
    q = net.res_gen.q_mvar
    assert int(((q > net.gen.max_q_mvar) | (q < net.gen.min_q_mvar)).sum()) >= 2
    model = from_net(net)
    result = simulate(model, static_profiles(model), options=PowerFlowOptions(enforce_q_lims=True))
    assert isinstance(result, PowerFlowResult)
    _quiet(lambda: pp.runpp(net, enforce_q_lims=True))
    dv = np.abs(result.vm_pu[0] - net.res_bus.vm_pu.to_numpy())
    assert float(np.max(dv)) < 1e-8
    assert any("reactive limits are enforced" in n for n in result.notes)


def test_a_year_with_generator_profiles() -> None:
    """Generators follow their gen_p_mw profile step by step."""
    net = _quiet(pn.case9)
    model = from_net(net)
    base = static_profiles(model, periods=3)
    scale = np.array([[0.8], [1.0], [1.1]])
    gen_p = pd.DataFrame(
        net.gen.p_mw.to_numpy() * scale, index=base.time_utc, columns=net.gen.index
    )
    load_p = base.load_p_mw * scale
    result = simulate(model, base.replace(gen_p_mw=gen_p, load_p_mw=load_p))
    assert isinstance(result, PowerFlowResult)
    for k in range(3):
        net.gen["p_mw"] = gen_p.iloc[k].to_numpy()
        net.load["p_mw"] = load_p.iloc[k].to_numpy()
        _quiet(lambda: pp.runpp(net))
        assert np.max(np.abs(result.vm_pu[k] - net.res_bus.vm_pu.to_numpy())) < 1e-8


def test_cli_simulates_a_transmission_case_with_reactive_limits(tmp_path: Path) -> None:
    net = _quiet(pn.case118)
    path = _saved(tmp_path, net, "case118")
    out = runner.invoke(
        network_app,
        ["simulate", "--net", str(path), "--format", "json", "--enforce-q-lims", "--output",
         str(tmp_path / "r.parquet")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert any("reactive limits are enforced" in n for n in json.loads(out.stdout)["notes"])
    result = read_parquet(tmp_path / "r.parquet")
    _quiet(lambda: pp.runpp(net, enforce_q_lims=True))
    assert np.max(np.abs(result.vm_pu[0] - net.res_bus.vm_pu.to_numpy())) < 1e-8


def test_checks_of_a_transmission_grid_with_generators() -> None:
    """case39 (345 kV, generators) through the twin: power flow, checks and potential
    deviations; its customers are above the standards' voltage range (the empty voltage
    table used to crash)."""
    from gridtwin.workflows import Twin

    model = from_net(_quiet(pn.case39))
    state = Twin(model, profiles=static_profiles(model, periods=8)).run()
    assert state.checks.voltage.empty
    assert "u0_pu" in state.checks.voltage
    assert any("above 35 kV are not judged" in n for n in state.notes)
    assert len(state.checks.lines) == len(model.net.line)


def test_generator_reactive_power_as_pandapower() -> None:
    """gen_q_mvar: pandapower's res_gen.q_mvar, shared among the gens of one bus in
    proportion to their reactive ranges; NaN at a slack bus and out of service."""
    net = _quiet(pn.case30)
    bus = int(net.gen.bus.iloc[1])
    pp.create_gen(net, bus, p_mw=5.0, vm_pu=float(net.gen.vm_pu.iloc[1]), min_q_mvar=-10,
                  max_q_mvar=30)  # fmt: skip
    pp.create_gen(net, bus, p_mw=1.0, vm_pu=1.0, in_service=False)
    slack_gen = pp.create_gen(net, int(net.ext_grid.bus.iloc[0]), p_mw=0.0,
                              vm_pu=float(net.ext_grid.vm_pu.iloc[0]))  # fmt: skip
    model = from_net(net)
    result = simulate(model, static_profiles(model))
    assert isinstance(result, PowerFlowResult)
    assert result.gen_q_mvar is not None
    assert result.gen_ids is not None
    _quiet(lambda: pp.runpp(net))
    q = dict(zip(result.gen_ids.tolist(), result.gen_q_mvar[0], strict=True))
    for g in net.gen.index[net.gen.in_service]:
        if g == slack_gen:
            assert np.isnan(q[g])
        else:
            assert abs(q[g] - net.res_gen.q_mvar[g]) < 1e-6, g
    assert np.isnan(q[int(net.gen.index[~net.gen.in_service][0])])
    shared = net.gen.index[(net.gen.bus == bus) & net.gen.in_service]
    assert len(shared) == 2
    assert abs(q[shared[0]] - q[shared[1]]) > 1.0


def test_a_real_solution_outside_the_operable_range_is_kept_and_noted() -> None:
    """A huge capacitive injection lifts the voltage to 1.61 pu, and that is the power
    flow's answer (pandapower's too): the check confirms it instead of replacing it."""
    net = two_bus_net(0.1, 0.4, vn_kv=20.0)
    net.load.loc[0, ["p_mw", "q_mvar"]] = [0.0, -1000.0]
    assert _max_dvm(net) < 1e-9
    model = from_net(net)
    result = simulate(model, static_profiles(model))
    assert isinstance(result, PowerFlowResult)
    assert result.vm_pu[0, 1] > 1.6
    assert any("Newton-Raphson from pandapower's start finds the same" in n for n in result.notes)


def test_dc_lines_as_pandapower() -> None:
    """A DC line is the pair of voltage-controlled generators pandapower's runpp makes of
    it; its generators are not among the result's gens (SimBench's 2024 and 2034 EHV
    grids have DC lines)."""
    net = _quiet(pn.case9)
    pp.create_dcline(net, from_bus=4, to_bus=8, p_mw=30, loss_percent=1.2, loss_mw=0.5,
                     vm_from_pu=1.01, vm_to_pu=1.02)  # fmt: skip
    pp.create_dcline(net, from_bus=3, to_bus=6, p_mw=10, loss_percent=1.0, loss_mw=0.2,
                     vm_from_pu=1.0, vm_to_pu=1.0, in_service=False)  # fmt: skip
    assert _max_dvm(net) < 1e-9
    model = from_net(net)
    result = simulate(model, static_profiles(model))
    assert isinstance(result, PowerFlowResult)
    assert result.gen_ids is not None
    assert result.gen_ids.tolist() == net.gen.index.tolist()
    assert len(model.net.gen) == 2  # the model's net is not changed
    refused = validate(model, solver="pgm")
    assert ("dcline", 0) in {(e.table, e.index) for e in refused.errors}
