"""The parts of the fixed point's model taken from pandapower's internal case.

pandapower's converter (``_pd2ppc``, the code ``runpp`` uses) turns a net into its
internal case (:func:`internal_case`); from it come the factorised admittance model of
the non-slack buses (:func:`admittance_model`), the two-ports of every branch
(:func:`branch_model`), where each ext_grid and each load, sgen and storage element sits
(:func:`ext_grid_shares`, :func:`element_model`) and the ratings the results are
measured against (:func:`ratings`). :func:`gridtwin.network._fixedpoint.build_fixed_point`
puts them together.

pandapower and SciPy are imported inside the functions that use them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._static_elements import static_elements
from gridtwin.network._tables import _col, _in_service

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "ELEMENT_TABLES",
    "Admittance",
    "BranchModel",
    "ElementModel",
    "Ratings",
    "admittance_model",
    "branch_model",
    "element_model",
    "ext_grid_shares",
    "internal_case",
    "lookup",
    "ratings",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_ZIP_COLUMNS = (
    ("const_i_p_percent", "const_z_p_percent", "const_i_q_percent", "const_z_q_percent"),
    ("const_i_percent", "const_z_percent", "const_i_percent", "const_z_percent"),
)


#: Element tables that inject power, with their sign in the consumer frame.
#: Voltage-controlled generators (``gen``) carry only their active power here.
ELEMENT_TABLES = (("load", 1.0), ("sgen", -1.0), ("storage", 1.0), ("gen", -1.0))


def internal_case(
    net: Any, trafo_model: str, ratio_taps: Sequence[int] = ()
) -> tuple[Any, dict[str, Any], Any, Any]:
    """pandapower's internal case of ``net`` (the net itself is not modified), and the
    working net it was built from. Transformers ``ratio_taps`` are made ratio tap
    changers (pandapower 3 ignores the tap of a transformer without a tap changer type)."""
    from pandapower.auxiliary import _init_runpp_options
    from pandapower.pd2ppc import _pd2ppc

    work = net.__class__(dict(net))  # a shallow copy takes pandapower's bookkeeping
    if len(ratio_taps):
        trafo = net.trafo.copy()
        rows = trafo.index.isin(list(ratio_taps))
        if "tap_changer_type" not in trafo:
            trafo["tap_changer_type"] = None
        untyped = rows & trafo["tap_changer_type"].isna().to_numpy()
        trafo.loc[untyped, "tap_changer_type"] = "Ratio"
        if "tap_pos" in trafo and "tap_neutral" in trafo:
            unset = rows & trafo["tap_pos"].isna().to_numpy()
            trafo.loc[unset, "tap_pos"] = trafo.loc[unset, "tap_neutral"]
        work["trafo"] = trafo
    _init_runpp_options(
        work,
        algorithm="nr",
        calculate_voltage_angles=True,
        init="flat",
        max_iteration="auto",
        tolerance_mva=1e-8,
        trafo_model=trafo_model,
        trafo_loading="current",
        enforce_p_lims=False,
        enforce_q_lims=False,
        check_connectivity=True,
        voltage_depend_loads=True,
    )
    empty = np.array([], dtype=np.int64)
    work._pd2ppc_lookups = {
        k: empty for k in ("bus", "bus_dc", "ext_grid", "gen", "branch", "branch_dc")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isolated buses: validation reports them
        try:
            ppc, ppci = _pd2ppc(work)
        except UserWarning as exc:  # pandapower raises this class for a missing slack
            msg = f"pandapower cannot build the admittance model: {exc}"
            raise InputError(msg) from exc
    return ppc, ppci, work._pd2ppc_lookups, work


def lookup(bus_lookup: IntArray, buses: Any, n_bus: int) -> IntArray:
    """Internal index of pandapower buses, ``-1`` when not energised."""
    b = np.asarray(buses, dtype=np.int64)
    out = np.full(len(b), -1, dtype=np.int64)
    inside = (b >= 0) & (b < len(bus_lookup))
    idx = bus_lookup[b[inside]]
    out[inside] = np.where((idx >= 0) & (idx < n_bus), idx, -1)
    return out


def _elimination_order(y: sp.csc_matrix) -> IntArray:
    """A fill-reducing elimination order of ``y`` (minimum degree on its pattern)."""
    from scipy.sparse.linalg import splu

    if y.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        lu = splu(
            y, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
    except RuntimeError as exc:  # "Factor is exactly singular": impedances of 1e-300 ohm
        msg = (
            f"the admittance matrix is singular ({exc}); check for floating parts and for "
            "impedances too small to be real (use a bus-bus switch)"
        )
        raise InputError(msg) from exc
    # SuperLU's perm_c maps an old column to its new place; the order is its inverse
    return np.argsort(np.asarray(lu.perm_c, dtype=np.int64)).astype(np.int64)


def _factorise(y: sp.csc_matrix) -> tuple[Any, ...]:
    """``y = L U`` in the given order, as plain arrays for the kernel."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = y.shape[0]
    if n == 0:
        z, zc = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.complex128)
        return (z, z[:0], zc, z, z[:0], zc, zc)
    try:
        lu = splu(y, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    except RuntimeError as exc:
        msg = f"the admittance matrix is singular ({exc}); check for floating parts"
        raise InputError(msg) from exc
    ident = np.arange(n)
    if not (np.array_equal(lu.perm_r, ident) and np.array_equal(lu.perm_c, ident)):
        msg = "internal: the LU factorisation pivoted; the admittance matrix is ill-conditioned"
        raise InputError(msg)
    lower = sp.csc_matrix(sp.tril(sp.csc_matrix(lu.L), k=-1))
    upper = sp.csc_matrix(lu.U)
    diag = np.asarray(upper.diagonal(), dtype=np.complex128)
    if (np.abs(diag) == 0).any():
        msg = "the admittance matrix is singular (zero pivot); check for floating parts"
        raise InputError(msg)
    upper_off = sp.csc_matrix(sp.triu(upper, k=1))
    return (
        lower.indptr.astype(np.int64),
        lower.indices.astype(np.int64),
        lower.data.astype(np.complex128),
        upper_off.indptr.astype(np.int64),
        upper_off.indices.astype(np.int64),
        upper_off.data.astype(np.complex128),
        (1.0 / diag).astype(np.complex128),
    )


@dataclass(frozen=True)
class Admittance:
    """The factorised admittance model of the non-slack buses (the attributes of the same
    name of :class:`~gridtwin.network._fixedpoint.FixedPointNetwork`), with ``pos``, the
    position of each bus of the internal case in the voltage vector (``-1``: none)."""

    base_mva: float
    n_bus: int
    n_other: int
    n_slack: int
    pos: IntArray
    w: ComplexArray
    v_slack: ComplexArray
    factors: tuple[Any, ...]
    slack_rows: tuple[IntArray, IntArray, ComplexArray]


def _bus_kinds(bus: Any) -> tuple[IntArray, IntArray]:
    """The slack (``REF``) and other buses of the internal case (voltage-controlled
    buses among the others: the fixed point does not iterate on them, Newton-Raphson does).

    Raises
    ------
    InputError
        No slack bus.
    """
    from pandapower.pypower.idx_bus import BUS_TYPE, REF

    btype = np.real(bus[:, BUS_TYPE]).astype(np.int64)
    slack = np.flatnonzero(btype == REF).astype(np.int64)
    if not len(slack):
        msg = "no energised slack bus (ext_grid): the fixed-point solver needs one"
        raise InputError(msg)
    other = np.flatnonzero(btype != REF).astype(np.int64)
    return slack, other


def _no_load_voltages(
    ybus: Any, other: IntArray, slack: IntArray, v_slack: ComplexArray, factors: tuple[Any, ...]
) -> ComplexArray:
    """``w = -Y_LL^-1 Y_Ls V_s`` [pu]."""
    from gridtwin.network._fp_kernels import lu_solve_inplace

    rhs = -(ybus[other][:, slack] @ v_slack)
    w = np.asarray(np.asarray(rhs, dtype=np.complex128).reshape(-1), dtype=np.complex128).copy()
    lu_solve_inplace(w, *factors)
    return w


def admittance_model(ppci: dict[str, Any]) -> Admittance:
    """Factorise ``Y_LL`` of the internal case in a fill-reducing order, and the no-load
    voltages and slack rows that go with it.

    Raises
    ------
    InputError
        No slack bus, or a singular ``Y_LL``.
    """
    import scipy.sparse as sp
    from pandapower.pypower.idx_bus import VA, VM
    from pandapower.pypower.makeYbus import makeYbus

    base_mva = float(ppci["baseMVA"])
    bus = ppci["bus"]
    n_bus = len(bus)
    slack, other = _bus_kinds(bus)
    ybus = sp.csr_matrix(makeYbus(base_mva, bus, ppci["branch"])[0])
    y_ll = sp.csc_matrix(ybus[other][:, other])
    # elimination order first, then a factorisation without any permutation
    order = _elimination_order(y_ll)
    other = other[order]
    y_ll = sp.csc_matrix(y_ll[order][:, order])
    factors = _factorise(y_ll)
    n_other, n_slack = len(other), len(slack)
    pos = np.full(n_bus, -1, dtype=np.int64)
    pos[other] = np.arange(n_other)
    pos[slack] = n_other + np.arange(n_slack)
    v_slack = np.asarray(
        np.real(bus[slack, VM]) * np.exp(1j * np.deg2rad(np.real(bus[slack, VA]))),
        dtype=np.complex128,
    )
    w = _no_load_voltages(ybus, other, slack, v_slack, factors)
    rows = sp.csr_matrix(ybus[slack])
    slack_rows = (
        rows.indptr.astype(np.int64),
        pos[rows.indices].astype(np.int64),
        rows.data.astype(np.complex128),
    )
    return Admittance(base_mva, n_bus, n_other, n_slack, pos, w, v_slack, factors, slack_rows)


@dataclass(frozen=True)
class BranchModel:
    """Every branch of the model: lines, transformers, then the three-winding
    transformers' three branches (all HV -> star, all star -> MV, all star -> LV), as
    pandapower orders them.

    Attributes
    ----------
    sel : numpy.ndarray of int64
        Their rows in the internal case's ``branch`` table.
    n_line : int
        Lines among them (the first ``n_line``).
    f, t : numpy.ndarray of int64
        Internal from/to bus (0 where not ``on``).
    on : numpy.ndarray of bool
        In service and energised.
    y_ff, y_ft, y_tf, y_tt : numpy.ndarray of complex
        Two-port admittances [pu] (zero where not ``on``).
    kv_f, kv_t : numpy.ndarray
        Base voltage at the from/to end [kV].
    """

    sel: IntArray
    n_line: int
    f: IntArray
    t: IntArray
    on: BoolArray
    y_ff: ComplexArray
    y_ft: ComplexArray
    y_tf: ComplexArray
    y_tt: ComplexArray
    kv_f: FloatArray
    kv_t: FloatArray


def _branch_rows(net: Any, lookups: Any) -> tuple[IntArray, int]:
    """Rows of the lines, transformers and three-winding transformers in the internal
    case's ``branch`` table, and the number of lines."""
    ranges = lookups["branch"] if isinstance(lookups["branch"], dict) else {}
    sel_parts: list[IntArray] = []
    counts = {}
    for table, per_row in (("line", 1), ("trafo", 1), ("trafo3w", 3)):
        n_el = len(net[table]) if table in net else 0
        start, stop = ranges.get(table, (0, 0))
        if stop - start != per_row * n_el:
            msg = f"pandapower's case has {stop - start} {table} branches for {n_el} rows"
            raise InputError(msg)
        sel_parts.append(np.arange(start, stop, dtype=np.int64))
        counts[table] = n_el
    return np.concatenate(sel_parts), counts["line"]


def branch_model(net: Any, ppc: Any, ppci: dict[str, Any], lookups: Any) -> BranchModel:
    """The two-ports of every branch from pandapower's own branch model.

    Raises
    ------
    InputError
        pandapower's case does not have the branches the net's tables call for.
    """
    from pandapower.pypower.idx_brch import F_BUS, T_BUS
    from pandapower.pypower.idx_bus import BASE_KV
    from pandapower.pypower.makeYbus import branch_vectors

    bus = ppci["bus"]
    n_bus = len(bus)
    branch = ppc["branch"]
    sel, n_line = _branch_rows(net, lookups)
    y_tt, y_ff, y_ft, y_tf = branch_vectors(branch[sel], len(sel))
    f = np.real(branch[sel, F_BUS]).astype(np.int64)
    t = np.real(branch[sel, T_BUS]).astype(np.int64)
    on = np.asarray(ppci["internal"]["branch_is"], dtype=bool)[sel] & (f < n_bus) & (t < n_bus)
    f, t = np.where(on, f, 0), np.where(on, t, 0)
    base_kv = np.real(bus[:, BASE_KV]).astype(np.float64)

    def two_port(y: Any) -> ComplexArray:
        return np.where(on, np.asarray(y, dtype=np.complex128), 0.0).astype(np.complex128)

    return BranchModel(
        sel=sel,
        n_line=n_line,
        f=f,
        t=t,
        on=on,
        y_ff=two_port(y_ff),
        y_ft=two_port(y_ft),
        y_tf=two_port(y_tf),
        y_tt=two_port(y_tt),
        kv_f=base_kv[f],
        kv_t=base_kv[t],
    )


def ext_grid_shares(net: Any, bus_lookup: IntArray, adm: Admittance) -> tuple[IntArray, FloatArray]:
    """For each ext_grid its slack index (``-1`` out of service) and the share of its
    bus's power it reports (1 / ext_grids on the bus)."""
    pos, n_other = adm.pos, adm.n_other
    eg = net.ext_grid
    eg_int = lookup(bus_lookup, eg["bus"].to_numpy(), adm.n_bus)
    eg_int[~_in_service(eg)] = -1
    eg_slack = np.where(eg_int >= 0, pos[np.maximum(eg_int, 0)] - n_other, -1).astype(np.int64)
    eg_slack[eg_slack < 0] = -1
    n_on = np.bincount(eg_slack[eg_slack >= 0], minlength=adm.n_slack)
    eg_share = np.where(eg_slack >= 0, 1.0 / np.maximum(n_on[np.maximum(eg_slack, 0)], 1), 0.0)
    return eg_slack, eg_share


def _zip_shares(df: pd.DataFrame) -> FloatArray:
    """``(n, 4)`` constant-current / constant-impedance shares of P and Q [-]."""
    for cols in _ZIP_COLUMNS:
        if all(c in df for c in cols):
            parts = [np.nan_to_num(pd.to_numeric(df[c], errors="coerce").to_numpy()) for c in cols]
            return np.column_stack(parts).astype(np.float64) / 100.0
    return np.zeros((len(df), 4))


@dataclass(frozen=True)
class ElementModel:
    """The stacked load, sgen and storage elements (the attributes of the same name of
    :class:`~gridtwin.network._fixedpoint.FixedPointNetwork`)."""

    tables: dict[str, tuple[int, int]]
    el_pos: IntArray
    el_coef: FloatArray
    zip_el: IntArray
    zip_share: FloatArray


def element_model(net: Any, bus_lookup: IntArray, adm: Admittance) -> ElementModel:
    """Where each load, sgen and storage element sits, then the elements with fixed
    set-points (:func:`~gridtwin.network._static_elements.static_elements`), their factor
    from W to per unit (consumer frame) and the voltage-dependent loads' shares."""
    pos = adm.pos
    tables: dict[str, tuple[int, int]] = {}
    el_pos, el_coef, shares = [], [], []
    start = 0
    fixed = static_elements(net)
    stacked = [
        (table, sign, net[table] if table in net else pd.DataFrame(columns=["bus"]))
        for table, sign in ELEMENT_TABLES
    ] + [(table, sign, frame) for table, (frame, sign) in fixed.items()]
    for table, sign, df in stacked:
        internal = lookup(bus_lookup, df["bus"].to_numpy(), adm.n_bus)
        internal[~_in_service(df)] = -1
        el_pos.append(np.where(internal >= 0, pos[np.maximum(internal, 0)], -1))
        el_coef.append(np.full(len(df), sign / (1e6 * adm.base_mva)))
        shares.append(_zip_shares(df) if table == "load" else np.zeros((len(df), 4)))
        tables[table] = (start, start + len(df))
        start += len(df)
    pos_all = np.concatenate(el_pos).astype(np.int64)
    share_all = np.concatenate(shares)
    zip_el = np.flatnonzero((pos_all >= 0) & (np.abs(share_all).sum(axis=1) > 0)).astype(np.int64)
    return ElementModel(
        tables=tables,
        el_pos=pos_all,
        el_coef=np.concatenate(el_coef).astype(np.float64),
        zip_el=zip_el,
        zip_share=np.ascontiguousarray(share_all[zip_el]),
    )


@dataclass(frozen=True)
class Ratings:
    """What loadings are measured against (the attributes of the same name of
    :class:`~gridtwin.network._fixedpoint.FixedPointNetwork`)."""

    line_i_max_ka: FloatArray
    trafo_vn_hv_kv: FloatArray
    trafo_vn_lv_kv: FloatArray
    trafo_rating_mva: FloatArray
    trafo3w_loading_per_ka: FloatArray


def ratings(net: Any) -> Ratings:
    """Line ratings [kA], transformer rated voltages [kV] and ratings [MVA], and the
    three-winding transformers' loading per kA of each side [%/kA]."""
    line, tr = net.line, net.trafo
    t3 = net.get("trafo3w", None)
    t3 = t3 if isinstance(t3, pd.DataFrame) else pd.DataFrame()
    with np.errstate(invalid="ignore", divide="ignore"):
        i_max = _col(line, "max_i_ka", np.nan) * _col(line, "df", 1.0) * _col(line, "parallel", 1)
        rating = _col(tr, "sn_mva", np.nan) * _col(tr, "parallel", 1) * _col(tr, "df", 1.0)
        # pandapower's res_trafo3w loading: no parallel / df for three-winding units
        t3_per_ka = np.zeros((len(t3), 3))
        for k, side in enumerate(("hv", "mv", "lv")):
            vn_kv, sn_mva = _col(t3, f"vn_{side}_kv", np.nan), _col(t3, f"sn_{side}_mva", np.nan)
            t3_per_ka[:, k] = vn_kv * math.sqrt(3.0) / sn_mva * 100.0
    return Ratings(
        line_i_max_ka=i_max,
        trafo_vn_hv_kv=_col(tr, "vn_hv_kv", np.nan),
        trafo_vn_lv_kv=_col(tr, "vn_lv_kv", np.nan),
        trafo_rating_mva=rating,
        trafo3w_loading_per_ka=np.ascontiguousarray(t3_per_ka, dtype=np.float64),
    )
