"""The fixed-point engine of the time series (balanced; the default).

Wraps :mod:`gridtwin.network._fixedpoint` (pandapower's own admittance matrix factorised
once, a compiled Z-bus iteration per step, warm-started from the step before, with ZIP
loads, three-winding transformers, tap and Q(U) controls) for the chunk loop of
:func:`gridtwin.network.simulate`. Steps it cannot solve are re-solved with
power-grid-model's Newton-Raphson, built on first need, where the model allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._static_elements import static_elements

if TYPE_CHECKING:
    from gridtwin.network._engine_pgm import PgmEngine

__all__ = ["FixedPointEngine"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class FixedPointEngine:
    """The fixed-point solver of :mod:`gridtwin.network._fixedpoint`; steps it cannot
    solve are re-solved with power-grid-model's Newton-Raphson (built on first need)."""

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
        self.injections = injections(model.net, prof, o.power_factor)
        no_profile = pd.DataFrame(index=prof.time_utc)
        for table, (frame, _sign) in static_elements(model.net).items():
            self.injections[table] = Injections(frame, no_profile, no_profile)
        self._fallback: PgmEngine | None = None
        self._warm: WarmStart | None = None  # the last solved step, for the next chunk
        self.unsettled_steps = 0  # steps whose tap control still wanted to move
        self.first_unsettled: int | None = None
        t3 = model.net["trafo3w"] if "trafo3w" in model.net else pd.DataFrame()
        in_service = t3["in_service"] if "in_service" in t3 else pd.Series([], dtype=bool)
        # power-grid-model (the Newton-Raphson fallback) does not model them
        self.trafo3w_in_service = bool(in_service.fillna(False).astype(bool).any())

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
                model.net,
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

    def solve(self, rows: Rows) -> Chunk:
        fp = self.fp
        n_c = n_rows(rows)
        p_w, q_var = np.zeros((n_c, fp.n_elements)), np.zeros((n_c, fp.n_elements))
        for table, inj in self.injections.items():
            a, b = fp.tables[table]
            if n_c and b > a:
                inj.fill(rows, p_w[:, a:b], q_var[:, a:b])
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
        if not failed.size:
            return Chunk(fields, failed, "", 0, iterations, taps, sgen_q)
        reason = f"no convergence within {self.max_iterations} fixed-point iterations"
        why = [
            name
            for name, used in (
                ("voltage-dependent loads", len(fp.zip_el) > 0),
                ("tap control", taps is not None),
                ("Q(U) control", sgen_q is not None),
                ("three-winding transformers", self.trafo3w_in_service),
            )
            if used
        ]
        if why:  # power-grid-model has none of these: no fallback
            message = f"{reason} ({', '.join(why)}: no Newton-Raphson fallback)"
            return Chunk(fields, failed, message, 0, iterations, taps, sgen_q)
        return self._resolve_failed(rows, fields, failed, iterations)

    def _resolve_failed(
        self,
        rows: Rows,
        fields: dict[str, FloatArray],
        failed: IntArray,
        iterations: IntArray,
    ) -> Chunk:
        """Re-solve the failed steps of a chunk with power-grid-model's Newton-Raphson."""
        if self._fallback is None:
            from gridtwin.network._engine_pgm import PgmEngine

            self._fallback = PgmEngine.build(self.model, self.prof, self.options, "newton_raphson")
        again = self._fallback.solve(row_positions(rows)[failed])
        for name, values in again.fields.items():
            if values.shape[1:] == fields[name].shape[1:]:
                fields[name][failed] = values
            else:  # out-of-service trafo3w (power-grid-model has none): no current
                fill = np.zeros((len(failed), *fields[name].shape[1:]))
                fill[again.failed] = np.nan
                fields[name][failed] = fill
        return Chunk(fields, failed[again.failed], again.message, int(failed.size), iterations)
