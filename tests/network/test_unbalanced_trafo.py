"""The unbalanced (power-grid-model) run takes the transformers' zero-sequence data
(``vk0_percent``, ``vkr0_percent``, ``mag0_percent``, ``mag0_rx``, ``si0_hv_partial``) as
pandapower's ``runpp_3ph`` does, and says in the notes what it replaced.

References are pandapower's own: ``runpp_3ph`` on its ``ieee_european_lv_asymmetric`` net
and on small nets built here. pandapower's three-phase loop stops at a power mismatch of
3e-8 MVA (hard-coded), which leaves a few 1e-6 pu in its voltages; :func:`runpp_3ph_tight`
runs the same code with that limit lowered, for the tight comparisons. Its ext_grid has a
negative- and zero-sequence impedance from ``s_sc_max_mva`` (power-grid-model's source
is ideal in every sequence), so the tight comparisons use a stiff grid.
"""

from __future__ import annotations

import copy
import functools
import inspect
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from power_grid_model import CalculationMethod, ComponentType, PowerGridModel

from gridtwin.errors import InputError
from gridtwin.network import PowerFlowOptions, from_net, simulate, static_profiles
from gridtwin.network._issues import _Collector
from gridtwin.network._pgm import build_pgm_network
from gridtwin.network._validate_unbalanced import check_trafo_zero_sequence

VM_3PH = ["vm_a_pu", "vm_b_pu", "vm_c_pu"]


def runpp_3ph_tight(net: Any) -> None:
    """pandapower's ``runpp_3ph`` with its outer power-mismatch limit lowered from
    3e-8 MVA to 1e-11 MVA (the module's own code, compiled into a private namespace)."""
    import pandapower.pf.runpp_3ph as r3

    src = inspect.getsource(r3)
    if "outer_tolerance_mva = 3e-8" not in src:  # pragma: no cover - pandapower changed
        pytest.skip("pandapower's runpp_3ph no longer has outer_tolerance_mva = 3e-8")
    ns = dict(vars(r3))
    exec(compile(src.replace("outer_tolerance_mva = 3e-8", "outer_tolerance_mva = 1e-11"),
                 r3.__file__, "exec"), ns)  # fmt: skip
    with warnings.catch_warnings():  # the IEEE net predates pandapower 3's tap tables
        warnings.simplefilter("ignore", DeprecationWarning)
        ns["runpp_3ph"](net, numba=False, tolerance_mva=1e-12, max_iteration=100)


def pgm_vm(net: Any, **kw: Any) -> np.ndarray:
    """Phase voltages [pu] of one unbalanced PGM Newton-Raphson on the converted net."""
    g = build_pgm_network(net, symmetric=False, **kw)
    out = PowerGridModel(g.input_data, system_frequency=g.f_hz).calculate_power_flow(
        symmetric=False,
        error_tolerance=1e-10,
        max_iterations=30,
        calculation_method=CalculationMethod.newton_raphson,
    )
    return np.asarray(out[ComponentType.node]["u_pu"])


@functools.lru_cache(maxsize=1)
def _ieee() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pn.ieee_european_lv_asymmetric()


def ieee_phase_loads() -> tuple[Any, dict[int, str]]:
    """pandapower's IEEE European LV feeder with each (single-phase) asymmetric load
    turned into a load on its phase, and those phases."""
    net = copy.deepcopy(_ieee())
    phases: dict[int, str] = {}
    al = net.asymmetric_load
    for idx in al.index:
        p = al.loc[idx, ["p_a_mw", "p_b_mw", "p_c_mw"]].to_numpy(dtype=float)
        k = int(np.argmax(np.abs(p)))
        ph = "abc"[k]
        assert np.count_nonzero(p) == 1
        li = pp.create_load(
            net, int(al.at[idx, "bus"]), p_mw=p[k], q_mvar=float(al.at[idx, f"q_{ph}_mvar"])
        )
        phases[int(li)] = ph
    net.asymmetric_load = net.asymmetric_load.iloc[0:0]
    return net, phases


def test_ieee_european_lv_takes_the_trafo_zero_sequence() -> None:
    """Before: up to 6.2e-4 pu off pandapower (PGM's default zero sequence of the Dyn
    transformer); now within pandapower's own stopping error, and 1e-9 pu once pandapower
    is converged tightly with a stiff grid."""
    net, phases = ieee_phase_loads()
    model = from_net(net)
    res = simulate(
        model,
        static_profiles(model),
        options=PowerFlowOptions(symmetric=False, load_phases=phases, method="newton_raphson"),
    )
    ref = copy.deepcopy(_ieee())  # as shipped: the asymmetric loads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp_3ph(ref, numba=False)
    diff = np.abs(res.vm_pu[0] - ref.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-5, diff.max(axis=0)
    assert not any("zero-sequence" in n for n in res.notes), res.notes
    ref.ext_grid["s_sc_max_mva"] = 1e9
    net.ext_grid["s_sc_max_mva"] = 1e9
    runpp_3ph_tight(ref)
    diff = np.abs(pgm_vm(net, load_phases=phases) - ref.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-9, diff.max(axis=0)


def small_net(vector_group: str, shift_degree: float, **trafo: Any) -> Any:
    """10/0.4 kV, one transformer (magnetising current and iron losses, zero-sequence
    data), two LV cables, unbalanced wye loads and an asymmetric sgen; a stiff grid."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, vn_kv=10.0)
    lv, b2, b3 = (pp.create_bus(net, vn_kv=0.4) for _ in range(3))
    pp.create_ext_grid(
        net, hv, vm_pu=1.02, va_degree=0.0, s_sc_max_mva=1e9, rx_max=0.1, x0x_max=1.0,
        r0x0_max=0.1,
    )  # fmt: skip
    params: dict[str, Any] = {
        "sn_mva": 0.4, "vn_hv_kv": 10.0, "vn_lv_kv": 0.4, "vk_percent": 4.5,
        "vkr_percent": 1.2, "pfe_kw": 0.8, "i0_percent": 0.4, "shift_degree": shift_degree,
        "vector_group": vector_group, "vk0_percent": 4.0, "vkr0_percent": 1.0,
        "mag0_percent": 80.0, "mag0_rx": 0.2, "si0_hv_partial": 0.7,
    }  # fmt: skip
    params.update(trafo)
    pp.create_transformer_from_parameters(net, hv, lv, **params)
    for f, t, km in ((lv, b2, 0.15), (b2, b3, 0.1)):
        pp.create_line_from_parameters(
            net, f, t, length_km=km, r_ohm_per_km=0.206, x_ohm_per_km=0.08,
            c_nf_per_km=210.0, max_i_ka=0.27, r0_ohm_per_km=0.8, x0_ohm_per_km=0.33,
            c0_nf_per_km=150.0,
        )  # fmt: skip
    pp.create_asymmetric_load(net, b2, p_a_mw=0.03, q_a_mvar=0.01, p_b_mw=0.005, p_c_mw=0.012)
    pp.create_asymmetric_load(net, b3, p_b_mw=0.025, q_b_mvar=0.004, p_c_mw=0.002, scaling=1.5)
    pp.create_asymmetric_sgen(net, b3, p_a_mw=0.01, p_c_mw=0.004, q_c_mvar=-0.001)
    return net


@pytest.mark.parametrize(
    ("vector_group", "shift", "trafo"),
    [
        ("Dyn", 150.0, {}),
        ("Dyn", 150.0, {"tap_side": "lv", "tap_pos": 2, "tap_neutral": 0, "tap_min": -2,
                        "tap_max": 2, "tap_step_percent": 2.5, "tap_changer_type": "Ratio"}),
        ("Dyn", 30.0, {"i0_percent": 0.0, "pfe_kw": 0.0, "mag0_rx": 0.0}),
        ("YNyn", 0.0, {}),
        ("YNyn", 0.0, {"tap_side": "hv", "tap_pos": -1, "tap_neutral": 0, "tap_min": -2,
                       "tap_max": 2, "tap_step_percent": 2.5, "tap_changer_type": "Ratio",
                       "parallel": 2}),
    ],
)  # fmt: skip
def test_small_nets_match_runpp_3ph(vector_group: str, shift: float, trafo: Any) -> None:
    net = small_net(vector_group, shift, **trafo)
    runpp_3ph_tight(net)
    diff = np.abs(pgm_vm(net) - net.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-9, diff.max(axis=0)


def test_missing_magnetising_data_takes_pgms() -> None:
    """Without ``mag0_percent`` the zero-sequence magnetising admittance is the positive
    sequence's: none here, i.e. pandapower with an infinite ``mag0_percent``."""
    net = small_net("Dyn", 150.0, i0_percent=0.0, pfe_kw=0.0, mag0_percent=np.nan)
    ref = copy.deepcopy(net)
    ref.trafo["mag0_percent"] = 1e12
    runpp_3ph_tight(ref)
    diff = np.abs(pgm_vm(net) - ref.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() < 1e-9, diff.max(axis=0)


def test_small_net_before_the_fix_was_off() -> None:
    """The same Dyn net with PGM's default zero sequence (no zero-sequence columns) is
    1e-4 pu away from pandapower with the net's data: the data matter."""
    net = small_net("Dyn", 150.0)
    runpp_3ph_tight(net)
    bare = copy.deepcopy(net)
    bare.trafo = bare.trafo.drop(
        columns=["vk0_percent", "vkr0_percent", "mag0_percent", "mag0_rx", "si0_hv_partial"]
    )
    diff = np.abs(pgm_vm(bare) - net.res_bus_3ph[VM_3PH].to_numpy())
    assert diff.max() > 1e-4


def test_notes_say_what_was_replaced() -> None:
    net = small_net("Dyn", 150.0)
    for k in range(2):
        pp.create_transformer_from_parameters(
            net, 0, 1, sn_mva=0.4, vn_hv_kv=10.0, vn_lv_kv=0.4, vk_percent=4.5,
            vkr_percent=1.2, pfe_kw=0.0, i0_percent=0.0, shift_degree=150.0,
            vector_group="Dyn", in_service=k == 0,
        )  # fmt: skip
    pp.create_transformer_from_parameters(
        net, 0, 1, sn_mva=0.4, vn_hv_kv=10.0, vn_lv_kv=0.4, vk_percent=4.5, vkr_percent=1.2,
        pfe_kw=0.0, i0_percent=0.0, shift_degree=0.0, vector_group="Yzn", vk0_percent=4.0,
    )  # fmt: skip
    pp.create_transformer_from_parameters(
        net, 0, 1, sn_mva=0.4, vn_hv_kv=10.0, vn_lv_kv=0.4, vk_percent=4.5, vkr_percent=1.2,
        pfe_kw=0.0, i0_percent=0.0, shift_degree=150.0, vector_group="Dyn", vk0_percent=0.0,
        vkr0_percent=0.0, mag0_percent=np.nan,
    )  # fmt: skip
    g = build_pgm_network(net, symmetric=False)
    assert g.notes == (
        "trafo 1 (Dyn): no zero-sequence data (vk0_percent, vkr0_percent, mag0_percent, "
        "mag0_rx, si0_hv_partial): power-grid-model's default used, the zero-sequence "
        "leakage and magnetising impedances equal to the positive sequence's (vk_percent, "
        "vkr_percent, i0_percent, pfe_kw)",
        "trafo 3 (Yzn): vk0_percent, vkr0_percent, mag0_percent, mag0_rx, si0_hv_partial "
        "not used: power-grid-model's own zero sequence of a Yzn transformer applies (its "
        "zigzag winding's 0.1 x the positive-sequence leakage; pandapower's runpp_3ph "
        "takes only YNyn, Dyn and Yzn)",
        "trafo 4 (Dyn): vk0_percent missing: vk_percent (and vkr_percent) used",
        "trafo 4 (Dyn): mag0_percent missing: the zero-sequence magnetising admittance is "
        "the positive sequence's (i0_percent, pfe_kw), as power-grid-model takes it",
    )
    assert build_pgm_network(net, symmetric=True).notes == ()


def test_unusable_zero_sequence_data_is_refused() -> None:
    net = small_net("Dyn", 150.0, si0_hv_partial=np.nan)
    with pytest.raises(InputError, match=r"trafo\[0\]\.si0_hv_partial: is missing"):
        build_pgm_network(net, symmetric=False)
    build_pgm_network(net, symmetric=True)  # balanced runs do not read it
    c = _Collector()
    net.trafo.loc[0, "mag0_rx"] = np.nan
    net.trafo.loc[0, "vkr0_percent"] = 5.0
    check_trafo_zero_sequence(c, net)
    assert [(i.table, i.index, i.column) for i in c.errors] == [
        ("trafo", 0, "mag0_rx"),
        ("trafo", 0, "si0_hv_partial"),
        ("trafo", 0, "vkr0_percent"),
    ]
    assert "pandapower's usual values" in c.errors[0].message
