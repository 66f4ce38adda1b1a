"""The Newton-Raphson solver on pandapower's internal case: agreement with pandapower's own
``runpp`` on networks no one here wrote (pandapower's bundled cases, CIGRE HV, SimBench),
with PV buses, reactive limits, phase shifters, voltage-dependent loads, many steps, the
high-voltage solution the fixed point can fall into, and non-convergence."""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.errors import InputError
from gridtwin.network._fp_case import internal_case
from gridtwin.network._newton import (
    NewtonCase,
    NewtonSolution,
    case_injection,
    dc_start,
    newton_case,
    solve_newton,
    solve_newton_steps,
)

# pandapower's bundled MATPOWER cases predate its tap tables
pytestmark = pytest.mark.filterwarnings("ignore:tap_dependency_table is missing:DeprecationWarning")

VM_TOL_PU = 1e-8
VA_TOL_DEG = 1e-6
Q_TOL_MVAR = 1e-6


@functools.lru_cache(maxsize=16)
def _cached(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "cigre_hv":
            return pn.create_cigre_network_hv()
        if name == "ehv":
            import simbench as sb

            return sb.get_simbench_net("1-EHV-mixed--0-sw")
        return getattr(pn, name)()


def _net(name: str) -> Any:
    """A fresh deep copy of a cached network."""
    return copy.deepcopy(_cached(name))


@dataclass
class _Run:
    net: Any
    case: NewtonCase
    sol: NewtonSolution
    bus: Any  # internal index of each pandapower bus (-1 where not energised)


def _ours(net: Any, **kw: Any) -> _Run:
    """Our Newton-Raphson on pandapower's internal case of ``net``."""
    _, ppci, lookups, _ = internal_case(net, "t")
    case = newton_case(ppci)
    s, s_i, s_z = case_injection(ppci)
    sol = solve_newton(case, s, s_i_pu=s_i, s_z_pu=s_z, **kw)
    b = np.asarray(lookups["bus"])[net.bus.index.to_numpy()]
    return _Run(net, case, sol, np.where(b < case.n_bus, b, -1))


def _theirs(run: _Run, **kw: Any) -> None:
    """pandapower's runpp on the same net, to a tolerance at our round-off floor."""
    tol = max(1e-10, 4 * run.case.floor_pu * run.case.base_mva)
    pp.runpp(run.net, tolerance_mva=tol, max_iteration=30, **kw)


def _gen_q_by_bus(run: _Run, zip_loads: bool = False) -> dict[int, float]:
    """pandapower's generator reactive power summed per internal bus [Mvar].

    With ``zip_loads``, corrected by the voltage dependence of the loads at the bus:
    pandapower's ``pfsoln`` takes a generator's Q as the bus injection plus the load's
    *nominal* Q, while ``res_load`` has the voltage-dependent Q, so its own bus balance
    does not close there."""
    net = run.net
    g = net.gen[net.gen.in_service]
    out: dict[int, float] = {}
    for idx, bus in zip(g.index, g.bus, strict=True):
        k = int(run.bus[net.bus.index.get_loc(bus)])
        out[k] = out.get(k, 0.0) + float(net.res_gen.q_mvar[idx])
        if zip_loads:
            at = net.load.in_service & (net.load.bus == bus)
            nominal = (net.load.q_mvar * net.load.scaling)[at].sum()
            out[k] += float(net.res_load.q_mvar[at].sum() - nominal) / len(g[g.bus == bus])
    return out


def _assert_matches(run: _Run, zip_loads: bool = False) -> None:
    """Voltages at every energised bus, gen Q at every PV bus and slack P and Q agree
    with pandapower's results."""
    net, case, sol = run.net, run.case, run.sol
    assert sol.converged
    on = run.bus >= 0
    vm = np.abs(sol.v_pu)[run.bus[on]]
    va = np.rad2deg(np.angle(sol.v_pu))[run.bus[on]]
    np.testing.assert_allclose(vm, net.res_bus.vm_pu.to_numpy()[on], rtol=0, atol=VM_TOL_PU)
    np.testing.assert_allclose(va, net.res_bus.va_degree.to_numpy()[on], rtol=0, atol=VA_TOL_DEG)
    q_pp = _gen_q_by_bus(run, zip_loads)
    q_ours = dict(zip(case.pv.tolist(), sol.q_pv_pu * case.base_mva, strict=True))
    for k in case.pv.tolist():
        assert q_ours[k] == pytest.approx(q_pp[k], abs=Q_TOL_MVAR), k
    # slack buses: ext_grid P and Q, plus the Q of gens sharing the bus
    eg = net.ext_grid[net.ext_grid.in_service]
    for j, k in enumerate(case.ref.tolist()):
        at = run.bus[net.bus.index.get_indexer(eg.bus)] == k
        p = net.res_ext_grid.p_mw[eg.index[at]].sum()
        q = net.res_ext_grid.q_mvar[eg.index[at]].sum() + q_pp.get(k, 0.0)
        assert sol.s_ref_pu[j].real * case.base_mva == pytest.approx(p, abs=Q_TOL_MVAR)
        assert sol.s_ref_pu[j].imag * case.base_mva == pytest.approx(q, abs=Q_TOL_MVAR)


@pytest.mark.parametrize(
    "name",
    ["case9", "case14", "case30", "case39", "case57", "case118", "case89pegase", "cigre_hv"],
)
def test_matches_pandapower(name: str) -> None:
    """Every bus voltage, every PV bus's gen Q and the slack power as pandapower's runpp
    (case89pegase has phase-shifting transformers; cigre_hv 330-degree ones and a 1 MVA
    base, where the mismatch cannot go below about 1e-9 pu)."""
    run = _ours(_net(name))
    assert len(run.case.pv) > 0
    _theirs(run)
    _assert_matches(run)


def test_flat_start_is_pandapowers() -> None:
    """``v_flat_pu`` is the start pandapower's ``newtonpf`` gets with ``init="flat"``;
    ``dc_start`` the angles of pandapower's own DC power flow (``rundcpp``), phase
    shifts included."""
    from pandapower.pf.ppci_variables import _get_pf_variables_from_ppci

    net = _net("cigre_hv")
    _, ppci, lookups, _ = internal_case(net, "t")
    case = newton_case(ppci)
    v0 = _get_pf_variables_from_ppci(ppci)[13]
    np.testing.assert_allclose(case.v_flat_pu, v0, rtol=0, atol=1e-15)
    s, s_i, s_z = case_injection(ppci)
    va = np.rad2deg(np.angle(dc_start(case, s, s_i, s_z)))
    pp.rundcpp(net)
    b = np.asarray(lookups["bus"])[net.bus.index.to_numpy()]
    d = (va[b] - net.res_bus.va_degree.to_numpy() + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(d, 0.0, rtol=0, atol=1e-9)
    # the start carries the 330-degree shifts of the 220/22 kV transformers: the slack
    # sits at 22 kV, so the 220 and 380 kV buses start at -30 degrees
    hv = b[net.bus.vn_kv.to_numpy() > 100]
    assert np.all(np.abs(np.angle(case.v_start_pu[hv], deg=True) + 30.0) < 1e-6)


@pytest.mark.parametrize(("name", "n_binding"), [("case39", 1), ("case118", 6)])
def test_reactive_limits_as_pandapower(name: str, n_binding: int) -> None:
    """``enforce_q_lims=True`` switches the PV buses pandapower switches and lands on its
    solution; the limits do bind (pandapower's unlimited gens exceed them)."""
    free = _net(name)
    pp.runpp(free)
    g = free.gen
    over = (free.res_gen.q_mvar > g.max_q_mvar) | (free.res_gen.q_mvar < g.min_q_mvar)
    assert int(over.sum()) == n_binding
    run = _ours(_net(name), enforce_q_lims=True)
    assert int(run.sol.switched_pv.sum()) == n_binding
    _theirs(run, enforce_q_lims=True)
    _assert_matches(run)
    sw = run.sol.switched_pv
    q = run.sol.q_pv_pu[sw]
    at_limit = np.isclose(q, run.case.q_max_pv_pu[sw]) | np.isclose(q, run.case.q_min_pv_pu[sw])
    assert at_limit.all()


def _gens_as_sgens(name: str) -> Any:
    """Every gen replaced by an sgen at the P and Q pandapower solved for it."""
    net = _net(name)
    pp.runpp(net)
    for g in net.gen.index:
        q = net.res_gen.q_mvar[g]
        pp.create_sgen(net, net.gen.bus[g], p_mw=net.res_gen.p_mw[g], q_mvar=q)
    net.gen = net.gen.drop(net.gen.index)
    return net


@pytest.mark.parametrize(("name", "vm_max_pu"), [("case39", 1.0636), ("cigre_hv", 1.04356)])
def test_lands_on_the_normal_solution(name: str, vm_max_pu: float) -> None:
    """With the gens as fixed-Q sgens (no PV bus), the default start lands on pandapower's
    solution, not on the high-voltage one the fixed point finds (case39: 1.742 pu)."""
    run = _ours(_gens_as_sgens(name))
    assert len(run.case.pv) == 0
    assert np.abs(run.sol.v_pu).max() == pytest.approx(vm_max_pu, abs=1e-4)
    _theirs(run)
    _assert_matches(run)


def test_high_voltage_solution_is_a_solution() -> None:
    """case39 with gens as sgens has a second solution at 1.742 pu: from a high start the
    same equations converge there, so the start alone picks the branch."""
    run = _ours(_gens_as_sgens("case39"))
    _, ppci, _, _ = internal_case(run.net, "t")
    s, _, _ = case_injection(ppci)
    v0 = run.case.v_start_pu.copy()
    v0[run.case.pq] *= 1.7
    high = solve_newton(run.case, s, v0=v0)
    assert high.converged
    assert np.abs(high.v_pu).max() == pytest.approx(1.7423, abs=1e-3)
    assert np.abs(run.sol.v_pu).max() < 1.07


def test_voltage_dependent_loads() -> None:
    """ZIP loads (constant-current and constant-impedance shares) with a gen, as
    pandapower's ``voltage_depend_loads=True``."""
    net = _net("case14")
    rng = np.random.default_rng(7)
    n = len(net.load)
    net.load["const_z_p_percent"] = rng.uniform(0, 50, n)
    net.load["const_i_p_percent"] = rng.uniform(0, 50, n)
    net.load["const_z_q_percent"] = rng.uniform(0, 50, n)
    net.load["const_i_q_percent"] = rng.uniform(0, 50, n)
    run = _ours(net)
    _theirs(run, voltage_depend_loads=True)
    _assert_matches(run, zip_loads=True)
    # pandapower's res_gen at a PV bus with a ZIP load misses the load's voltage
    # dependence (bus 1: 46.096 Mvar against 33.396 + 13.113 flowing out)
    k = int(run.bus[net.bus.index.get_loc(1)])
    j = int(np.flatnonzero(run.case.pv == k)[0])
    q_gen = float(net.res_gen.q_mvar[net.gen.bus == 1].sum())
    q_load = float(net.res_load.q_mvar[net.load.bus == 1].sum())
    assert q_load - 12.7 > 0.4
    assert run.sol.q_pv_pu[j] * run.case.base_mva == pytest.approx(q_gen + q_load - 12.7)
    # the loads do depend on the voltage: constant-power loads give other voltages
    const = _ours(_net("case14"))
    assert np.max(np.abs(np.abs(const.sol.v_pu) - np.abs(run.sol.v_pu))) > 1e-4


@pytest.mark.parametrize("name", ["case11_iwamoto", "overloaded_case9"])
def test_non_convergence_is_reported(name: str) -> None:
    """Where pandapower does not converge either, the result says so; no exception."""
    if name == "overloaded_case9":
        net = _net("case9")
        net.load[["p_mw", "q_mvar"]] *= 3.0
    else:
        net = _net(name)
    run = _ours(net)
    assert not run.sol.converged
    assert run.sol.max_mismatch_pu > 1e-6 or not np.isfinite(run.sol.max_mismatch_pu)
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(net)


def test_internal_case_mapping() -> None:
    """Gens sharing a bus (their limits summed), a gen on the ext_grid bus (the bus stays
    the slack), an out-of-service gen (no PV bus) and a gen on an isolated bus (removed
    with its bus) are all mapped as pandapower maps them."""
    net = _net("case30")
    pv_bus = int(net.gen.bus.iloc[0])
    vm = float(net.gen.vm_pu.iloc[0])
    pp.create_gen(net, pv_bus, p_mw=5.0, vm_pu=vm, min_q_mvar=-7.0, max_q_mvar=9.0)
    eg_bus = int(net.ext_grid.bus.iloc[0])
    pp.create_gen(net, eg_bus, p_mw=3.0, vm_pu=float(net.ext_grid.vm_pu.iloc[0]))
    pq_bus = int(net.load.bus.iloc[-1])
    pp.create_gen(net, pq_bus, p_mw=4.0, vm_pu=1.02, in_service=False)
    island = pp.create_bus(net, vn_kv=135.0)
    pp.create_gen(net, island, p_mw=1.0, vm_pu=1.0)
    run = _ours(net)
    _theirs(run)
    _assert_matches(run)
    k = run.bus[net.bus.index.get_loc(pv_bus)]
    gens = net.gen[(net.gen.bus == pv_bus) & net.gen.in_service]
    j = int(np.flatnonzero(run.case.pv == k)[0])
    assert run.case.q_max_pv_pu[j] * run.case.base_mva == pytest.approx(gens.max_q_mvar.sum())
    assert run.bus[net.bus.index.get_loc(eg_bus)] in run.case.ref
    assert run.bus[net.bus.index.get_loc(pq_bus)] in run.case.pq
    assert run.bus[net.bus.index.get_loc(island)] == -1
    assert run.case.n_bus == len(net.bus) - 1


def test_steps_warm_start_as_pandapower() -> None:
    """Many steps, each warm-started: every step as pandapower's runpp of that step, and
    the warm start takes fewer iterations than starting every step afresh."""
    net = _net("case39")
    factors = [1.0, 1.01, 1.02, 1.015, 1.005]  # quarter-hour-like changes
    _, ppci, _, _ = internal_case(net, "t")
    case = newton_case(ppci)
    s, _, _ = case_injection(ppci)
    _, ppci2, lookups, _ = internal_case(_scaled(net, 2.0), "t")
    per_load = case_injection(ppci2)[0] - s  # the loads' injection once more
    rows = np.array([s + (f - 1.0) * per_load for f in factors])
    warm = solve_newton_steps(case, rows)
    cold = solve_newton_steps(case, rows, warm=False)
    assert warm.converged.all()
    assert cold.converged.all()
    assert warm.v_pu.shape == (len(factors), case.n_bus)
    assert warm.iterations[1:].sum() < cold.iterations[1:].sum()
    b = np.asarray(lookups["bus"])[net.bus.index.to_numpy()]
    for t, f in enumerate(factors):
        step = _scaled(net, f)
        pp.runpp(step, tolerance_mva=1e-10, max_iteration=30)
        vm = np.abs(warm.v_pu[t])[b]
        np.testing.assert_allclose(vm, step.res_bus.vm_pu.to_numpy(), rtol=0, atol=VM_TOL_PU)
        va = np.angle(warm.v_pu[t], deg=True)[b]
        np.testing.assert_allclose(va, step.res_bus.va_degree.to_numpy(), rtol=0, atol=VA_TOL_DEG)


def _scaled(net: Any, factor: float) -> Any:
    """A copy of ``net`` with every load scaled by ``factor``."""
    out = copy.deepcopy(net)
    out.load["scaling"] = factor
    return out


def test_steps_with_reactive_limits() -> None:
    """Reactive limits in many steps: each step starts with every PV bus in control."""
    net = _net("case118")
    _, ppci, _, _ = internal_case(net, "t")
    case = newton_case(ppci)
    s, _, _ = case_injection(ppci)
    one = solve_newton(case, s, enforce_q_lims=True)
    steps = solve_newton_steps(case, np.array([s, s, s]), enforce_q_lims=True)
    assert steps.converged.all()
    for t in range(3):
        np.testing.assert_array_equal(steps.switched_pv[t], one.switched_pv)
        np.testing.assert_allclose(steps.v_pu[t], one.v_pu, rtol=0, atol=1e-9)


def test_bad_arguments_are_refused() -> None:
    """Wrong lengths and NaN injections are refused with what to give instead."""
    net = _net("case9")
    _, ppci, _, _ = internal_case(net, "t")
    case = newton_case(ppci)
    s, _, _ = case_injection(ppci)
    with pytest.raises(InputError, match="9 buses"):
        solve_newton(case, s[:-1])
    bad = s.copy()
    bad[3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        solve_newton(case, bad)
    with pytest.raises(InputError, match="expected"):
        solve_newton_steps(case, s)
    with pytest.raises(InputError, match="v0"):
        solve_newton(case, s, v0=np.ones(3))


@pytest.mark.slow
def test_simbench_ehv_as_pandapower() -> None:
    """SimBench's EHV grid: 338 gens, many sharing a bus, 9 on ext_grid buses, 7 ext_grids,
    fused bus-bus switches, a 1 MVA base."""
    run = _ours(_net("ehv"))
    _theirs(run)
    _assert_matches(run)


def test_facts_devices_are_refused() -> None:
    """An in-service SVC changes pandapower's equations: refused, naming the table."""
    net = _net("case9")
    pp.create_svc(
        net, 4, x_l_ohm=1.0, x_cvar_ohm=-10.0, set_vm_pu=1.0, thyristor_firing_angle_degree=100.0
    )
    _, ppci, _, _ = internal_case(net, "t")
    with pytest.raises(InputError, match="table svc"):
        newton_case(ppci)
