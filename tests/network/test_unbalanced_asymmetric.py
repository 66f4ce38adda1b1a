"""pandapower's ``asymmetric_load`` and ``asymmetric_sgen`` in the power-grid-model runs:
per phase (``asym_load``/``asym_gen``) in the unbalanced run, the sum of the phases
(``sym_load``/``sym_gen``) in the balanced one, with their static set-points at every step
next to profiled loads (``load_phases``).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import (
    PowerFlowOptions,
    Profiles,
    from_net,
    simulate,
    static_profiles,
    validate,
)
from gridtwin.network._issues import _Collector
from gridtwin.network._pgm import build_pgm_network
from gridtwin.network._validate_unbalanced import check_asymmetric_elements
from tests.network.test_unbalanced_trafo import (
    VM_3PH,
    _ieee,
    pgm_vm,
    runpp_3ph_tight,
    small_net,
)
from tests.network.util import hours


def test_ieee_european_lv_as_shipped() -> None:
    """pandapower's IEEE European LV feeder with its 55 asymmetric loads: within
    pandapower's own stopping error of ``runpp_3ph`` (5e-6 pu), 1e-9 pu against it
    converged tightly with a stiff grid."""
    net = copy.deepcopy(_ieee())
    model = from_net(net)
    res = simulate(model, static_profiles(model), options=PowerFlowOptions(symmetric=False))
    assert res.converged.all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp_3ph(net, numba=False)
    diff = np.abs(res.vm_pu[0] - net.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-5, diff.max(axis=0)
    # the grid supplies the loads and pandapower's line and transformer losses
    # (pandapower's res_ext_grid_3ph is 1.6e-5 MW short of that sum with its
    # negative-sequence grid impedance)
    load_mw = net.asymmetric_load[["p_a_mw", "p_b_mw", "p_c_mw"]].to_numpy().sum()
    loss_mw = sum(
        net[t].filter(like="pl_").to_numpy().sum() for t in ("res_line_3ph", "res_trafo_3ph")
    )
    assert res.ext_grid_p_mw[0, 0] == pytest.approx(load_mw + loss_mw, abs=1e-6)
    assert res.p_loss_mw[0] == pytest.approx(loss_mw, abs=1e-6)
    net.ext_grid["s_sc_max_mva"] = 1e9
    runpp_3ph_tight(net)
    diff = np.abs(pgm_vm(net) - net.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-9, diff.max(axis=0)


def mixed_net() -> tuple[Any, Profiles, dict[int, str], Any]:
    """The small Dyn net (two asymmetric loads, one asymmetric sgen) with an
    out-of-service asymmetric load, two profiled loads (phase b, balanced) and a profiled
    sgen; two steps. Returns the net, its profiles, the load phases and pandapower's
    version of step 2 (the loads as asymmetric loads/sgen at their step-2 values)."""
    net = small_net("Dyn", 150.0)
    pp.create_asymmetric_load(net, 2, p_a_mw=0.5, in_service=False)
    pp.create_load(net, 3, p_mw=0.02, q_mvar=0.005)
    pp.create_load(net, 2, p_mw=0.03, q_mvar=0.0)
    pp.create_sgen(net, 3, p_mw=0.01, q_mvar=0.0)
    idx = hours(2)
    prof = Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame({0: [0.02, 0.035], 1: [0.03, 0.012]}, index=idx),
        load_q_mvar=pd.DataFrame({0: [0.005, 0.001], 1: [0.0, 0.002]}, index=idx),
        sgen_p_mw=pd.DataFrame({0: [0.01, 0.018]}, index=idx),
        sgen_q_mvar=pd.DataFrame({0: [0.0, -0.002]}, index=idx),
    )
    ref = copy.deepcopy(net)
    ref.load = ref.load.iloc[0:0]
    ref.sgen = ref.sgen.iloc[0:0]
    pp.create_asymmetric_load(ref, 3, p_b_mw=0.035, q_b_mvar=0.001)
    pp.create_asymmetric_load(
        ref, 2, p_a_mw=0.004, p_b_mw=0.004, p_c_mw=0.004, q_a_mvar=0.002 / 3,
        q_b_mvar=0.002 / 3, q_c_mvar=0.002 / 3,
    )  # fmt: skip
    pp.create_asymmetric_sgen(
        ref, 3, p_a_mw=0.006, p_b_mw=0.006, p_c_mw=0.006, q_a_mvar=-0.002 / 3,
        q_b_mvar=-0.002 / 3, q_c_mvar=-0.002 / 3,
    )  # fmt: skip
    return net, prof, {0: "b", 1: "abc"}, ref


def test_asymmetric_sgens_and_loads_with_profiled_loads() -> None:
    """Static asymmetric loads/sgen (scaling, one out of service) next to profiled
    loads on a phase: step 2 equals pandapower's runpp_3ph of the same set-points."""
    net, prof, phases, ref = mixed_net()
    res = simulate(
        from_net(net, prof),
        options=PowerFlowOptions(symmetric=False, load_phases=phases, chunk_steps=1),
    )
    assert res.converged.all()
    runpp_3ph_tight(ref)
    diff = np.abs(res.vm_pu[1] - ref.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-9, diff.max(axis=0)
    assert np.abs(res.vm_pu[0] - res.vm_pu[1]).max() > 1e-4  # the profiles act


def test_balanced_runs_take_the_sum_of_the_phases() -> None:
    """Balanced power-grid-model runs: each asymmetric element as one balanced element
    with the sum of its phases (delta or wye), as pandapower's runpp."""
    net, prof, _, _ = mixed_net()
    net.asymmetric_load.loc[1, "type"] = "delta"
    step2 = copy.deepcopy(net)
    step2.load["p_mw"], step2.load["q_mvar"] = [0.035, 0.012], [0.001, 0.002]
    step2.sgen["p_mw"], step2.sgen["q_mvar"] = [0.018], [-0.002]
    pp.runpp(step2, numba=False, tolerance_mva=1e-12)
    for method in ("newton_raphson", "iterative_current"):
        res = simulate(from_net(net, prof), options=PowerFlowOptions(method=method))
        diff = np.abs(res.vm_pu[1] - step2.res_bus.vm_pu.to_numpy())
        assert diff.max() < 1e-9, (method, diff.max())
        assert res.ext_grid_p_mw[1, 0] == pytest.approx(step2.res_ext_grid.p_mw[0], abs=1e-9)


def test_delta_is_refused_in_unbalanced_runs() -> None:
    net = small_net("Dyn", 150.0)
    pp.create_asymmetric_sgen(net, 2, p_b_mw=0.01, type="delta")
    with pytest.raises(InputError, match=r"asymmetric_sgen\[1\]\.type = 'delta'"):
        build_pgm_network(net, symmetric=False)
    net.asymmetric_sgen.loc[1, "in_service"] = False
    build_pgm_network(net, symmetric=False)


def test_validation_of_asymmetric_tables() -> None:
    net = small_net("Dyn", 150.0)
    pp.create_asymmetric_load(net, 2, p_a_mw=0.01, type="delta")
    net.asymmetric_load.loc[0, "q_b_mvar"] = np.nan
    net.asymmetric_load.loc[1, "bus"] = 99
    c = _Collector()
    check_asymmetric_elements(c, net, symmetric=False)
    assert [(i.table, i.index, i.column) for i in c.errors] == [
        ("asymmetric_load", 1, "bus"),
        ("asymmetric_load", 0, "q_b_mvar"),
        ("asymmetric_load", 2, "type"),
    ]
    assert [(i.table, i.index) for i in c.warnings] == [
        ("asymmetric_load", None),
        ("asymmetric_sgen", None),
    ]
    assert "used at every step" in c.warnings[0].message
    c = _Collector()
    check_asymmetric_elements(c, net, symmetric=True)
    assert [i.column for i in c.errors] == ["bus", "q_b_mvar"]  # delta fine when balanced


def test_unbalanced_validation_says_the_source_is_ideal() -> None:
    """pandapower's runpp_3ph puts the grid's short-circuit impedance behind the
    ext_grid in the negative and zero sequence; the unbalanced run does not: a warning."""
    net = copy.deepcopy(_ieee())
    report = validate(from_net(net), solver="pgm_unbalanced")
    hits = [w for w in report.warnings if (w.table, w.column) == ("ext_grid", "s_sc_max_mva")]
    assert len(hits) == 1
    assert "ideal source" in hits[0].message
    assert not [w for w in validate(from_net(net)).warnings if w.table == "ext_grid"]
