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

Voltage-controlled (PV) buses (pandapower's ``gen``, an extended ward's internal source)
are not iterated here: :attr:`FixedPointNetwork.n_pv` says there are some, and the engine
then solves the steps with Newton-Raphson on the same case
(:mod:`gridtwin.network._newton`), whose voltages :func:`results_from` turns into the
same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gridtwin.network._fp_case import ELEMENT_TABLES as ELEMENT_TABLES
from gridtwin.network._fp_case import (
    admittance_model,
    branch_model,
    element_model,
    ext_grid_shares,
    internal_case,
    lookup,
    ratings,
)
from gridtwin.network._fp_controls import (
    QuData,
    ReactivePowerControl,
    TapControl,
    TapData,
    qu_data,
    tap_data,
)

if TYPE_CHECKING:
    from gridtwin.network._fp_kernels import Progress, Results

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
    "results_from",
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
    case : dict
        pandapower's internal case (``ppci``) the model was built from.
    case_pos : numpy.ndarray of int64
        Position of each bus of the internal case in the voltage vector.
    n_pv : int
        Voltage-controlled (PV) buses of the internal case.
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
    case: dict[str, Any] = field(repr=False, compare=False)
    case_pos: IntArray = field(repr=False, compare=False)
    n_pv: int = 0

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
    controls = tuple(tap_controls)
    ppc, ppci, lookups, work = internal_case(net, trafo_model, [c.trafo for c in controls])
    adm = admittance_model(ppci)
    pos = adm.pos
    branches = branch_model(net, ppc, ppci, lookups)
    bus_lookup = np.asarray(lookups["bus"], dtype=np.int64)
    bus_int = lookup(bus_lookup, net.bus.index.to_numpy(), adm.n_bus)
    eg_slack, eg_share = ext_grid_shares(net, bus_lookup, adm)
    elements = element_model(net, bus_lookup, adm)
    taps = tap_data(work, ppc, controls, branches, pos)
    rated = ratings(net)
    qu = qu_data(
        net,
        tuple(reactive_controls),
        elements.tables["sgen"][0],
        elements.el_pos,
        adm.base_mva,
        adm.n_other,
        adm.factors,
    )
    return FixedPointNetwork(
        base_mva=adm.base_mva,
        n_other=adm.n_other,
        n_slack=adm.n_slack,
        w=adm.w,
        v_slack=adm.v_slack,
        factors=adm.factors,
        slack_rows=adm.slack_rows,
        bus_pos=np.where(bus_int >= 0, pos[np.maximum(bus_int, 0)], -1).astype(np.int64),
        branch_f=pos[branches.f].astype(np.int64),
        branch_t=pos[branches.t].astype(np.int64),
        y_ff=branches.y_ff,
        y_ft=branches.y_ft,
        y_tf=branches.y_tf,
        y_tt=branches.y_tt,
        kv_f=branches.kv_f,
        kv_t=branches.kv_t,
        n_line=branches.n_line,
        line_i_max_ka=rated.line_i_max_ka,
        trafo_vn_hv_kv=rated.trafo_vn_hv_kv,
        trafo_vn_lv_kv=rated.trafo_vn_lv_kv,
        trafo_rating_mva=rated.trafo_rating_mva,
        trafo3w_loading_per_ka=rated.trafo3w_loading_per_ka,
        ext_grid_slack=eg_slack,
        ext_grid_share=eg_share,
        tables=elements.tables,
        el_pos=elements.el_pos,
        el_coef=elements.el_coef,
        zip_el=elements.zip_el,
        zip_share=elements.zip_share,
        taps=taps,
        qu=qu,
        case=ppci,
        case_pos=pos,
        n_pv=_count_pv(ppci),
    )


def _count_pv(ppci: dict[str, Any]) -> int:
    """Voltage-controlled buses of the internal case."""
    from pandapower.pypower.idx_bus import BUS_TYPE, PV

    return int((np.real(ppci["bus"][:, BUS_TYPE]).astype(np.int64) == PV).sum())


def results_from(
    fp: FixedPointNetwork,
    p_w: FloatArray,
    q_var: FloatArray,
    v_case: ComplexArray,
    solved: BoolArray,
    *,
    angles: bool = True,
) -> dict[str, FloatArray]:
    """The result fields of steps another solver solved on the same internal case:
    ``v_case`` (steps x buses of the internal case) [pu], ``solved`` per step; the
    set-points ``p_w``, ``q_var`` as :func:`solve_fixed_point` takes them. Unsolved steps
    are NaN."""
    from gridtwin.network._fp_kernels import results_from_voltages

    n_t = p_w.shape[0]
    v_pos = np.zeros((n_t, fp.n_other + fp.n_slack), dtype=np.complex128)
    v_pos[:, fp.case_pos] = v_case
    out = _result_fields(fp, n_t, angles)
    el, model, buses, branches, taps, qu = _kernel_inputs(fp, p_w, q_var)
    results_from_voltages(
        el, model, buses, branches, taps, qu, v_pos, solved, *_kernel_results(out)
    )
    _blank_failed(out, np.where(solved, 0, -1))
    if not angles:
        del out["va_degree"]
    return out


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


@dataclass(frozen=True)
class _Start:
    """How a call starts: its segments of steps, whether segment 0 starts from the warm
    voltages ``v_init``, and the tap positions of the controlled transformers."""

    segments: IntArray
    use_init: bool
    v_init: ComplexArray
    tap: IntArray


def _start(fp: FixedPointNetwork, pos: IntArray, warm: WarmStart | None) -> _Start:
    """The segments and warm start of the steps at ``pos``: with tap controls one
    sequential segment that always continues ``warm``; without, blocks of
    :data:`BLOCK_STEPS`, continued only from the step just before."""
    n_t = len(pos)
    td = fp.taps
    if len(td.branch):
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
    return _Start(segments, use_init, v_init, tap)


def _result_fields(fp: FixedPointNetwork, n_t: int, angles: bool) -> dict[str, FloatArray]:
    """Empty arrays of every result field for ``n_t`` steps."""
    n_bus, n_line = len(fp.bus_pos), fp.n_line
    n_tr, n_t3, n_eg = fp.n_trafo, fp.n_trafo3w, len(fp.ext_grid_slack)
    return {
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


def _kernel_results(out: dict[str, FloatArray]) -> Results:
    """The result arrays as the kernel's :class:`~gridtwin.network._fp_kernels.Results`."""
    from gridtwin.network._fp_kernels import Results

    return Results(
        vm=out["vm_pu"],
        va=out["va_degree"],
        line_i_ka=out["line_i_ka"],
        line_loading=out["line_loading_percent"],
        line_p_mw=out["line_p_from_mw"],
        tr_i_hv_ka=out["trafo_i_hv_ka"],
        tr_i_lv_ka=out["trafo_i_lv_ka"],
        tr_loading=out["trafo_loading_percent"],
        t3_i_hv_ka=out["trafo3w_i_hv_ka"],
        t3_i_mv_ka=out["trafo3w_i_mv_ka"],
        t3_i_lv_ka=out["trafo3w_i_lv_ka"],
        t3_loading=out["trafo3w_loading_percent"],
        eg_p_mw=out["ext_grid_p_mw"],
        eg_q_mvar=out["ext_grid_q_mvar"],
        p_loss_mw=out["p_loss_mw"],
    )


def _kernel_inputs(fp: FixedPointNetwork, p_w: FloatArray, q_var: FloatArray) -> tuple[Any, ...]:
    """The named tuples of :func:`~gridtwin.network._fp_kernels.simulate_steps` before its
    run settings and results: elements, model, buses, branches, tap and Q(U) controls."""
    from gridtwin.network._fp_kernels import (
        Branches,
        Buses,
        Elements,
        Model,
        QuControls,
        TapControls,
    )

    td, qu = fp.taps, fp.qu
    return (
        Elements(
            np.ascontiguousarray(p_w, dtype=np.float64),
            np.ascontiguousarray(q_var, dtype=np.float64),
            fp.el_pos,
            fp.el_coef,
            fp.zip_el,
            fp.zip_share,
        ),
        Model._make((fp.w, fp.v_slack, *fp.factors, *fp.slack_rows, fp.base_mva)),
        Buses(fp.bus_pos, fp.ext_grid_slack, fp.ext_grid_share),
        Branches(
            fp.branch_f,
            fp.branch_t,
            fp.y_ff,
            fp.y_ft,
            fp.y_tf,
            fp.y_tt,
            fp.kv_f,
            fp.kv_t,
            fp.n_line,
            fp.line_i_max_ka,
            fp.trafo_vn_hv_kv,
            fp.trafo_vn_lv_kv,
            fp.trafo_rating_mva,
            fp.trafo3w_loading_per_ka,
        ),
        TapControls(
            td.branch,
            td.bus,
            td.lower,
            td.upper,
            td.direction,
            td.n_pos,
            td.base,
            td.y,
            MAX_CONTROL_ROUNDS if len(td.branch) else 0,
        ),
        QuControls(qu.element, qu.n_points, qu.v_pu, qu.q_pu, qu.damping),
    )


def _run_kernel(
    fp: FixedPointNetwork,
    p_w: FloatArray,
    q_var: FloatArray,
    start: _Start,
    out: dict[str, FloatArray],
    *,
    tolerance_pu: float,
    max_iterations: int,
    threads: int,
) -> Progress:
    """Solve the steps with :func:`~gridtwin.network._fp_kernels.simulate_steps` on
    ``threads`` (see :func:`_threads`), writing ``out``; what it wrote besides."""
    import numba

    from gridtwin.network._fp_kernels import Progress, Run, simulate_steps

    n_t = p_w.shape[0]
    progress = Progress(
        tap=start.tap,
        tap_out=np.empty((n_t, len(fp.taps.branch)), dtype=np.int64),
        unsettled=np.zeros(n_t, dtype=bool),
        qu_out=np.empty((n_t, len(fp.qu.element))),
        iterations=np.empty(n_t, dtype=np.int64),
        v_last=np.empty(fp.n_other + fp.n_slack, dtype=np.complex128),
    )
    run = Run(
        float(tolerance_pu), int(max_iterations), start.segments, start.v_init, start.use_init
    )
    previous = numba.get_num_threads()
    numba.set_num_threads(_threads(threads))
    try:
        simulate_steps(  # type: ignore[call-arg]  # starred tuples
            *_kernel_inputs(fp, p_w, q_var), run, *progress, *_kernel_results(out)
        )
    finally:
        numba.set_num_threads(previous)
    return progress


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
    pos = np.asarray(positions, dtype=np.int64)
    start = _start(fp, pos, warm)
    out = _result_fields(fp, n_t, angles)
    res = _run_kernel(
        fp,
        p_w,
        q_var,
        start,
        out,
        tolerance_pu=tolerance_pu,
        max_iterations=max_iterations,
        threads=threads,
    )
    iterations, tap = res.iterations, start.tap
    _blank_failed(out, iterations)
    if not angles:
        del out["va_degree"]
    if len(fp.qu.element):
        out["sgen_q_mvar"] = res.qu_out * fp.base_mva
    if len(fp.taps.branch):
        out["trafo_tap_pos"] = (res.tap_out + fp.taps.tap_min).astype(np.float64)
        out["tap_unsettled"] = res.unsettled.astype(np.float64)
        last = WarmStart(int(pos[-1]), res.v_last, tap.copy()) if n_t else warm
        if last is not None and n_t and iterations[-1] < 0:
            last = WarmStart(last.position, np.zeros(0, np.complex128), tap.copy())
    else:
        ok = n_t and iterations[-1] >= 0
        last = WarmStart(int(pos[-1]), res.v_last, tap) if ok else None
    return out, iterations, last


def _blank_failed(out: dict[str, FloatArray], iterations: IntArray) -> None:
    """NaN results for the steps that did not converge (``iterations`` -1)."""
    failed = iterations < 0
    if not failed.any():
        return
    for values in out.values():
        if len(values) == len(iterations):  # not the angles when they are not wanted
            values[failed] = np.nan


def _threads(threads: int) -> int:
    """numba threads for ``threads``: ``-1`` one, ``0`` all, else at most all."""
    import numba

    n = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if threads == -1:
        return 1
    if threads == 0:
        return n
    return max(1, min(int(threads), n))
