"""Newton-Raphson power flow with voltage-controlled (PV) buses on pandapower's internal case.

The equations are pandapower's own: the internal case ``ppci`` (what ``_pd2ppc`` builds,
see :func:`gridtwin.network._fp_case.internal_case`) gives the bus types and set-points,
and ``makeYbus`` the admittance matrix. :func:`newton_case` gathers what a solve needs
into a :class:`NewtonCase`; :func:`solve_newton` solves one step and
:func:`solve_newton_steps` many steps, each warm-started from the previous solution.

The formulation is pypower's polar Newton-Raphson (as in pandapower's ``newtonpf``):
unknowns are the angles of the PV and PQ buses and the magnitudes of the PQ buses, the
mismatch is ``V conj(Y V) - S(V)`` (active at PV and PQ buses, reactive at PQ buses),
and a step converges when its largest mismatch is below the tolerance [pu]. Loads may be
voltage dependent, ``S(V) = s_inj + s_i |V| + s_z |V|^2`` (injection frame), with the
derivatives in the Jacobian (pandapower leaves them out, which changes the iterations,
not the solution).

The Jacobian's sparsity pattern (a function of the admittance matrix's pattern and of
which buses are PV or PQ) is worked out once per bus-type partition and reused across
iterations and steps; each iteration fills its values from two vectorised expressions
over the admittance matrix's entries and factorises it with SuperLU in a column order
chosen once per pattern (COLAMD on the pattern).

``enforce_q_lims=True`` follows pandapower's outer loop (``_run_ac_pf_with_qlims_enforced``):
after a solve, every PV bus whose generators' reactive power is outside their summed
limits becomes a PQ bus at the violated limit, and the step is solved again from the
last voltages until no further limit is violated. Buses are never switched back.
(pandapower checks each generator against its own limits after splitting the bus's Q in
proportion to the generators' ranges, which is the same test unless a bus mixes
generators with and without a range.)

The start, unless given, is pandapower's default ``init="dc"`` (:func:`dc_start`): flat
magnitudes, angles of its DC power flow with the step's active injections and the
transformers' phase shifts. A flat start (angles 0, ``init="flat"``) does not converge
on SimBench grids with 150-degree transformers, nor on case39 or CIGRE HV with their
gens as fixed-Q sgens, where pandapower's flat start fails too.

Not covered: distributed slack, FACTS devices (svc/tcsc/ssc/vsc), DC lines and buses,
generator reactive capability curves (``internal_case`` builds the case without Q-limit
enforcement, so ``QMIN``/``QMAX`` are the ``min/max_q_mvar`` columns).

pandapower and SciPy are imported inside the functions that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "NewtonCase",
    "NewtonSolution",
    "NewtonSteps",
    "case_injection",
    "dc_start",
    "newton_case",
    "solve_newton",
    "solve_newton_steps",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_Spec = tuple[ComplexArray, ComplexArray | None, ComplexArray | None]


@dataclass(frozen=True)
class _Pattern:
    """The Jacobian's sparsity pattern for one partition of the buses into PV and PQ.

    ``sel_*`` pick the admittance entries feeding each block (``pa``: active power by
    angle, ``pm``: active power by magnitude, ``qa``, ``qm``); their values, concatenated
    in that order and taken at ``order``, are the CSC data of the Jacobian with its
    columns already in the factorisation order ``col_perm`` (``x[k] = y[col_perm[k]]``).
    """

    pvpq: IntArray
    pq: IntArray
    sel_pa: IntArray
    sel_pm: IntArray
    sel_qa: IntArray
    sel_qm: IntArray
    order: IntArray
    indptr: IntArray
    indices: IntArray
    col_perm: IntArray


@dataclass(frozen=True)
class NewtonCase:
    """What a Newton-Raphson solve needs from pandapower's internal case.

    Attributes
    ----------
    base_mva : float
        The case's power base [MVA]; every power here is per unit of it.
    ybus : scipy.sparse.csr_matrix
        Bus admittance matrix [pu], internal bus order, with every diagonal entry stored.
    ref, pv, pq : numpy.ndarray of int64
        Internal indices of the slack, voltage-controlled and load buses.
    vm_ref_pu, va_ref_rad : numpy.ndarray
        Voltage magnitude [pu] and angle [rad] of each slack bus.
    vm_pv_pu : numpy.ndarray
        Voltage set-point of each PV bus [pu].
    q_min_pv_pu, q_max_pv_pu : numpy.ndarray
        Reactive limits of each PV bus [pu]: sums over its in-service generators.
    v_flat_pu : numpy.ndarray of complex
        pandapower's ``init="flat"`` start: 1 pu, angle 0, generator buses at their
        set-point, slack buses at their angle [pu].
    v_start_pu : numpy.ndarray of complex
        Magnitudes of ``v_flat_pu``, angles of pandapower's DC power flow without
        injections: the transformers' phase shifts carried from the slack. (pandapower's
        flat start leaves them out and does not converge on SimBench's 150-degree
        transformers.) Equal to ``v_flat_pu`` without phase shifts. The solvers start
        from :func:`dc_start` of each step's injection, pandapower's default
        ``init="dc"``.
    gen_bus : numpy.ndarray of int64
        Internal bus of each generator row of the internal case (ext_grids, gens, xwards).
    floor_pu : float
        Round-off floor of the mismatch [pu]: ``8 eps max_i sum_j |Y_ij|``. A tolerance
        below it is raised to it (with pandapower's default 1 MVA base, an EHV grid's
        admittances reach 1e7 pu and its mismatch cannot go below about 1e-9 pu).
    """

    base_mva: float
    ybus: sp.csr_matrix
    ref: IntArray
    pv: IntArray
    pq: IntArray
    vm_ref_pu: FloatArray
    va_ref_rad: FloatArray
    vm_pv_pu: FloatArray
    q_min_pv_pu: FloatArray
    q_max_pv_pu: FloatArray
    v_flat_pu: ComplexArray
    v_start_pu: ComplexArray
    gen_bus: IntArray
    floor_pu: float
    y_rows: IntArray = field(repr=False)
    y_diag: IntArray = field(repr=False)
    dc: _DcModel = field(repr=False)
    pattern: _Pattern = field(repr=False)

    @property
    def n_bus(self) -> int:
        """Buses of the internal case."""
        return int(self.ybus.shape[0])


@dataclass(frozen=True)
class NewtonSolution:
    """One Newton-Raphson solve.

    Attributes
    ----------
    v_pu : numpy.ndarray of complex
        Bus voltages [pu], internal order (the last iterate if not converged).
    converged : bool
        Largest mismatch below the tolerance (in the last round of the Q-limit loop).
    iterations : int
        Newton iterations, summed over the rounds of the Q-limit loop.
    max_mismatch_pu : float
        Largest power mismatch at the end [pu].
    q_pv_pu : numpy.ndarray
        Reactive power of the generators of each PV bus (``case.pv`` order) [pu]: the
        bus's computed injection less its specified one; the limit where switched.
    switched_pv : numpy.ndarray of bool
        PV buses (``case.pv`` order) switched to PQ at a reactive limit.
    s_ref_pu : numpy.ndarray of complex
        Power supplied at each slack bus beyond its specified injection [pu].
    """

    v_pu: ComplexArray
    converged: bool
    iterations: int
    max_mismatch_pu: float
    q_pv_pu: FloatArray
    switched_pv: BoolArray
    s_ref_pu: ComplexArray


@dataclass(frozen=True)
class NewtonSteps:
    """Many Newton-Raphson steps: the fields of :class:`NewtonSolution` per step
    (``v_pu`` is ``T x n``, ``q_pv_pu`` and ``switched_pv`` ``T x len(case.pv)``,
    ``s_ref_pu`` ``T x len(case.ref)``)."""

    v_pu: ComplexArray
    converged: BoolArray
    iterations: IntArray
    max_mismatch_pu: FloatArray
    q_pv_pu: FloatArray
    switched_pv: BoolArray
    s_ref_pu: ComplexArray


def _set_points(
    ppci: dict[str, Any], ref: IntArray, pv: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, FloatArray, FloatArray]:
    """Voltage magnitude at every bus from the generators (``VG`` of the in-service
    generators at a bus, as pandapower's start vector takes it; 1 pu elsewhere, the bus
    ``VM`` at a slack bus without generator), slack angles, the generators' buses and
    the summed reactive limits of the PV buses."""
    from pandapower.pypower.idx_bus import VA, VM
    from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, QMAX, QMIN, VG

    bus, gen = ppci["bus"], ppci["gen"]
    n, base = len(bus), float(ppci["baseMVA"])
    vm = np.ones(n)
    vm[ref] = np.real(bus[ref, VM])
    gen_bus = np.real(gen[:, GEN_BUS]).astype(np.int64)
    on = np.real(gen[:, GEN_STATUS]) > 0
    vm[gen_bus[on]] = np.real(gen[on, VG])  # the last generator of a bus wins, as pandapower
    va_ref = np.deg2rad(np.real(bus[ref, VA])).astype(np.float64)
    q_min = np.bincount(gen_bus[on], weights=np.real(gen[on, QMIN]), minlength=n)
    q_max = np.bincount(gen_bus[on], weights=np.real(gen[on, QMAX]), minlength=n)
    return vm, va_ref, gen_bus, q_min[pv] / base, q_max[pv] / base


def _refuse_unsupported(ppci: dict[str, Any]) -> None:
    """Refuse in-service elements whose equations this solver does not have.

    Raises
    ------
    InputError
        An in-service svc, tcsc, ssc, vsc or DC line in the case.
    """
    from pandapower.pypower.idx_brch_dc import DC_BR_STATUS
    from pandapower.pypower.idx_ssc import SSC_STATUS
    from pandapower.pypower.idx_svc import SVC_STATUS
    from pandapower.pypower.idx_tcsc import TCSC_STATUS
    from pandapower.pypower.idx_vsc import VSC_STATUS

    for key, col, table in (
        ("svc", SVC_STATUS, "svc"),
        ("tcsc", TCSC_STATUS, "tcsc"),
        ("ssc", SSC_STATUS, "ssc"),
        ("vsc", VSC_STATUS, "vsc"),
        ("branch_dc", DC_BR_STATUS, "line_dc"),
    ):
        arr = ppci.get(key)
        if arr is None or not len(arr):
            continue
        n_on = int(np.count_nonzero(np.nan_to_num(np.real(arr[:, col]))))
        if n_on:
            msg = (
                f"table {table}: {n_on} in-service row(s); the Newton-Raphson solver does not "
                f"model {table} elements: set them out of service or use pandapower's runpp"
            )
            raise InputError(msg)


def _bus_types(ppci: dict[str, Any]) -> tuple[IntArray, IntArray, IntArray]:
    """Slack, PV and PQ buses of the internal case.

    Raises
    ------
    InputError
        No slack bus, or a PV bus without an in-service generator.
    """
    from pandapower.pypower.idx_bus import BUS_TYPE, PQ, PV, REF
    from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS

    btype = np.real(ppci["bus"][:, BUS_TYPE]).astype(np.int64)
    ref = np.flatnonzero(btype == REF).astype(np.int64)
    pv = np.flatnonzero(btype == PV).astype(np.int64)
    pq = np.flatnonzero(btype == PQ).astype(np.int64)
    if not len(ref):
        msg = "no energised slack bus (ext_grid or gen with slack=True): Newton-Raphson needs one"
        raise InputError(msg)
    gen = ppci["gen"]
    on_bus = np.real(gen[np.real(gen[:, GEN_STATUS]) > 0, GEN_BUS]).astype(np.int64)
    if not np.isin(pv, on_bus).all():
        msg = "internal: a PV bus of pandapower's case has no in-service generator"
        raise InputError(msg)
    return ref, pv, pq


def _admittance(ppci: dict[str, Any]) -> tuple[Any, IntArray, IntArray]:
    """``Ybus`` (CSR, sorted, every diagonal entry stored), the row of each stored entry
    and the position of each diagonal entry in ``data``."""
    import scipy.sparse as sp
    from pandapower.pypower.makeYbus import makeYbus

    ybus = sp.csr_matrix(makeYbus(float(ppci["baseMVA"]), ppci["bus"], ppci["branch"])[0])
    n = ybus.shape[0]
    coo = ybus.tocoo()
    rows = np.concatenate([coo.row, np.arange(n)])
    cols = np.concatenate([coo.col, np.arange(n)])
    data = np.concatenate([coo.data, np.zeros(n, dtype=np.complex128)])
    ybus = sp.csr_matrix((data, (rows, cols)), shape=(n, n))  # duplicates summed, zeros kept
    ybus.sort_indices()
    y_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(ybus.indptr))
    diag = np.flatnonzero(y_rows == ybus.indices).astype(np.int64)
    if len(diag) != n:
        msg = "internal: the admittance matrix lacks diagonal entries"
        raise InputError(msg)
    return ybus, y_rows, diag


@dataclass(frozen=True)
class _DcModel:
    """pandapower's DC power flow (``makeBdc``/``dcpf``) for the start angles: the
    factorised ``B`` of the non-slack buses (``None`` if singular), its slack columns,
    and the fixed injections (phase-shift injections ``Pbusinj`` plus shunt ``GS``) [pu]."""

    other: IntArray
    lu: Any
    b_other_ref: Any
    p_fixed: FloatArray


def _dc_model(ppci: dict[str, Any], ref: IntArray) -> _DcModel:
    """pandapower's DC model of the internal case (a branch with zero reactance carries
    no DC flow here; pandapower refuses it)."""
    import scipy.sparse as sp
    from pandapower.pypower.idx_brch import BR_STATUS, BR_X, F_BUS, SHIFT, T_BUS, TAP
    from pandapower.pypower.idx_bus import GS
    from scipy.sparse.linalg import splu

    bus, br = ppci["bus"], ppci["branch"]
    n, n_br = len(bus), len(br)
    x, tap = np.real(br[:, BR_X]), np.real(br[:, TAP])
    on = (np.real(br[:, BR_STATUS]) != 0) & (x != 0)
    b = np.where(on, 1.0 / np.where(x == 0, 1.0, x), 0.0) / np.where(tap == 0, 1.0, tap)
    f, t = np.real(br[:, F_BUS]).astype(np.int64), np.real(br[:, T_BUS]).astype(np.int64)
    k = np.arange(n_br)
    cft = sp.csr_matrix(
        (np.r_[np.ones(n_br), -np.ones(n_br)], (np.r_[k, k], np.r_[f, t])), shape=(n_br, n)
    )
    bbus = sp.csr_matrix(cft.T @ sp.diags(b) @ cft)
    p_shift = np.asarray(cft.T @ (b * -np.deg2rad(np.real(br[:, SHIFT])))).reshape(-1)
    p_fixed = p_shift + np.real(bus[:, GS]) / float(ppci["baseMVA"])
    other = np.setdiff1d(np.arange(n), ref).astype(np.int64)
    lu = None
    if len(other):
        try:
            lu = splu(sp.csc_matrix(bbus[other][:, other]))
        except RuntimeError:  # singular: flat angles
            lu = None
    return _DcModel(other, lu, sp.csr_matrix(bbus[other][:, ref]), p_fixed.astype(np.float64))


def _dc_angles(dc: _DcModel, n: int, ref: IntArray, va_ref: FloatArray, p_pu: Any) -> FloatArray:
    """Angles [rad] of the DC power flow with injections ``p_pu`` [pu]."""
    va = np.zeros(n)
    va[ref] = va_ref
    if dc.lu is None:
        return va
    rhs = np.asarray(p_pu, dtype=np.float64)[dc.other] - dc.p_fixed[dc.other]
    sol = dc.lu.solve(rhs - dc.b_other_ref @ va_ref)
    if np.isfinite(sol).all():
        va[dc.other] = sol
    return va


def _pattern(ybus: Any, y_rows: IntArray, pv: IntArray, pq: IntArray) -> _Pattern:
    """The Jacobian's pattern for the partition ``pv`` / ``pq`` (see :class:`_Pattern`)."""
    from scipy.sparse.linalg import splu

    n = ybus.shape[0]
    pvpq = np.concatenate([pv, pq]).astype(np.int64)
    n_a = len(pvpq)
    pos_a = np.full(n, -1, dtype=np.int64)
    pos_a[pvpq] = np.arange(n_a)
    pos_m = np.full(n, -1, dtype=np.int64)
    pos_m[pq] = np.arange(len(pq))
    cols = ybus.indices.astype(np.int64)
    ra, rm, ca, cm = pos_a[y_rows], pos_m[y_rows], pos_a[cols], pos_m[cols]
    sels = [
        np.flatnonzero((ra >= 0) & (ca >= 0)),
        np.flatnonzero((ra >= 0) & (cm >= 0)),
        np.flatnonzero((rm >= 0) & (ca >= 0)),
        np.flatnonzero((rm >= 0) & (cm >= 0)),
    ]
    j_rows = np.concatenate([ra[sels[0]], ra[sels[1]], n_a + rm[sels[2]], n_a + rm[sels[3]]])
    j_cols = np.concatenate([ca[sels[0]], n_a + cm[sels[1]], ca[sels[2]], n_a + cm[sels[3]]])
    size = n_a + len(pq)
    col_perm = np.arange(size, dtype=np.int64)
    if size:
        import scipy.sparse as sp

        # a fill-reducing column order, chosen once on a copy of the pattern made strictly
        # diagonally dominant (so never singular; the values do not matter to COLAMD)
        probe = sp.csc_matrix((np.ones(len(j_rows)), (j_rows, j_cols)), shape=(size, size))
        dominant = float(np.abs(probe).sum(axis=1).max()) + 1.0
        try:
            lu = splu(probe + dominant * sp.identity(size, format="csc"), permc_spec="COLAMD")
            col_perm = np.argsort(np.asarray(lu.perm_c, dtype=np.int64)).astype(np.int64)
        except RuntimeError:  # keep the natural order
            col_perm = np.arange(size, dtype=np.int64)
    new_col = np.empty(size, dtype=np.int64)
    new_col[col_perm] = np.arange(size)
    j_cols = new_col[j_cols]
    order = np.lexsort((j_rows, j_cols)).astype(np.int64)
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.add.at(indptr, j_cols + 1, 1)
    return _Pattern(
        pvpq=pvpq,
        pq=pq.astype(np.int64),
        sel_pa=sels[0].astype(np.int64),
        sel_pm=sels[1].astype(np.int64),
        sel_qa=sels[2].astype(np.int64),
        sel_qm=sels[3].astype(np.int64),
        order=order,
        indptr=np.cumsum(indptr),
        indices=j_rows[order].astype(np.int64),
        col_perm=col_perm,
    )


def _floor(ybus: Any) -> float:
    """The mismatch's round-off floor [pu]: ``8 eps max_i sum_j |Y_ij|``."""
    sums = np.bincount(
        np.repeat(np.arange(ybus.shape[0]), np.diff(ybus.indptr)),
        weights=np.abs(ybus.data),
        minlength=ybus.shape[0],
    )
    return float(8.0 * np.finfo(np.float64).eps * np.max(sums, initial=0.0))


def newton_case(ppci: dict[str, Any]) -> NewtonCase:
    """Gather what a Newton-Raphson solve needs from pandapower's internal case.

    Parameters
    ----------
    ppci : dict
        pandapower's internal case (``internal_case(net, ...)[1]``): buses in internal
        order, out-of-service and isolated elements removed.

    Returns
    -------
    NewtonCase

    Raises
    ------
    InputError
        No slack bus in the case, or FACTS devices or DC lines in service.
    """
    _refuse_unsupported(ppci)
    ref, pv, pq = _bus_types(ppci)
    ybus, y_rows, y_diag = _admittance(ppci)
    vm, va_ref, gen_bus, q_min, q_max = _set_points(ppci, ref, pv)
    va = np.zeros(len(vm))
    va[ref] = va_ref
    v_flat = (vm * np.exp(1j * va)).astype(np.complex128)
    dc = _dc_model(ppci, ref)
    va_start = _dc_angles(dc, len(vm), ref, va_ref, np.zeros(len(vm)))
    return NewtonCase(
        base_mva=float(ppci["baseMVA"]),
        ybus=ybus,
        ref=ref,
        pv=pv,
        pq=pq,
        vm_ref_pu=vm[ref].astype(np.float64),
        va_ref_rad=va_ref,
        vm_pv_pu=vm[pv].astype(np.float64),
        q_min_pv_pu=q_min.astype(np.float64),
        q_max_pv_pu=q_max.astype(np.float64),
        v_flat_pu=v_flat,
        v_start_pu=(vm * np.exp(1j * va_start)).astype(np.complex128),
        gen_bus=gen_bus,
        floor_pu=_floor(ybus),
        y_rows=y_rows,
        y_diag=y_diag,
        dc=dc,
        pattern=_pattern(ybus, y_rows, pv, pq),
    )


def case_injection(ppci: dict[str, Any]) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
    """The specified injections of the internal case itself [pu], generation positive:
    ``(s_inj, s_i, s_z)`` with ``S(V) = s_inj + s_i |V| + s_z |V|^2`` per bus, as
    pandapower's ``makeSbus`` forms them (generators' ``PG + j QG``, loads ``PD + j QD``
    with the constant-current and constant-impedance shares ``CID``/``CZD``; ``QG`` of a
    PV or slack generator is 0 in a fresh case, so the imaginary part there is the
    non-generator injection)."""
    from pandapower.pypower.idx_bus import CID_P, CID_Q, CZD_P, CZD_Q, PD, QD
    from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG, QG

    bus, gen = ppci["bus"], ppci["gen"]
    base, n = float(ppci["baseMVA"]), len(bus)
    on = np.real(gen[:, GEN_STATUS]) > 0
    g_bus = np.real(gen[on, GEN_BUS]).astype(np.int64)
    s_gen = np.bincount(g_bus, weights=np.real(gen[on, PG]), minlength=n) + 1j * np.bincount(
        g_bus, weights=np.real(gen[on, QG]), minlength=n
    )
    pd_, qd = np.real(bus[:, PD]), np.real(bus[:, QD])
    ci_p, cz_p = np.real(bus[:, CID_P]), np.real(bus[:, CZD_P])
    ci_q, cz_q = np.real(bus[:, CID_Q]), np.real(bus[:, CZD_Q])
    s_p = pd_ * (1 - ci_p - cz_p) + 1j * qd * (1 - ci_q - cz_q)
    s_i = -(pd_ * ci_p + 1j * qd * ci_q) / base
    s_z = -(pd_ * cz_p + 1j * qd * cz_q) / base
    s_inj = (s_gen - s_p) / base
    return (
        s_inj.astype(np.complex128),
        np.asarray(s_i, dtype=np.complex128),
        np.asarray(s_z, dtype=np.complex128),
    )


def _specified(
    s_inj: ComplexArray, s_i: ComplexArray | None, s_z: ComplexArray | None, vm: FloatArray
) -> ComplexArray:
    """``S(V) = s_inj + s_i |V| + s_z |V|^2`` [pu]."""
    s = s_inj
    if s_i is not None:
        s = s + s_i * vm
    if s_z is not None:
        s = s + s_z * vm * vm
    return s


def _jacobian(
    case: NewtonCase, pat: _Pattern, v: ComplexArray, i_bus: ComplexArray, d_spec: ComplexArray
) -> Any:
    """The Jacobian at ``v`` (columns in the pattern's order), CSC. ``d_spec`` is the
    derivative of the specified injection by the bus's own magnitude [pu]."""
    import scipy.sparse as sp

    y = case.ybus
    rows, cols, diag = case.y_rows, y.indices, case.y_diag
    vm = np.abs(v)
    vn = np.divide(v, vm, out=np.ones_like(v), where=vm > 0)
    v_r = v[rows]
    d_va = -1j * v_r * np.conj(y.data * v[cols])
    d_va[diag] += 1j * v * np.conj(i_bus)
    d_vm = v_r * np.conj(y.data * vn[cols])
    d_vm[diag] += np.conj(i_bus) * vn - d_spec
    vals = np.concatenate(
        [
            d_va.real[pat.sel_pa],
            d_vm.real[pat.sel_pm],
            d_va.imag[pat.sel_qa],
            d_vm.imag[pat.sel_qm],
        ]
    )[pat.order]
    size = len(pat.indptr) - 1
    return sp.csc_matrix((vals, pat.indices, pat.indptr), shape=(size, size))


def _mismatch(
    case: NewtonCase,
    pat: _Pattern,
    v: ComplexArray,
    spec: _Spec,
) -> tuple[ComplexArray, FloatArray]:
    """Bus currents ``Y V`` and the mismatch vector (P at PV and PQ buses, Q at PQ)."""
    i_bus = np.asarray(case.ybus @ v, dtype=np.complex128)
    mis = v * np.conj(i_bus) - _specified(spec[0], spec[1], spec[2], np.abs(v))
    return i_bus, np.concatenate([mis.real[pat.pvpq], mis.imag[pat.pq]])


def _iterate(
    case: NewtonCase,
    pat: _Pattern,
    v: ComplexArray,
    spec: _Spec,
    tolerance_pu: float,
    max_iterations: int,
) -> tuple[ComplexArray, bool, int, float]:
    """Newton iterations from ``v``: the voltages, converged, iterations, largest
    mismatch [pu]. A singular Jacobian or a non-finite iterate ends them unconverged."""
    from scipy.sparse.linalg import splu

    s_i, s_z = spec[1], spec[2]
    tolerance_pu = max(tolerance_pu, case.floor_pu)
    n_a = len(pat.pvpq)
    vm, va = np.abs(v), np.angle(v)
    i_bus, f = _mismatch(case, pat, v, spec)
    err = float(np.max(np.abs(f))) if f.size else 0.0
    it = 0
    while not err < tolerance_pu and it < max_iterations and np.isfinite(err):
        it += 1
        d_spec = np.zeros(len(v), dtype=np.complex128)
        if s_i is not None:
            d_spec = d_spec + s_i
        if s_z is not None:
            d_spec = d_spec + 2.0 * s_z * vm
        jac = _jacobian(case, pat, v, i_bus, d_spec)
        try:
            y = splu(jac, permc_spec="NATURAL").solve(f)
        except RuntimeError:  # singular Jacobian
            return v, False, it, err
        dx = np.empty_like(y)
        dx[pat.col_perm] = -y
        va[pat.pvpq] += dx[:n_a]
        vm[pat.pq] += dx[n_a:]
        v = (vm * np.exp(1j * va)).astype(np.complex128)
        vm, va = np.abs(v), np.angle(v)  # a negative magnitude wraps round
        i_bus, f = _mismatch(case, pat, v, spec)
        err = float(np.max(np.abs(f))) if f.size else 0.0
    return v, bool(err < tolerance_pu), it, err


def dc_start(
    case: NewtonCase, s_inj_pu: Any, s_i_pu: Any = None, s_z_pu: Any = None
) -> ComplexArray:
    """pandapower's default start (``init="dc"``): magnitudes flat (1 pu, generator buses
    at their set-point), angles of its DC power flow with the active injections at 1 pu
    ``Re(s_inj + s_i + s_z)`` and the transformers' phase shifts [pu].

    Raises
    ------
    InputError
        Injections of the wrong length, or not finite.
    """
    n = case.n_bus
    p = np.zeros(n)
    for name, x in (("s_inj_pu", s_inj_pu), ("s_i_pu", s_i_pu), ("s_z_pu", s_z_pu)):
        a = _vector(x, n, name)
        if a is not None:
            p += a.real
    va = _dc_angles(case.dc, n, case.ref, case.va_ref_rad, p)
    v: ComplexArray = np.abs(case.v_flat_pu) * np.exp(1j * va)
    return v


def _start(case: NewtonCase, v0: Any, spec: _Spec) -> ComplexArray:
    """The start vector: ``v0`` (default :func:`dc_start` of ``spec``) with the slack
    buses at their set-point and the PV buses' magnitudes at theirs (angles kept)."""
    if v0 is None:
        return dc_start(case, *spec)
    v = np.array(v0, dtype=np.complex128).reshape(-1)
    if v.shape != (case.n_bus,):
        msg = f"v0 has {v.size} voltages for {case.n_bus} buses of the internal case"
        raise InputError(msg)
    bad = ~np.isfinite(v) | (v == 0)
    v[bad] = case.v_start_pu[bad]
    v[case.ref] = case.vm_ref_pu * np.exp(1j * case.va_ref_rad)
    v[case.pv] = case.vm_pv_pu * np.exp(1j * np.angle(v[case.pv]))
    return v


def _vector(x: Any, n: int, name: str) -> ComplexArray | None:
    """``x`` as a complex vector of ``n`` values (``None`` stays ``None``)."""
    if x is None:
        return None
    a = np.asarray(x, dtype=np.complex128).reshape(-1)
    if a.shape != (n,):
        msg = f"{name} has {a.size} values for {n} buses of the internal case"
        raise InputError(msg)
    if not np.isfinite(a).all():
        msg = f"{name} has NaN or infinite values; give every bus a finite injection"
        raise InputError(msg)
    return a


_Cache = dict[bytes, _Pattern]


def _pattern_for(case: NewtonCase, switched: BoolArray, cache: _Cache) -> _Pattern:
    """The pattern with the ``switched`` PV buses taken as PQ (cached)."""
    if not switched.any():
        return case.pattern
    key = np.packbits(switched).tobytes()
    if key not in cache:
        pq = np.sort(np.concatenate([case.pq, case.pv[switched]])).astype(np.int64)
        cache[key] = _pattern(case.ybus, case.y_rows, case.pv[~switched], pq)
    return cache[key]


def _gen_power(
    case: NewtonCase,
    v: ComplexArray,
    spec: _Spec,
) -> ComplexArray:
    """Computed less specified injection at every bus [pu] (the generators' part)."""
    s_calc = v * np.conj(np.asarray(case.ybus @ v, dtype=np.complex128))
    return (s_calc - _specified(spec[0], spec[1], spec[2], np.abs(v))).astype(np.complex128)


# long: the Q-limit loop reads best in one piece
def _solve(
    case: NewtonCase,
    v: ComplexArray,
    spec: _Spec,
    tolerance_pu: float,
    max_iterations: int,
    enforce_q_lims: bool,
    cache: _Cache,
) -> NewtonSolution:
    """One step from ``v``, with pandapower's Q-limit loop when asked."""
    s_inj, s_i, s_z = spec
    n_pv = len(case.pv)
    switched = np.zeros(n_pv, dtype=bool)
    q_fix = np.zeros(n_pv)
    s_eff = s_inj
    total = 0
    while True:
        pat = _pattern_for(case, switched, cache)
        v, converged, it, err = _iterate(
            case, pat, v, (s_eff, s_i, s_z), tolerance_pu, max_iterations
        )
        total += it
        if not (enforce_q_lims and converged and n_pv):
            break
        q = _gen_power(case, v, spec)[case.pv].imag
        over = ~switched & (q > case.q_max_pv_pu)
        under = ~switched & (q < case.q_min_pv_pu)
        new = over | under
        if not new.any():
            break
        q_fix[over] = case.q_max_pv_pu[over]
        q_fix[under] = case.q_min_pv_pu[under]
        switched |= new
        s_eff = s_eff.copy()
        s_eff[case.pv[new]] += 1j * q_fix[new]
    s_gen = _gen_power(case, v, spec)
    q_pv = np.where(switched, q_fix, s_gen[case.pv].imag).astype(np.float64)
    return NewtonSolution(
        v_pu=v,
        converged=converged,
        iterations=total,
        max_mismatch_pu=err,
        q_pv_pu=q_pv,
        switched_pv=switched,
        s_ref_pu=s_gen[case.ref].astype(np.complex128),
    )


def solve_newton(
    case: NewtonCase,
    s_inj_pu: Any,
    *,
    v0: Any = None,
    s_i_pu: Any = None,
    s_z_pu: Any = None,
    tolerance_pu: float = 1e-10,
    max_iterations: int = 30,
    enforce_q_lims: bool = False,
) -> NewtonSolution:
    """Solve one power flow by Newton-Raphson.

    Parameters
    ----------
    case : NewtonCase
        From :func:`newton_case`.
    s_inj_pu : array_like of complex, shape (n,)
        Specified injection per internal bus [pu], generation positive: at PV buses the
        active power (the reactive part is the non-generator injection there; the
        generators' reactive power is solved), at slack buses it only enters
        ``s_ref_pu``.
    v0 : array_like of complex, optional
        Start voltages [pu]; default :func:`dc_start` (pandapower's default start).
        Slack buses and PV magnitudes are set to their set-points.
    s_i_pu, s_z_pu : array_like of complex, optional
        Constant-current and constant-impedance parts [pu at 1 pu]:
        ``S(V) = s_inj + s_i |V| + s_z |V|^2``.
    tolerance_pu : float
        Largest power mismatch of a converged solution [pu] (at least ``case.floor_pu``).
    max_iterations : int
        Newton iterations per solve (per round of the Q-limit loop).
    enforce_q_lims : bool
        PV buses outside their reactive limits become PQ at the limit (pandapower's
        ``enforce_q_lims``).

    Returns
    -------
    NewtonSolution
        ``converged`` is False (no exception) when the iterations do not converge.

    Raises
    ------
    InputError
        Injections or start of the wrong length, or not finite.
    """
    n = case.n_bus
    s_inj = _vector(s_inj_pu, n, "s_inj_pu")
    if s_inj is None:
        msg = "s_inj_pu is required: one complex injection per bus of the internal case"
        raise InputError(msg)
    spec = (s_inj, _vector(s_i_pu, n, "s_i_pu"), _vector(s_z_pu, n, "s_z_pu"))
    v = _start(case, v0, spec)
    return _solve(case, v, spec, tolerance_pu, max_iterations, enforce_q_lims, {})


def _rows(x: Any, n_steps: int, n: int, name: str) -> ComplexArray | None:
    """``x`` as ``T x n`` complex rows: ``None``, one vector for every step, or one row
    per step."""
    if x is None:
        return None
    a = np.asarray(x, dtype=np.complex128)
    if a.ndim == 1:
        a = np.broadcast_to(a, (n_steps, a.shape[0]))
    if a.shape != (n_steps, n):
        msg = f"{name} has shape {a.shape}; expected ({n_steps}, {n}) or ({n},)"
        raise InputError(msg)
    if not np.isfinite(a).all():
        msg = f"{name} has NaN or infinite values; give every bus a finite injection"
        raise InputError(msg)
    return a


def _collect(sols: list[NewtonSolution], iterations: list[int]) -> NewtonSteps:
    """Stack per-step solutions."""
    return NewtonSteps(
        v_pu=np.array([x.v_pu for x in sols], dtype=np.complex128),
        converged=np.array([x.converged for x in sols], dtype=bool),
        iterations=np.array(iterations, dtype=np.int64),
        max_mismatch_pu=np.array([x.max_mismatch_pu for x in sols], dtype=np.float64),
        q_pv_pu=np.array([x.q_pv_pu for x in sols], dtype=np.float64),
        switched_pv=np.array([x.switched_pv for x in sols], dtype=bool),
        s_ref_pu=np.array([x.s_ref_pu for x in sols], dtype=np.complex128),
    )


def solve_newton_steps(
    case: NewtonCase,
    s_inj_pu: Any,
    *,
    v0: Any = None,
    s_i_pu: Any = None,
    s_z_pu: Any = None,
    tolerance_pu: float = 1e-10,
    max_iterations: int = 30,
    enforce_q_lims: bool = False,
    warm: bool = True,
) -> NewtonSteps:
    """Solve many steps by Newton-Raphson, each from the previous converged solution.

    Parameters
    ----------
    case : NewtonCase
        From :func:`newton_case`.
    s_inj_pu : array_like of complex, shape (T, n)
        Specified injection per step and internal bus [pu] (see :func:`solve_newton`).
    v0 : array_like of complex, optional
        Start of the first step [pu]; default :func:`dc_start` of its injection.
    s_i_pu, s_z_pu : array_like of complex, shape (n,) or (T, n), optional
        Voltage-dependent parts [pu at 1 pu].
    tolerance_pu, max_iterations, enforce_q_lims
        As :func:`solve_newton`.
    warm : bool
        Start each step from the last converged solution (else every step from ``v0``).
        A step that does not converge from another start is solved once more from
        its :func:`dc_start` (its iterations count both tries).

    Returns
    -------
    NewtonSteps

    Raises
    ------
    InputError
        Arrays of the wrong shape, or not finite.
    """
    n = case.n_bus
    shape = np.shape(s_inj_pu)
    if len(shape) != 2 or shape[1] != n:
        msg = f"s_inj_pu has shape {shape}; expected (steps, {n})"
        raise InputError(msg)
    n_steps = shape[0]
    s = _rows(s_inj_pu, n_steps, n, "s_inj_pu")
    s_i, s_z = _rows(s_i_pu, n_steps, n, "s_i_pu"), _rows(s_z_pu, n_steps, n, "s_z_pu")
    cache: _Cache = {}
    last = v0
    sols: list[NewtonSolution] = []
    iterations: list[int] = []
    for t in range(n_steps):
        spec = (
            s[t] if s is not None else np.zeros(n, dtype=np.complex128),
            None if s_i is None else s_i[t],
            None if s_z is None else s_z[t],
        )
        start = _start(case, last if warm else v0, spec)
        sol = _solve(case, start, spec, tolerance_pu, max_iterations, enforce_q_lims, cache)
        its = sol.iterations
        cold = None if sol.converged else dc_start(case, *spec)
        if cold is not None and not np.array_equal(start, cold):
            start = cold
            sol = _solve(case, start, spec, tolerance_pu, max_iterations, enforce_q_lims, cache)
            its += sol.iterations
        if sol.converged:
            last = sol.v_pu
        sols.append(sol)
        iterations.append(its)
    return _collect(sols, iterations)
