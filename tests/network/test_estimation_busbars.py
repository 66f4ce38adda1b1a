"""State estimation where closed bus-bus switches couple busbar sections.

SimBench's MV grids feed their 20 kV busbar through two parallel 110/20 kV transformers
between two coupled 110 kV and two coupled 20 kV busbar sections, the source on one 110 kV
section. Given to power-grid-model as ``link`` branches, that substation made its sparse LU
fail (``SparseMatrixError``, reported as not observable) although the readings determine
the state; the estimator merges the coupled sections into one node. The true state is
pandapower's power flow (which fuses such buses too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandapower as pp
import pytest

from gridtwin.errors import InputError
from gridtwin.network.estimation import (
    EstimationOptions,
    FlowReadings,
    Measurements,
    PowerReadings,
    StateEstimator,
    VoltageReadings,
    pseudo_readings,
)

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"
TRAFO = "25 MVA 110/20 kV"
SIG, SIG_VM = 1e-4, 1e-3  # the live twin's meter floor [MW] and source voltage [pu]


def substation(*, coupled: bool = True, shorted_line: bool = False) -> Any:
    """Source on 110 kV section 0; section 1 coupled to it; transformers 0 -> 2 and 1 -> 3;
    20 kV sections 2 and 3 coupled; a 6-bus feeder from section 2 and one from section 3.
    ``coupled=False``: the same grid with each pair of sections drawn as one bus.
    ``shorted_line``: a cable between sections 2 and 3, beside their coupler."""
    net = pp.create_empty_network()
    hv0 = pp.create_bus(net, 110.0)
    hv1 = pp.create_bus(net, 110.0) if coupled else hv0
    mv2 = pp.create_bus(net, 20.0)
    mv3 = pp.create_bus(net, 20.0) if coupled else mv2
    pp.create_ext_grid(net, hv0, vm_pu=1.02)
    if coupled:
        pp.create_switch(net, hv0, hv1, et="b", closed=True)
        pp.create_switch(net, mv2, mv3, et="b", closed=True)
    pp.create_transformer(net, hv0, mv2, TRAFO)
    pp.create_transformer(net, hv1, mv3, TRAFO)
    if shorted_line:
        pp.create_line(net, mv2, mv3, 0.05, CABLE)
    for start, n in ((mv2, 6), (mv3, 3)):
        prev = start
        for k in range(n):
            bus = pp.create_bus(net, 20.0)
            pp.create_line(net, prev, bus, 0.8, CABLE)
            pp.create_load(net, bus, p_mw=0.4 + 0.1 * k, q_mvar=0.05 + 0.02 * k)
            prev = bus
    pp.create_sgen(net, prev, p_mw=0.3)
    pp.runpp(net, calculate_voltage_angles=True)
    return net


def readings(net: Any, *, vm_buses: list[int] | None = None) -> tuple[Measurements, Any]:
    """Every second load and the PV metered (exact values, sigma SIG), the others on
    pseudo-measurements at their true value; the source voltage (and ``vm_buses``;
    sigma SIG_VM)."""
    loads = net.load.index.to_numpy()
    met, rest = loads[::2], loads[1::2]
    vb = np.array([int(net.ext_grid.bus.iloc[0]), *(vm_buses or [])])
    n = len(met)
    m = Measurements(
        vm=VoltageReadings(vb, net.res_bus.vm_pu.loc[vb].to_numpy(), np.full(len(vb), SIG_VM)),
        load=PowerReadings(
            met,
            net.res_load.p_mw.loc[met].to_numpy(),
            net.res_load.q_mvar.loc[met].to_numpy(),
            np.full(n, SIG),
            np.full(n, SIG),
        ),
        sgen=PowerReadings(
            net.sgen.index.to_numpy(),
            net.res_sgen.p_mw.to_numpy(),
            net.res_sgen.q_mvar.to_numpy(),
            np.full(len(net.sgen), SIG),
            np.full(len(net.sgen), SIG),
        ),
    )
    pseudo = Measurements(
        load=pseudo_readings(rest, net.res_load.p_mw.loc[rest], net.res_load.q_mvar.loc[rest])
    )
    return m, pseudo


def test_source_section_coupled_to_parallel_transformers_is_estimated() -> None:
    """Was ``ObservabilityError`` (PGM's SparseMatrixError) before the sections merged."""
    net = substation()
    res = StateEstimator(net).estimate(*readings(net))
    assert np.max(np.abs(res.vm_pu - net.res_bus.vm_pu.to_numpy())) < 1e-7
    assert np.max(np.abs(res.va_degree - net.res_bus.va_degree.to_numpy())) < 1e-5
    # coupled sections are one node: one voltage
    assert res.vm_pu[0] == res.vm_pu[1]
    assert res.vm_pu[2] == res.vm_pu[3]
    # the parallel transformers share the load as in the power flow
    np.testing.assert_allclose(res.trafo_p_hv_mw, net.res_trafo.p_hv_mw, atol=1e-6)
    np.testing.assert_allclose(res.trafo_q_lv_mvar, net.res_trafo.q_lv_mvar, atol=1e-6)
    np.testing.assert_allclose(res.line_p_from_mw, net.res_line.p_from_mw, atol=1e-6)
    assert res.test.passed


def test_merged_sections_give_the_estimate_of_one_busbar() -> None:
    """The coupled grid's estimate is that of the grid drawn with one bus per busbar."""
    coupled, single = substation(), substation(coupled=False)
    a = StateEstimator(coupled).estimate(*readings(coupled))
    b = StateEstimator(single).estimate(*readings(single))
    same = {0: 0, 1: 0, 2: 1, 3: 1}  # coupled bus -> single bus
    same.update({k: k - 2 for k in range(4, len(coupled.bus))})
    np.testing.assert_allclose(a.vm_pu, b.vm_pu[list(same.values())], atol=1e-10)
    np.testing.assert_allclose(a.trafo_p_lv_mw, b.trafo_p_lv_mw, atol=1e-9)
    assert a.test.dof == b.test.dof


def test_redundant_readings_on_a_merged_section_test_and_locate_bad_data() -> None:
    """Voltage readings on both 20 kV sections and the feeders: the test has degrees of
    freedom, passes on exact readings and names a gross error on the second section
    (its sensor measures the merged node)."""
    net = substation()
    feeder = [int(b) for b in net.load.bus]
    exact, pseudo = readings(net, vm_buses=[2, 3, *feeder])
    est = StateEstimator(net, EstimationOptions(normalized_residuals="always"))
    ok = est.estimate(exact, pseudo)
    assert ok.test.dof >= 2 + len(feeder)
    assert ok.test.j < 1.0
    assert exact.vm is not None
    vm = exact.vm.vm_pu.copy()
    vm[2] += 0.02  # bus 3: 20 sigma off
    bad = Measurements(
        vm=VoltageReadings(exact.vm.bus, vm, exact.vm.sigma_pu), load=exact.load, sgen=exact.sgen
    )
    res = est.estimate(bad, pseudo)
    assert [(b.table, b.element, b.quantity) for b in res.removed] == [("bus", 3, "vm")]
    assert np.max(np.abs(res.vm_pu - net.res_bus.vm_pu.to_numpy())) < 1e-6


def test_a_line_shorted_by_a_coupler_carries_nothing() -> None:
    net = substation(shorted_line=True)
    res = StateEstimator(net).estimate(*readings(net))
    # its charging is dropped with it (pandapower keeps it: 4e-6 pu here)
    assert np.max(np.abs(res.vm_pu - net.res_bus.vm_pu.to_numpy())) < 1e-5
    assert res.line_p_from_mw[0] == 0.0
    assert res.line_i_ka[0] == 0.0
    m, pseudo = readings(net)
    flow = FlowReadings([0], ["from"], [0.0], [0.0], [SIG], [SIG])
    with pytest.raises(InputError, match="line 0"):
        StateEstimator(net).estimate(
            Measurements(vm=m.vm, load=m.load, sgen=m.sgen, line=flow), pseudo
        )
