"""IEC 60909 initial short-circuit currents at every bus, from two engines.

Three fault types (three-phase ``3ph``, line-to-line ``2ph``, single-phase to earth
``1ph``), each for maximum and minimum currents, by the method of the equivalent voltage
source at the fault location (IEC 60909-0:2016):

- ``engine="pandapower"``: :func:`pandapower.shortcircuit.calc_sc`, the reference.
- ``engine="pgm"``: power-grid-model's ``calculate_short_circuit`` on the same data
  (:mod:`gridtwin.network._pgm`), one batch of faults per case and type.

The two engines model the standard differently, and the PGM input is adjusted so that both
compute IEC 60909's quantities (each difference was measured on a hand-checkable case,
``tests/network/test_shortcircuit.py``):

1. **Source impedance.** IEC 60909-0 eq. (6): ``Z_Q = c_Q · U_nQ² / S"_kQ``. pandapower
   does this; PGM takes ``Z = U² / sk`` without ``c``. The PGM source gets
   ``sk = S"_kQ / c_Q``.
2. **Transformer correction factor** ``K_T = 0.95 · c_max / (1 + 0.6 · x_T)`` (IEC
   60909-0 eq. (12a), network transformers, maximum case only). pandapower applies it,
   PGM does not: the PGM transformer's ``uk`` and ``pk`` are multiplied by ``K_T``.
3. **Voltage factor.** IEC uses ``c`` of the *fault location's* voltage level; PGM scales
   the *source's* EMF by the ``c`` of the source's level (MV: 1.10 / 1.00). On LV buses
   with ``lv_tol_percent=10`` the maximum ``c`` agrees (1.10), the minimum does not (0.90
   against PGM's 1.00). PGM's currents are multiplied by ``c_fault / c_PGM``, with
   ``c_PGM`` measured from PGM's own three-phase fault at the source bus.
4. **Line temperature** for minimum currents (IEC 60909-0 eq. (36)): ``R_L`` at the end
   temperature; pandapower applies it from ``endtemp_degree``, the PGM lines' ``r1`` and
   ``r0`` are scaled.
5. **Shunts.** IEC 60909 neglects line capacitances and transformer magnetising branches
   in the positive sequence; PGM keeps shunts, so they are set to zero in its input.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._sc_data import (
    Case,
    ShortCircuitOptions,
    prepare_sc_net,
    voltage_factor,
)

__all__ = [
    "FAULTS",
    "ShortCircuitOptions",
    "ShortCircuitResult",
    "compare_engines",
    "short_circuit",
    "voltage_factor",
]

Fault = Literal["3ph", "2ph", "1ph"]
Engine = Literal["pandapower", "pgm"]
FAULTS: tuple[Fault, ...] = ("3ph", "2ph", "1ph")
CASES: tuple[Case, ...] = ("max", "min")


def column(case: Case, fault: Fault) -> str:
    """Result column of one case and fault type, e.g. ``ik3_max_ka``."""
    return f"ik{fault[0]}_{case}_ka"


@dataclass(frozen=True)
class ShortCircuitResult:
    """Initial symmetrical short-circuit currents ``I"k`` per bus.

    Attributes
    ----------
    buses : pandas.DataFrame
        One row per bus: ``bus, name, vn_kv`` and ``ik3_max_ka, ik2_max_ka, ik1_max_ka,
        ik3_min_ka, ik2_min_ka, ik1_min_ka`` [kA] (NaN where the bus is not supplied).
    engine : str
        ``pandapower`` or ``pgm``.
    options : ShortCircuitOptions
        The assumptions used.
    notes : tuple of str
        Every parameter that was assumed, and the engine's adjustments.
    """

    buses: pd.DataFrame
    engine: str
    options: ShortCircuitOptions
    notes: tuple[str, ...]


def _net_of(model_or_net: Any) -> Any:
    net = getattr(model_or_net, "net", model_or_net)
    if not hasattr(net, "bus") or not hasattr(net, "ext_grid"):
        msg = "short_circuit needs a NetworkModel or a pandapower net"
        raise InputError(msg)
    return net


def _pandapower_currents(net: Any, case: Case, fault: Fault, lv_tol_percent: int) -> np.ndarray:
    import pandapower.shortcircuit as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.calc_sc(net, case=case, fault=fault, lv_tol_percent=lv_tol_percent)
    res = net.res_bus_sc["ikss_ka"].reindex(net.bus.index)
    return np.asarray(res.to_numpy(dtype=float), dtype=float)


def short_circuit(
    model_or_net: Any,
    *,
    engine: Engine = "pandapower",
    options: ShortCircuitOptions | None = None,
    faults: tuple[Fault, ...] = FAULTS,
) -> ShortCircuitResult:
    """IEC 60909 maximum and minimum short-circuit currents at every bus.

    Parameters
    ----------
    model_or_net : NetworkModel or pandapowerNet
        The grid (never changed).
    engine : {'pandapower', 'pgm'}
        Which engine computes the currents (module docstring: how they are aligned).
    options : ShortCircuitOptions, optional
        Assumptions for data the net lacks (defaults: :class:`ShortCircuitOptions`).
    faults : tuple of {'3ph', '2ph', '1ph'}
        Fault types to compute (all by default).

    Returns
    -------
    ShortCircuitResult
        Currents per bus and the notes.

    Raises
    ------
    InputError
        Unknown engine or fault type, or a net without an external grid.
    """
    opt = options or ShortCircuitOptions()
    if engine not in ("pandapower", "pgm"):
        msg = f"engine={engine!r}: use 'pandapower' or 'pgm'"
        raise InputError(msg)
    bad = [f for f in faults if f not in FAULTS]
    if bad or not faults:
        msg = f"faults={faults!r}: use some of {', '.join(FAULTS)}"
        raise InputError(msg)
    net, notes = prepare_sc_net(_net_of(model_or_net), opt)
    frame = pd.DataFrame(
        {
            "bus": net.bus.index.astype(int),
            "name": net.bus["name"].astype(str).to_numpy() if "name" in net.bus else "",
            "vn_kv": net.bus["vn_kv"].to_numpy(dtype=float),
        }
    )
    extra: list[str] = []
    for case in CASES:
        if engine == "pandapower":
            for fault in faults:
                frame[column(case, fault)] = _pandapower_currents(
                    net, case, fault, opt.lv_tol_percent
                )
        else:
            from gridtwin.network._sc_pgm import pgm_currents

            currents, pgm_notes = pgm_currents(net, case, faults, opt)
            for fault in faults:
                frame[column(case, fault)] = currents[fault]
            extra.extend(n for n in pgm_notes if n not in extra)
    return ShortCircuitResult(frame, engine, opt, (*notes, *extra))


def compare_engines(
    model_or_net: Any, options: ShortCircuitOptions | None = None
) -> tuple[pd.DataFrame, float]:
    """Both engines side by side and their largest relative difference.

    Returns
    -------
    tuple
        A frame with ``bus``, ``vn_kv`` and for every column ``<col>_pp``, ``<col>_pgm``;
        and the largest ``|pgm - pp| / pp`` over all supplied buses and columns.
    """
    pp_res = short_circuit(model_or_net, engine="pandapower", options=options)
    pgm_res = short_circuit(model_or_net, engine="pgm", options=options)
    out = pp_res.buses[["bus", "vn_kv"]].copy()
    worst = 0.0
    for case in CASES:
        for fault in FAULTS:
            col = column(case, fault)
            a = pp_res.buses[col].to_numpy(dtype=float)
            b = pgm_res.buses[col].to_numpy(dtype=float)
            out[f"{col}_pp"] = a
            out[f"{col}_pgm"] = b
            ok = np.isfinite(a) & (a > 0)
            if ok.any():
                worst = max(worst, float(np.max(np.abs(b[ok] - a[ok]) / a[ok])))
    return out, worst if math.isfinite(worst) else math.inf
