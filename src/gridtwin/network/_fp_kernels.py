"""The compiled (numba) kernels of the fixed-point power flow.

:func:`simulate_steps` solves every step of a chunk and writes its results. What it only
reads comes grouped in named tuples (:class:`Elements`, :class:`Model`, :class:`Buses`,
:class:`Branches`, :class:`TapControls`, :class:`QuControls`, :class:`Run`); every array
it writes is a plain argument (the fields of :class:`Progress` and :class:`Results`, in
their order). :func:`gridtwin.network._fixedpoint.solve_fixed_point` builds them from a
:class:`~gridtwin.network._fixedpoint.FixedPointNetwork`. :func:`lu_solve_inplace` is the
sparse triangular solve used by the kernel and, from Python, when the model is built.

Rules that keep the kernels correct and as fast as one monolithic kernel (checked
bit for bit and by timing against the monolithic kernel they were split from):

* Inside the parallel loop a named tuple is only read: numba loses writes to the
  arrays of a named tuple made there, through an attribute or after unpacking the tuple
  (numba issues 7135 and 10338). Arrays that are written are plain arguments.
* The helpers of the parallel loop are inlined (``inline="always"``): a called helper
  would copy its named tuples (dozens of arrays) at every call.
* Arrays of a named tuple are bound to local names at the top of a helper
  (``w = model.w``), so its loops read as plain array code.
* Named tuples are not nested (numba cannot pass a nested one into a parallel loop).
* All kernels live in this one file: numba's on-disk cache of a kernel is invalidated
  by a change of the file it is defined in, not of the files of the kernels it calls.

This module imports numba at import: import it inside the functions that run the
kernels, never at the top of a module that ``import gridtwin.network`` loads.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

__all__ = [
    "Branches",
    "Buses",
    "Elements",
    "Model",
    "Progress",
    "QuControls",
    "Results",
    "Run",
    "TapControls",
    "lu_solve_inplace",
    "results_from_voltages",
    "simulate_steps",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Model(NamedTuple):
    """The factorised model: no-load voltages ``w`` and slack voltages [pu]; ``Y_LL = L
    U`` as strictly lower ``L`` (unit diagonal) and strictly upper ``U`` in CSC
    ``(indptr, indices, data)`` and ``1 / diag(U)``; the slack rows of ``Ybus`` as CSR
    ``(s_ptr, s_pos, s_val)``; the power base [MVA]."""

    w: ComplexArray
    v_slack: ComplexArray
    l_ptr: IntArray
    l_idx: IntArray
    l_val: ComplexArray
    u_ptr: IntArray
    u_idx: IntArray
    u_val: ComplexArray
    u_inv: ComplexArray
    s_ptr: IntArray
    s_pos: IntArray
    s_val: ComplexArray
    base_mva: float


class Elements(NamedTuple):
    """The stacked load, sgen and storage elements: set-points per step ``p_el``,
    ``q_el`` [W], [var], position of their bus, factor to per unit, and the
    voltage-dependent (ZIP) ones with their shares."""

    p_el: FloatArray
    q_el: FloatArray
    el_pos: IntArray
    el_coef: FloatArray
    zip_el: IntArray
    zip_share: FloatArray


class Buses(NamedTuple):
    """Position of each pandapower bus, and each ext_grid's slack index and share."""

    bus_pos: IntArray
    eg_slack: IntArray
    eg_share: FloatArray


class Branches(NamedTuple):
    """Branch ends, two-ports and what their results need: base voltages [kV], line
    ratings [kA], transformer rated voltages [kV] and ratings [MVA], the three-winding
    transformers' loading per kA."""

    f_pos: IntArray
    t_pos: IntArray
    y_ff: ComplexArray
    y_ft: ComplexArray
    y_tf: ComplexArray
    y_tt: ComplexArray
    kv_f: FloatArray
    kv_t: FloatArray
    n_line: int
    i_max_ka: FloatArray
    vn_hv: FloatArray
    vn_lv: FloatArray
    rating: FloatArray
    t3_per_ka: FloatArray


class TapControls(NamedTuple):
    """The controlled transformers (:class:`~gridtwin.network._fp_controls.TapData`) and
    the control rounds per step."""

    c_branch: IntArray
    c_bus: IntArray
    c_lower: FloatArray
    c_upper: FloatArray
    c_dir: IntArray
    c_npos: IntArray
    c_base: IntArray
    c_y: ComplexArray
    max_control: int


class QuControls(NamedTuple):
    """The Q(U)-controlled sgens (:class:`~gridtwin.network._fp_controls.QuData`)."""

    qu_el: IntArray
    qu_npts: IntArray
    qu_v: FloatArray
    qu_q: FloatArray
    qu_damping: float


class Run(NamedTuple):
    """Tolerance [pu], iteration limit, segments of steps and the warm start ``v_init``
    (used when ``use_init``)."""

    tol: float
    max_iter: int
    segments: IntArray
    v_init: ComplexArray
    use_init: bool


class Progress(NamedTuple):
    """What the kernel writes besides the results (passed as plain arguments, in this
    order): the tap positions ``tap`` (carried from step to step) and per step
    ``tap_out``, the flags ``unsettled``, the Q(U) reactive power ``qu_out`` [pu], the
    iterations, and ``v_last``, the last step's voltages."""

    tap: IntArray
    tap_out: IntArray
    unsettled: BoolArray
    qu_out: FloatArray
    iterations: IntArray
    v_last: ComplexArray


class Results(NamedTuple):
    """The result arrays (steps first) the kernel writes (passed as plain arguments, in
    this order)."""

    vm: FloatArray
    va: FloatArray
    line_i_ka: FloatArray
    line_loading: FloatArray
    line_p_mw: FloatArray
    tr_i_hv_ka: FloatArray
    tr_i_lv_ka: FloatArray
    tr_loading: FloatArray
    t3_i_hv_ka: FloatArray
    t3_i_mv_ka: FloatArray
    t3_i_lv_ka: FloatArray
    t3_loading: FloatArray
    eg_p_mw: FloatArray
    eg_q_mvar: FloatArray
    p_loss_mw: FloatArray


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lu_solve_inplace(
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
    """``|z|^2``."""
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


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _constant_injections(
    s: ComplexArray, t: int, el: Elements, qu: QuControls
) -> None:  # pragma: no cover - compiled
    """``s`` <- the constant-power injections of step ``t`` [pu, consumer frame]: the
    set-points less the Q(U)-controlled reactive power and the voltage-dependent parts."""
    p_el, q_el, el_pos, el_coef, zip_el, zip_share = el
    qu_el = qu.qu_el
    n_el = p_el.shape[1]
    s[:] = 0.0
    for e in range(n_el):
        ps = el_pos[e]
        if ps >= 0:
            s[ps] += el_coef[e] * complex(p_el[t, e], q_el[t, e])
    for r in range(len(qu_el)):  # Q(U) replaces the profile's reactive power
        e = qu_el[r]
        s[el_pos[e]] -= complex(0.0, el_coef[e] * q_el[t, e])
    for z in range(len(zip_el)):  # the voltage-dependent part is added per iteration
        e = zip_el[z]
        ps = el_pos[e]
        pz = el_coef[e] * p_el[t, e]
        qz = el_coef[e] * q_el[t, e]
        s[ps] -= complex(
            pz * (zip_share[z, 0] + zip_share[z, 1]),
            qz * (zip_share[z, 2] + zip_share[z, 3]),
        )


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _injected_currents(
    x: ComplexArray,
    v: ComplexArray,
    s: ComplexArray,
    q_now: FloatArray,
    t: int,
    el: Elements,
    br: Branches,
    taps: TapControls,
    tap: IntArray,
    qu: QuControls,
) -> None:  # pragma: no cover - compiled
    """``x`` <- the currents injected at the non-slack buses at voltages ``v``: constant
    power, the voltage-dependent loads, Q(U) and the taps off their factorised position."""
    p_el, q_el, el_pos, el_coef, zip_el, zip_share = el
    f_pos, t_pos = br.f_pos, br.t_pos
    c_branch, c_base, c_y = taps.c_branch, taps.c_base, taps.c_y
    qu_el = qu.qu_el
    n = len(x)
    for i in range(n):
        # -conj(S / V) = -conj(S) V / |V|^2, in real arithmetic
        vr, vq = v[i].real, v[i].imag
        sr, sq = s[i].real, s[i].imag
        inv = -1.0 / (vr * vr + vq * vq)
        x[i] = complex((sr * vr + sq * vq) * inv, (sr * vq - sq * vr) * inv)
    for z in range(len(zip_el)):
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
    for r in range(len(qu_el)):  # injected Q: current -conj(-jQ) V / |V|^2
        ps = el_pos[qu_el[r]]
        if ps < n:
            vi = v[ps]
            x[ps] -= complex(0.0, q_now[r]) * vi / _abs2(vi)
    for c in range(len(c_branch)):  # taps off the factorised position: -dY V
        ip, ib = tap[c], c_base[c]
        if ip != ib:
            b = c_branch[c]
            di_f, di_t = _tap_delta(c_y, c, ip, ib, v[f_pos[b]], v[t_pos[b]])
            if f_pos[b] < n:
                x[f_pos[b]] -= di_f
            if t_pos[b] < n:
                x[t_pos[b]] -= di_t


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _start_qu(
    v: ComplexArray, q_now: FloatArray, el_pos: IntArray, qu: QuControls
) -> None:  # pragma: no cover - compiled
    """The Q(U) injections at the start of a step: the characteristic at ``|v|``."""
    qu_el, qu_v, qu_q, qu_npts = qu.qu_el, qu.qu_v, qu.qu_q, qu.qu_npts
    for r in range(len(qu_el)):
        q_now[r] = _interp(abs(v[el_pos[qu_el[r]]]), qu_v[r], qu_q[r], qu_npts[r])


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _iterate(
    v: ComplexArray,
    x: ComplexArray,
    s: ComplexArray,
    q_now: FloatArray,
    t: int,
    el: Elements,
    model: Model,
    br: Branches,
    taps: TapControls,
    tap: IntArray,
    qu: QuControls,
    run: Run,
) -> int:  # pragma: no cover - compiled
    """Fixed-point iterations of step ``t`` at the present taps until the largest change
    is below the tolerance: their number, or -1 when ``max_iter`` do not converge."""
    w, m = model.w, model
    el_pos = el.el_pos
    qu_el, qu_npts, qu_v, qu_q = qu.qu_el, qu.qu_npts, qu.qu_v, qu.qu_q
    qu_damping = qu.qu_damping
    n = len(w)
    tol2 = run.tol * run.tol
    for it in range(run.max_iter):
        _injected_currents(x, v, s, q_now, t, el, br, taps, tap, qu)
        lu_solve_inplace(x, m.l_ptr, m.l_idx, m.l_val, m.u_ptr, m.u_idx, m.u_val, m.u_inv)
        dv = 0.0
        for i in range(n):
            vi = w[i] + x[i]
            d = _abs2(vi - v[i])
            if d > dv:
                dv = d
            v[i] = vi
        for r in range(len(qu_el)):  # relax Q towards the characteristic
            q_new = _interp(abs(v[el_pos[qu_el[r]]]), qu_v[r], qu_q[r], qu_npts[r])
            dq = qu_damping * (q_new - q_now[r])
            q_now[r] += dq
            if dq * dq > dv:
                dv = dq * dq
        if dv < tol2:
            return it + 1
    return -1


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _move_taps(
    v: ComplexArray, taps: TapControls, tap: IntArray, control: int
) -> bool:  # pragma: no cover - compiled
    """pandapower's ``DiscreteTapControl``: a voltage outside its band moves its tap one
    position (not in the last round); whether any tap wanted to move."""
    c_bus, c_lower, c_upper = taps.c_bus, taps.c_lower, taps.c_upper
    c_dir, c_npos, max_control = taps.c_dir, taps.c_npos, taps.max_control
    moved = False
    for c in range(len(taps.c_branch)):
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
    return moved


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _solve_step(
    v: ComplexArray,
    x: ComplexArray,
    s: ComplexArray,
    q_now: FloatArray,
    t: int,
    el: Elements,
    model: Model,
    br: Branches,
    taps: TapControls,
    tap: IntArray,
    unsettled: BoolArray,
    qu: QuControls,
    run: Run,
) -> int:  # pragma: no cover - compiled
    """Solve step ``t`` in control rounds (iterate, then move the taps, until none moves):
    the iterations of all rounds, or -1 when one does not converge."""
    done = 0
    max_control = taps.max_control
    for control in range(max_control + 1):
        k = _iterate(v, x, s, q_now, t, el, model, br, taps, tap, qu, run)
        if k < 0:
            return -1
        done += k
        if not _move_taps(v, taps, tap, control):
            break
        if control == max_control:
            unsettled[t] = True  # still out of band after the last round
    return done


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_buses(
    t: int, v: ComplexArray, bus_pos: IntArray, vm: FloatArray, va: FloatArray
) -> None:  # pragma: no cover - compiled
    """Voltage magnitude [pu] and angle [degree] of every pandapower bus (no angles when
    ``va`` has no rows)."""
    nan = np.nan
    want_va = va.shape[0] > 0
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


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_branches(
    t: int,
    v: ComplexArray,
    ctrl_of: IntArray,
    tap: IntArray,
    c_y: ComplexArray,
    base_mva: float,
    c_ka: float,
    br: Branches,
    line_i_ka: FloatArray,
    line_loading: FloatArray,
    line_p_mw: FloatArray,
    tr_i_hv_ka: FloatArray,
    tr_i_lv_ka: FloatArray,
    tr_loading: FloatArray,
    t3_i_hv_ka: FloatArray,
    t3_i_mv_ka: FloatArray,
    t3_i_lv_ka: FloatArray,
) -> float:  # pragma: no cover - compiled
    """Currents [kA], loadings [%] and line power [MW] of every branch (the
    three-winding transformers' at their terminals; ``ctrl_of``: the tap control of each
    branch or -1; ``c_ka = base_mva / sqrt(3)``): the total loss [MW]."""
    f_pos, t_pos, kv_f, kv_t = br.f_pos, br.t_pos, br.kv_f, br.kv_t
    y_ff, y_ft, y_tf, y_tt = br.y_ff, br.y_ft, br.y_tf, br.y_tt
    n_line, i_max_ka, vn_hv, vn_lv, rating = br.n_line, br.i_max_ka, br.vn_hv, br.vn_lv, br.rating
    n_br = len(f_pos)
    n_t3 = t3_i_hv_ka.shape[1]
    n_2w = n_br - 3 * n_t3  # branches before the three-winding transformers'
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
    return loss


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_t3_loading(
    t: int,
    t3_per_ka: FloatArray,
    t3_i_hv_ka: FloatArray,
    t3_i_mv_ka: FloatArray,
    t3_i_lv_ka: FloatArray,
    t3_loading: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Three-winding transformers' loading [%]: pandapower's max over the sides (NaN
    wins)."""
    for r in range(t3_loading.shape[1]):
        ld_h = t3_i_hv_ka[t, r] * t3_per_ka[r, 0]
        ld_m = t3_i_mv_ka[t, r] * t3_per_ka[r, 1]
        ld_l = t3_i_lv_ka[t, r] * t3_per_ka[r, 2]
        if math.isnan(ld_h) or math.isnan(ld_m) or math.isnan(ld_l):
            t3_loading[t, r] = np.nan
        else:
            t3_loading[t, r] = max(ld_h, ld_m, ld_l)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_ext_grids(
    t: int,
    v: ComplexArray,
    s: ComplexArray,
    q_now: FloatArray,
    tap: IntArray,
    el: Elements,
    model: Model,
    buses: Buses,
    br: Branches,
    taps: TapControls,
    qu: QuControls,
    eg_p_mw: FloatArray,
    eg_q_mvar: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Power supplied by each ext_grid [MW], [Mvar]: its bus's share of the slack
    current, the taps' extra currents there and the local injections."""
    p_el, q_el, el_pos, el_coef, zip_el, zip_share = el
    s_ptr, s_pos, s_val, base_mva = model.s_ptr, model.s_pos, model.s_val, model.base_mva
    eg_slack, eg_share = buses.eg_slack, buses.eg_share
    f_pos, t_pos = br.f_pos, br.t_pos
    c_branch, c_base, c_y = taps.c_branch, taps.c_base, taps.c_y
    qu_el = qu.qu_el
    n = len(model.w)
    for g in range(len(eg_slack)):
        kk = eg_slack[g]
        if kk < 0:
            eg_p_mw[t, g] = 0.0
            eg_q_mvar[t, g] = 0.0
            continue
        cur = 0j
        for p in range(s_ptr[kk], s_ptr[kk + 1]):
            cur += s_val[p] * v[s_pos[p]]
        for c in range(len(c_branch)):  # a controlled transformer at the slack bus
            b = c_branch[c]
            di_f, di_t = _tap_delta(c_y, c, tap[c], c_base[c], v[f_pos[b]], v[t_pos[b]])
            if f_pos[b] == n + kk:
                cur += di_f
            if t_pos[b] == n + kk:
                cur += di_t
        vs = v[n + kk]
        local = s[n + kk]
        for r in range(len(qu_el)):  # Q(U) of an sgen at the slack bus
            if el_pos[qu_el[r]] == n + kk:
                local -= complex(0.0, q_now[r])
        for z in range(len(zip_el)):
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


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _write_step(
    t: int,
    v: ComplexArray,
    s: ComplexArray,
    q_now: FloatArray,
    tap: IntArray,
    ctrl_of: IntArray,
    c_ka: float,
    el: Elements,
    model: Model,
    buses: Buses,
    br: Branches,
    taps: TapControls,
    qu: QuControls,
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
) -> None:  # pragma: no cover - compiled
    """Every result of step ``t`` from its voltages ``v``: buses, branches (losses),
    three-winding transformers' loading, ext_grids."""
    _write_buses(t, v, buses.bus_pos, vm, va)
    p_loss_mw[t] = _write_branches(
        t,
        v,
        ctrl_of,
        tap,
        taps.c_y,
        model.base_mva,
        c_ka,
        br,
        line_i_ka,
        line_loading,
        line_p_mw,
        tr_i_hv_ka,
        tr_i_lv_ka,
        tr_loading,
        t3_i_hv_ka,
        t3_i_mv_ka,
        t3_i_lv_ka,
    )
    _write_t3_loading(t, br.t3_per_ka, t3_i_hv_ka, t3_i_mv_ka, t3_i_lv_ka, t3_loading)
    _write_ext_grids(t, v, s, q_now, tap, el, model, buses, br, taps, qu, eg_p_mw, eg_q_mvar)


@numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def simulate_steps(
    el: Elements,
    model: Model,
    buses: Buses,
    br: Branches,
    taps: TapControls,
    qu: QuControls,
    run: Run,
    tap: IntArray,
    tap_out: IntArray,
    unsettled: BoolArray,
    qu_out: FloatArray,
    iterations: IntArray,
    v_last: ComplexArray,
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
) -> None:  # pragma: no cover - compiled
    """Solve every step (row of ``p_el``) and write its results; a step that does not
    converge within ``max_iter`` gets ``iterations`` -1 and no results (the caller sets
    them NaN).

    The rows ``segments[k] .. segments[k + 1] - 1`` form segment ``k``; segments run in
    parallel, the steps of one segment in sequence, each starting from the previous
    step's solution (the first from ``w``, or from ``v_init`` for segment 0 when
    ``use_init``). ``v_last`` receives the voltages of the last row.

    The last ``3 * n_t3`` branches are the three-winding transformers' (HV -> star,
    star -> MV, star -> LV blocks, ``n_t3 = t3_loading.shape[1]``): their terminal
    currents go to ``t3_i_*_ka`` and their loading (``t3_per_ka`` times the current,
    largest side) to ``t3_loading``."""
    n_t = el.p_el.shape[0]
    n = len(model.w)
    n_c, n_qu = len(taps.c_branch), len(qu.qu_el)
    c_ka = model.base_mva / math.sqrt(3.0)
    ctrl_of = np.full(len(br.f_pos), -1, dtype=np.int64)
    for c in range(n_c):
        ctrl_of[taps.c_branch[c]] = c
    for k in numba.prange(len(run.segments) - 1):
        v = np.empty(n + len(model.v_slack), dtype=np.complex128)
        v[:n] = run.v_init[:n] if (k == 0 and run.use_init) else model.w
        v[n:] = model.v_slack
        s = np.empty(n + len(model.v_slack), dtype=np.complex128)
        x = np.empty(n, dtype=np.complex128)
        q_now = np.empty(n_qu)  # Q(U) injections in use, relaxed towards Q(|V|)
        for t in range(run.segments[k], run.segments[k + 1]):
            _constant_injections(s, t, el, qu)
            _start_qu(v, q_now, el.el_pos, qu)
            done = _solve_step(v, x, s, q_now, t, el, model, br, taps, tap, unsettled, qu, run)
            iterations[t] = done
            for c in range(n_c):
                tap_out[t, c] = tap[c]
            for r in range(n_qu):
                qu_out[t, r] = q_now[r] if done >= 0 else np.nan
            if done < 0:
                v[:n] = model.w  # never warm-start the next step from a diverged state
                continue
            _write_step(
                t, v, s, q_now, tap, ctrl_of, c_ka, el, model, buses, br, taps, qu,
                vm, va, line_i_ka, line_loading, line_p_mw, tr_i_hv_ka, tr_i_lv_ka,
                tr_loading, t3_i_hv_ka, t3_i_mv_ka, t3_i_lv_ka, t3_loading, eg_p_mw,
                eg_q_mvar, p_loss_mw,
            )  # fmt: skip
            if t == n_t - 1:
                v_last[:] = v


@numba.njit(cache=True, nogil=True, error_model="numpy")
def results_from_voltages(
    el: Elements,
    model: Model,
    buses: Buses,
    br: Branches,
    taps: TapControls,
    qu: QuControls,
    v_steps: ComplexArray,
    solved: BoolArray,
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
) -> None:  # pragma: no cover - compiled
    """The results of the steps ``solved`` whose voltages another solver found
    (``v_steps``: steps x positions, non-slack then slack buses [pu]), written as
    :func:`simulate_steps` writes its own (taps at their factorised positions, no Q(U))."""
    n_t = v_steps.shape[0]
    c_ka = model.base_mva / math.sqrt(3.0)
    ctrl_of = np.full(len(br.f_pos), -1, dtype=np.int64)
    s = np.empty(v_steps.shape[1], dtype=np.complex128)
    q_now = np.empty(0)
    tap = taps.c_base.copy()
    for t in range(n_t):
        if not solved[t]:
            continue
        v = v_steps[t]
        _constant_injections(s, t, el, qu)
        _write_step(
            t, v, s, q_now, tap, ctrl_of, c_ka, el, model, buses, br, taps, qu,
            vm, va, line_i_ka, line_loading, line_p_mw, tr_i_hv_ka, tr_i_lv_ka,
            tr_loading, t3_i_hv_ka, t3_i_mv_ka, t3_i_lv_ka, t3_loading, eg_p_mw,
            eg_q_mvar, p_loss_mw,
        )  # fmt: skip
