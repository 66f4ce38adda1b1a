"""Newton-Raphson steps on the fixed point's own case: for nets with voltage-controlled
generators, for steps the fixed point cannot solve, and as the check of a fixed-point
solution that lies outside any operable range.

The fixed point (:mod:`gridtwin.network._fixedpoint`) and the Newton-Raphson solver
(:mod:`gridtwin.network._newton`) solve the same equations: pandapower's internal case.
This module turns the stacked element set-points of a chunk into the Newton solver's bus
injections (:func:`case_injections`), solves chosen steps (:class:`NewtonSteps`) and
judges a fixed-point solution against the operable range (:data:`OPERABLE_VM_PU`).

Why the check: a power flow has more than one solution. The Z-bus fixed point started
from the no-load voltages usually converges to the operable one, but with large
capacitive injections it can converge to another, at voltages no network runs at
(pandapower's ``case39`` with its generators as sgens: 1.742 pu, against 1.064 pu from
pandapower). Such a step is solved again by Newton-Raphson from pandapower's own start
(its DC power flow), which finds the operable solution; the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.network._fixedpoint import FixedPointNetwork, results_from
from gridtwin.network._tables import _col, _in_service

if TYPE_CHECKING:
    from gridtwin.network._newton import NewtonCase

__all__ = [
    "OPERABLE_VM_PU",
    "GenSplit",
    "NewtonPath",
    "case_injections",
    "gen_split",
    "outside_operable_range",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Bus voltages no network is operated at [pu]: a solution with an energised bus outside
#: this range is checked against Newton-Raphson from pandapower's start.
OPERABLE_VM_PU = (0.5, 1.5)
#: Two solutions of one step are the same when no voltage differs by more [pu].
SAME_SOLUTION_PU = 1e-6
#: pandapower's reactive limit of a generator without one [Mvar] (``q_lim_default``).
Q_LIMIT_DEFAULT_MVAR = 1e9


@dataclass(frozen=True)
class GenSplit:
    """How the reactive power of each voltage-controlled bus is shared among its
    generators, as pandapower's ``pfsoln`` shares it: in proportion to their reactive
    ranges (equally when the ranges are equal or none is given).

    Attributes
    ----------
    column : numpy.ndarray of int64
        Per ``gen`` row, its PV bus's column in the solver's ``q_pv`` (``-1``: out of
        service, not energised, or at a slack bus, whose reactive power the ext_grid
        results carry).
    q_min_mvar, q_max_mvar : numpy.ndarray
        Its reactive limits [Mvar] (``min_q_mvar``, ``max_q_mvar``; ``-+1e9`` if none).
    """

    column: IntArray
    q_min_mvar: FloatArray
    q_max_mvar: FloatArray

    def q_mvar(self, q_pv_pu: FloatArray, base_mva: float) -> FloatArray:
        """Each generator's reactive power per step [Mvar] from the PV buses' totals
        ``q_pv_pu`` (steps x PV buses) [pu]; NaN where :attr:`column` is -1."""
        n_t, n_pv = q_pv_pu.shape
        on = self.column >= 0
        col = self.column[on]
        q_min, q_max = self.q_min_mvar[on], self.q_max_mvar[on]
        count = np.bincount(col, minlength=n_pv).astype(np.float64)
        min_sum = np.bincount(col, weights=q_min, minlength=n_pv)
        max_sum = np.bincount(col, weights=q_max, minlength=n_pv)
        total = q_pv_pu * base_mva
        span = max_sum - min_sum
        flat = span[col] == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (total[:, col] - min_sum[col]) / np.where(flat, 1.0, span[col])
        q = np.where(
            flat, total[:, col] / np.maximum(count[col], 1.0), q_min + share * (q_max - q_min)
        )
        out = np.full((n_t, len(self.column)), np.nan)
        out[:, on] = q
        return out


def gen_split(net: Any, fp: FixedPointNetwork, pv: IntArray) -> GenSplit:
    """The :class:`GenSplit` of the net's generators (``pv``: the internal PV buses)."""
    gen = net["gen"] if "gen" in net else pd.DataFrame(columns=["bus"])
    bus_position = net.bus.index.get_indexer(gen["bus"])
    to_case = np.full(fp.n_other + fp.n_slack, -1, dtype=np.int64)
    to_case[fp.case_pos] = np.arange(len(fp.case_pos))
    at = np.where(bus_position >= 0, fp.bus_pos[np.maximum(bus_position, 0)], -1)
    internal = np.where(at >= 0, to_case[np.maximum(at, 0)], -1)
    pv_column = np.full(len(fp.case_pos), -1, dtype=np.int64)
    pv_column[pv] = np.arange(len(pv))
    column = np.where(internal >= 0, pv_column[np.maximum(internal, 0)], -1)
    column[~_in_service(gen)] = -1
    q_min = np.nan_to_num(_col(gen, "min_q_mvar"), nan=-Q_LIMIT_DEFAULT_MVAR)
    q_max = np.nan_to_num(_col(gen, "max_q_mvar"), nan=Q_LIMIT_DEFAULT_MVAR)
    return GenSplit(column.astype(np.int64), q_min, q_max)


def case_injections(
    fp: FixedPointNetwork, p_w: FloatArray, q_var: FloatArray
) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
    """The bus injections of the internal case per step [pu], generation positive:
    ``(s_inj, s_i, s_z)`` (steps x buses), with ``S(V) = s_inj + s_i |V| + s_z |V|^2``
    from the stacked set-points ``p_w``, ``q_var`` [W], [var] and the loads' ZIP shares."""
    import scipy.sparse as sp

    n_t, n_pos = p_w.shape[0], fp.n_other + fp.n_slack
    on = np.flatnonzero(fp.el_pos >= 0)
    s_el: ComplexArray = np.asarray((p_w + 1j * q_var) * fp.el_coef, dtype=np.complex128)
    zip_p = np.zeros((n_t, len(fp.zip_el)), dtype=np.complex128)
    parts: list[ComplexArray] = []
    for cols in ((0, 2), (1, 3)):  # constant current, constant impedance shares of P, Q
        part = np.asarray(
            (
                p_w[:, fp.zip_el] * fp.zip_share[:, cols[0]]
                + 1j * q_var[:, fp.zip_el] * fp.zip_share[:, cols[1]]
            )
            * fp.el_coef[fp.zip_el],
            dtype=np.complex128,
        )
        parts.append(part)
        zip_p += part
    s_el[:, fp.zip_el] -= zip_p
    gather = sp.csr_matrix((np.ones(len(on)), (on, fp.el_pos[on])), shape=(len(fp.el_pos), n_pos))
    zip_gather = sp.csr_matrix(
        (np.ones(len(fp.zip_el)), (np.arange(len(fp.zip_el)), fp.el_pos[fp.zip_el])),
        shape=(len(fp.zip_el), n_pos),
    )

    def to_case(s_by_element: ComplexArray, matrix: sp.csr_matrix) -> ComplexArray:
        by_pos = np.asarray(matrix.T @ s_by_element.T).T.reshape(n_t, n_pos)
        return np.ascontiguousarray(-by_pos[:, fp.case_pos], dtype=np.complex128)

    return to_case(s_el, gather), to_case(parts[0], zip_gather), to_case(parts[1], zip_gather)


def outside_operable_range(vm_pu: FloatArray) -> BoolArray:
    """Steps (rows) with an energised bus outside :data:`OPERABLE_VM_PU`."""
    low, high = OPERABLE_VM_PU
    with np.errstate(invalid="ignore"):
        bad = (vm_pu < low) | (vm_pu > high)
    return np.asarray(bad.any(axis=1), dtype=bool)


@dataclass
class NewtonPath:
    """Newton-Raphson on the fixed point's case (built once, on first need)."""

    fp: FixedPointNetwork
    tolerance_pu: float
    max_iterations: int
    enforce_q_lims: bool
    _case: NewtonCase | None = None

    @property
    def case(self) -> NewtonCase:
        """The Newton solver's view of the case."""
        if self._case is None:
            from gridtwin.network._newton import newton_case

            self._case = newton_case(self.fp.case)
        return self._case

    def solve(
        self, p_w: FloatArray, q_var: FloatArray, *, warm: bool, angles: bool, net: Any = None
    ) -> tuple[dict[str, FloatArray], BoolArray, IntArray]:
        """Solve the steps of ``p_w``, ``q_var`` (stacked set-points [W], [var]): their
        result fields (with ``gen_q_mvar`` when ``net`` is given: its generators'
        reactive power), which converged, and the iterations (``-1``: not converged).
        ``warm``: each step starts from the previous one's solution, else every step
        from pandapower's start."""
        from gridtwin.network._newton import solve_newton_steps

        s_inj, s_i, s_z = case_injections(self.fp, p_w, q_var)
        zip_loads = len(self.fp.zip_el) > 0
        steps = solve_newton_steps(
            self.case,
            s_inj,
            s_i_pu=s_i if zip_loads else None,
            s_z_pu=s_z if zip_loads else None,
            tolerance_pu=self.tolerance_pu,
            max_iterations=self.max_iterations,
            enforce_q_lims=self.enforce_q_lims,
            warm=warm,
        )
        ok = np.asarray(steps.converged, dtype=bool)
        fields = results_from(self.fp, p_w, q_var, steps.v_pu, ok, angles=angles)
        if net is not None:
            split = gen_split(net, self.fp, self.case.pv)
            gen_q = split.q_mvar(np.asarray(steps.q_pv_pu, dtype=np.float64), self.case.base_mva)
            gen_q[~ok] = np.nan
            fields["gen_q_mvar"] = gen_q
        iterations = np.where(ok, steps.iterations, -1).astype(np.int64)
        return fields, ok, iterations
