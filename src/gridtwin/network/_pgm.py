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
* asymmetric_load / asymmetric_sgen -> ``asym_load`` / ``asym_gen`` per phase
  (``p_a_mw .. q_c_mvar`` times ``scaling``, wye only: PGM has no delta connection) in
  unbalanced runs, ``sym_load`` / ``sym_gen`` with the sum of the phases in balanced runs
  (as pandapower's ``runpp``). They have no profiles: static at every step, appended
  after the profiled elements of their component (``PgmNetwork.static_tail``).

Unbalanced (asymmetric) calculations need zero-sequence line data: pandapower's
``r0_ohm_per_km``, ``x0_ohm_per_km``, ``c0_nf_per_km``. SimBench has none. With
``zero_sequence="lv_cable_4x"`` missing values are filled with ``r0 = 4 r1``,
``x0 = 4 x1``, ``c0 = c1``: a four-core cable with a full-size neutral and the return
current only in the neutral gives ``Z0 = Z_phase + 3 Z_neutral``, i.e. ``R0 = 4 R1``; the
same factor for X is the usual rough figure for LV cables and ``c0 = c1`` neglects the
difference of the sequence capacitances (small in LV). Transformers (Dyn, YNd, YNyn)
take the net's zero-sequence data as pandapower's ``runpp_3ph`` (``vk0_percent``,
``vkr0_percent``, ``mag0_percent``, ``mag0_rx``, ``si0_hv_partial``; see
:func:`_trafo_zero_sequence`); without them PGM's default (zero sequence = positive
sequence) stays, and what was replaced is in ``PgmNetwork.notes``. The source's
zero-sequence impedance equals its (negligible) positive one: pandapower's ext_grid has
a negative- and zero-sequence impedance from ``s_sc_max_mva`` in ``runpp_3ph``, which
this ideal source does not have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from gridtwin.network._tables import (
    WINDING_CODES,
    _bool,
    _col,
    ratio_tap_changer,
    trafo_windings,
)
from gridtwin.network._validate_unbalanced import (
    PHASE_P_COLUMNS,
    PHASE_Q_COLUMNS,
    ZERO_SEQUENCE_COLUMNS,
    zero_sequence_problems,
)

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
BoolArray = npt.NDArray[np.bool_]
ZeroSequence = Literal["net", "lv_cable_4x"]
TrafoModel = Literal["t", "pi"]

#: Short-circuit power of the PGM source [VA]: large enough to mimic an ideal slack.
SOURCE_SK_VA = 1e20

PHASES = ("a", "b", "c")

# the winding codes :mod:`gridtwin.network._tables` writes without importing PGM
if {w.name: int(w) for w in WindingType} != WINDING_CODES:  # pragma: no cover - PGM upgrade
    _msg = f"power-grid-model's WindingType changed: {list(WindingType)}; update _tables"
    raise ImportError(_msg)


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
        ``load``, ``sgen``, ``storage``, ``shunt``, ``asymmetric_load``,
        ``asymmetric_sgen``). Zero-sequence-only shunts of the transformers follow the
        net's shunts in the ``shunt`` array and have no pandapower row.
    load_component : ComponentType
        ``sym_load`` (balanced) or ``asym_load`` (unbalanced) for ``load`` rows.
    load_phase_share : numpy.ndarray, shape (n_load, 3)
        Share of each load's power per phase (unbalanced only; rows sum to 1).
    f_hz : float
        System frequency [Hz].
    symmetric : bool
        Built for a balanced calculation.
    static_tail : dict
        ``ComponentType -> (p, q)``: set-points [W], [var] of the last rows of that
        component, which have no profiles (asymmetric loads and sgens) and are appended
        to every batch update of it; ``(n,)`` balanced, ``(n, 3)`` per phase.
    notes : tuple of str
        What the conversion replaced (transformer zero-sequence data), for the result.
    """

    input_data: dict[ComponentType, np.ndarray]
    ids: dict[str, ElementIds]
    load_component: ComponentType
    load_phase_share: FloatArray
    f_hz: float
    symmetric: bool
    static_tail: dict[ComponentType, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


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
    """Share of each load's power per phase: a third each, or all on the phase named in
    ``phases`` (``'abc'``: balanced)."""
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


class _Ids:
    """Consecutive PGM ids over all components, handed out in build order."""

    def __init__(self) -> None:
        self.next_id = 0

    def take(self, n: int) -> npt.NDArray[np.int32]:
        """The next ``n`` ids."""
        out = np.arange(self.next_id, self.next_id + n, dtype=np.int32)
        self.next_id += n
        return out


@dataclass(frozen=True)
class _Build:
    """What every component builder reads: the net, the PGM node of each pandapower bus,
    which buses are in service, and the id counter."""

    net: Any
    node_of: pd.Series
    bus_ok: pd.Series
    ids: _Ids
    symmetric: bool

    def status(self, df: pd.DataFrame, buses: pd.Series) -> BoolArray:
        """In service and at an in-service bus, per row of ``df``."""
        ok = _bool(df, "in_service") & self.bus_ok.loc[buses].to_numpy()
        return np.asarray(ok, dtype=bool)


def _element_ids(df: pd.DataFrame, arr: np.ndarray) -> ElementIds:
    """The id map of one table: its index and the ids of ``arr``."""
    return ElementIds(np.asarray(df.index, dtype=np.int64), arr["id"].copy())


def _node_array(bus: pd.DataFrame, ids: _Ids) -> np.ndarray:
    """PGM ``node`` per bus (``u_rated = vn_kv``)."""
    node = initialize_array(DatasetType.input, ComponentType.node, len(bus))
    node["id"] = ids.take(len(bus))
    node["u_rated"] = _col(bus, "vn_kv") * 1e3
    return node


def _end_status(
    ok: BoolArray,
    index: pd.Index,
    from_bus: pd.Series,
    to_bus: pd.Series,
    open_ends: dict[int, list[int]],
) -> tuple[BoolArray, BoolArray]:
    """From- and to-end status of branches: ``ok`` less the ends behind open switches."""
    from_status, to_status = ok.copy(), ok.copy()
    for k, (idx, f, t) in enumerate(zip(index, from_bus, to_bus, strict=True)):
        for b in open_ends.get(int(idx), ()):
            if b == f:
                from_status[k] = False
            if b == t:
                to_status[k] = False
    return from_status, to_status


def _line_shunt_tan(
    line: pd.DataFrame, g_s: FloatArray, c_f: FloatArray, f_hz: float
) -> FloatArray:
    """PGM's shunt conductance as ``tan(delta)`` of the line capacitance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tan1 = np.where(g_s == 0.0, 0.0, g_s / (2 * math.pi * f_hz * c_f))
    if np.any(~np.isfinite(tan1)):
        bad = line.index[~np.isfinite(tan1)].tolist()[:10]
        msg = (
            f"line {bad}: g_us_per_km > 0 with c_nf_per_km = 0 cannot be modelled (PGM "
            "gives shunt conductance as tan(delta) of the capacitance); set g_us_per_km = 0"
        )
        raise InputError(msg)
    return np.asarray(tan1, dtype=np.float64)


def _line_zero_sequence(
    arr: np.ndarray,
    line: pd.DataFrame,
    ok: BoolArray,
    tan1: FloatArray,
    zero_sequence: ZeroSequence,
) -> None:
    """Zero-sequence ``r0``, ``x0``, ``c0`` of the lines into ``arr`` (unbalanced runs; see
    the module docstring for ``"lv_cable_4x"``)."""
    length = _col(line, "length_km")
    par = _col(line, "parallel", 1.0)
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


def _line_array(
    b: _Build, open_ends: dict[int, list[int]], f_hz: float, zero_sequence: ZeroSequence
) -> np.ndarray:
    """PGM ``line`` per line: the pi model of the module docstring, an open switch
    opening that end."""
    line = b.net.line
    arr = initialize_array(DatasetType.input, ComponentType.line, len(line))
    arr["id"] = b.ids.take(len(line))
    fb, tb = line["from_bus"].astype(int), line["to_bus"].astype(int)
    arr["from_node"] = b.node_of.loc[fb].to_numpy()
    arr["to_node"] = b.node_of.loc[tb].to_numpy()
    ok = _bool(line, "in_service") & b.bus_ok.loc[fb].to_numpy() & b.bus_ok.loc[tb].to_numpy()
    arr["from_status"], arr["to_status"] = _end_status(ok, line.index, fb, tb, open_ends)
    length = _col(line, "length_km")
    par = _col(line, "parallel", 1.0)
    c_f = _col(line, "c_nf_per_km") * 1e-9 * length * par
    g_s = _col(line, "g_us_per_km", 0.0) * 1e-6 * length * par
    arr["r1"] = _col(line, "r_ohm_per_km") * length / par
    arr["x1"] = _col(line, "x_ohm_per_km") * length / par
    arr["c1"] = c_f
    tan1 = _line_shunt_tan(line, g_s, c_f, f_hz)
    arr["tan1"] = tan1
    arr["i_n"] = _col(line, "max_i_ka") * _col(line, "df", 1.0) * par * 1e3
    if not b.symmetric:
        _line_zero_sequence(arr, line, ok, tan1, zero_sequence)
    return arr


def _transformer_taps(
    arr: np.ndarray, tr: pd.DataFrame, vn_hv: FloatArray, vn_lv: FloatArray
) -> None:
    """Ratio taps into ``arr``: position, neutral, range and step size [V] of the tapped
    side; a transformer without an acting tap changer gets a zero step at position 0."""
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


def _transformer_array(
    b: _Build, open_ends: dict[int, list[int]], trafo_model: TrafoModel
) -> np.ndarray:
    """PGM ``transformer`` per 2-winding transformer: rating, impedances of
    ``trafo_model``, windings and clock, ratio taps."""
    tr = b.net.trafo
    arr = initialize_array(DatasetType.input, ComponentType.transformer, len(tr))
    arr["id"] = b.ids.take(len(tr))
    hb, lb = tr["hv_bus"].astype(int), tr["lv_bus"].astype(int)
    arr["from_node"] = b.node_of.loc[hb].to_numpy()
    arr["to_node"] = b.node_of.loc[lb].to_numpy()
    ok = _bool(tr, "in_service") & b.bus_ok.loc[hb].to_numpy() & b.bus_ok.loc[lb].to_numpy()
    arr["from_status"], arr["to_status"] = _end_status(ok, tr.index, hb, lb, open_ends)
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
    _transformer_taps(arr, tr, vn_hv, vn_lv)
    if not b.symmetric:
        for side in ("from", "to"):
            arr[f"r_grounding_{side}"] = 0.0
            arr[f"x_grounding_{side}"] = 0.0
    return arr


# --- transformer zero sequence (unbalanced runs) -----------------------------------------

_WINDING_LABEL = {0: "Y", 1: "YN", 2: "D", 3: "Z", 4: "ZN"}
_DYN, _YNYN, _YND = (2, 1), (1, 1), (1, 2)


@dataclass(frozen=True)
class _ZeroShunts:
    """Zero-sequence-only PGM shunts that complete a transformer's zero sequence."""

    node: npt.NDArray[np.int32]
    status: BoolArray
    y0_s: npt.NDArray[np.complex128]


def _vector_group(w_from: int, w_to: int) -> str:
    """``Dyn``, ``YNyn`` ... from PGM winding codes."""
    return _WINDING_LABEL[int(w_from)] + _WINDING_LABEL[int(w_to)].lower()


def _pgm_pi(arr: np.ndarray) -> tuple[npt.NDArray[np.complex128], ...]:
    """What PGM makes of ``arr``: series impedance and total shunt admittance referred to
    the LV side [ohm], [S], and the HV/LV voltage ratio with the taps applied."""
    direction = np.where(arr["tap_max"] > arr["tap_min"], 1.0, -1.0)
    step = direction * (arr["tap_pos"].astype(float) - arr["tap_nom"]) * arr["tap_size"]
    u1 = arr["u1"] + np.where(arr["tap_side"] == 0, step, 0.0)
    u2 = arr["u2"] + np.where(arr["tap_side"] == 1, step, 0.0)
    sn = arr["sn"]
    z_abs, r = np.abs(arr["uk"]) * u2**2 / sn, arr["pk"] * u2**2 / sn**2
    z_s = r + 1j * np.sign(arr["uk"]) * np.sqrt(np.maximum(z_abs**2 - r**2, 0.0))
    y_abs, g = arr["i0"] * sn / u2**2, arr["p0"] / u2**2
    y_sh = g - 1j * np.sqrt(np.maximum(y_abs**2 - g**2, 0.0))
    return z_s, y_sh, (u1 / u2).astype(np.complex128), (u2**2 / sn).astype(np.complex128)


def _parallel(a: Any, b: Any) -> Any:
    """``a || b`` (0 when either is 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((a == 0) | (b == 0), 0.0, a * b / (a + b))


@dataclass(frozen=True)
class _ZeroData:
    """pandapower's zero-sequence data of the transformers, LV-referred [ohm]."""

    z0k: npt.NDArray[np.complex128]  # leakage
    z_mag: npt.NDArray[np.complex128]  # magnetising (NaN where mag0_percent is missing)
    si0: FloatArray
    has_any: BoolArray  # any zero-sequence column given
    vk0_missing: BoolArray
    mag_missing: BoolArray


def _zero_data(tr: pd.DataFrame, z_base: npt.NDArray[np.complex128]) -> _ZeroData:
    """Read the zero-sequence columns as pandapower's ``runpp_3ph`` does: ``vk0_percent``
    and ``vkr0_percent`` that are missing or 0 fall back to ``vk_percent``/``vkr_percent``;
    ``mag0_percent`` is the magnetising impedance as a share of the leakage's magnitude,
    ``mag0_rx`` its R/X, ``si0_hv_partial`` the HV share of the leakage."""
    vk0, vkr0, mag0, rx, si0 = (_col(tr, c) for c in ZERO_SEQUENCE_COLUMNS)
    has_any = ~(np.isnan(vk0) & np.isnan(vkr0) & np.isnan(mag0) & np.isnan(rx) & np.isnan(si0))
    vk0_missing = np.isnan(vk0) | (np.abs(vk0) <= 1e-8)
    vk0 = np.where(vk0_missing, _col(tr, "vk_percent"), vk0)
    vkr0 = np.where(np.isnan(vkr0) | (np.abs(vkr0) <= 1e-8), _col(tr, "vkr_percent"), vkr0)
    z0k = (vkr0 + 1j * np.sqrt(np.maximum(vk0**2 - vkr0**2, 0.0))) / 100.0 * z_base
    x_m = mag0 / 100.0 * np.abs(vk0) / 100.0 * np.abs(z_base) / np.sqrt(rx**2 + 1.0)
    return _ZeroData(z0k, x_m * (rx + 1j), si0, has_any, vk0_missing, np.isnan(mag0))


def _check_zero_data(tr: pd.DataFrame, rows: BoolArray) -> None:
    """Refuse zero-sequence data that cannot be used (the first problem, as validation
    reports them all)."""
    problems = zero_sequence_problems(tr, rows)
    if problems:
        idx, col, text = problems[0]
        msg = f"trafo[{idx}].{col}: {text}"
        raise InputError(msg)


def _zero_targets(
    d: _ZeroData, vg: tuple[int, int], trafo_model: TrafoModel
) -> tuple[Any, Any, Any]:
    """pandapower's zero sequence of one vector group, LV-referred: the admittance to earth
    at the earthed-star side (Dyn, YNd) or the series impedance and the HV and LV shunt
    admittances (YNyn) of its T model (``runpp_3ph``; YNd mirrors Dyn)."""
    z1, z2, z3 = d.si0 * d.z0k, (1.0 - d.si0) * d.z0k, d.z_mag
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where mag0 is missing
        if vg == _YNYN:  # series and shunts of the T's pi equivalent, either trafo_model
            z_t = z1 * z2 + z2 * z3 + z1 * z3
            return z_t / z3, z2 / z_t, z1 / z_t
        if trafo_model == "pi":
            return 1.0 / d.z0k, None, None
        near, far = (z2, z1) if vg == _DYN else (z1, z2)
        return 1.0 / (near + _parallel(far, z3)), None, None


def _zero_sequence_notes(
    tr: pd.DataFrame, vgs: list[str], d: _ZeroData, mapped: BoolArray, on: BoolArray
) -> list[str]:
    """What was replaced by what, grouped by message (transformers in service only)."""
    groups: dict[str, list[int]] = {}
    cols = ", ".join(ZERO_SEQUENCE_COLUMNS)
    for k, idx in enumerate(tr.index):
        if not on[k]:
            continue
        texts = []
        if mapped[k] and not d.has_any[k]:
            texts.append(
                f"no zero-sequence data ({cols}): power-grid-model's default used, the "
                "zero-sequence leakage and magnetising impedances equal to the positive "
                "sequence's (vk_percent, vkr_percent, i0_percent, pfe_kw)"
            )
        elif mapped[k]:
            if d.vk0_missing[k]:
                texts.append("vk0_percent missing: vk_percent (and vkr_percent) used")
            if d.mag_missing[k]:
                texts.append(
                    "mag0_percent missing: the zero-sequence magnetising admittance is the "
                    "positive sequence's (i0_percent, pfe_kw), as power-grid-model takes it"
                )
        elif d.has_any[k] and vgs[k] not in ("Yy", "Yd", "Dy", "Dd"):
            model = (
                "its zigzag winding's 0.1 x the positive-sequence leakage"
                if "Z" in vgs[k].upper()
                else "no zero-sequence path"
            )
            texts.append(
                f"{cols} not used: power-grid-model's own zero sequence of a {vgs[k]} "
                f"transformer applies ({model}; pandapower's runpp_3ph takes only YNyn, "
                "Dyn and Yzn)"
            )
        for text in texts:
            groups.setdefault(f"({vgs[k]}): {text}", []).append(int(idx))
    notes = []
    for text, rows in groups.items():
        shown = ", ".join(str(i) for i in rows[:10]) + (
            f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        )
        notes.append(f"trafo {shown} {text}")
    return notes


def _group_zero_sequence(
    arr: np.ndarray,
    rows: IntArray,
    vg: tuple[int, int],
    d: _ZeroData,
    pgm: tuple[npt.NDArray[np.complex128], ...],
    trafo_model: TrafoModel,
) -> list[tuple[int, bool, complex]]:
    """The zero-sequence shunts [S] (node, status, admittance) of the transformers
    ``rows`` of one vector group; YNyn also get the grounding impedance [ohm] that makes
    PGM's zero-sequence series impedance pandapower's.

    Without grounding impedances PGM puts ``1/z_s + y_sh`` (its positive-sequence pi,
    LV-referred) to earth at the earthed-star side of a Dyn or YNd transformer; the shunt
    adds the difference to pandapower's admittance there. A YNyn transformer is PGM's pi
    with the series impedance ``z_s + 3 Z_grounding`` and ``y_sh / 2`` at either end: the
    grounding impedance makes the series pandapower's, the shunts complete the ends.
    Missing ``mag0_percent``: the magnetising admittance stays PGM's ``y_sh``.
    """
    z_s, y_sh, ratio = (x[rows] for x in pgm)
    target, y_hv, y_lv = _zero_targets(d, vg, trafo_model)
    mag = ~d.mag_missing
    from_on, to_on = arr["from_status"][rows].astype(bool), arr["to_status"][rows].astype(bool)
    from_node, to_node = arr["from_node"][rows], arr["to_node"][rows]
    if vg == _YNYN:
        z_g = (np.where(mag, target, d.z0k) - z_s) / 3.0
        arr["r_grounding_to"][rows], arr["x_grounding_to"][rows] = z_g.real, z_g.imag
        both = from_on & to_on
        parts = [
            (from_node, both, np.where(mag, y_hv - y_sh / 2.0, 0.0) / ratio**2),
            (to_node, both, np.where(mag, y_lv - y_sh / 2.0, 0.0)),
        ]
    else:
        extra = np.where(mag, target - y_sh, 1.0 / d.z0k) - 1.0 / z_s
        parts = (
            [(to_node, to_on, extra)] if vg == _DYN else [(from_node, from_on, extra / ratio**2)]
        )
    return [
        (int(n), bool(on), complex(y))
        for nodes, status, ys in parts
        for n, on, y in zip(nodes, status, ys, strict=True)
        if y != 0
    ]


def _trafo_zero_sequence(
    arr: np.ndarray, tr: pd.DataFrame, trafo_model: TrafoModel
) -> tuple[_ZeroShunts, list[str]]:
    """Give PGM's transformers the net's zero sequence (unbalanced runs).

    PGM models the zero sequence of Dyn, YNd and YNyn transformers with the positive
    sequence's leakage and magnetising admittances (plus ``3 Z_grounding`` of earthed
    neutrals). pandapower's ``runpp_3ph`` takes ``vk0_percent``, ``vkr0_percent``
    (leakage), ``mag0_percent``, ``mag0_rx`` (magnetising) and ``si0_hv_partial`` (HV
    share of the leakage) in a T model. Zero-sequence-only PGM shunts (and for YNyn a
    grounding impedance) make PGM's zero-sequence admittances equal pandapower's exactly
    (:func:`_group_zero_sequence`; they are no physical elements and may have a negative
    conductance). Other vector groups keep PGM's model (noted when the net has
    zero-sequence data for them); transformers without any zero-sequence data keep PGM's
    default (noted). ``trafo_model="pi"`` (which ``runpp_3ph`` refuses) takes the leakage
    only for Dyn and YNd, as pandapower's short-circuit code.

    Returns the extra shunts and the notes.
    """
    z_s, y_sh, ratio, z_base = _pgm_pi(arr)
    d = _zero_data(tr, z_base)
    vg_pairs = list(zip(arr["winding_from"].tolist(), arr["winding_to"].tolist(), strict=True))
    mapped = np.array([p in (_DYN, _YNYN, _YND) for p in vg_pairs], dtype=bool)
    on = arr["from_status"].astype(bool) | arr["to_status"].astype(bool)
    _check_zero_data(tr, mapped & d.has_any & on)
    shunts: list[tuple[int, bool, complex]] = []
    for vg in (_DYN, _YNYN, _YND):
        rows = np.flatnonzero(np.array([p == vg for p in vg_pairs], dtype=bool) & d.has_any)
        if rows.size:
            sub = _ZeroData(*(getattr(d, f)[rows] for f in _ZeroData.__dataclass_fields__))
            shunts += _group_zero_sequence(arr, rows, vg, sub, (z_s, y_sh, ratio), trafo_model)
    vgs = [_vector_group(f, t) for f, t in vg_pairs]
    node = np.array([s[0] for s in shunts], dtype=np.int32)
    out = _ZeroShunts(
        node,
        np.array([s[1] for s in shunts], dtype=bool),
        np.array([s[2] for s in shunts], dtype=np.complex128),
    )
    return out, _zero_sequence_notes(tr, vgs, d, mapped, on)


def _link_array(b: _Build) -> tuple[np.ndarray, pd.DataFrame]:
    """PGM ``link`` per closed bus-bus switch, and those switches."""
    sw = b.net.switch
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)] if len(sw) else sw
    arr = initialize_array(DatasetType.input, ComponentType.link, len(bb))
    arr["id"] = b.ids.take(len(bb))
    if len(bb):
        b1, b2 = bb["bus"].astype(int), bb["element"].astype(int)
        arr["from_node"] = b.node_of.loc[b1].to_numpy()
        arr["to_node"] = b.node_of.loc[b2].to_numpy()
        st = b.bus_ok.loc[b1].to_numpy() & b.bus_ok.loc[b2].to_numpy()
        arr["from_status"] = st
        arr["to_status"] = st
    return arr, bb


def _source_array(b: _Build) -> np.ndarray:
    """PGM ``source`` per ext_grid: an ideal slack at ``vm_pu`` and ``va_degree``."""
    eg = b.net.ext_grid
    arr = initialize_array(DatasetType.input, ComponentType.source, len(eg))
    arr["id"] = b.ids.take(len(eg))
    eb = eg["bus"].astype(int)
    arr["node"] = b.node_of.loc[eb].to_numpy()
    arr["status"] = b.status(eg, eb)
    arr["u_ref"] = _col(eg, "vm_pu", 1.0)
    arr["u_ref_angle"] = np.deg2rad(np.nan_to_num(_col(eg, "va_degree", 0.0)))
    arr["sk"] = SOURCE_SK_VA
    arr["rx_ratio"] = 0.1
    arr["z01_ratio"] = 1.0
    return arr


def _load_array(
    b: _Build, load_phases: Mapping[int, str] | None
) -> tuple[np.ndarray, ComponentType, FloatArray]:
    """PGM ``sym_load`` (balanced) or ``asym_load`` per load, constant power; the
    component and each load's share per phase."""
    load = b.net.load
    share = np.full((len(load), 3), 1.0 / 3.0)
    load_component = ComponentType.sym_load
    if b.symmetric:
        if load_phases:
            msg = "load_phases is only used by unbalanced calculations (symmetric=False)"
            raise InputError(msg)
        arr = initialize_array(DatasetType.input, ComponentType.sym_load, len(load))
    else:
        share = _phase_share(load.index, load_phases)
        load_component = ComponentType.asym_load
        arr = initialize_array(DatasetType.input, ComponentType.asym_load, len(load))
    arr["id"] = b.ids.take(len(load))
    lbus = load["bus"].astype(int)
    arr["node"] = b.node_of.loc[lbus].to_numpy()
    arr["status"] = b.status(load, lbus)
    arr["type"] = LoadGenType.const_power
    p = _col(load, "p_mw", 0.0) * _col(load, "scaling", 1.0) * 1e6
    q = _col(load, "q_mvar", 0.0) * _col(load, "scaling", 1.0) * 1e6
    if b.symmetric:
        arr["p_specified"], arr["q_specified"] = p, q
    else:
        arr["p_specified"] = p[:, None] * share
        arr["q_specified"] = q[:, None] * share
    return arr, load_component, share


def _injection_array(b: _Build, df: pd.DataFrame, component: ComponentType) -> np.ndarray:
    """A constant-power ``sym_load`` (storage) or ``sym_gen`` (sgen) per row of ``df``,
    ``p_mw * scaling`` and ``q_mvar * scaling``."""
    arr = initialize_array(DatasetType.input, component, len(df))
    arr["id"] = b.ids.take(len(df))
    if len(df):
        buses = df["bus"].astype(int)
        arr["node"] = b.node_of.loc[buses].to_numpy()
        arr["status"] = b.status(df, buses)
        arr["type"] = LoadGenType.const_power
        arr["p_specified"] = _col(df, "p_mw", 0.0) * _col(df, "scaling", 1.0) * 1e6
        arr["q_specified"] = _col(df, "q_mvar", 0.0) * _col(df, "scaling", 1.0) * 1e6
    return arr


def _shunt_array(b: _Build) -> np.ndarray:
    """PGM ``shunt`` per shunt (``g1 = p_mw*step/vn_kv^2``, ``b1 = -q_mvar*step/vn_kv^2``,
    the bus voltage where ``vn_kv`` is missing)."""
    sh = b.net.shunt
    arr = initialize_array(DatasetType.input, ComponentType.shunt, len(sh))
    arr["id"] = b.ids.take(len(sh))
    if len(sh):
        hbus = sh["bus"].astype(int)
        arr["node"] = b.node_of.loc[hbus].to_numpy()
        arr["status"] = b.status(sh, hbus)
        vn = _col(sh, "vn_kv")
        vn = np.where(np.isnan(vn), b.net.bus["vn_kv"].loc[hbus].to_numpy(dtype=float), vn)
        stp = _col(sh, "step", 1.0)
        arr["g1"] = _col(sh, "p_mw", 0.0) * stp / vn**2
        arr["b1"] = -_col(sh, "q_mvar", 0.0) * stp / vn**2
        arr["g0"], arr["b0"] = arr["g1"], arr["b1"]
    return arr


def _table(net: Any, name: str) -> pd.DataFrame:
    """``net[name]``, an empty table with a ``bus`` column when the net has none."""
    return net[name] if name in net else pd.DataFrame(columns=["bus"])


def _phase_powers(df: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """Per-phase ``p`` and ``q`` times ``scaling``, shape ``(n, 3)`` [W], [var]."""
    scaling = np.nan_to_num(_col(df, "scaling", 1.0))[:, None] * 1e6
    p = np.column_stack([np.nan_to_num(_col(df, c, 0.0)) for c in PHASE_P_COLUMNS])
    q = np.column_stack([np.nan_to_num(_col(df, c, 0.0)) for c in PHASE_Q_COLUMNS])
    return p.reshape(len(df), 3) * scaling, q.reshape(len(df), 3) * scaling


def _refuse_delta(b: _Build, name: str, df: pd.DataFrame) -> None:
    """Unbalanced runs: PGM's asym_load/asym_gen connect each phase to neutral."""
    if "type" not in df or not len(df):
        return
    on = b.status(df, df["bus"].astype(int))
    delta = np.asarray(df["type"].astype(str).str.lower() == "delta", dtype=bool) & on
    if delta.any():
        idx = df.index[delta].tolist()
        msg = (
            f"{name}[{idx[0]}].type = 'delta' ({len(idx)} in service): power-grid-model "
            "connects each phase of an asymmetric load or generator to neutral and has no "
            "delta connection, so an unbalanced run cannot take it. Set type='wye' if the "
            "powers are phase-to-neutral, or run balanced (which, as pandapower's runpp, "
            "takes the sum of the phases)"
        )
        raise InputError(msg)


def _asymmetric_array(
    b: _Build, name: str, component: ComponentType
) -> tuple[np.ndarray, FloatArray, FloatArray]:
    """PGM constant-power elements of an ``asymmetric_load``/``asymmetric_sgen`` table:
    per phase (``asym_load``/``asym_gen``) or the sum of the phases (``sym_load``/
    ``sym_gen``, balanced runs, as pandapower's runpp). Returns the array and its
    static set-points [W], [var] (PGM's frames: load consumes, gen produces, as
    pandapower's tables)."""
    df = _table(b.net, name)
    if not b.symmetric:
        _refuse_delta(b, name, df)
    arr = initialize_array(DatasetType.input, component, len(df))
    arr["id"] = b.ids.take(len(df))
    p, q = _phase_powers(df)
    if b.symmetric:
        p, q = p.sum(axis=1), q.sum(axis=1)
    if len(df):
        buses = df["bus"].astype(int)
        arr["node"] = b.node_of.loc[buses].to_numpy()
        arr["status"] = b.status(df, buses)
        arr["type"] = LoadGenType.const_power
        arr["p_specified"], arr["q_specified"] = p, q
    return arr, p, q


@dataclass(frozen=True)
class _Injected:
    """The load/generator components of a PGM network and their id maps."""

    data: dict[ComponentType, np.ndarray]
    ids: dict[str, ElementIds]
    load_component: ComponentType
    share: FloatArray
    static_tail: dict[ComponentType, tuple[FloatArray, FloatArray]]


def _injected(b: _Build, load_phases: Mapping[int, str] | None) -> _Injected:
    """Loads, storage, sgens and asymmetric loads/sgens as PGM components, each
    component's profiled elements first (loads then storage in ``sym_load``), the static
    asymmetric ones last (their set-points in ``static_tail``)."""
    net = b.net
    arr, load_component, share = _load_array(b, load_phases)
    st = _table(net, "storage")
    sarr = _injection_array(b, st, ComponentType.sym_load)
    garr = _injection_array(b, net.sgen, ComponentType.sym_gen)
    sym = b.symmetric
    al, al_p, al_q = _asymmetric_array(
        b, "asymmetric_load", ComponentType.sym_load if sym else ComponentType.asym_load
    )
    ag, ag_p, ag_q = _asymmetric_array(
        b, "asymmetric_sgen", ComponentType.sym_gen if sym else ComponentType.asym_gen
    )
    tail: dict[ComponentType, tuple[FloatArray, FloatArray]] = {}
    if sym:
        data = {
            ComponentType.sym_load: np.concatenate([arr, sarr, al]),
            ComponentType.sym_gen: np.concatenate([garr, ag]),
        }
        tail[ComponentType.sym_load] = (al_p, al_q)
        tail[ComponentType.sym_gen] = (ag_p, ag_q)
    else:
        data = {
            ComponentType.asym_load: np.concatenate([arr, al]),
            ComponentType.sym_load: sarr,
            ComponentType.sym_gen: garr,
            ComponentType.asym_gen: ag,
        }
        tail[ComponentType.asym_load] = (al_p, al_q)
    ids = {
        "load": _element_ids(net.load, arr),
        "storage": _element_ids(st, sarr),
        "sgen": _element_ids(net.sgen, garr),
        "asymmetric_load": _element_ids(_table(net, "asymmetric_load"), al),
        "asymmetric_sgen": _element_ids(_table(net, "asymmetric_sgen"), ag),
    }
    tail = {ct: pq for ct, pq in tail.items() if len(pq[0])}
    return _Injected(data, ids, load_component, share, tail)


def _with_zero_shunts(shunt: np.ndarray, extra: _ZeroShunts, ids: _Ids) -> np.ndarray:
    """``shunt`` followed by zero-sequence-only shunts (``g1 = b1 = 0``) [S]."""
    arr = initialize_array(DatasetType.input, ComponentType.shunt, len(extra.node))
    if not len(extra.node):
        return shunt
    arr["id"] = ids.take(len(extra.node))
    arr["node"], arr["status"] = extra.node, extra.status
    arr["g1"], arr["b1"] = 0.0, 0.0
    arr["g0"], arr["b0"] = extra.y0_s.real, extra.y0_s.imag
    return np.concatenate([shunt, arr])


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
    f_hz = float(getattr(net, "f_hz", 50.0) or 50.0)
    ids: dict[str, ElementIds] = {}
    data: dict[ComponentType, np.ndarray] = {}
    counter = _Ids()
    bus = net.bus
    node = _node_array(bus, counter)
    data[ComponentType.node] = node
    ids["bus"] = _element_ids(bus, node)
    node_of = pd.Series(node["id"], index=bus.index)
    bus_ok = pd.Series(_bool(bus, "in_service"), index=bus.index)
    b = _Build(net, node_of, bus_ok, counter, symmetric)
    open_line_ends, open_trafo_ends = _switch_status(net)
    data[ComponentType.line] = _line_array(b, open_line_ends, f_hz, zero_sequence)
    ids["line"] = _element_ids(net.line, data[ComponentType.line])
    tr_arr = _transformer_array(b, open_trafo_ends, trafo_model)
    zero = _ZeroShunts(np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(0, np.complex128))
    notes: list[str] = []
    if not symmetric:
        zero, notes = _trafo_zero_sequence(tr_arr, net.trafo, trafo_model)
    data[ComponentType.transformer] = tr_arr
    ids["trafo"] = _element_ids(net.trafo, tr_arr)
    data[ComponentType.link], bb = _link_array(b)
    ids["switch"] = _element_ids(bb, data[ComponentType.link])
    data[ComponentType.source] = _source_array(b)
    ids["ext_grid"] = _element_ids(net.ext_grid, data[ComponentType.source])
    inj = _injected(b, load_phases)
    data.update(inj.data)
    ids.update(inj.ids)
    shunt = _shunt_array(b)
    ids["shunt"] = _element_ids(net.shunt, shunt)
    data[ComponentType.shunt] = _with_zero_shunts(shunt, zero, counter)
    data = {k: v for k, v in data.items() if len(v)}
    return PgmNetwork(
        input_data=data,
        ids=ids,
        load_component=inj.load_component,
        load_phase_share=inj.share,
        f_hz=f_hz,
        symmetric=symmetric,
        static_tail=inj.static_tail,
        notes=tuple(notes),
    )
