"""State estimation (gridtwin.network.estimation) against pandapower's power flow (the true
state), pandapower's own estimator (the peer), and the statistics it promises."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import estimation as se
from gridtwin.network.estimation import (
    EstimationOptions,
    FlowReadings,
    Measurements,
    ObservabilityError,
    PowerReadings,
    StateEstimator,
    VoltageReadings,
    estimate,
    pseudo_readings,
)
from tests.network.util import LV_CODE, simbench_model

SV, SP, ST = 0.002, 5e-4, 1e-3  # sigmas: voltage [pu], customer meter [MW], substation [MW]


@pytest.fixture(scope="module")
def lv() -> Any:
    """The SimBench LV feeder with pandapower's power flow of its static set-points."""
    net = copy.deepcopy(simbench_model(LV_CODE).net)
    pp.runpp(net, calculate_voltage_angles=True)
    return net


@pytest.fixture(scope="module")
def lv_estimator(lv: Any) -> StateEstimator:
    return StateEstimator(lv, EstimationOptions(normalized_residuals="on_alarm"))


def _meter_buses(net: Any) -> np.ndarray:
    return np.unique(np.r_[net.trafo.lv_bus.to_numpy(), net.load.bus.to_numpy()])


def smart_meters(
    net: Any,
    rng: np.random.Generator | None,
    *,
    loads: np.ndarray | None = None,
    scale: float = 1.0,
) -> Measurements:
    """True values (+ noise within sigma when ``rng``): vm at the substation and every
    customer bus, p/q of the loads (all or ``loads``), sgens, the transformer's LV flow."""

    def noise(n: int, s: float) -> Any:
        return rng.normal(0.0, s, n) if rng is not None else np.zeros(n)

    vb = _meter_buses(net)
    idx = net.load.index.to_numpy() if loads is None else loads
    n = len(idx)
    s = scale
    return Measurements(
        vm=VoltageReadings(
            vb, net.res_bus.vm_pu.loc[vb] + noise(len(vb), SV), np.full(len(vb), SV * s)
        ),
        load=PowerReadings(
            idx,
            net.res_load.p_mw.loc[idx] + noise(n, SP),
            net.res_load.q_mvar.loc[idx] + noise(n, SP),
            np.full(n, SP * s),
            np.full(n, SP * s),
        ),
        sgen=PowerReadings(
            net.sgen.index,
            net.res_sgen.p_mw + noise(len(net.sgen), SP),
            net.res_sgen.q_mvar + noise(len(net.sgen), SP),
            np.full(len(net.sgen), SP * s),
            np.full(len(net.sgen), SP * s),
        ),
        trafo=FlowReadings(
            [0],
            ["lv"],
            net.res_trafo.p_lv_mw.iloc[:1] + noise(1, ST),
            net.res_trafo.q_lv_mvar.iloc[:1] + noise(1, ST),
            [ST * s],
            [ST * s],
        ),
    )


# --- the estimate ------------------------------------------------------------------------


def test_exact_measurements_reproduce_the_power_flow(lv: Any) -> None:
    # every load metered exactly (tiny sigma): the estimate is the power flow
    res = estimate(lv, smart_meters(lv, None, scale=1e-6))
    assert np.max(np.abs(res.vm_pu - lv.res_bus.vm_pu.to_numpy())) < 1e-6
    assert np.max(np.abs(res.va_degree - lv.res_bus.va_degree.to_numpy())) < 1e-4
    assert np.allclose(res.line_p_from_mw, lv.res_line.p_from_mw, atol=1e-6)
    assert np.allclose(res.line_loading_percent, lv.res_line.loading_percent, atol=1e-3)
    assert np.allclose(res.trafo_p_hv_mw, lv.res_trafo.p_hv_mw, atol=1e-6)
    assert np.allclose(res.trafo_loading_percent, lv.res_trafo.loading_percent, atol=1e-3)
    assert np.allclose(res.load_p_mw, lv.res_load.p_mw, atol=1e-6)
    assert res.test.passed
    assert res.removed == ()


def test_noisy_estimate_within_a_few_sigma_and_residuals_consistent(
    lv: Any, lv_estimator: StateEstimator
) -> None:
    res = lv_estimator.estimate(smart_meters(lv, np.random.default_rng(7)))
    assert np.max(np.abs(res.vm_pu - lv.res_bus.vm_pu.to_numpy())) < 3 * SV
    r = res.residuals
    # J is the sum of the squared weighted residuals of the reported readings
    assert res.test.j == pytest.approx(float(np.sum((r.residual / r.sigma) ** 2)), rel=1e-9)
    assert np.allclose(r.measured - r.estimated, r.residual)
    # a metered load alone at its bus: its estimate is the load PGM returns
    lonely = lv.load.index[~lv.load.bus.duplicated(keep=False)][0]
    k = np.flatnonzero((r.table == "load") & (r.element == lonely) & (r.quantity == "p"))[0]
    assert r.estimated[k] == pytest.approx(res.load_p_mw[lv.load.index.get_loc(lonely)], abs=1e-9)


def test_estimate_on_a_pandapower_example_net() -> None:
    net = pn.create_cigre_network_lv()
    pp.runpp(net, calculate_voltage_angles=True)
    rng = np.random.default_rng(11)
    vb = net.bus.index.to_numpy()
    n = len(net.load)
    m = Measurements(
        vm=VoltageReadings(
            vb, net.res_bus.vm_pu + rng.normal(0, SV, len(vb)), np.full(len(vb), SV)
        ),
        load=PowerReadings(
            net.load.index,
            net.res_load.p_mw + rng.normal(0, SP, n),
            net.res_load.q_mvar + rng.normal(0, SP, n),
            np.full(n, SP),
            np.full(n, SP),
        ),
    )
    res = estimate(net, m)
    assert np.nanmax(np.abs(res.vm_pu - net.res_bus.vm_pu.to_numpy())) < 3 * SV
    assert res.test.dof > 0
    assert res.test.passed


def test_same_vm_as_pandapower_state_estimation(lv: Any) -> None:
    """Peer: pandapower's WLS on the same readings (bus injections aggregated as PGM does,
    consumer frame; zero-injection buses as exact-ish p = q = 0 readings, which pandapower
    needs explicitly). Both minimise the same objective on the same model, so the
    estimates agree to the solvers' tolerance, not just to the noise (1e-6 pu)."""
    m = smart_meters(lv, np.random.default_rng(3))
    res = estimate(lv, m)
    pnet = copy.deepcopy(lv)
    assert m.vm is not None
    assert m.load is not None
    assert m.sgen is not None
    assert m.trafo is not None
    for b, v in zip(m.vm.bus, m.vm.vm_pu, strict=True):
        pp.create_measurement(pnet, "v", "bus", v, SV, int(b))
    rows = pd.concat(
        [
            pd.DataFrame({"bus": lv.load.bus.to_numpy(), "p": m.load.p_mw, "q": m.load.q_mvar}),
            pd.DataFrame({"bus": lv.sgen.bus.to_numpy(), "p": -m.sgen.p_mw, "q": -m.sgen.q_mvar}),
        ]
    )
    counts = rows.groupby("bus").size()
    agg = rows.groupby("bus").sum()
    for b, row in agg.iterrows():
        sigma = SP * np.sqrt(counts.loc[b])
        pp.create_measurement(pnet, "p", "bus", row.p, sigma, int(b))
        pp.create_measurement(pnet, "q", "bus", row.q, sigma, int(b))
    for b in set(lv.bus.index) - set(agg.index) - set(lv.ext_grid.bus):
        pp.create_measurement(pnet, "p", "bus", 0.0, 1e-6, int(b))
        pp.create_measurement(pnet, "q", "bus", 0.0, 1e-6, int(b))
    pp.create_measurement(pnet, "p", "trafo", float(m.trafo.p_mw[0]), ST, 0, side="lv")
    pp.create_measurement(pnet, "q", "trafo", float(m.trafo.q_mvar[0]), ST, 0, side="lv")
    from pandapower.estimation import estimate as pp_estimate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = pp_estimate(pnet, algorithm="wls", init="flat", tolerance=1e-9, maximum_iterations=50)
    assert ok["success"]
    assert np.max(np.abs(pnet.res_bus_est.vm_pu.to_numpy() - res.vm_pu)) < 1e-6


# --- the test and bad data ---------------------------------------------------------------


def test_gross_voltage_error_is_named_removed_and_the_reestimate_passes(
    lv: Any, lv_estimator: StateEstimator
) -> None:
    m = smart_meters(lv, np.random.default_rng(5))
    assert m.vm is not None
    bad_bus = int(m.vm.bus[7])
    vm = m.vm.vm_pu.copy()
    vm[7] += 20 * SV
    bad = Measurements(
        vm=VoltageReadings(m.vm.bus, vm, m.vm.sigma_pu), load=m.load, sgen=m.sgen, trafo=m.trafo
    )
    plain = StateEstimator(lv, EstimationOptions(max_removals=0))
    first = plain.estimate(bad)
    assert not first.test.passed
    r = first.residuals
    worst = np.nanargmax(np.abs(r.normalized))
    assert (r.table[worst], r.element[worst], r.quantity[worst]) == ("bus", bad_bus, "vm")
    res = lv_estimator.estimate(bad)
    assert [(b.table, b.element, b.quantity) for b in res.removed] == [("bus", bad_bus, "vm")]
    assert abs(res.removed[0].normalized_residual) > 10
    assert res.test.passed
    assert res.test.dof == first.test.dof - 1
    assert bad_bus not in res.residuals.element[res.residuals.table == "bus"]


def test_gross_flow_error_is_detected_but_smeared_over_the_loads(lv: Any) -> None:
    """A 20-sigma error in the transformer's LV flow: the test fails, but that flow is
    almost the sum of 41 metered loads (correlation near 1), so its |r_N| is within a few
    per cent of theirs and noise decides the order: the limit of the largest normalised
    residual with low local redundancy (reported, not hidden)."""
    m = smart_meters(lv, np.random.default_rng(6))
    assert m.trafo is not None
    tr = FlowReadings([0], ["lv"], m.trafo.p_mw + 20 * ST, m.trafo.q_mvar, [ST], [ST])
    plain = StateEstimator(lv, EstimationOptions(max_removals=0))
    res = plain.estimate(Measurements(vm=m.vm, load=m.load, sgen=m.sgen, trafo=tr))
    assert not res.test.passed
    r = res.residuals
    k = np.flatnonzero((r.table == "trafo") & (r.quantity == "p"))[0]
    top = np.nanmax(np.abs(r.normalized))
    assert abs(r.normalized[k]) > 3.0
    assert abs(r.normalized[k]) > 0.9 * top


def test_false_alarm_rate_and_mean_objective(lv: Any, lv_estimator: StateEstimator) -> None:
    """200 clean draws: alarms ~ Binomial(200, 0.01), mean 2; P(X >= 9) < 1e-4, so more
    than 8 alarms fails. E[J] = dof, sd(J) = sqrt(2 dof): the mean of 200 draws lies
    within dof +- 4 sqrt(2 dof / 200)."""
    rng = np.random.default_rng(2024)
    js, alarms = [], 0
    for _ in range(200):
        res = lv_estimator.estimate(smart_meters(lv, rng))
        js.append(res.test.j)
        alarms += (not res.test.passed) or bool(res.removed)
    dof = res.test.dof
    assert alarms <= 8
    assert abs(np.mean(js) - dof) < 4 * np.sqrt(2 * dof / 200)


# --- observability and pseudo-measurements -----------------------------------------------


def _downstream(net: Any, line: int) -> set[int]:
    """Buses fed through ``line`` (away from the transformer)."""
    import pandapower.topology as top

    g = top.create_nxgraph(net, respect_switches=True)
    g.remove_edges_from([(u, v, k) for u, v, k in g.edges(keys=True) if k == ("line", line)])
    root = int(net.trafo.lv_bus.iloc[0])
    import networkx as nx

    return set(net.bus.index) - set(nx.node_connected_component(g, root))


def test_unmetered_part_is_named(lv: Any, lv_estimator: StateEstimator) -> None:
    # a line from the substation busbar with several customers behind it
    root = int(lv.trafo.lv_bus.iloc[0])
    cands = lv.line.index[(lv.line.from_bus == root) | (lv.line.to_bus == root)]
    line = max(cands, key=lambda k: len(_downstream(lv, int(k))))
    behind = _downstream(lv, int(line))
    keep = lv.load.index[~lv.load.bus.isin(behind)].to_numpy()
    with pytest.raises(ObservabilityError) as err:
        lv_estimator.estimate(smart_meters(lv, None, loads=keep))
    assert set(err.value.buses) == behind
    text = str(err.value)
    assert f"behind line {line} have no reading" in text
    assert "pseudo-measurements" in text
    some = int(lv.load.index[lv.load.bus.isin(behind)][0])
    assert f"load {some}" in text
    # one flow meter on that line is not enough for 20+ unmetered customers
    m = smart_meters(lv, None, loads=keep)
    flow = FlowReadings([line], ["from"], [0.0], [0.0], [ST], [ST])
    with pytest.raises(ObservabilityError, match="not observable"):
        lv_estimator.estimate(
            Measurements(vm=m.vm, load=m.load, sgen=m.sgen, trafo=m.trafo, line=flow)
        )


def test_no_voltage_reading_is_named(lv: Any, lv_estimator: StateEstimator) -> None:
    m = smart_meters(lv, None)
    with pytest.raises(ObservabilityError, match="no voltage measurement"):
        lv_estimator.estimate(Measurements(load=m.load, sgen=m.sgen, trafo=m.trafo))


def test_pseudo_measurements_fill_unmetered_loads_and_meters_dominate(lv: Any) -> None:
    est = StateEstimator(lv)
    rng = np.random.default_rng(9)
    metered = lv.load.index[::3].to_numpy()
    # profile values 30 % off the truth for every load
    pseudo = Measurements(
        load=pseudo_readings(lv.load.index, lv.res_load.p_mw * 1.3, lv.res_load.q_mvar * 1.3)
    )
    res = est.estimate(smart_meters(lv, rng, loads=metered), pseudo)
    err = np.abs(res.load_p_mw - lv.res_load.p_mw.to_numpy())
    is_metered = lv.load.index.isin(metered)
    # a metered load stays near its meter (sigma 0.5 kW), far from its pseudo value
    assert np.all(err[is_metered] < 4 * SP)
    assert np.max(np.abs(res.vm_pu - lv.res_bus.vm_pu.to_numpy())) < 3 * SV
    r = res.residuals
    assert r.pseudo[(r.table == "load") & ~np.isin(r.element, metered)].all()
    assert np.isnan(r.normalized[r.pseudo]).all()


def test_pseudo_sigma_rule() -> None:
    pr = pseudo_readings([1, 2], [0.004, 0.0], [-0.001, 0.0], relative_sigma=0.5, floor_mw=1e-3)
    assert np.allclose(pr.sigma_p_mw, [0.002, 0.001])
    assert np.allclose(pr.sigma_q_mvar, [0.001, 0.001])
    with pytest.raises(InputError, match="relative_sigma"):
        pseudo_readings([1], [0.1], [0.0], floor_mw=0.0)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda m: {"vm": VoltageReadings([999], [1.0], [0.01])},
            r"measurements\.vm\.bus\[0\] = 999",
        ),
        (
            lambda m: {"load": PowerReadings([0], [np.nan], [0.0], [1e-3], [1e-3])},
            r"measurements\.load\.p_mw\[0\] = nan",
        ),
        (
            lambda m: {"load": PowerReadings([0], [0.001], [0.0], [0.0], [1e-3])},
            r"measurements\.load\.sigma_p_mw\[0\] = 0",
        ),
        (
            lambda m: {"vm": VoltageReadings([0, 1], [1.0], [0.01, 0.01])},
            r"measurements\.vm\.sigma_pu has 2 values",
        ),
        (
            lambda m: {"trafo": FlowReadings([0], ["mv"], [0.1], [0.0], [1e-3], [1e-3])},
            r"measurements\.trafo\.side\[0\] = 'mv'",
        ),
        (
            lambda m: {"line": FlowReadings([10_000], ["from"], [0.1], [0.0], [1e-3], [1e-3])},
            r"measurements\.line\.element\[0\] = 10000",
        ),
        (
            lambda m: {
                "sgen": PowerReadings([0, 0], [0.0, 0.0], [0.0, 0.0], [1e-3] * 2, [1e-3] * 2)
            },
            r"measurements\.sgen\.element: sgen 0 has more than one reading",
        ),
    ],
)
def test_bad_input_names_the_field(
    lv: Any, lv_estimator: StateEstimator, change: Any, field: str
) -> None:
    m = smart_meters(lv, None)
    kw = {k: getattr(m, k) for k in ("vm", "load", "sgen", "line", "trafo")}
    kw.update(change(m))
    with pytest.raises(InputError, match=field):
        lv_estimator.estimate(Measurements(**kw))


def test_bad_options_and_pseudo_kinds(lv: Any, lv_estimator: StateEstimator) -> None:
    with pytest.raises(InputError, match="alpha"):
        EstimationOptions(alpha=0.0)
    with pytest.raises(InputError, match=r"pseudo\.vm"):
        lv_estimator.estimate(
            smart_meters(lv, None), Measurements(vm=VoltageReadings([0], [1.0], [0.1]))
        )
    with pytest.raises(InputError, match="options"):
        estimate(lv_estimator, smart_meters(lv, None), options=EstimationOptions())


def test_reading_at_an_out_of_service_load_is_refused(lv: Any) -> None:
    net = copy.deepcopy(lv)
    net.load.loc[net.load.index[0], "in_service"] = False
    with pytest.raises(InputError, match=f"load {net.load.index[0]} is out of service"):
        estimate(net, smart_meters(lv, None))


def test_the_module_is_light_to_import() -> None:
    assert "estimate" in se.__all__


def test_feature_net_taps_parallel_links_shunt_storage_open_ends() -> None:
    """The converter's feature grid: the residual model (PGM's branch model rebuilt in
    _se_model: taps, parallel units, links merged, shunt, open line ends) agrees with
    pandapower's power flow, so exact readings give J ~ 0 and the power flow's state."""
    from tests.network.util import feature_net

    net = feature_net()
    pp.runpp(net, calculate_voltage_angles=True)
    vb = net.bus.index[net.res_bus.vm_pu.notna()].to_numpy()
    loads = net.load.index[net.load.in_service].to_numpy()
    tr = net.trafo.index[net.trafo.in_service].to_numpy()
    tiny = 1e-7

    def full(n: int) -> np.ndarray:
        return np.full(n, tiny)

    m = Measurements(
        vm=VoltageReadings(vb, net.res_bus.vm_pu.loc[vb], full(len(vb))),
        load=PowerReadings(
            loads,
            net.res_load.p_mw.loc[loads],
            net.res_load.q_mvar.loc[loads],
            full(len(loads)),
            full(len(loads)),
        ),
        sgen=PowerReadings(
            net.sgen.index,
            net.res_sgen.p_mw,
            net.res_sgen.q_mvar,
            full(len(net.sgen)),
            full(len(net.sgen)),
        ),
    )
    est = StateEstimator(net)
    # the storage has no reading: the part behind its transformer is named
    with pytest.raises(ObservabilityError, match=r"behind trafo \d+ have no reading \(storage 0\)"):
        est.estimate(m)
    flows = FlowReadings(
        tr,
        ["lv"] * len(tr),
        net.res_trafo.p_lv_mw.loc[tr],
        net.res_trafo.q_lv_mvar.loc[tr],
        full(len(tr)),
        full(len(tr)),
    )
    res = est.estimate(Measurements(vm=m.vm, load=m.load, sgen=m.sgen, trafo=flows))
    assert np.nanmax(np.abs(res.vm_pu - net.res_bus.vm_pu.to_numpy())) < 1e-8
    assert np.isnan(res.vm_pu[net.res_bus.vm_pu.isna().to_numpy()]).all()
    ok = net.res_line.p_from_mw.notna().to_numpy()
    assert np.allclose(res.line_p_from_mw[ok], net.res_line.p_from_mw[ok], atol=1e-8)
    assert res.test.dof > 0
    assert res.test.j < 0.1  # residuals of 1e-9 pu against sigmas of 1e-7


def test_rn_for_the_largest_weighted_residuals_only_still_names_the_bad_reading(
    lv: Any,
) -> None:
    m = smart_meters(lv, np.random.default_rng(5))
    assert m.vm is not None
    vm = m.vm.vm_pu.copy()
    vm[7] += 20 * SV
    bad = Measurements(
        vm=VoltageReadings(m.vm.bus, vm, m.vm.sigma_pu), load=m.load, sgen=m.sgen, trafo=m.trafo
    )
    est = StateEstimator(lv, EstimationOptions(normalized_residuals="on_alarm", rn_max_rows=5))
    res = est.estimate(bad)
    assert [(b.table, b.element) for b in res.removed] == [("bus", int(m.vm.bus[7]))]
    with pytest.raises(InputError, match="rn_max_rows"):
        EstimationOptions(rn_max_rows=0)
