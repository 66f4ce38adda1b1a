"""The fixed-point engine of the time series (balanced; the default).

Wraps :mod:`gridtwin.network._fixedpoint` (pandapower's own admittance matrix factorised
once, a compiled Z-bus iteration per step, warm-started from the step before, with ZIP
loads, three-winding transformers, tap and Q(U) controls) for the chunk loop of
:func:`gridtwin.network.simulate`. Newton-Raphson on the same case
(:mod:`gridtwin.network._fp_newton`) solves every step of a net with voltage-controlled
generators, re-solves the steps the fixed point cannot solve, and checks the steps whose
fixed-point solution lies outside the operable voltage range (replacing it when it finds
the operable one); without tap or Q(U) controls, which it does not model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._chunks import (
    Chunk,
    EngineOptions,
    Injections,
    Rows,
    injections,
    n_rows,
    row_positions,
)
from gridtwin.network._fixedpoint import (
    FixedPointNetwork,
    WarmStart,
    build_fixed_point,
    solve_fixed_point,
)
from gridtwin.network._fp_controls import ReactivePowerControl, TapControl
from gridtwin.network._fp_newton import (
    OPERABLE_VM_PU,
    SAME_SOLUTION_PU,
    NewtonPath,
    outside_operable_range,
)
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._static_elements import static_elements, with_dcline_gens

__all__ = ["FixedPointEngine"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class FixedPointEngine:
    """The fixed-point solver of :mod:`gridtwin.network._fixedpoint`, with Newton-Raphson
    on the same case (:class:`~gridtwin.network._fp_newton.NewtonPath`, built on first
    need) for nets with PV buses, failed steps and out-of-range solutions."""

    def __init__(
        self,
        model: NetworkModel,
        prof: Profiles,
        o: EngineOptions,
        fp: FixedPointNetwork,
        max_iterations: int,
    ) -> None:
        self.model, self.prof, self.options = model, prof, o
        self.fp = fp
        self.max_iterations = max_iterations
        self.net = with_dcline_gens(model.net)
        self.injections = injections(self.net, prof, o.power_factor)
        no_profile = pd.DataFrame(index=prof.time_utc)
        gen = self.net["gen"] if "gen" in self.net else pd.DataFrame(columns=["bus"])
        self.injections["gen"] = Injections(gen, prof.gen_p_mw, no_profile)
        for table, (frame, _sign) in static_elements(self.net).items():
            self.injections[table] = Injections(frame, no_profile, no_profile)
        self.newton = NewtonPath(fp, o.error_tolerance_pu, o.max_iterations, o.enforce_q_lims)
        self._warm: WarmStart | None = None  # the last solved step, for the next chunk
        self.unsettled_steps = 0  # steps whose tap control still wanted to move
        self.first_unsettled: int | None = None
        self.outside_replaced = 0  # fixed-point steps replaced by the operable solution
        self.outside_confirmed = 0  # ... confirmed by Newton-Raphson
        self.outside_unchecked = 0  # ... that could not be checked (controls)

    @property
    def notes(self) -> list[str]:
        """What the run should say about the engine (after the last chunk)."""
        low, high = OPERABLE_VM_PU
        out = []
        if self.fp.n_pv:
            limits = "enforced" if self.options.enforce_q_lims else "not enforced"
            out.append(
                f"{self.fp.n_pv} voltage-controlled (PV) bus(es); their reactive limits "
                f"are {limits} (PowerFlowOptions.enforce_q_lims)"
            )
        if self.outside_replaced:
            out.append(
                f"{self.outside_replaced} step(s): the fixed point converged to voltages "
                f"outside {low}-{high} pu, a non-operable solution; replaced by the "
                "Newton-Raphson solution from pandapower's start (DC power flow)"
            )
        if self.outside_confirmed:
            out.append(
                f"{self.outside_confirmed} step(s) have voltages outside {low}-{high} pu; "
                "Newton-Raphson from pandapower's start finds the same solution"
            )
        if self.outside_unchecked:
            out.append(
                f"{self.outside_unchecked} step(s) have voltages outside {low}-{high} pu, "
                "not checked by Newton-Raphson (tap or Q(U) control): treat them with care"
            )
        return out

    @classmethod
    def build(
        cls,
        model: NetworkModel,
        prof: Profiles,
        o: EngineOptions,
        *,
        max_iterations: int,
        tap_controls: Sequence[TapControl] = (),
        reactive_controls: Sequence[ReactivePowerControl] = (),
    ) -> FixedPointEngine:
        try:
            fp = build_fixed_point(
                with_dcline_gens(model.net),
                trafo_model=o.trafo_model,
                tap_controls=tap_controls,
                reactive_controls=reactive_controls,
            )
        except InputError as exc:
            msg = f"{model.source}: {exc}"
            raise InputError(msg) from exc
        return cls(model, prof, o, fp, max_iterations)

    def chunk_size(self, chunk_steps: int, budget_bytes: int) -> int:
        """Steps per chunk: ``chunk_steps`` capped by the memory budget [bytes]."""
        fp = self.fp
        n_bus, n_br = len(fp.bus_pos), len(fp.branch_f)
        # set-points, kernel outputs, and what the caller derives from them per step
        per_step = 8 * (2 * fp.n_elements + 3 * (2 * n_bus + 3 * n_br + 8))
        return max(1, min(chunk_steps, budget_bytes // per_step))

    def _setpoints(self, rows: Rows) -> tuple[FloatArray, FloatArray]:
        """The stacked element set-points of ``rows`` [W], [var]."""
        fp = self.fp
        n_c = n_rows(rows)
        p_w, q_var = np.zeros((n_c, fp.n_elements)), np.zeros((n_c, fp.n_elements))
        for table, inj in self.injections.items():
            a, b = fp.tables[table]
            if n_c and b > a:
                inj.fill(rows, p_w[:, a:b], q_var[:, a:b])
        return p_w, q_var

    def solve(self, rows: Rows) -> Chunk:
        fp = self.fp
        p_w, q_var = self._setpoints(rows)
        if fp.n_pv:
            fields, ok, iterations = self.newton.solve(
                p_w, q_var, warm=True, angles=self.options.angles, net=self.net
            )
            n_gen = len(self.model.net["gen"]) if "gen" in self.model.net else 0
            gen_q = fields.pop("gen_q_mvar")[:, :n_gen]  # not the DC lines' own
            failed = np.flatnonzero(~ok).astype(np.int64)
            message = (
                f"no convergence within {self.options.max_iterations} Newton-Raphson iterations"
            )
            message = message if failed.size else ""
            return Chunk(fields, failed, message, 0, iterations, gen_q=gen_q)
        fields, iterations, self._warm = solve_fixed_point(
            fp,
            p_w,
            q_var,
            positions=row_positions(rows),
            warm=self._warm,
            tolerance_pu=self.options.error_tolerance_pu,
            max_iterations=self.max_iterations,
            threads=self.options.threading,
            angles=self.options.angles,
        )
        taps = fields.pop("trafo_tap_pos", None)
        sgen_q = fields.pop("sgen_q_mvar", None)
        unsettled = fields.pop("tap_unsettled", None)
        if unsettled is not None and unsettled.any():
            self.unsettled_steps += int(unsettled.sum())
            if self.first_unsettled is None:
                self.first_unsettled = int(row_positions(rows)[np.argmax(unsettled > 0)])
        failed = np.flatnonzero(iterations < 0).astype(np.int64)
        outside = np.flatnonzero((iterations >= 0) & outside_operable_range(fields["vm_pu"]))
        if taps is None and sgen_q is None:
            if not failed.size and not outside.size:
                return Chunk(fields, failed, "", 0, iterations)
            return self._resolve(p_w, q_var, fields, failed, outside.astype(np.int64), iterations)
        self.outside_unchecked += int(outside.size)
        if not failed.size:
            return Chunk(fields, failed, "", 0, iterations, taps, sgen_q)
        controls = " and ".join(
            name for name, used in (("tap", taps), ("Q(U)", sgen_q)) if used is not None
        )
        message = (
            f"no convergence within {self.max_iterations} fixed-point iterations ({controls} "
            "control: no Newton-Raphson fallback)"
        )
        return Chunk(fields, failed, message, 0, iterations, taps, sgen_q)

    def _resolve(
        self,
        p_w: FloatArray,
        q_var: FloatArray,
        fields: dict[str, FloatArray],
        failed: IntArray,
        outside: IntArray,
        iterations: IntArray,
    ) -> Chunk:
        """Solve the failed and the out-of-range steps again with Newton-Raphson from
        pandapower's start; take its solution where the fixed point failed or found a
        different one."""
        redo = np.union1d(failed, outside).astype(np.int64)
        if redo.size and redo[-1] == len(iterations) - 1:
            self._warm = None  # the next chunk starts afresh, not from a doubtful solution
        again, ok, _its = self.newton.solve(
            p_w[redo], q_var[redo], warm=False, angles=self.options.angles
        )
        was_failed = np.isin(redo, failed)
        with np.errstate(invalid="ignore"):
            differs = np.nanmax(np.abs(again["vm_pu"] - fields["vm_pu"][redo]), axis=1, initial=0)
        replace = ok & (was_failed | (differs > SAME_SOLUTION_PU))
        self.outside_replaced += int((replace & ~was_failed).sum())
        self.outside_confirmed += int((ok & ~was_failed & ~replace).sum())
        for name, values in again.items():
            fields[name][redo[replace]] = values[replace]
        lost = redo[~ok]  # not solved: failed, or an out-of-range solution not confirmed
        for values in fields.values():
            values[lost] = np.nan
        message = ""
        if lost.size:
            low, high = OPERABLE_VM_PU
            message = (
                f"neither the fixed point nor Newton-Raphson from pandapower's start found an "
                f"operable solution (none converged, or voltages outside {low}-{high} pu)"
            )
        return Chunk(fields, lost, message, int(failed.size), iterations)
