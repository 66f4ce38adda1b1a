"""pandapower net -> power-grid-model (PGM) input arrays, written here (no converter).

Mapping (pandapower units -> PGM SI units):

* bus -> ``node`` (``u_rated = vn_kv``).
* line -> ``line``, a pi model: ``r1 = r_ohm_per_km * length_km / parallel`` (x1 alike),
  ``c1 = c_nf_per_km * length_km * parallel``, ``tan1 = g / (2 pi f c)``,
  ``i_n = max_i_ka * df * parallel``. An open line switch sets that end's status to 0;
  PGM then keeps the branch connected at the other end, so an open-ended cable still
  charges, as in pandapower.
* trafo -> ``transformer``: ``uk = vk_percent/100``, ``pk = vkr_percent/100 * sn``,
  ``i0 = i0_percent/100``, ``p0 = pfe_kw``, ``sn = sn_mva * parallel``, ratio taps
  (``tap_size = tap_step_percent/100 * vn`` of the tapped side; as in pandapower 3 a tap
  acts only when ``tap_changer_type`` is ``"Ratio"`` or ``"Symmetrical"``; the T model is
  turned into its exact pi equivalent). Winding types come from
  ``vector_group`` (``Dyn`` / ``Yyn`` assumed when it is missing, a validation warning),
  the clock from ``shift_degree / 30`` (what pandapower uses in balanced power flow).
* closed bus-bus switch -> ``link``; open bus-bus switch -> nothing.
* ext_grid -> ``source`` with ``u_ref = vm_pu``, ``u_ref_angle = va_degree`` and
  ``sk = 1e20 VA`` (an ideal slack, like pandapower's ext_grid in power flow).
* load, storage -> ``sym_load`` (or ``asym_load``) constant power, consumer frame;
  sgen -> ``sym_gen``; shunt -> ``shunt`` (``g1 = p_mw*step/vn_kv^2``,
  ``b1 = -q_mvar*step/vn_kv^2``).

Unbalanced (asymmetric) calculations need zero-sequence line data: pandapower's
``r0_ohm_per_km``, ``x0_ohm_per_km``, ``c0_nf_per_km``. SimBench has none. With
``zero_sequence="lv_cable_4x"`` missing values are filled with ``r0 = 4 r1``,
``x0 = 4 x1``, ``c0 = c1``: a four-core cable with a full-size neutral and the return
current only in the neutral gives ``Z0 = Z_phase + 3 Z_neutral``, i.e. ``R0 = 4 R1``; the
same factor for X is the usual rough figure for LV cables and ``c0 = c1`` neglects the
difference of the sequence capacitances (small in LV). Transformer zero-sequence series
impedance equals the positive one (PGM), neutrals are solidly earthed, and the source's
zero-sequence impedance equals its (negligible) positive one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from power_grid_model import (
    ComponentType,
    DatasetType,
    LoadGenType,
    WindingType,
    initialize_array,
)

from gridtwin.errors import InputError

__all__ = [
    "SOURCE_SK_VA",
    "ElementIds",
    "PgmNetwork",
    "TrafoModel",
    "ZeroSequence",
    "build_pgm_network",
    "ratio_tap_changer",
    "trafo_windings",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ZeroSequence = Literal["net", "lv_cable_4x"]
TrafoModel = Literal["t", "pi"]

#: Short-circuit power of the PGM source [VA]: large enough to mimic an ideal slack.
SOURCE_SK_VA = 1e20

_VG_RE = re.compile(r"^(YN|Y|D|ZN|Z)(yn|y|d|zn|z)(\d{1,2})?$")
_WINDING = {
    "y": WindingType.wye,
    "yn": WindingType.wye_n,
    "d": WindingType.delta,
    "z": WindingType.zigzag,
    "zn": WindingType.zigzag_n,
}
PHASES = ("a", "b", "c")


@dataclass(frozen=True)
class ElementIds:
    """Which PGM component ids carry which pandapower rows of one table.

    Attributes
    ----------
    index : numpy.ndarray of int64
        pandapower indices, in PGM array order.
    pgm_id : numpy.ndarray of int32
        The matching PGM ids.
    """

    index: IntArray
    pgm_id: npt.NDArray[np.int32]


@dataclass(frozen=True)
class PgmNetwork:
    """PGM input arrays built from a pandapower net, with the id map.

    Attributes
    ----------
    input_data : dict
        ``ComponentType -> structured input array``.
    ids : dict[str, ElementIds]
        Per pandapower table (``bus``, ``line``, ``trafo``, ``switch`` (links), ``ext_grid``,
        ``load``, ``sgen``, ``storage``, ``shunt``).
    load_component : ComponentType
        ``sym_load`` (balanced) or ``asym_load`` (unbalanced) for ``load`` rows.
    load_phase_share : numpy.ndarray, shape (n_load, 3)
        Share of each load's power per phase (unbalanced only; rows sum to 1).
    f_hz : float
        System frequency [Hz].
    symmetric : bool
        Built for a balanced calculation.
    """

    input_data: dict[ComponentType, np.ndarray]
    ids: dict[str, ElementIds]
    load_component: ComponentType
    load_phase_share: FloatArray
    f_hz: float
    symmetric: bool


def _col(df: pd.DataFrame, name: str, default: float = math.nan) -> FloatArray:
    if name not in df:
        return np.full(len(df), default, dtype=np.float64)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def _bool(df: pd.DataFrame, name: str, default: bool = True) -> npt.NDArray[np.bool_]:
    if name not in df:
        return np.full(len(df), default, dtype=bool)
    return np.asarray(df[name].fillna(default).astype(bool), dtype=bool)


def trafo_windings(
    trafo: pd.DataFrame,
) -> tuple[
    npt.NDArray[np.int8],
    npt.NDArray[np.int8],
    npt.NDArray[np.int8],
    list[tuple[int, str, str, bool]],
]:
    """Winding types and clock of each 2-winding transformer.

    The clock is ``shift_degree / 30`` (modulo 12), which is what pandapower uses in a
    balanced power flow. Winding types come from ``vector_group`` (e.g. ``Dyn5``,
    ``YNyn0``, ``Dyn``); when it is missing, ``Dyn`` is assumed for an odd clock and
    ``Yyn`` for an even one.

    Returns
    -------
    winding_from, winding_to, clock : numpy.ndarray of int8
        PGM ``WindingType`` values and clock per row.
    problems : list of (index, column, message, is_error)
        Missing vector groups (warnings) and unusable values (errors).
    """
    n = len(trafo)
    w_from = np.full(n, WindingType.delta, dtype=np.int8)
    w_to = np.full(n, WindingType.wye_n, dtype=np.int8)
    clock = np.zeros(n, dtype=np.int8)
    problems: list[tuple[int, str, str, bool]] = []
    shift = _col(trafo, "shift_degree", 0.0)
    groups = trafo["vector_group"] if "vector_group" in trafo else pd.Series([None] * n)
    for k, (idx, vg, sh) in enumerate(zip(trafo.index, groups, shift, strict=True)):
        sh = 0.0 if math.isnan(sh) else float(sh)
        c = sh / 30.0
        if abs(c - round(c)) > 1e-9:
            problems.append(
                (
                    int(idx),
                    "shift_degree",
                    f"phase shift {sh} degree is not a multiple of 30 (a clock "
                    "number); phase-shifting transformers are not supported",
                    True,
                )
            )
            continue
        clock[k] = round(c) % 12
        if vg is None or (isinstance(vg, float) and math.isnan(vg)) or str(vg).strip() == "":
            assumed = "Dyn" if clock[k] % 2 else "Yyn"
            w_from[k] = WindingType.delta if clock[k] % 2 else WindingType.wye
            problems.append(
                (
                    int(idx),
                    "vector_group",
                    f"no vector group: {assumed}{clock[k]} assumed from shift_degree "
                    f"{sh:g} (only matters for unbalanced calculations)",
                    False,
                )
            )
            continue
        m = _VG_RE.match(str(vg).strip())
        if m is None:
            problems.append(
                (
                    int(idx),
                    "vector_group",
                    f"vector group {vg!r} is not understood; write it like 'Dyn5', "
                    "'YNyn0' or 'Dyn'",
                    True,
                )
            )
            continue
        w_from[k] = _WINDING[m.group(1).lower()]
        w_to[k] = _WINDING[m.group(2)]
        if m.group(3) is not None and int(m.group(3)) % 12 != clock[k]:
            problems.append(
                (
                    int(idx),
                    "vector_group",
                    f"vector group {vg!r} has clock {m.group(3)} but shift_degree "
                    f"{sh:g} means clock {clock[k]}; make them agree",
                    True,
                )
            )
            continue
        wye_from = w_from[k] in (WindingType.wye, WindingType.wye_n)
        wye_to = w_to[k] in (WindingType.wye, WindingType.wye_n)
        if (wye_from == wye_to and clock[k] % 2) or (
            wye_from != wye_to
            and w_from[k] not in (WindingType.zigzag, WindingType.zigzag_n)
            and w_to[k] not in (WindingType.zigzag, WindingType.zigzag_n)
            and clock[k] % 2 == 0
        ):
            problems.append(
                (
                    int(idx),
                    "vector_group",
                    f"vector group {vg!r} with clock {clock[k]} is impossible (Yy/Dd "
                    "need an even clock, Dy/Yd an odd one)",
                    True,
                )
            )
    return w_from, w_to, clock, problems


def _switch_status(net: Any) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Open ends of lines and trafos: {element index: [bus, ...]} for open switches."""
    sw = net.switch
    if len(sw) == 0:
        return {}, {}
    open_sw = sw[~sw["closed"].astype(bool)]
    lines: dict[int, list[int]] = {}
    trafos: dict[int, list[int]] = {}
    for et, target in (("l", lines), ("t", trafos)):
        part = open_sw[open_sw["et"] == et]
        for el, bus in zip(part["element"].astype(int), part["bus"].astype(int), strict=True):
            target.setdefault(int(el), []).append(int(bus))
    return lines, trafos


def _phase_share(loads: pd.Index, phases: Mapping[int, str] | None) -> FloatArray:
    share = np.full((len(loads), 3), 1.0 / 3.0)
    if not phases:
        return share
    pos = {int(i): k for k, i in enumerate(loads)}
    unknown = sorted(int(i) for i in phases if int(i) not in pos)
    if unknown:
        msg = f"load_phases: load index(es) {unknown[:10]} are not in the load table"
        raise InputError(msg)
    for idx, ph in phases.items():
        label = str(ph).lower()
        if label in ("abc", "3", "three"):
            continue
        if label not in PHASES:
            msg = (
                f"load_phases[{idx}] = {ph!r}: use 'a', 'b', 'c' (single-phase) or 'abc' "
                "(balanced three-phase)"
            )
            raise InputError(msg)
        row = np.zeros(3)
        row[PHASES.index(label)] = 1.0
        share[pos[int(idx)]] = row
    return share


def ratio_tap_changer(tr: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows whose tap changer acts on the voltage ratio, as in pandapower 3.

    pandapower applies ``tap_pos`` only when ``tap_changer_type`` is ``"Ratio"`` or
    ``"Symmetrical"`` (``None`` means no tap changer; ``"Ideal"`` is a phase shifter).
    """
    if "tap_changer_type" not in tr:
        return np.zeros(len(tr), dtype=bool)
    return np.asarray(tr["tap_changer_type"].isin(["Ratio", "Symmetrical"]), dtype=bool)


def _trafo_impedances(
    tr: pd.DataFrame, trafo_model: TrafoModel
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """PGM ``uk``, ``pk/sn``, ``i0``, ``p0/sn`` [pu of the transformer rating].

    PGM's transformer is a pi model with half the magnetising admittance at each end
    (pandapower's ``trafo_model="pi"``). pandapower's default is the T model (the
    magnetising branch between two halves of the leakage impedance); for ``"t"`` the T is
    turned into its exact pi equivalent (star-delta, as pandapower does internally) and
    that pi is expressed in PGM's parameters.
    """
    uk = _col(tr, "vk_percent") / 100.0
    r = _col(tr, "vkr_percent") / 100.0
    i0 = _col(tr, "i0_percent", 0.0) / 100.0
    g = _col(tr, "pfe_kw", 0.0) / 1e3 / _col(tr, "sn_mva")
    if trafo_model == "pi":
        # an i0 a rounding below the iron-loss share: no magnetising reactance, as pandapower
        return uk, r, np.maximum(i0, g), g
    if trafo_model != "t":
        msg = f"trafo_model must be 't' (pandapower's default) or 'pi'; got {trafo_model!r}"
        raise InputError(msg)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = r + 1j * np.sqrt(np.maximum(uk**2 - r**2, 0.0))
        ym = g - 1j * np.sqrt(np.maximum(i0**2 - g**2, 0.0))
        has_mag = np.abs(ym) > 0
        za = z / 2.0
        zc = 1.0 / np.where(has_mag, ym, 1.0)
        zsum = za * za + 2.0 * za * zc
        z_pi = np.where(has_mag, zsum / zc, z)
        y_pi = np.where(has_mag, 2.0 * za / zsum, 0.0)
    return np.abs(z_pi), z_pi.real, np.abs(y_pi), y_pi.real


def build_pgm_network(
    net: Any,
    *,
    symmetric: bool = True,
    load_phases: Mapping[int, str] | None = None,
    zero_sequence: ZeroSequence = "net",
    trafo_model: TrafoModel = "t",
) -> PgmNetwork:
    """Convert a pandapower net to PGM input arrays (the net is only read).

    Run :func:`gridtwin.network.validate` first: this function assumes supported,
    complete data and only raises :class:`InputError` for what it cannot build.

    Parameters
    ----------
    net : pandapowerNet
        The grid.
    symmetric : bool
        Build for a balanced (True) or unbalanced (False) calculation.
    load_phases : Mapping[int, str], optional
        Unbalanced only: load index -> ``'a'``/``'b'``/``'c'`` (single-phase) or ``'abc'``.
        Loads not listed are balanced three-phase.
    zero_sequence : {"net", "lv_cable_4x"}
        Unbalanced only: take line zero-sequence data from the net (error when missing)
        or fill missing values with the four-wire LV cable assumption (module docstring).
    trafo_model : {"t", "pi"}
        Transformer equivalent circuit, as pandapower's ``runpp(trafo_model=...)``;
        ``"t"`` is pandapower's default.
    """
    next_id = 0

    def new_ids(n: int) -> npt.NDArray[np.int32]:
        nonlocal next_id
        out = np.arange(next_id, next_id + n, dtype=np.int32)
        next_id += n
        return out

    f_hz = float(getattr(net, "f_hz", 50.0) or 50.0)
    ids: dict[str, ElementIds] = {}
    data: dict[ComponentType, np.ndarray] = {}

    bus = net.bus
    node = initialize_array(DatasetType.input, ComponentType.node, len(bus))
    node["id"] = new_ids(len(bus))
    node["u_rated"] = _col(bus, "vn_kv") * 1e3
    data[ComponentType.node] = node
    ids["bus"] = ElementIds(np.asarray(bus.index, dtype=np.int64), node["id"].copy())
    node_of = pd.Series(node["id"], index=bus.index)
    bus_ok = pd.Series(_bool(bus, "in_service"), index=bus.index)
    open_line_ends, open_trafo_ends = _switch_status(net)

    # lines
    line = net.line
    arr = initialize_array(DatasetType.input, ComponentType.line, len(line))
    arr["id"] = new_ids(len(line))
    fb, tb = line["from_bus"].astype(int), line["to_bus"].astype(int)
    arr["from_node"] = node_of.loc[fb].to_numpy()
    arr["to_node"] = node_of.loc[tb].to_numpy()
    ok = _bool(line, "in_service") & bus_ok.loc[fb].to_numpy() & bus_ok.loc[tb].to_numpy()
    from_status = ok.copy()
    to_status = ok.copy()
    for k, (idx, f, t) in enumerate(zip(line.index, fb, tb, strict=True)):
        for b in open_line_ends.get(int(idx), ()):
            if b == f:
                from_status[k] = False
            if b == t:
                to_status[k] = False
    arr["from_status"] = from_status
    arr["to_status"] = to_status
    length = _col(line, "length_km")
    par = _col(line, "parallel", 1.0)
    c_f = _col(line, "c_nf_per_km") * 1e-9 * length * par
    g_s = _col(line, "g_us_per_km", 0.0) * 1e-6 * length * par
    arr["r1"] = _col(line, "r_ohm_per_km") * length / par
    arr["x1"] = _col(line, "x_ohm_per_km") * length / par
    arr["c1"] = c_f
    with np.errstate(divide="ignore", invalid="ignore"):
        tan1 = np.where(g_s == 0.0, 0.0, g_s / (2 * math.pi * f_hz * c_f))
    if np.any(~np.isfinite(tan1)):
        bad = line.index[~np.isfinite(tan1)].tolist()[:10]
        msg = (
            f"line {bad}: g_us_per_km > 0 with c_nf_per_km = 0 cannot be modelled (PGM "
            "gives shunt conductance as tan(delta) of the capacitance); set g_us_per_km = 0"
        )
        raise InputError(msg)
    arr["tan1"] = tan1
    arr["i_n"] = _col(line, "max_i_ka") * _col(line, "df", 1.0) * par * 1e3
    if not symmetric:
        r0, x0, c0 = (
            _col(line, f"{q}0_{u}")
            for q, u in (("r", "ohm_per_km"), ("x", "ohm_per_km"), ("c", "nf_per_km"))
        )
        if zero_sequence == "lv_cable_4x":
            r0 = np.where(np.isnan(r0), 4.0 * _col(line, "r_ohm_per_km"), r0)
            x0 = np.where(np.isnan(x0), 4.0 * _col(line, "x_ohm_per_km"), x0)
            c0 = np.where(np.isnan(c0), _col(line, "c_nf_per_km"), c0)
        elif zero_sequence != "net":
            msg = f"zero_sequence must be 'net' or 'lv_cable_4x'; got {zero_sequence!r}"
            raise InputError(msg)
        missing = np.isnan(r0) | np.isnan(x0) | np.isnan(c0)
        if np.any(missing & ok):
            bad = line.index[missing & ok].tolist()[:10]
            msg = (
                f"line {bad}: an unbalanced calculation needs r0_ohm_per_km, x0_ohm_per_km "
                "and c0_nf_per_km; add them to net.line or pass zero_sequence='lv_cable_4x' "
                "to assume r0 = 4 r1, x0 = 4 x1, c0 = c1 (four-core LV cable)"
            )
            raise InputError(msg)
        arr["r0"] = np.nan_to_num(r0) * length / par
        arr["x0"] = np.nan_to_num(x0) * length / par
        arr["c0"] = np.nan_to_num(c0) * 1e-9 * length * par
        arr["tan0"] = tan1
    data[ComponentType.line] = arr
    ids["line"] = ElementIds(np.asarray(line.index, dtype=np.int64), arr["id"].copy())

    # 2-winding transformers
    tr = net.trafo
    arr = initialize_array(DatasetType.input, ComponentType.transformer, len(tr))
    arr["id"] = new_ids(len(tr))
    hb, lb = tr["hv_bus"].astype(int), tr["lv_bus"].astype(int)
    arr["from_node"] = node_of.loc[hb].to_numpy()
    arr["to_node"] = node_of.loc[lb].to_numpy()
    ok = _bool(tr, "in_service") & bus_ok.loc[hb].to_numpy() & bus_ok.loc[lb].to_numpy()
    from_status, to_status = ok.copy(), ok.copy()
    for k, (idx, h, lo) in enumerate(zip(tr.index, hb, lb, strict=True)):
        for b in open_trafo_ends.get(int(idx), ()):
            if b == h:
                from_status[k] = False
            if b == lo:
                to_status[k] = False
    arr["from_status"] = from_status
    arr["to_status"] = to_status
    vn_hv, vn_lv = _col(tr, "vn_hv_kv") * 1e3, _col(tr, "vn_lv_kv") * 1e3
    tpar = _col(tr, "parallel", 1.0)
    sn = _col(tr, "sn_mva") * 1e6 * tpar
    arr["u1"], arr["u2"], arr["sn"] = vn_hv, vn_lv, sn
    uk, pk_pu, i0, p0_pu = _trafo_impedances(tr, trafo_model)
    arr["uk"], arr["pk"], arr["i0"], arr["p0"] = uk, pk_pu * sn, i0, p0_pu * sn
    w_from, w_to, clock, problems = trafo_windings(tr)
    errors = [p for p in problems if p[3]]
    if errors:
        idx, column, text, _ = errors[0]
        msg = f"trafo[{idx}].{column}: {text}"
        raise InputError(msg)
    arr["winding_from"], arr["winding_to"], arr["clock"] = w_from, w_to, clock
    tap_pos = _col(tr, "tap_pos")
    tap_neutral = _col(tr, "tap_neutral")
    step = _col(tr, "tap_step_percent")
    no_tap = np.isnan(tap_pos) | np.isnan(tap_neutral) | np.isnan(step) | ~ratio_tap_changer(tr)
    tap_pos = np.where(no_tap, 0.0, tap_pos)
    tap_neutral = np.where(no_tap, 0.0, tap_neutral)
    if np.any(np.abs(tap_pos - np.round(tap_pos)) > 1e-9):
        bad = tr.index[np.abs(tap_pos - np.round(tap_pos)) > 1e-9].tolist()[:10]
        msg = f"trafo {bad}: tap_pos must be a whole number for PGM"
        raise InputError(msg)
    hv_side = (
        (tr["tap_side"].astype(str).str.lower() != "lv").to_numpy()
        if "tap_side" in tr
        else np.ones(len(tr), dtype=bool)
    )
    tmin = np.fmin(_col(tr, "tap_min"), tap_pos)
    tmax = np.fmax(_col(tr, "tap_max"), tap_pos)
    tmin = np.where(no_tap | np.isnan(tmin), tap_pos, tmin)
    tmax = np.where(no_tap | np.isnan(tmax), tap_pos, tmax)
    arr["tap_side"] = np.where(hv_side, 0, 1)
    arr["tap_pos"] = np.round(tap_pos)
    arr["tap_nom"] = np.round(tap_neutral)
    arr["tap_min"] = np.round(np.fmin(tmin, tap_neutral))
    arr["tap_max"] = np.round(np.fmax(tmax, tap_neutral))
    arr["tap_size"] = np.where(no_tap, 0.0, step / 100.0 * np.where(hv_side, vn_hv, vn_lv))
    if not symmetric:
        for side in ("from", "to"):
            arr[f"r_grounding_{side}"] = 0.0
            arr[f"x_grounding_{side}"] = 0.0
    data[ComponentType.transformer] = arr
    ids["trafo"] = ElementIds(np.asarray(tr.index, dtype=np.int64), arr["id"].copy())

    # closed bus-bus switches -> links
    sw = net.switch
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)] if len(sw) else sw
    arr = initialize_array(DatasetType.input, ComponentType.link, len(bb))
    arr["id"] = new_ids(len(bb))
    if len(bb):
        b1, b2 = bb["bus"].astype(int), bb["element"].astype(int)
        arr["from_node"] = node_of.loc[b1].to_numpy()
        arr["to_node"] = node_of.loc[b2].to_numpy()
        st = bus_ok.loc[b1].to_numpy() & bus_ok.loc[b2].to_numpy()
        arr["from_status"] = st
        arr["to_status"] = st
    data[ComponentType.link] = arr
    ids["switch"] = ElementIds(np.asarray(bb.index, dtype=np.int64), arr["id"].copy())

    # sources
    eg = net.ext_grid
    arr = initialize_array(DatasetType.input, ComponentType.source, len(eg))
    arr["id"] = new_ids(len(eg))
    eb = eg["bus"].astype(int)
    arr["node"] = node_of.loc[eb].to_numpy()
    arr["status"] = _bool(eg, "in_service") & bus_ok.loc[eb].to_numpy()
    arr["u_ref"] = _col(eg, "vm_pu", 1.0)
    arr["u_ref_angle"] = np.deg2rad(np.nan_to_num(_col(eg, "va_degree", 0.0)))
    arr["sk"] = SOURCE_SK_VA
    arr["rx_ratio"] = 0.1
    arr["z01_ratio"] = 1.0
    data[ComponentType.source] = arr
    ids["ext_grid"] = ElementIds(np.asarray(eg.index, dtype=np.int64), arr["id"].copy())

    # loads (+ storage as consumer-frame loads)
    load = net.load
    share = np.full((len(load), 3), 1.0 / 3.0)
    load_component = ComponentType.sym_load
    if symmetric:
        if load_phases:
            msg = "load_phases is only used by unbalanced calculations (symmetric=False)"
            raise InputError(msg)
        arr = initialize_array(DatasetType.input, ComponentType.sym_load, len(load))
    else:
        share = _phase_share(load.index, load_phases)
        load_component = ComponentType.asym_load
        arr = initialize_array(DatasetType.input, ComponentType.asym_load, len(load))
    arr["id"] = new_ids(len(load))
    lbus = load["bus"].astype(int)
    arr["node"] = node_of.loc[lbus].to_numpy()
    arr["status"] = _bool(load, "in_service") & bus_ok.loc[lbus].to_numpy()
    arr["type"] = LoadGenType.const_power
    p = _col(load, "p_mw", 0.0) * _col(load, "scaling", 1.0) * 1e6
    q = _col(load, "q_mvar", 0.0) * _col(load, "scaling", 1.0) * 1e6
    if symmetric:
        arr["p_specified"], arr["q_specified"] = p, q
    else:
        arr["p_specified"] = p[:, None] * share
        arr["q_specified"] = q[:, None] * share
    data[load_component] = arr
    ids["load"] = ElementIds(np.asarray(load.index, dtype=np.int64), arr["id"].copy())

    st = net.storage if "storage" in net else pd.DataFrame(columns=["bus"])
    sarr = initialize_array(DatasetType.input, ComponentType.sym_load, len(st))
    sarr["id"] = new_ids(len(st))
    if len(st):
        sbus = st["bus"].astype(int)
        sarr["node"] = node_of.loc[sbus].to_numpy()
        sarr["status"] = _bool(st, "in_service") & bus_ok.loc[sbus].to_numpy()
        sarr["type"] = LoadGenType.const_power
        sarr["p_specified"] = _col(st, "p_mw", 0.0) * _col(st, "scaling", 1.0) * 1e6
        sarr["q_specified"] = _col(st, "q_mvar", 0.0) * _col(st, "scaling", 1.0) * 1e6
    if load_component == ComponentType.sym_load:
        data[ComponentType.sym_load] = np.concatenate([arr, sarr])
    else:
        data[ComponentType.sym_load] = sarr
    ids["storage"] = ElementIds(np.asarray(st.index, dtype=np.int64), sarr["id"].copy())

    sg = net.sgen
    arr = initialize_array(DatasetType.input, ComponentType.sym_gen, len(sg))
    arr["id"] = new_ids(len(sg))
    if len(sg):
        gbus = sg["bus"].astype(int)
        arr["node"] = node_of.loc[gbus].to_numpy()
        arr["status"] = _bool(sg, "in_service") & bus_ok.loc[gbus].to_numpy()
        arr["type"] = LoadGenType.const_power
        arr["p_specified"] = _col(sg, "p_mw", 0.0) * _col(sg, "scaling", 1.0) * 1e6
        arr["q_specified"] = _col(sg, "q_mvar", 0.0) * _col(sg, "scaling", 1.0) * 1e6
    data[ComponentType.sym_gen] = arr
    ids["sgen"] = ElementIds(np.asarray(sg.index, dtype=np.int64), arr["id"].copy())

    sh = net.shunt
    arr = initialize_array(DatasetType.input, ComponentType.shunt, len(sh))
    arr["id"] = new_ids(len(sh))
    if len(sh):
        hbus = sh["bus"].astype(int)
        arr["node"] = node_of.loc[hbus].to_numpy()
        arr["status"] = _bool(sh, "in_service") & bus_ok.loc[hbus].to_numpy()
        vn = _col(sh, "vn_kv")
        vn = np.where(np.isnan(vn), bus["vn_kv"].loc[hbus].to_numpy(dtype=float), vn)
        stp = _col(sh, "step", 1.0)
        arr["g1"] = _col(sh, "p_mw", 0.0) * stp / vn**2
        arr["b1"] = -_col(sh, "q_mvar", 0.0) * stp / vn**2
        arr["g0"], arr["b0"] = arr["g1"], arr["b1"]
    data[ComponentType.shunt] = arr
    ids["shunt"] = ElementIds(np.asarray(sh.index, dtype=np.int64), arr["id"].copy())

    data = {k: v for k, v in data.items() if len(v)}
    return PgmNetwork(
        input_data=data,
        ids=ids,
        load_component=load_component,
        load_phase_share=share,
        f_hz=f_hz,
        symmetric=symmetric,
    )
