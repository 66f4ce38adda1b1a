"""power-grid-model's IEC 60909 short circuit on a prepared net (see
:mod:`gridtwin.network.shortcircuit` for the alignment with the standard and pandapower)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from power_grid_model import (
    ComponentType,
    DatasetType,
    FaultType,
    PowerGridModel,
    initialize_array,
)

from gridtwin.errors import InputError
from gridtwin.network._pgm import build_pgm_network
from gridtwin.network._sc_data import ALPHA_PER_K, Case, ShortCircuitOptions, voltage_factor

__all__ = ["pgm_currents", "transformer_correction_factor"]

FloatArray = npt.NDArray[np.float64]

_FAULT_TYPES = {
    "3ph": FaultType.three_phase,
    "2ph": FaultType.two_phase,
    "1ph": FaultType.single_phase_to_ground,
}


def transformer_correction_factor(
    vk_percent: FloatArray, vkr_percent: FloatArray, c_max: FloatArray
) -> FloatArray:
    """IEC 60909-0:2016 eq. (12a): ``K_T = 0.95 c_max / (1 + 0.6 x_T)``.

    ``x_T = sqrt(vk² - vkr²) / 100`` is the transformer's reactance in per unit of its
    rating; ``c_max`` belongs to the LV side.
    """
    x_t = np.sqrt(np.maximum(vk_percent**2 - vkr_percent**2, 0.0)) / 100.0
    return np.asarray(0.95 * c_max / (1.0 + 0.6 * x_t), dtype=float)


def _iec_net(net: Any, case: Case, opt: ShortCircuitOptions) -> Any:
    """The prepared net with IEC 60909's adjustments written into its parameters."""
    out = copy.deepcopy(net)
    ln = out.line
    ln["c_nf_per_km"] = 0.0
    ln["c0_nf_per_km"] = 0.0
    ln["g_us_per_km"] = 0.0
    if case == "min":
        k = 1.0 + ALPHA_PER_K * (ln["endtemp_degree"].to_numpy(dtype=float) - 20.0)
        ln["r_ohm_per_km"] = ln["r_ohm_per_km"].to_numpy(dtype=float) * k
        ln["r0_ohm_per_km"] = ln["r0_ohm_per_km"].to_numpy(dtype=float) * k
    tr = out.trafo
    if not tr.empty:
        tr["pfe_kw"] = 0.0
        tr["i0_percent"] = 0.0
        if case == "max":
            lv_kv = out.bus.loc[tr["lv_bus"], "vn_kv"].to_numpy(dtype=float)
            kt = transformer_correction_factor(
                tr["vk_percent"].to_numpy(dtype=float),
                tr["vkr_percent"].to_numpy(dtype=float),
                voltage_factor(lv_kv, "max", opt.lv_tol_percent),
            )
            for col in ("vk_percent", "vkr_percent", "vk0_percent", "vkr0_percent"):
                tr[col] = tr[col].to_numpy(dtype=float) * kt
    return out


def _model(
    net: Any, case: Case, opt: ShortCircuitOptions
) -> tuple[Any, PowerGridModel, Any, np.ndarray]:
    iec = _iec_net(net, case, opt)
    pg = build_pgm_network(iec, symmetric=False, zero_sequence="net", trafo_model="pi")
    data = dict(pg.input_data)
    src = data[ComponentType.source].copy()
    eg = iec.ext_grid.loc[pg.ids["ext_grid"].index]
    vn = iec.bus.loc[eg["bus"], "vn_kv"].to_numpy(dtype=float)
    c_q = voltage_factor(vn, case, opt.lv_tol_percent)
    s_sc = eg[f"s_sc_{case}_mva"].to_numpy(dtype=float)
    rx = eg[f"rx_{case}"].to_numpy(dtype=float)
    x0x = eg[f"x0x_{case}"].to_numpy(dtype=float)
    r0x0 = eg[f"r0x0_{case}"].to_numpy(dtype=float)
    # IEC 60909-0 eq. (6): Z_Q = c U² / S"kQ; PGM: Z = U² / sk
    src["sk"] = s_sc * 1e6 / c_q
    src["rx_ratio"] = rx
    src["z01_ratio"] = x0x * np.sqrt(1.0 + r0x0**2) / np.sqrt(1.0 + rx**2)
    data[ComponentType.source] = src
    fault = initialize_array(DatasetType.input, ComponentType.fault, 1)
    fault["id"] = int(max(int(np.max(a["id"])) for a in data.values())) + 1
    fault["status"] = 0
    fault["fault_type"] = FaultType.three_phase
    fault["fault_object"] = src["node"][0]
    data[ComponentType.fault] = fault
    return iec, PowerGridModel(data), pg, src


def _fault_currents(
    model: PowerGridModel, fault_id: int, nodes: npt.NDArray[np.int32], kind: FaultType, case: Case
) -> FloatArray:
    upd = initialize_array(DatasetType.update, ComponentType.fault, (len(nodes), 1))
    upd["id"] = fault_id
    upd["status"] = 1
    upd["fault_type"] = kind
    upd["fault_object"] = nodes[:, None]
    out = model.calculate_short_circuit(
        update_data={ComponentType.fault: upd},
        short_circuit_voltage_scaling="maximum" if case == "max" else "minimum",
        continue_on_batch_error=True,
    )
    i_f = np.abs(out[ComponentType.fault]["i_f"]).reshape(len(nodes), -1)
    return np.asarray(np.nanmax(i_f, axis=1), dtype=float) / 1000.0


def _pgm_c(model: PowerGridModel, fault_id: int, src: np.ndarray, u_kv: float, case: Case) -> float:
    """The voltage factor PGM applied: from its three-phase fault at the (first) source
    node, ``I = c U / (√3 |Z_Q|)`` with ``|Z_Q| = U² / sk``."""
    i_ka = _fault_currents(model, fault_id, src["node"][:1], FaultType.three_phase, case)[0]
    z_q = (u_kv * 1e3) ** 2 / float(src["sk"][0])
    return float(i_ka * 1e3 * math.sqrt(3.0) * z_q / (u_kv * 1e3))


def pgm_currents(
    net: Any, case: Case, faults: Sequence[str], opt: ShortCircuitOptions
) -> tuple[dict[str, FloatArray], tuple[str, ...]]:
    """PGM's currents [kA] per bus (pandapower order) for one case.

    Parameters
    ----------
    net : pandapowerNet
        A net from :func:`gridtwin.network._sc_data.prepare_sc_net`.
    case : {'max', 'min'}
        Maximum or minimum currents.
    faults : sequence of {'3ph', '2ph', '1ph'}
        Fault types.
    opt : ShortCircuitOptions
        Assumptions (``lv_tol_percent`` sets the fault location's ``c``).
    """
    iec, model, pg, src = _model(net, case, opt)
    if len(iec.ext_grid) != 1:
        msg = (
            "engine='pgm' takes exactly one ext_grid (the voltage factor is measured at "
            f"its bus); this net has {len(iec.ext_grid)}: use engine='pandapower'"
        )
        raise InputError(msg)
    fault_id = int(_fault_id(model, pg))
    bus_index = iec.bus.index
    nodes = pg.ids["bus"].pgm_id
    order = np.searchsorted(pg.ids["bus"].index, bus_index.to_numpy())
    u_src = float(iec.bus.loc[iec.ext_grid["bus"].iloc[0], "vn_kv"])
    c_pgm = _pgm_c(model, fault_id, src, u_src, case)
    c_fault = voltage_factor(iec.bus["vn_kv"].to_numpy(dtype=float), case, opt.lv_tol_percent)
    out: dict[str, FloatArray] = {}
    for f in faults:
        raw = _fault_currents(model, fault_id, nodes, _FAULT_TYPES[f], case)[order]
        raw[raw <= 0] = np.nan
        out[f] = raw * c_fault / c_pgm
    notes = (
        f"pgm: source sk = S_sc / c_Q, K_T in uk/pk (max), R_L at end temperature (min), "
        f"shunts removed; currents scaled by c_fault / c_pgm (c_pgm {case} = {c_pgm:.4f} "
        "measured at the source bus)",
    )
    return out, notes


def _fault_id(model: PowerGridModel, pg: Any) -> int:
    ids = [int(np.max(a["id"])) for a in pg.input_data.values() if len(a)]
    return max(ids) + 1
