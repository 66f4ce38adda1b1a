"""Balanced time-series power flow by a fixed-point (Z-bus) iteration over a sparse LU.

The admittance model comes from pandapower itself: its converter (``_pd2ppc``, the
same code ``runpp`` uses) turns the net into the internal case (T-model transformers
as exact pi two-ports, closed bus-bus switches fused, open line switches as a floating
line end that keeps the cable's charging, shunts, isolated parts removed) and
``makeYbus`` gives the admittances. So the equations solved are pandapower's own.

With the slack buses ``s`` fixed, the voltages ``V`` of the other buses satisfy::

    Y_LL V = conj(S_inj(V) / V) - Y_Ls V_s

which is solved by the fixed point ``V <- w + Y_LL^-1 conj(S_inj(V) / V)`` with
``w = -Y_LL^-1 Y_Ls V_s`` (the no-load voltages). ``Y_LL`` is factorised once (SciPy
SuperLU, fill-reducing ordering); every iteration of every step is then one pass of
sparse triangular solves, done in a numba kernel one step at a time so that the working
set (a few vectors of ``n`` complex numbers and the factors) stays in the CPU cache.
Steps are split into blocks of :data:`BLOCK_STEPS` profile positions solved in
parallel; inside a block each step starts from the previous step's solution (the first
from ``w``, or from the last solution of the previous call), so the result depends
neither on the number of threads nor on how the caller chunks the steps. A step
converges when the largest voltage change of an iteration is below the tolerance [pu];
one that does not within the iteration limit is reported as failed (the caller re-solves
it with Newton-Raphson).

Loads may be voltage dependent (pandapower's ZIP shares ``const_z_*_percent`` and
``const_i_*_percent``): ``S(V) = S_p + S_i |V| + S_z |V|^2`` per load, evaluated at each
iteration. (pandapower itself averages the shares of the loads at a bus and applies them
to the bus's net demand, sgens and storage included; the two agree where a ZIP load is
alone at its bus.)
On-load tap changers (:class:`TapControl`) keep the factorisation at the net's own
positions: another position enters each iteration as the current injection
``-(Y(pos) - Y(base)) V`` of that transformer's two-port, and after each solution a
voltage outside its band moves the tap one position, as pandapower's
``DiscreteTapControl`` does. Tap positions carry from step to step, so such runs solve
their steps in sequence.

Three-winding transformers are pandapower's too: three two-winding branches (HV -> star,
star -> MV, star -> LV) around an auxiliary star bus, solved like any other branch; their
results are the currents at the three external terminals and pandapower's current-based
loading (the largest of ``i_<side>_ka * vn_<side>_kv * sqrt(3) / sn_<side>_mva``).

Voltage-controlled (PV) generators are not handled (validation refuses them).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gridtwin.errors import InputError
from gridtwin.network._results import RESULT_FIELDS
from gridtwin.network._tables import _col, _in_service

__all__ = [
    "BLOCK_STEPS",
    "MAX_CONTROL_ROUNDS",
    "FixedPointNetwork",
    "QuData",
    "ReactivePowerControl",
    "TapControl",
    "TapData",
    "WarmStart",
    "build_fixed_point",
    "segments_of",
    "solve_fixed_point",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Control rounds per step (a tap moves one position per round), as pandapower's
#: default controller loop.
MAX_CONTROL_ROUNDS = 30
#: Steps per block: the steps of a block are solved in sequence, each warm-started from
#: the previous one; blocks run in parallel.
BLOCK_STEPS = 128
_ZIP_COLUMNS = (
    ("const_i_p_percent", "const_z_p_percent", "const_i_q_percent", "const_z_q_percent"),
    ("const_i_percent", "const_z_percent", "const_i_percent", "const_z_percent"),
)


#: Element tables that inject power, with their sign in the consumer frame.
ELEMENT_TABLES = (("load", 1.0), ("sgen", -1.0), ("storage", 1.0))


@dataclass(frozen=True)
class FixedPointNetwork:
    """A factorised admittance model of a pandapower net (see the module docstring).

    Voltages live in one vector per step: the ``n_other`` non-slack buses in elimination
    order, then the ``n_slack`` slack buses. Every ``*_pos`` array indexes that vector
    (``-1``: not energised / not connected).

    Attributes
    ----------
    base_mva : float
        Per-unit power base [MVA].
    n_other, n_slack : int
        Non-slack and slack buses of pandapower's internal case.
    w : numpy.ndarray of complex, shape (n_other,)
        No-load voltages [pu].
    v_slack : numpy.ndarray of complex, shape (n_slack,)
        Slack voltages [pu].
    factors : tuple of numpy.ndarray
        ``Y_LL = L U`` (no permutation: the buses are already in elimination order):
        strictly lower ``L`` (unit diagonal) and strictly upper ``U`` as CSC
        ``(indptr, indices, data)`` and ``1 / diag(U)``.
    slack_rows : tuple of numpy.ndarray
        ``Ybus[slack, :]`` as CSR ``(indptr, positions, data)``.
    bus_pos : numpy.ndarray of int64
        Position of each pandapower bus (``net.bus`` order).
    branch_f, branch_t : numpy.ndarray of int64
        Positions of the from/to buses of every line, then every transformer
        (pandapower order; transformers from the HV side), then the three branches of
        the three-winding transformers as pandapower builds them around an auxiliary
        star bus: HV -> star of every trafo3w, then star -> MV of every trafo3w, then
        star -> LV of every trafo3w.
    y_ff, y_ft, y_tf, y_tt : numpy.ndarray of complex
        Their two-port admittances [pu] (zero when out of service).
    kv_f, kv_t : numpy.ndarray
        Base voltage at the from/to end [kV] (for currents in kA).
    n_line : int
        Lines among the branches (the first ``n_line``).
    line_i_max_ka : numpy.ndarray
        ``max_i_ka * df * parallel`` per line [kA].
    trafo_vn_hv_kv, trafo_vn_lv_kv, trafo_rating_mva : numpy.ndarray
        Per transformer: rated voltages [kV] and ``sn_mva * parallel * df`` [MVA].
    trafo3w_loading_per_ka : numpy.ndarray, shape (n_trafo3w, 3)
        Per three-winding transformer and side (HV, MV, LV): the loading [%] per kA of
        terminal current, ``vn_<side>_kv * sqrt(3) / sn_<side>_mva * 100``
        (pandapower's ``trafo_loading="current"``).
    ext_grid_slack : numpy.ndarray of int64
        For each ext_grid its slack index (``-1`` out of service).
    ext_grid_share : numpy.ndarray
        The share of its bus's power each ext_grid reports (1 / ext_grids on the bus).
    tables : dict[str, tuple[int, int]]
        Column range of each element table in the stacked set-point arrays.
    el_pos : numpy.ndarray of int64
        Position of each stacked element's bus (``-1`` out of service).
    el_coef : numpy.ndarray
        Factor from its set-point [W] to consumer-frame per unit.
    zip_el : numpy.ndarray of int64
        Stacked elements with voltage-dependent shares.
    zip_share : numpy.ndarray, shape (n_zip, 4)
        Constant-current and constant-impedance shares of P and Q
        (``i_p, z_p, i_q, z_q``).
    taps : TapData
        The controlled transformers (none when no tap controls were given).
    qu : QuData
        The sgens under a Q(U) characteristic (none when none were given).
    """

    base_mva: float
    n_other: int
    n_slack: int
    w: ComplexArray
    v_slack: ComplexArray
    factors: tuple[Any, ...]
    slack_rows: tuple[IntArray, IntArray, ComplexArray]
    bus_pos: IntArray
    branch_f: IntArray
    branch_t: IntArray
    y_ff: ComplexArray
    y_ft: ComplexArray
    y_tf: ComplexArray
    y_tt: ComplexArray
    kv_f: FloatArray
    kv_t: FloatArray
    n_line: int
    line_i_max_ka: FloatArray
    trafo_vn_hv_kv: FloatArray
    trafo_vn_lv_kv: FloatArray
    trafo_rating_mva: FloatArray
    trafo3w_loading_per_ka: FloatArray
    ext_grid_slack: IntArray
    ext_grid_share: FloatArray
    tables: dict[str, tuple[int, int]]
    el_pos: IntArray
    el_coef: FloatArray
    zip_el: IntArray
    zip_share: FloatArray
    taps: TapData
    qu: QuData

    @property
    def n_elements(self) -> int:
        """Stacked load, sgen and storage elements."""
        return len(self.el_pos)

    @property
    def n_trafo3w(self) -> int:
        """Three-winding transformers (three branches each, after the transformers)."""
        return len(self.trafo3w_loading_per_ka)

    @property
    def n_trafo(self) -> int:
        """Two-winding transformers."""
        return len(self.branch_f) - self.n_line - 3 * self.n_trafo3w


def _internal_case(
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


def _lookup(lookup: IntArray, buses: Any, n_bus: int) -> IntArray:
    """Internal index of pandapower buses, ``-1`` when not energised."""
    b = np.asarray(buses, dtype=np.int64)
    out = np.full(len(b), -1, dtype=np.int64)
    inside = (b >= 0) & (b < len(lookup))
    idx = lookup[b[inside]]
    out[inside] = np.where((idx >= 0) & (idx < n_bus), idx, -1)
    return out


def _zip_shares(df: pd.DataFrame) -> FloatArray:
    """``(n, 4)`` constant-current / constant-impedance shares of P and Q [-]."""
    for cols in _ZIP_COLUMNS:
        if all(c in df for c in cols):
            parts = [np.nan_to_num(pd.to_numeric(df[c], errors="coerce").to_numpy()) for c in cols]
            return np.column_stack(parts).astype(np.float64) / 100.0
    return np.zeros((len(df), 4))


def build_fixed_point(
    net: Any,
    *,
    trafo_model: str = "t",
    tap_controls: Sequence[TapControl] = (),
    reactive_controls: Sequence[ReactivePowerControl] = (),
) -> FixedPointNetwork:
    """Build and factorise the admittance model of ``net`` (at the transformers' present
    tap positions) and the two-ports of every position of the controlled transformers.

    Raises
    ------
    InputError
        No slack bus is energised, a voltage-controlled generator is present, or the
        admittance matrix of the non-slack buses is singular.
    """
    from pandapower.pypower.idx_brch import F_BUS, T_BUS
    from pandapower.pypower.idx_bus import BASE_KV, BUS_TYPE, PV, REF, VA, VM
    from pandapower.pypower.makeYbus import branch_vectors, makeYbus

    controls = tuple(tap_controls)
    ppc, ppci, lookups, work = _internal_case(net, trafo_model, [c.trafo for c in controls])
    base_mva = float(ppci["baseMVA"])
    bus = ppci["bus"]
    n_bus = len(bus)
    btype = np.real(bus[:, BUS_TYPE]).astype(np.int64)
    if (btype == PV).any():
        msg = "the fixed-point solver does not handle voltage-controlled (PV) buses"
        raise InputError(msg)
    slack = np.flatnonzero(btype == REF).astype(np.int64)
    if not len(slack):
        msg = "no energised slack bus (ext_grid): the fixed-point solver needs one"
        raise InputError(msg)
    other = np.flatnonzero(btype != REF).astype(np.int64)
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
    rhs = -(ybus[other][:, slack] @ v_slack)
    w = np.asarray(np.asarray(rhs, dtype=np.complex128).reshape(-1), dtype=np.complex128).copy()
    _lu_solve_inplace(w, *factors)
    rows = sp.csr_matrix(ybus[slack])
    slack_rows = (
        rows.indptr.astype(np.int64),
        pos[rows.indices].astype(np.int64),
        rows.data.astype(np.complex128),
    )

    # branches: lines, transformers, then the three-winding transformers' three branches
    # (all HV -> star, all star -> MV, all star -> LV), as pandapower orders them
    branch = ppc["branch"]
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
    sel = np.concatenate(sel_parts)
    y_tt, y_ff, y_ft, y_tf = branch_vectors(branch[sel], len(sel))
    f = np.real(branch[sel, F_BUS]).astype(np.int64)
    t = np.real(branch[sel, T_BUS]).astype(np.int64)
    on = np.asarray(ppci["internal"]["branch_is"], dtype=bool)[sel] & (f < n_bus) & (t < n_bus)
    f, t = np.where(on, f, 0), np.where(on, t, 0)
    base_kv = np.real(bus[:, BASE_KV]).astype(np.float64)

    def two_port(y: Any) -> ComplexArray:
        return np.where(on, np.asarray(y, dtype=np.complex128), 0.0).astype(np.complex128)

    bus_lookup = np.asarray(lookups["bus"], dtype=np.int64)
    bus_int = _lookup(bus_lookup, net.bus.index.to_numpy(), n_bus)
    eg = net.ext_grid
    eg_int = _lookup(bus_lookup, eg["bus"].to_numpy(), n_bus)
    eg_int[~_in_service(eg)] = -1
    eg_slack = np.where(eg_int >= 0, pos[np.maximum(eg_int, 0)] - n_other, -1).astype(np.int64)
    eg_slack[eg_slack < 0] = -1
    n_on = np.bincount(eg_slack[eg_slack >= 0], minlength=n_slack)
    eg_share = np.where(eg_slack >= 0, 1.0 / np.maximum(n_on[np.maximum(eg_slack, 0)], 1), 0.0)

    tables: dict[str, tuple[int, int]] = {}
    el_pos, el_coef, shares = [], [], []
    start = 0
    for table, sign in ELEMENT_TABLES:
        df = net[table] if table in net else pd.DataFrame(columns=["bus"])
        internal = _lookup(bus_lookup, df["bus"].to_numpy(), n_bus)
        internal[~_in_service(df)] = -1
        el_pos.append(np.where(internal >= 0, pos[np.maximum(internal, 0)], -1))
        el_coef.append(np.full(len(df), sign / (1e6 * base_mva)))
        shares.append(_zip_shares(df) if table == "load" else np.zeros((len(df), 4)))
        tables[table] = (start, start + len(df))
        start += len(df)
    pos_all = np.concatenate(el_pos).astype(np.int64)
    share_all = np.concatenate(shares)
    zip_el = np.flatnonzero((pos_all >= 0) & (np.abs(share_all).sum(axis=1) > 0)).astype(np.int64)

    taps = _tap_data(net, work, ppc, branch[sel], counts["line"], controls, pos, f, t, on)
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
    return FixedPointNetwork(
        base_mva=base_mva,
        n_other=n_other,
        n_slack=n_slack,
        w=w,
        v_slack=v_slack,
        factors=factors,
        slack_rows=slack_rows,
        bus_pos=np.where(bus_int >= 0, pos[np.maximum(bus_int, 0)], -1).astype(np.int64),
        branch_f=pos[f].astype(np.int64),
        branch_t=pos[t].astype(np.int64),
        y_ff=two_port(y_ff),
        y_ft=two_port(y_ft),
        y_tf=two_port(y_tf),
        y_tt=two_port(y_tt),
        kv_f=base_kv[f],
        kv_t=base_kv[t],
        n_line=counts["line"],
        line_i_max_ka=i_max,
        trafo_vn_hv_kv=_col(tr, "vn_hv_kv", np.nan),
        trafo_vn_lv_kv=_col(tr, "vn_lv_kv", np.nan),
        trafo_rating_mva=rating,
        trafo3w_loading_per_ka=np.ascontiguousarray(t3_per_ka, dtype=np.float64),
        ext_grid_slack=eg_slack,
        ext_grid_share=eg_share,
        tables=tables,
        el_pos=pos_all,
        el_coef=np.concatenate(el_coef).astype(np.float64),
        zip_el=zip_el,
        zip_share=np.ascontiguousarray(share_all[zip_el]),
        taps=taps,
        qu=_qu_data(
            net,
            tuple(reactive_controls),
            tables["sgen"][0],
            pos_all,
            base_mva,
            n_other,
            factors,
        ),
    )


@dataclass(frozen=True)
class TapControl:
    """A transformer's on-load tap changer keeping a voltage in a band, as pandapower's
    ``DiscreteTapControl``: after each solution, a voltage below ``vm_lower_pu`` or above
    ``vm_upper_pu`` (strictly outside) moves the tap by one position towards the band and
    the step is solved again, until the voltage is inside or the tap at its limit. The
    tap position carries over from one step to the next.

    Attributes
    ----------
    trafo : int
        pandapower transformer index (``tap_min`` .. ``tap_max``, ``tap_step_percent``
        and ``tap_side`` must be set; one without ``tap_changer_type`` is taken as a
        ratio tap changer).
    vm_lower_pu, vm_upper_pu : float
        The band at the controlled side [pu].
    side : {"lv", "hv"}
        The side whose bus voltage is controlled.
    """

    trafo: int
    vm_lower_pu: float
    vm_upper_pu: float
    side: Literal["lv", "hv"] = "lv"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.vm_lower_pu) and np.isfinite(self.vm_upper_pu)):
            msg = f"tap control of trafo {self.trafo}: the band must be finite"
            raise InputError(msg)
        if not 0.0 < self.vm_lower_pu < self.vm_upper_pu:
            msg = (
                f"tap control of trafo {self.trafo}: need 0 < vm_lower_pu < vm_upper_pu; "
                f"got {self.vm_lower_pu}, {self.vm_upper_pu}"
            )
            raise InputError(msg)
        if self.side not in ("lv", "hv"):
            msg = f"tap control of trafo {self.trafo}: side must be 'lv' or 'hv'"
            raise InputError(msg)

    @classmethod
    def from_set_point(
        cls,
        trafo: int,
        vm_set_pu: float,
        tap_step_percent: float,
        *,
        side: Literal["lv", "hv"] = "lv",
        tol_pu: float = 1e-3,
    ) -> TapControl:
        """The band of pandapower's ``DiscreteTapControl.from_tap_step_percent``:
        ``vm_set_pu +- (|tap_step_percent| / 200 + tol_pu)``."""
        half = abs(tap_step_percent) / 200.0 + tol_pu
        return cls(trafo, vm_set_pu - half, vm_set_pu + half, side)


@dataclass(frozen=True)
class ReactivePowerControl:
    """A Q(U) characteristic of static generators (inverters): the reactive power each
    listed sgen injects is a piecewise-linear function of its bus voltage, flat outside
    the points, solved simultaneously with the power flow (the steady state of a local
    Q(U) control; the profile's ``q_mvar`` of these sgens is replaced).

    Attributes
    ----------
    sgens : tuple of int
        pandapower sgen indices (each needs ``sn_mva`` > 0).
    v_pu : tuple of float
        Voltages of the characteristic's points, strictly increasing [pu].
    q_per_sn : tuple of float
        Injected reactive power at those points as a share of the sgen's ``sn_mva``
        (positive: supplied, overexcited, raising the voltage; negative: absorbed)
        [-], within -1 .. 1. For example ``v_pu=(0.93, 0.97, 1.03, 1.07)``,
        ``q_per_sn=(0.436, 0, 0, -0.436)`` gives cos φ 0.9 at full output outside 0.93 /
        1.07 pu and no reactive power between 0.97 and 1.03 pu (take the values of the
        grid code that applies).
    """

    sgens: tuple[int, ...]
    v_pu: tuple[float, ...]
    q_per_sn: tuple[float, ...]

    def __post_init__(self) -> None:
        v = np.asarray(self.v_pu, dtype=float)
        q = np.asarray(self.q_per_sn, dtype=float)
        if len(v) < 2 or len(v) != len(q):
            msg = "Q(U) characteristic: need two or more points, as many v_pu as q_per_sn"
            raise InputError(msg)
        if not (np.isfinite(v).all() and np.isfinite(q).all()):
            msg = "Q(U) characteristic: points must be finite"
            raise InputError(msg)
        if (np.diff(v) <= 0).any() or v[0] <= 0:
            msg = f"Q(U) characteristic: v_pu must be positive and increasing; got {self.v_pu}"
            raise InputError(msg)
        if (np.abs(q) > 1).any():
            msg = f"Q(U) characteristic: q_per_sn must be within -1..1; got {self.q_per_sn}"
            raise InputError(msg)
        if not len(self.sgens):
            msg = "Q(U) characteristic: no sgens given"
            raise InputError(msg)
        object.__setattr__(self, "sgens", tuple(int(i) for i in self.sgens))
        object.__setattr__(self, "v_pu", tuple(float(x) for x in v))
        object.__setattr__(self, "q_per_sn", tuple(float(x) for x in q))


@dataclass(frozen=True)
class QuData:
    """Q(U)-controlled sgens for the kernel: stacked element index, characteristic
    points (padded to the longest) with Q in per unit of the power base, and the
    relaxation factor of their reactive power (see :func:`_qu_damping`)."""

    sgen_ids: IntArray
    element: IntArray
    n_points: IntArray
    v_pu: FloatArray
    q_pu: FloatArray
    damping: float


def _qu_damping(
    positions: IntArray, slopes: FloatArray, n_other: int, factors: tuple[Any, ...]
) -> float:
    """Relaxation factor of the Q(U) injections: ``2 / (2 + rho)``.

    ``rho`` is the spectral radius of ``K^1/2 X K^1/2`` with ``X`` the reactive part of
    ``Y_LL^-1`` between the controlled buses (how their voltages move with injected Q)
    and ``K`` the steepest slope of each characteristic [pu Q / pu V]: the loop gain of
    the Q(U) feedback. Undamped, the iteration diverges when it exceeds 1 (many inverters
    behind one transformer); with this factor every error mode shrinks by at least
    ``rho / (2 + rho)`` per iteration.
    """
    inside = positions < n_other
    pos, k = positions[inside], slopes[inside]
    if not len(pos) or not np.any(k > 0):
        return 1.0
    x = np.empty((len(pos), len(pos)))
    for j, p in enumerate(pos):
        e = np.zeros(n_other, dtype=np.complex128)
        e[p] = 1.0
        _lu_solve_inplace(e, *factors)
        x[:, j] = e[pos].imag
    root = np.sqrt(k)
    g = root[:, None] * (0.5 * (x + x.T)) * root[None, :]
    rho = float(np.max(np.abs(np.linalg.eigvalsh(g))))
    return min(1.0, 2.0 / (2.0 + rho))


def _qu_data(
    net: Any,
    controls: tuple[ReactivePowerControl, ...],
    first_sgen: int,
    el_pos: IntArray,
    base_mva: float,
    n_other: int,
    factors: tuple[Any, ...],
) -> QuData:
    sg = net.sgen if "sgen" in net else pd.DataFrame(columns=["bus"])
    ids: list[int] = []
    rows: list[tuple[int, ReactivePowerControl, float]] = []
    for ctl in controls:
        for sid in ctl.sgens:
            if sid in ids:
                msg = f"sgen {sid} has two Q(U) characteristics"
                raise InputError(msg)
            if sid not in sg.index:
                msg = f"Q(U) characteristic: sgen {sid} does not exist"
                raise InputError(msg)
            sn = (
                float(pd.to_numeric(sg.at[sid, "sn_mva"], errors="coerce"))
                if "sn_mva" in sg
                else math.nan
            )
            if not (np.isfinite(sn) and sn > 0):
                msg = (
                    f"Q(U) characteristic: sgen {sid} needs its rated power sn_mva > 0 "
                    f"(got {sn}); set net.sgen.sn_mva"
                )
                raise InputError(msg)
            e = first_sgen + int(np.flatnonzero(sg.index == sid)[0])
            if el_pos[e] < 0:
                continue  # out of service or not energised: nothing to control
            ids.append(int(sid))
            rows.append((e, ctl, sn))
    m = max((len(c.v_pu) for _, c, _ in rows), default=2)
    v = np.zeros((len(rows), m))
    q = np.zeros((len(rows), m))
    for r, (_, ctl, sn) in enumerate(rows):
        k = len(ctl.v_pu)
        v[r, :k], q[r, :k] = ctl.v_pu, np.asarray(ctl.q_per_sn) * sn / base_mva
        v[r, k:], q[r, k:] = v[r, k - 1], q[r, k - 1]
    element = np.asarray([e for e, _, _ in rows], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.abs(np.diff(q, axis=1) / np.diff(v, axis=1))
    steepest = np.nan_to_num(slope, nan=0.0, posinf=0.0).max(axis=1) if len(rows) else q[:, 0]
    return QuData(
        sgen_ids=np.asarray(ids, dtype=np.int64),
        element=element,
        n_points=np.asarray([len(c.v_pu) for _, c, _ in rows], dtype=np.int64),
        v_pu=v,
        q_pu=q,
        damping=_qu_damping(el_pos[element], steepest, n_other, factors),
    )


@dataclass(frozen=True)
class TapData:
    """Controlled transformers for the kernel (see :class:`TapControl`).

    Attributes
    ----------
    trafo_ids : numpy.ndarray of int64
        pandapower indices of the controlled transformers.
    branch : numpy.ndarray of int64
        Their branch index (lines first, then transformers).
    bus : numpy.ndarray of int64
        Position of the controlled bus.
    lower, upper : numpy.ndarray
        Band [pu].
    direction : numpy.ndarray of int64
        pandapower's ``tap_side_coeff * tap_sign``: ``+1`` (tap on the HV side, positive
        step) when a low voltage moves the tap down, ``-1`` when it moves it up.
    tap_min : numpy.ndarray of int64
        Lowest position; position ``k`` of the kernel is ``tap_min + k``.
    n_pos : numpy.ndarray of int64
        Positions per transformer.
    base : numpy.ndarray of int64
        The kernel position the factorised matrix was built at.
    y : numpy.ndarray of complex, shape (n_ctrl, max positions, 4)
        ``y_ff, y_ft, y_tf, y_tt`` at every position [pu].
    """

    trafo_ids: IntArray
    branch: IntArray
    bus: IntArray
    lower: FloatArray
    upper: FloatArray
    direction: IntArray
    tap_min: IntArray
    n_pos: IntArray
    base: IntArray
    y: npt.NDArray[np.complex128]


def _tap_data(
    net: Any,
    work: Any,
    ppc: dict[str, Any],
    branch_rows: Any,
    n_line: int,
    controls: tuple[TapControl, ...],
    pos: IntArray,
    f: IntArray,
    t: IntArray,
    on: BoolArray,
) -> TapData:
    """Two-ports of every tap position of the controlled transformers, from pandapower's
    own transformer model (on the low-voltage side a tap also changes r and x)."""
    from pandapower.build_branch import _calc_branch_values_from_trafo_df
    from pandapower.pypower.idx_brch import BR_B, BR_G, BR_R, BR_X, SHIFT, TAP
    from pandapower.pypower.makeYbus import branch_vectors

    n_c = len(controls)
    trafo = work.trafo
    seen: set[int] = set()
    rows, lower, upper, direction, tmin, npos, base, bus = [], [], [], [], [], [], [], []
    for c in controls:
        if c.trafo in seen:
            msg = f"trafo {c.trafo} has two tap controls"
            raise InputError(msg)
        seen.add(c.trafo)
        if c.trafo not in trafo.index:
            msg = f"tap control: trafo {c.trafo} does not exist"
            raise InputError(msg)
        r = int(trafo.index.get_loc(c.trafo))
        row = trafo.loc[c.trafo]
        need = ("tap_min", "tap_max", "tap_step_percent", "tap_neutral", "tap_pos")
        values = {k: pd.to_numeric(row.get(k), errors="coerce") for k in need}
        bad = [k for k in need[:4] if not np.isfinite(values[k])]
        if bad or row.get("tap_side") not in ("hv", "lv"):
            msg = (
                f"tap control: trafo {c.trafo} needs tap_min, tap_max, tap_step_percent, "
                f"tap_neutral and tap_side ('hv'/'lv'); missing or invalid: "
                f"{', '.join(bad) or 'tap_side'}"
            )
            raise InputError(msg)
        b = n_line + r
        if not on[b]:
            msg = f"tap control: trafo {c.trafo} is out of service or not energised"
            raise InputError(msg)
        lo, hi = int(values["tap_min"]), int(values["tap_max"])
        now = values["tap_pos"] if np.isfinite(values["tap_pos"]) else values["tap_neutral"]
        if not lo <= now <= hi or now != int(now):
            msg = f"tap control: trafo {c.trafo} tap_pos {now} is not a position in {lo}..{hi}"
            raise InputError(msg)
        coeff = 1 if row["tap_side"] == "hv" else -1
        sign = 1 if float(values["tap_step_percent"]) >= 0 else -1
        rows.append(r)
        lower.append(c.vm_lower_pu)
        upper.append(c.vm_upper_pu)
        direction.append(coeff * sign)
        tmin.append(lo)
        npos.append(hi - lo + 1)
        base.append(int(now) - lo)
        bus.append(pos[t[b]] if c.side == "lv" else pos[f[b]])
    width = max(npos, default=1)
    y = np.zeros((n_c, width, 4), dtype=np.complex128)
    for k in range(width):
        sub = trafo.iloc[rows].copy()
        tap = np.minimum(np.asarray(tmin) + k, np.asarray(tmin) + np.asarray(npos) - 1)
        sub["tap_pos"] = tap.astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_, x_, g_, b_, _, _, ratio, shift = _calc_branch_values_from_trafo_df(work, ppc, sub)
        br = np.array(branch_rows[[n_line + r for r in rows]], copy=True)
        br[:, BR_R], br[:, BR_X], br[:, BR_G], br[:, BR_B] = r_, x_, g_, b_
        br[:, TAP], br[:, SHIFT] = ratio, shift
        yy = branch_vectors(br, len(rows))  # Ytt, Yff, Yft, Ytf
        y[:, k, 0], y[:, k, 1], y[:, k, 2], y[:, k, 3] = yy[1], yy[2], yy[3], yy[0]

    def as_int(values: Any) -> IntArray:
        return np.asarray(values, dtype=np.int64)

    return TapData(
        trafo_ids=as_int([c.trafo for c in controls]),
        branch=as_int([n_line + r for r in rows]),
        bus=as_int(bus),
        lower=np.asarray(lower, dtype=np.float64),
        upper=np.asarray(upper, dtype=np.float64),
        direction=as_int(direction),
        tap_min=as_int(tmin),
        n_pos=as_int(npos),
        base=as_int(base),
        y=y,
    )


def _elimination_order(y: sp.csc_matrix) -> IntArray:
    """A fill-reducing elimination order of ``y`` (minimum degree on its pattern)."""
    if y.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    lu = splu(y, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    # SuperLU's perm_c maps an old column to its new place; the order is its inverse
    return np.argsort(np.asarray(lu.perm_c, dtype=np.int64)).astype(np.int64)


def _factorise(y: sp.csc_matrix) -> tuple[Any, ...]:
    """``y = L U`` in the given order, as plain arrays for the kernel."""
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lu_solve_inplace(
    x: ComplexArray,
    l_ptr: IntArray,
    l_idx: IntArray,
    l_val: ComplexArray,
    u_ptr: IntArray,
    u_idx: IntArray,
    u_val: ComplexArray,
    u_inv: ComplexArray,
) -> None:  # pragma: no cover - compiled
    """``x <- (L U)^-1 x`` (CSC factors, unit lower diagonal)."""
    n = len(u_inv)
    for j in range(n):
        xj = x[j]
        for p in range(l_ptr[j], l_ptr[j + 1]):
            x[l_idx[p]] -= l_val[p] * xj
    for j in range(n - 1, -1, -1):
        xj = x[j] * u_inv[j]
        x[j] = xj
        for p in range(u_ptr[j], u_ptr[j + 1]):
            x[u_idx[p]] -= u_val[p] * xj


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _abs2(z: complex) -> float:  # pragma: no cover - compiled
    return z.real * z.real + z.imag * z.imag


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tap_delta(
    c_y: ComplexArray, c: int, pos: int, base: int, vf: complex, vt: complex
) -> tuple[complex, complex]:  # pragma: no cover - compiled
    """``(Y(pos) - Y(base)) [vf, vt]`` of controlled transformer ``c``: the from- and
    to-end currents its tap position adds to the factorised model."""
    d_ff = c_y[c, pos, 0] - c_y[c, base, 0]
    d_ft = c_y[c, pos, 1] - c_y[c, base, 1]
    d_tf = c_y[c, pos, 2] - c_y[c, base, 2]
    d_tt = c_y[c, pos, 3] - c_y[c, base, 3]
    return d_ff * vf + d_ft * vt, d_tf * vf + d_tt * vt


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _interp(x: float, xs: FloatArray, ys: FloatArray, m: int) -> float:  # pragma: no cover
    """Piecewise-linear ``ys(xs)`` at ``x`` over the first ``m`` points, flat outside."""
    if x <= xs[0]:
        return float(ys[0])
    if x >= xs[m - 1]:
        return float(ys[m - 1])
    for j in range(1, m):
        if x <= xs[j]:
            return float(ys[j - 1] + (ys[j] - ys[j - 1]) * (x - xs[j - 1]) / (xs[j] - xs[j - 1]))
    return float(ys[m - 1])


@numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _simulate_steps(
    p_el: FloatArray,
    q_el: FloatArray,
    el_pos: IntArray,
    el_coef: FloatArray,
    zip_el: IntArray,
    zip_share: FloatArray,
    w: ComplexArray,
    v_slack: ComplexArray,
    l_ptr: IntArray,
    l_idx: IntArray,
    l_val: ComplexArray,
    u_ptr: IntArray,
    u_idx: IntArray,
    u_val: ComplexArray,
    u_inv: ComplexArray,
    s_ptr: IntArray,
    s_pos: IntArray,
    s_val: ComplexArray,
    bus_pos: IntArray,
    f_pos: IntArray,
    t_pos: IntArray,
    y_ff: ComplexArray,
    y_ft: ComplexArray,
    y_tf: ComplexArray,
    y_tt: ComplexArray,
    kv_f: FloatArray,
    kv_t: FloatArray,
    n_line: int,
    i_max_ka: FloatArray,
    vn_hv: FloatArray,
    vn_lv: FloatArray,
    rating: FloatArray,
    t3_per_ka: FloatArray,
    eg_slack: IntArray,
    eg_share: FloatArray,
    base_mva: float,
    tol: float,
    max_iter: int,
    segments: IntArray,
    v_init: ComplexArray,
    use_init: bool,
    v_last: ComplexArray,
    c_branch: IntArray,
    c_bus: IntArray,
    c_lower: FloatArray,
    c_upper: FloatArray,
    c_dir: IntArray,
    c_npos: IntArray,
    c_base: IntArray,
    c_y: ComplexArray,
    tap: IntArray,
    max_control: int,
    tap_out: IntArray,
    unsettled: BoolArray,
    qu_el: IntArray,
    qu_npts: IntArray,
    qu_v: FloatArray,
    qu_q: FloatArray,
    qu_out: FloatArray,
    qu_damping: float,
    vm: FloatArray,
    va: FloatArray,
    line_i_ka: FloatArray,
    line_loading: FloatArray,
    line_p_mw: FloatArray,
    tr_i_hv_ka: FloatArray,
    tr_i_lv_ka: FloatArray,
    tr_loading: FloatArray,
    t3_i_hv_ka: FloatArray,
    t3_i_mv_ka: FloatArray,
    t3_i_lv_ka: FloatArray,
    t3_loading: FloatArray,
    eg_p_mw: FloatArray,
    eg_q_mvar: FloatArray,
    p_loss_mw: FloatArray,
    iterations: IntArray,
) -> None:  # pragma: no cover - compiled
    """Solve every step (row of ``p_el``) and write its results (NaN when it does not
    converge within ``max_iter``; ``iterations`` is then -1).

    The rows ``segments[k] .. segments[k + 1] - 1`` form segment ``k``; segments run in
    parallel, the steps of one segment in sequence, each starting from the previous
    step's solution (the first from ``w``, or from ``v_init`` for segment 0 when
    ``use_init``). ``v_last`` receives the voltages of the last row.

    The last ``3 * n_t3`` branches are the three-winding transformers' (HV -> star,
    star -> MV, star -> LV blocks, ``n_t3 = t3_loading.shape[1]``): their terminal
    currents go to ``t3_i_*_ka`` and their loading (``t3_per_ka`` times the current,
    largest side) to ``t3_loading``."""
    n_t = p_el.shape[0]
    n_el = p_el.shape[1]
    n = len(w)
    n_full = n + len(v_slack)
    n_zip = len(zip_el)
    n_br = len(f_pos)
    n_t3 = t3_loading.shape[1]
    n_tr = n_br - n_line - 3 * n_t3
    n_2w = n_line + n_tr  # branches before the three-winding transformers'
    want_va = va.shape[0] > 0
    tol2 = tol * tol
    c_ka = base_mva / math.sqrt(3.0)
    nan = np.nan
    n_seg = len(segments) - 1
    n_c = len(c_branch)
    n_qu = len(qu_el)
    ctrl_of = np.full(n_br, -1, dtype=np.int64)
    for c in range(n_c):
        ctrl_of[c_branch[c]] = c
    for k in numba.prange(n_seg):
        v = np.empty(n_full, dtype=np.complex128)
        v[:n] = v_init[:n] if (k == 0 and use_init) else w
        v[n:] = v_slack
        s = np.empty(n_full, dtype=np.complex128)
        x = np.empty(n, dtype=np.complex128)
        q_now = np.empty(n_qu)  # Q(U) injections in use, relaxed towards Q(|V|)
        for t in range(segments[k], segments[k + 1]):
            s[:] = 0.0
            for e in range(n_el):
                ps = el_pos[e]
                if ps >= 0:
                    s[ps] += el_coef[e] * complex(p_el[t, e], q_el[t, e])
            for r in range(n_qu):  # Q(U) replaces the profile's reactive power
                e = qu_el[r]
                s[el_pos[e]] -= complex(0.0, el_coef[e] * q_el[t, e])
            for z in range(n_zip):  # the voltage-dependent part is added per iteration
                e = zip_el[z]
                ps = el_pos[e]
                pz = el_coef[e] * p_el[t, e]
                qz = el_coef[e] * q_el[t, e]
                s[ps] -= complex(
                    pz * (zip_share[z, 0] + zip_share[z, 1]),
                    qz * (zip_share[z, 2] + zip_share[z, 3]),
                )
            for r in range(n_qu):
                q_now[r] = _interp(abs(v[el_pos[qu_el[r]]]), qu_v[r], qu_q[r], qu_npts[r])
            done = 0
            for control in range(max_control + 1):
                converged = False
                for _it in range(max_iter):
                    for i in range(n):
                        # -conj(S / V) = -conj(S) V / |V|^2, in real arithmetic
                        vr, vq = v[i].real, v[i].imag
                        sr, sq = s[i].real, s[i].imag
                        inv = -1.0 / (vr * vr + vq * vq)
                        x[i] = complex((sr * vr + sq * vq) * inv, (sr * vq - sq * vr) * inv)
                    for z in range(n_zip):
                        e = zip_el[z]
                        ps = el_pos[e]
                        if ps < n:
                            vi = v[ps]
                            a = math.sqrt(_abs2(vi))
                            pz = el_coef[e] * p_el[t, e]
                            qz = el_coef[e] * q_el[t, e]
                            sz = complex(
                                pz * a * (zip_share[z, 0] + zip_share[z, 1] * a),
                                qz * a * (zip_share[z, 2] + zip_share[z, 3] * a),
                            )
                            x[ps] -= (sz.conjugate() * vi) / _abs2(vi)
                    for r in range(n_qu):  # injected Q: current -conj(-jQ) V / |V|^2
                        ps = el_pos[qu_el[r]]
                        if ps < n:
                            vi = v[ps]
                            x[ps] -= complex(0.0, q_now[r]) * vi / _abs2(vi)
                    for c in range(n_c):  # taps off the factorised position: -dY V
                        ip, ib = tap[c], c_base[c]
                        if ip != ib:
                            b = c_branch[c]
                            di_f, di_t = _tap_delta(c_y, c, ip, ib, v[f_pos[b]], v[t_pos[b]])
                            if f_pos[b] < n:
                                x[f_pos[b]] -= di_f
                            if t_pos[b] < n:
                                x[t_pos[b]] -= di_t
                    _lu_solve_inplace(x, l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, u_inv)
                    dv = 0.0
                    for i in range(n):
                        vi = w[i] + x[i]
                        d = _abs2(vi - v[i])
                        if d > dv:
                            dv = d
                        v[i] = vi
                    done += 1
                    for r in range(n_qu):  # relax Q towards the characteristic
                        q_new = _interp(abs(v[el_pos[qu_el[r]]]), qu_v[r], qu_q[r], qu_npts[r])
                        dq = qu_damping * (q_new - q_now[r])
                        q_now[r] += dq
                        if dq * dq > dv:
                            dv = dq * dq
                    if dv < tol2:
                        converged = True
                        break
                if not converged:
                    done = -1
                    break
                moved = False
                for c in range(n_c):  # pandapower's DiscreteTapControl: one position
                    vmc = abs(v[c_bus[c]])
                    ip = tap[c]
                    low = vmc < c_lower[c]
                    high = vmc > c_upper[c]
                    up = (high and c_dir[c] == 1) or (low and c_dir[c] != 1)
                    down = (low and c_dir[c] == 1) or (high and c_dir[c] != 1)
                    if up and ip < c_npos[c] - 1:
                        moved = True
                        if control < max_control:
                            tap[c] = ip + 1
                    elif down and ip > 0:
                        moved = True
                        if control < max_control:
                            tap[c] = ip - 1
                if not moved:
                    break
                if control == max_control:
                    unsettled[t] = True  # still out of band after the last round
            iterations[t] = done
            for c in range(n_c):
                tap_out[t, c] = tap[c]
            for r in range(n_qu):
                qu_out[t, r] = q_now[r] if done >= 0 else nan
            if done < 0:
                v[:n] = w  # never warm-start the next step from a diverged state
                for j in range(vm.shape[1]):
                    vm[t, j] = nan
                    if want_va:
                        va[t, j] = nan
                for b in range(n_line):
                    line_i_ka[t, b] = nan
                    line_loading[t, b] = nan
                    line_p_mw[t, b] = nan
                for b in range(n_tr):
                    tr_i_hv_ka[t, b] = nan
                    tr_i_lv_ka[t, b] = nan
                    tr_loading[t, b] = nan
                for b in range(n_t3):
                    t3_i_hv_ka[t, b] = nan
                    t3_i_mv_ka[t, b] = nan
                    t3_i_lv_ka[t, b] = nan
                    t3_loading[t, b] = nan
                for g in range(len(eg_slack)):
                    eg_p_mw[t, g] = nan
                    eg_q_mvar[t, g] = nan
                p_loss_mw[t] = nan
                continue
            for j in range(vm.shape[1]):
                ps = bus_pos[j]
                if ps < 0:
                    vm[t, j] = nan
                    if want_va:
                        va[t, j] = nan
                else:
                    vm[t, j] = abs(v[ps])
                    if want_va:
                        va[t, j] = math.degrees(math.atan2(v[ps].imag, v[ps].real))
            loss = 0.0
            for b in range(n_br):
                vf = v[f_pos[b]]
                vt = v[t_pos[b]]
                c = ctrl_of[b]
                if c < 0:
                    cf = y_ff[b] * vf + y_ft[b] * vt
                    ct = y_tf[b] * vf + y_tt[b] * vt
                else:
                    ip = tap[c]
                    cf = c_y[c, ip, 0] * vf + c_y[c, ip, 1] * vt
                    ct = c_y[c, ip, 2] * vf + c_y[c, ip, 3] * vt
                i_f = math.sqrt(_abs2(cf)) * c_ka / kv_f[b]
                i_t = math.sqrt(_abs2(ct)) * c_ka / kv_t[b]
                pf = (vf * cf.conjugate()).real * base_mva
                loss += pf + (vt * ct.conjugate()).real * base_mva
                if b < n_line:
                    i_ka = max(i_f, i_t)
                    line_i_ka[t, b] = i_ka
                    line_loading[t, b] = i_ka / i_max_ka[b] * 100.0
                    line_p_mw[t, b] = pf
                elif b < n_2w:
                    r = b - n_line
                    tr_i_hv_ka[t, r] = i_f
                    tr_i_lv_ka[t, r] = i_t
                    tr_loading[t, r] = (
                        max(i_f * vn_hv[r], i_t * vn_lv[r]) * math.sqrt(3.0) / rating[r] * 100.0
                    )
                else:  # a three-winding transformer's branch: its external terminal
                    r = b - n_2w
                    if r < n_t3:
                        t3_i_hv_ka[t, r] = i_f
                    elif r < 2 * n_t3:
                        t3_i_mv_ka[t, r - n_t3] = i_t
                    else:
                        t3_i_lv_ka[t, r - 2 * n_t3] = i_t
            for r in range(n_t3):  # pandapower's max over the sides (NaN wins)
                ld_h = t3_i_hv_ka[t, r] * t3_per_ka[r, 0]
                ld_m = t3_i_mv_ka[t, r] * t3_per_ka[r, 1]
                ld_l = t3_i_lv_ka[t, r] * t3_per_ka[r, 2]
                if math.isnan(ld_h) or math.isnan(ld_m) or math.isnan(ld_l):
                    t3_loading[t, r] = nan
                else:
                    t3_loading[t, r] = max(ld_h, ld_m, ld_l)
            p_loss_mw[t] = loss
            for g in range(len(eg_slack)):
                kk = eg_slack[g]
                if kk < 0:
                    eg_p_mw[t, g] = 0.0
                    eg_q_mvar[t, g] = 0.0
                    continue
                cur = 0j
                for p in range(s_ptr[kk], s_ptr[kk + 1]):
                    cur += s_val[p] * v[s_pos[p]]
                for c in range(n_c):  # a controlled transformer at the slack bus
                    b = c_branch[c]
                    di_f, di_t = _tap_delta(c_y, c, tap[c], c_base[c], v[f_pos[b]], v[t_pos[b]])
                    if f_pos[b] == n + kk:
                        cur += di_f
                    if t_pos[b] == n + kk:
                        cur += di_t
                vs = v[n + kk]
                local = s[n + kk]
                for r in range(n_qu):  # Q(U) of an sgen at the slack bus
                    if el_pos[qu_el[r]] == n + kk:
                        local -= complex(0.0, q_now[r])
                for z in range(n_zip):
                    e = zip_el[z]
                    if el_pos[e] == n + kk:
                        a = math.sqrt(_abs2(vs))
                        pz = el_coef[e] * p_el[t, e]
                        qz = el_coef[e] * q_el[t, e]
                        local += complex(
                            pz * a * (zip_share[z, 0] + zip_share[z, 1] * a),
                            qz * a * (zip_share[z, 2] + zip_share[z, 3] * a),
                        )
                sup = (vs * cur.conjugate() + local) * base_mva * eg_share[g]
                eg_p_mw[t, g] = sup.real
                eg_q_mvar[t, g] = sup.imag
            if t == n_t - 1:
                v_last[:] = v


@dataclass(frozen=True)
class WarmStart:
    """The converged voltages of one step (the start of the next step's iteration).

    Attributes
    ----------
    position : int
        The step's position in the profiles.
    v : numpy.ndarray of complex
        Its voltages (non-slack buses, then slack buses) [pu].
    taps : numpy.ndarray of int64
        The controlled transformers' tap positions (kernel positions, from 0).
    """

    position: int
    v: ComplexArray
    taps: IntArray


def segments_of(positions: IntArray) -> IntArray:
    """Segment boundaries of a run of step positions: a segment holds consecutive
    positions within one block of :data:`BLOCK_STEPS` (counted from position 0), so
    which step warm-starts which does not depend on how the steps are chunked."""
    pos = np.asarray(positions, dtype=np.int64)
    new = np.ones(len(pos), dtype=bool)
    if len(pos) > 1:
        new[1:] = (pos[1:] % BLOCK_STEPS == 0) | (pos[1:] != pos[:-1] + 1)
    return np.append(np.flatnonzero(new), len(pos)).astype(np.int64)


def solve_fixed_point(
    fp: FixedPointNetwork,
    p_w: FloatArray,
    q_var: FloatArray,
    *,
    positions: IntArray,
    tolerance_pu: float,
    max_iterations: int,
    threads: int,
    angles: bool = True,
    warm: WarmStart | None = None,
) -> tuple[dict[str, FloatArray], IntArray, WarmStart | None]:
    """Solve the steps whose stacked element set-points are ``p_w``, ``q_var``
    (``steps x n_elements``, columns as :attr:`FixedPointNetwork.tables`) [W], [var].

    Parameters
    ----------
    positions : numpy.ndarray of int64
        The steps' positions in the profiles (see :func:`segments_of`).
    warm : WarmStart, optional
        The solution of the step before ``positions[0]`` (from the previous call).

    Returns
    -------
    fields : dict[str, numpy.ndarray]
        ``RESULT_FIELDS`` of :mod:`gridtwin.network._results` per step (``va_degree``
        only with ``angles``); NaN rows for steps that did not converge. With tap
        controls also ``trafo_tap_pos`` (``steps x n_controlled``) and ``tap_unsettled``
        (1.0 where a voltage was still out of band after :data:`MAX_CONTROL_ROUNDS`).
    iterations : numpy.ndarray of int64
        Iterations per step (all control rounds), ``-1`` where it did not converge.
    warm : WarmStart or None
        The last step's solution, for the next call: None when it did not converge,
        except with tap controls, whose positions always carry over (with no voltages).
    """
    n_t = p_w.shape[0]
    n_bus, n_line = len(fp.bus_pos), fp.n_line
    n_tr, n_t3, n_eg = fp.n_trafo, fp.n_trafo3w, len(fp.ext_grid_slack)
    out = {
        "vm_pu": np.empty((n_t, n_bus)),
        "va_degree": np.empty((n_t if angles else 0, n_bus)),
        "line_i_ka": np.empty((n_t, n_line)),
        "line_loading_percent": np.empty((n_t, n_line)),
        "line_p_from_mw": np.empty((n_t, n_line)),
        "trafo_i_hv_ka": np.empty((n_t, n_tr)),
        "trafo_i_lv_ka": np.empty((n_t, n_tr)),
        "trafo_loading_percent": np.empty((n_t, n_tr)),
        "trafo3w_i_hv_ka": np.empty((n_t, n_t3)),
        "trafo3w_i_mv_ka": np.empty((n_t, n_t3)),
        "trafo3w_i_lv_ka": np.empty((n_t, n_t3)),
        "trafo3w_loading_percent": np.empty((n_t, n_t3)),
        "ext_grid_p_mw": np.empty((n_t, n_eg)),
        "ext_grid_q_mvar": np.empty((n_t, n_eg)),
        "p_loss_mw": np.empty(n_t),
    }
    iterations = np.empty(n_t, dtype=np.int64)
    pos = np.asarray(positions, dtype=np.int64)
    td = fp.taps
    n_c = len(td.branch)
    if n_c:
        # tap positions carry from step to step: one sequential segment, always continued
        segments = np.array([0, n_t], dtype=np.int64) if n_t else np.zeros(1, np.int64)
        use_init = bool(warm is not None and n_t and len(warm.v))
        tap = (warm.taps if warm is not None else td.base).copy()
    else:
        segments = segments_of(pos)
        use_init = bool(
            warm is not None and n_t and warm.position == pos[0] - 1 and pos[0] % BLOCK_STEPS
        )
        tap = np.zeros(0, dtype=np.int64)
    v_init = warm.v if (warm is not None and use_init) else np.zeros(0, dtype=np.complex128)
    v_last = np.empty(fp.n_other + fp.n_slack, dtype=np.complex128)
    tap_out = np.empty((n_t, n_c), dtype=np.int64)
    unsettled = np.zeros(n_t, dtype=bool)
    qu_out = np.empty((n_t, len(fp.qu.element)))
    previous = numba.get_num_threads()
    numba.set_num_threads(_threads(threads))
    try:
        _simulate_steps(  # type: ignore[call-arg]  # starred factor tuples
            np.ascontiguousarray(p_w, dtype=np.float64),
            np.ascontiguousarray(q_var, dtype=np.float64),
            fp.el_pos,
            fp.el_coef,
            fp.zip_el,
            fp.zip_share,
            fp.w,
            fp.v_slack,
            *fp.factors,
            *fp.slack_rows,
            fp.bus_pos,
            fp.branch_f,
            fp.branch_t,
            fp.y_ff,
            fp.y_ft,
            fp.y_tf,
            fp.y_tt,
            fp.kv_f,
            fp.kv_t,
            n_line,
            fp.line_i_max_ka,
            fp.trafo_vn_hv_kv,
            fp.trafo_vn_lv_kv,
            fp.trafo_rating_mva,
            fp.trafo3w_loading_per_ka,
            fp.ext_grid_slack,
            fp.ext_grid_share,
            fp.base_mva,
            float(tolerance_pu),
            int(max_iterations),
            segments,
            v_init,
            use_init,
            v_last,
            td.branch,
            td.bus,
            td.lower,
            td.upper,
            td.direction,
            td.n_pos,
            td.base,
            td.y,
            tap,
            MAX_CONTROL_ROUNDS if n_c else 0,
            tap_out,
            unsettled,
            fp.qu.element,
            fp.qu.n_points,
            fp.qu.v_pu,
            fp.qu.q_pu,
            qu_out,
            fp.qu.damping,
            *(out[name] for name in RESULT_FIELDS),  # the kernel's output order
            iterations,
        )
    finally:
        numba.set_num_threads(previous)
    if not angles:
        del out["va_degree"]
    if len(fp.qu.element):
        out["sgen_q_mvar"] = qu_out * fp.base_mva
    if n_c:
        out["trafo_tap_pos"] = (tap_out + td.tap_min).astype(np.float64)
        out["tap_unsettled"] = unsettled.astype(np.float64)
        last = WarmStart(int(pos[-1]), v_last, tap.copy()) if n_t else warm
        if last is not None and n_t and iterations[-1] < 0:
            last = WarmStart(last.position, np.zeros(0, np.complex128), tap.copy())
    else:
        ok = n_t and iterations[-1] >= 0
        last = WarmStart(int(pos[-1]), v_last, tap) if ok else None
    return out, iterations, last


def _threads(threads: int) -> int:
    n = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if threads == -1:
        return 1
    if threads == 0:
        return n
    return max(1, min(int(threads), n))
