"""Time-series power flow, chunk by chunk, with two engines.

* The fixed point (:mod:`gridtwin.network._fixedpoint`, balanced; the default through
  ``method="auto"``): pandapower's own admittance matrix factorised once and a compiled
  per-step Z-bus iteration, with ZIP loads, three-winding transformers, on-load tap
  changers and Q(U) characteristics.
* power-grid-model (PGM; unbalanced runs, and on request): the net is converted once
  (:mod:`gridtwin.network._pgm`); every chunk is one PGM batch calculation whose update
  dataset carries the load/sgen/storage set-points of those steps, columnar and in input
  order, built from the profiles' numpy arrays. Iterative current by default (it
  factorises once), Newton-Raphson on request.

Both are validated once and fed chunk by chunk from the profiles (no copy of the whole
year). A step that fails (no convergence, singular system) is re-solved with PGM's
Newton-Raphson where the model allows it, else reported per step: ``converged=False``
and NaN results, or a :class:`ConvergenceError` naming its timestamp with
``strict=True``.

Two ways to keep the results (``keep``):

* ``"full"``: a :class:`PowerFlowResult` with every quantity at every step (``T x n``).
* ``"summary"``: a :class:`PowerFlowStatistics` with per-element running statistics; with
  ``output=`` the full results are streamed to Parquet chunk by chunk. Memory then stays
  bounded by one or two chunks whatever the number of steps, which is what large grids
  (thousands of buses over a year) need.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from power_grid_model import (
    CalculationMethod,
    ComponentType,
    DatasetType,
    PowerGridModel,
    initialize_array,
)
from power_grid_model.errors import PowerGridError  # type: ignore[attr-defined]

from gridtwin.errors import ConvergenceError, InputError
from gridtwin.network._fixedpoint import (
    MAX_CONTROL_ROUNDS,
    FixedPointNetwork,
    ReactivePowerControl,
    TapControl,
    WarmStart,
    build_fixed_point,
    solve_fixed_point,
)
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._pgm import PgmNetwork, TrafoModel, ZeroSequence, build_pgm_network
from gridtwin.network._results import (
    RESULT_FIELDS,
    ParquetStream,
    PowerFlowResult,
    PowerFlowStatistics,
    StatisticsAccumulator,
    StatisticsSpec,
    file_metadata,
)
from gridtwin.network._setpoints import PowerFactorControl, PowerFactorRule, power_factor_rule
from gridtwin.network._validate import validate

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "DEFAULT_CHUNK_STEPS",
    "Keep",
    "Method",
    "simulate",
    "tap_controls_from_net",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int, int], None]
Rows = slice | IntArray
Method = Literal["auto", "fixed_point", "newton_raphson", "iterative_current"]
Keep = Literal["full", "summary"]

#: Steps per PGM batch (upper bound; see :data:`CHUNK_BUDGET_BYTES`).
DEFAULT_CHUNK_STEPS = 4096
#: Memory budget of one chunk [bytes]: PGM update and output buffers plus the derived
#: arrays. Large grids get fewer steps per chunk than ``chunk_steps``.
CHUNK_BUDGET_BYTES = 256 * 2**20
_MAX_NOTES = 20
_METHODS: dict[str, CalculationMethod] = {
    "newton_raphson": CalculationMethod.newton_raphson,
    "iterative_current": CalculationMethod.iterative_current,
}
PgmMethod = Literal["newton_raphson", "iterative_current"]
#: Iteration limit of the fixed-point method when none is given (it needs more, cheaper
#: iterations than Newton-Raphson: about 5-8 on ordinary days, 20-40 near collapse).
FIXED_POINT_MAX_ITERATIONS = 100
#: Iteration limit of power-grid-model's methods when none is given.
PGM_MAX_ITERATIONS = 30


def _positions(
    n_steps: int,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None,
) -> IntArray:
    if steps is None:
        return np.arange(n_steps, dtype=np.int64)
    if isinstance(steps, slice):
        return np.arange(n_steps, dtype=np.int64)[steps]
    pos = np.asarray(steps, dtype=np.int64).reshape(-1)
    bad = pos[(pos < 0) | (pos >= n_steps)]
    if bad.size:
        msg = f"steps: position(s) {bad[:5].tolist()} are outside the profiles' 0..{n_steps - 1}"
        raise InputError(msg)
    return pos


def _as_rows(pos: IntArray) -> Rows:
    """A slice when the positions are consecutive (row views instead of copies)."""
    if len(pos) and int(pos[-1]) - int(pos[0]) == len(pos) - 1 and np.all(np.diff(pos) == 1):
        return slice(int(pos[0]), int(pos[-1]) + 1)
    return pos


class _Injections:
    """Set-points of one element table per step [W], [var].

    Profile columns where given, the static ``p_mw`` / ``q_mvar`` elsewhere, times
    ``scaling``. The profile frames are read through numpy views, chunk by chunk.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        p_frame: pd.DataFrame,
        q_frame: pd.DataFrame,
        rule: PowerFactorRule | None = None,
    ):
        index = table.index
        self.rule = rule  # cos φ(P) of sgens: q from the same step's p
        self.n = len(table)
        scaling = table["scaling"].to_numpy(dtype=float) if "scaling" in table else np.ones(self.n)
        self.scale = np.nan_to_num(scaling) * 1e6
        self.parts: list[tuple[FloatArray, IntArray, FloatArray | None, IntArray | None, bool]] = []
        for frame, col in ((p_frame, "p_mw"), (q_frame, "q_mvar")):
            static = (
                np.nan_to_num(table[col].to_numpy(dtype=float))
                if col in table
                else np.zeros(self.n)
            )
            if frame.shape[1] == 0:
                self.parts.append((static, np.zeros(0, dtype=np.int64), None, None, False))
                continue
            cols = index.get_indexer(frame.columns).astype(np.int64)
            keep = np.flatnonzero(cols >= 0)
            values = frame.to_numpy(dtype=np.float64)  # a view of the frame's block
            select = None if len(keep) == len(cols) else keep
            cols = cols[keep]
            identity = len(cols) == self.n and bool(np.all(cols == np.arange(self.n)))
            self.parts.append((static, cols, values, select, identity))

    def fill(self, rows: Rows, p_out: FloatArray, q_out: FloatArray) -> None:
        """Write the set-points of profile rows ``rows`` into ``p_out``, ``q_out``
        (``steps x n``) [W], [var]."""
        for (static, cols, values, select, identity), out in zip(
            self.parts, (p_out, q_out), strict=True
        ):
            if not identity:
                out[:] = static
            if values is not None and len(cols):
                block = values[rows]
                if select is not None:
                    block = block[:, select]
                if identity:
                    out[:] = block
                else:
                    out[:, cols] = block
            out *= self.scale
        if self.rule is not None:
            self.rule.apply(p_out, q_out)


@dataclass(frozen=True)
class _Updates:
    """Builds PGM batch update datasets for chunks of profile rows."""

    g: PgmNetwork
    loads: _Injections
    sgens: _Injections
    stores: _Injections | None
    symmetric: bool

    def build(self, rows: Rows) -> dict[ComponentType, Any]:
        n_c = (rows.stop - rows.start) if isinstance(rows, slice) else len(rows)
        g, nl = self.g, self.loads.n
        ns = self.stores.n if self.stores is not None else 0
        update: dict[ComponentType, Any] = {}
        # columnar, every element in input order: PGM needs no ids (sym_load = loads then
        # storage in balanced runs, storage only in unbalanced ones)
        n_sym = nl + ns if self.symmetric else ns
        if n_sym:
            p, q = np.empty((n_c, n_sym)), np.empty((n_c, n_sym))
            if self.symmetric:
                self.loads.fill(rows, p[:, :nl], q[:, :nl])
            if self.stores is not None and ns:
                self.stores.fill(rows, p[:, n_sym - ns :], q[:, n_sym - ns :])
            update[ComponentType.sym_load] = {"p_specified": p, "q_specified": q}
        if not self.symmetric and nl:
            p, q = np.empty((n_c, nl)), np.empty((n_c, nl))
            self.loads.fill(rows, p, q)
            share = g.load_phase_share[None, :, :]
            update[ComponentType.asym_load] = {
                "p_specified": p[:, :, None] * share,
                "q_specified": q[:, :, None] * share,
            }
        if self.sgens.n:
            p, q = np.empty((n_c, self.sgens.n)), np.empty((n_c, self.sgens.n))
            self.sgens.fill(rows, p, q)
            update[ComponentType.sym_gen] = {"p_specified": p, "q_specified": q}
        if not update:  # nothing varies: still one scenario per step
            src = initialize_array(
                DatasetType.update, ComponentType.source, (n_c, len(g.ids["ext_grid"].pgm_id))
            )
            src["id"] = g.ids["ext_grid"].pgm_id
            update[ComponentType.source] = src
        return update


def _take(update: Mapping[ComponentType, Any], idx: IntArray) -> dict[ComponentType, Any]:
    """The scenarios ``idx`` of a batch update dataset."""
    out: dict[ComponentType, Any] = {}
    for ct, data in update.items():
        out[ct] = {a: v[idx] for a, v in data.items()} if isinstance(data, dict) else data[idx]
    return out


def _output_spec(g: PgmNetwork, angles: bool = True) -> dict[ComponentType, Any]:
    """PGM output attributes to request (voltage angles only when they are kept)."""
    spec: dict[ComponentType, Any] = {
        ComponentType.node: ["u_pu", "u_angle", "energized"] if angles else ["u_pu", "energized"],
        ComponentType.source: ["p", "q"],
    }
    if ComponentType.line in g.input_data:
        spec[ComponentType.line] = ["i_from", "i_to", "p_from", "p_to"]
    if ComponentType.transformer in g.input_data:
        spec[ComponentType.transformer] = ["i_from", "i_to", "p_from", "p_to"]
    return spec


@dataclass(frozen=True)
class _Solver:
    """One PGM model and the options of every batch call."""

    pgm: PowerGridModel
    spec: dict[ComponentType, Any]
    symmetric: bool
    method: PgmMethod
    error_tolerance_pu: float
    max_iterations: int
    threading: int

    def _call(
        self, update: Mapping[ComponentType, Any], method: PgmMethod
    ) -> tuple[dict[ComponentType, Any], IntArray, str]:
        out = self.pgm.calculate_power_flow(
            symmetric=self.symmetric,
            error_tolerance=self.error_tolerance_pu,
            max_iterations=self.max_iterations,
            calculation_method=_METHODS[method],
            update_data=dict(update),
            threading=self.threading,
            output_component_types=self.spec,
            continue_on_batch_error=True,
        )
        err = self.pgm.batch_error
        if err is None:
            return out, np.zeros(0, dtype=np.int64), ""
        failed = np.asarray(err.failed_scenarios, dtype=np.int64)
        text = err.error_messages[0].splitlines()[0] if err.error_messages else "failed"
        return out, failed, text

    def solve(self, update: Mapping[ComponentType, Any]) -> _Solved:
        """Solve one chunk; with iterative current, re-solve failed steps with
        Newton-Raphson."""
        out, failed, text = self._call(update, self.method)
        fallback = 0
        if failed.size and self.method != "newton_raphson":
            again, still, text2 = self._call(_take(update, failed), "newton_raphson")
            for ct, attrs in again.items():
                for attr, values in attrs.items():
                    out[ct][attr][failed] = values
            fallback = int(failed.size)
            failed, text = failed[still], text2
        return _Solved(out, failed, text, fallback)


@dataclass(frozen=True)
class _Solved:
    out: dict[ComponentType, Any]
    failed: IntArray
    message: str
    fallback: int


@dataclass(frozen=True)
class _Derive:
    """Turns PGM output of one chunk into the result fields (pandapower units)."""

    symmetric: bool
    has_line: bool
    has_trafo: bool
    n_line: int
    n_trafo: int
    i_max_ka: FloatArray
    vn_hv: FloatArray
    vn_lv: FloatArray
    tr_rating: FloatArray

    @classmethod
    def of(cls, net: Any, spec: Mapping[ComponentType, Any], symmetric: bool) -> _Derive:
        line, tr = net.line, net.trafo
        with np.errstate(divide="ignore", invalid="ignore"):
            i_max_ka = (line["max_i_ka"] * line["df"] * line["parallel"]).to_numpy(dtype=float)
        return cls(
            symmetric=symmetric,
            has_line=ComponentType.line in spec,
            has_trafo=ComponentType.transformer in spec,
            n_line=len(line),
            n_trafo=len(tr),
            i_max_ka=i_max_ka,
            vn_hv=tr["vn_hv_kv"].to_numpy(dtype=float),
            vn_lv=tr["vn_lv_kv"].to_numpy(dtype=float),
            tr_rating=(tr["sn_mva"] * tr["parallel"] * tr["df"]).to_numpy(dtype=float),
        )

    def __call__(self, out: Mapping[ComponentType, Any], ok: BoolArray) -> dict[str, FloatArray]:
        """Result fields of one chunk; NaN where ``ok`` is False."""
        sym = self.symmetric
        n_c = len(ok)
        ph = () if sym else (3,)

        def psum(a: FloatArray) -> FloatArray:
            return a if sym else a.sum(axis=-1)

        def pmax(a: FloatArray) -> FloatArray:
            return a if sym else a.max(axis=-1)

        node = out[ComponentType.node]
        energized = node["energized"].astype(bool)
        if not sym:
            energized = energized[:, :, None]
        chunk: dict[str, FloatArray] = {"vm_pu": np.where(energized, node["u_pu"], np.nan)}
        if "u_angle" in node:  # not requested when only statistics are kept
            chunk["va_degree"] = np.where(energized, np.rad2deg(node["u_angle"]), np.nan)
        loss = np.zeros(n_c)
        if self.has_line:
            ln = out[ComponentType.line]
            i_ka = np.maximum(ln["i_from"], ln["i_to"]) / 1e3
            chunk["line_i_ka"] = i_ka
            with np.errstate(divide="ignore", invalid="ignore"):
                chunk["line_loading_percent"] = pmax(i_ka) / self.i_max_ka * 100.0
            chunk["line_p_from_mw"] = psum(ln["p_from"]) / 1e6
            loss += (psum(ln["p_from"]) + psum(ln["p_to"])).sum(axis=1)
        else:
            chunk["line_i_ka"] = np.empty((n_c, 0, *ph))
            chunk["line_loading_percent"] = np.empty((n_c, 0))
            chunk["line_p_from_mw"] = np.empty((n_c, 0))
        if self.has_trafo:
            t = out[ComponentType.transformer]
            i_hv, i_lv = t["i_from"] / 1e3, t["i_to"] / 1e3
            chunk["trafo_i_hv_ka"], chunk["trafo_i_lv_ka"] = i_hv, i_lv
            with np.errstate(divide="ignore", invalid="ignore"):
                chunk["trafo_loading_percent"] = (
                    np.maximum(pmax(i_hv) * self.vn_hv, pmax(i_lv) * self.vn_lv)
                    * math.sqrt(3.0)
                    / self.tr_rating
                    * 100.0
                )
            loss += (psum(t["p_from"]) + psum(t["p_to"])).sum(axis=1)
        else:
            chunk["trafo_i_hv_ka"] = np.empty((n_c, 0, *ph))
            chunk["trafo_i_lv_ka"] = np.empty((n_c, 0, *ph))
            chunk["trafo_loading_percent"] = np.empty((n_c, 0))
        # three-winding transformers are simulated by the fixed point only (validation
        # refuses them here): every engine returns the same fields
        for side in ("hv", "mv", "lv"):
            chunk[f"trafo3w_i_{side}_ka"] = np.empty((n_c, 0, *ph))
        chunk["trafo3w_loading_percent"] = np.empty((n_c, 0))
        src = out[ComponentType.source]
        chunk["ext_grid_p_mw"] = psum(src["p"]) / 1e6
        chunk["ext_grid_q_mvar"] = psum(src["q"]) / 1e6
        chunk["p_loss_mw"] = loss / 1e6
        bad = ~ok
        if bad.any():
            for name, values in chunk.items():
                values = np.array(values, dtype=np.float64)
                values[bad] = np.nan
                chunk[name] = values
        return chunk


_LABELS = {
    "fixed_point": "fixed point (Z-bus) over pandapower's admittance matrix",
    "iterative_current": "power-grid-model iterative current",
    "newton_raphson": "power-grid-model Newton-Raphson",
}


def _choose_method(
    method: str, symmetric: bool
) -> Literal["fixed_point", "newton_raphson", "iterative_current"]:
    """``auto``: the fixed point for balanced runs, iterative current for unbalanced ones."""
    if method == "auto":
        return "fixed_point" if symmetric else "iterative_current"
    if method == "fixed_point":
        if not symmetric:
            msg = (
                "method='fixed_point' solves balanced power flows only; use "
                "'iterative_current' or 'newton_raphson' with symmetric=False"
            )
            raise InputError(msg)
        return "fixed_point"
    if method == "iterative_current":
        return "iterative_current"
    if method == "newton_raphson":
        return "newton_raphson"
    msg = (
        "method must be one of 'auto', 'fixed_point', 'iterative_current', "
        f"'newton_raphson'; got {method!r}"
    )
    raise InputError(msg)


def tap_controls_from_net(net: Any, *, tol_pu: float = 1e-3) -> tuple[TapControl, ...]:
    """Tap controls described in a pandapower net.

    * pandapower ``DiscreteTapControl`` objects in ``net.controller`` (in service, on a
      ``trafo``): their ``vm_lower_pu``, ``vm_upper_pu`` and side;
    * SimBench's transformer columns ``autoTap`` (true), ``autoTapSetp`` [pu] and
      ``autoTapSide``: the band of ``DiscreteTapControl.from_tap_step_percent``, i.e.
      set point +- (tap step / 2 + ``tol_pu``).

    A transformer named by both is taken from ``net.controller``.
    """
    found: dict[int, TapControl] = {}
    ctrl = net.get("controller") if hasattr(net, "get") else None
    if isinstance(ctrl, pd.DataFrame) and len(ctrl):
        for _, row in ctrl.iterrows():
            obj = row.get("object")
            if type(obj).__name__ != "DiscreteTapControl" or not bool(row.get("in_service", True)):
                continue
            if getattr(obj, "element", "trafo") != "trafo":
                continue
            index: Any = getattr(obj, "element_index", None)
            if index is None:
                continue
            side: Literal["lv", "hv"] = "hv" if getattr(obj, "side", "lv") == "hv" else "lv"
            lower = float(getattr(obj, "vm_lower_pu", np.nan))
            upper = float(getattr(obj, "vm_upper_pu", np.nan))
            for tid in np.atleast_1d(np.asarray(index)):
                found[int(tid)] = TapControl(int(tid), lower, upper, side)
    tr = net.trafo
    if "autoTap" in tr and "autoTapSetp" in tr:
        auto = pd.to_numeric(tr["autoTap"], errors="coerce").fillna(0).to_numpy() != 0
        for tid in tr.index[auto]:
            if int(tid) in found:
                continue
            setp = float(pd.to_numeric(tr.at[tid, "autoTapSetp"], errors="coerce"))
            step = float(pd.to_numeric(tr.at[tid, "tap_step_percent"], errors="coerce"))
            if not (np.isfinite(setp) and np.isfinite(step)):
                msg = f"trafo {tid}: autoTap without a numeric autoTapSetp / tap_step_percent"
                raise InputError(msg)
            at: Literal["lv", "hv"] = (
                "hv" if str(tr.at[tid, "autoTapSide"]).lower() == "hv" else "lv"
            )
            found[int(tid)] = TapControl.from_set_point(
                int(tid), setp, step, side=at, tol_pu=tol_pu
            )
    return tuple(found[k] for k in sorted(found))


def _n_rows(rows: Rows) -> int:
    return (rows.stop - rows.start) if isinstance(rows, slice) else len(rows)


def _row_positions(rows: Rows) -> IntArray:
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop, dtype=np.int64)
    return np.asarray(rows, dtype=np.int64)


@dataclass(frozen=True)
class _Chunk:
    """Result fields of one chunk of steps and which of them failed."""

    fields: dict[str, FloatArray]
    failed: IntArray
    message: str
    fallback: int
    iterations: IntArray | None = None  # fixed point only
    taps: FloatArray | None = None  # fixed point with tap controls: (steps, n_controlled)
    sgen_q: FloatArray | None = None  # fixed point with Q(U): (steps, n_controlled) [Mvar]


@dataclass(frozen=True)
class _PgmOptions:
    symmetric: bool
    load_phases: Mapping[int, str] | None
    power_factor: PowerFactorRule | None
    zero_sequence: ZeroSequence
    trafo_model: TrafoModel
    error_tolerance_pu: float
    max_iterations: int
    threading: int
    angles: bool


def _injections(
    net: Any, prof: Profiles, rule: PowerFactorRule | None = None
) -> dict[str, _Injections]:
    """Set-point sources of the loads, sgens and storage units (those present)."""
    out = {
        "load": _Injections(net.load, prof.load_p_mw, prof.load_q_mvar),
        "sgen": _Injections(net.sgen, prof.sgen_p_mw, prof.sgen_q_mvar, rule),
    }
    storage = net.storage if "storage" in net else None
    if storage is not None and len(storage):
        out["storage"] = _Injections(storage, prof.storage_p_mw, prof.storage_q_mvar)
    return out


@dataclass(frozen=True)
class _PgmEngine:
    """power-grid-model batches: update dataset, solve, result fields."""

    g: PgmNetwork
    updates: _Updates
    solver: _Solver
    derive: _Derive

    @classmethod
    def build(
        cls, model: NetworkModel, prof: Profiles, o: _PgmOptions, method: PgmMethod
    ) -> _PgmEngine:
        net = model.net
        g = build_pgm_network(
            net,
            symmetric=o.symmetric,
            load_phases=o.load_phases,
            zero_sequence=o.zero_sequence,
            trafo_model=o.trafo_model,
        )
        try:
            pgm = PowerGridModel(g.input_data, system_frequency=g.f_hz)
        except PowerGridError as exc:
            msg = (
                f"{model.source}: power-grid-model rejected the converted network: "
                f"{str(exc).splitlines()[0]}"
            )
            raise InputError(msg) from exc
        inj = _injections(net, prof, o.power_factor)
        updates = _Updates(
            g=g,
            loads=inj["load"],
            sgens=inj["sgen"],
            stores=inj.get("storage"),
            symmetric=o.symmetric,
        )
        spec = _output_spec(g, angles=o.angles)
        solver = _Solver(
            pgm=pgm,
            spec=spec,
            symmetric=o.symmetric,
            method=method,
            error_tolerance_pu=o.error_tolerance_pu,
            max_iterations=o.max_iterations,
            threading=o.threading,
        )
        return cls(g, updates, solver, _Derive.of(net, spec, o.symmetric))

    def chunk_size(self, chunk_steps: int) -> int:
        return _chunk_size(chunk_steps, self.g, self.solver.symmetric)

    def solve(self, rows: Rows) -> _Chunk:
        if _n_rows(rows) == 0:
            empty = _empty_output(self.g, self.solver.spec, self.solver.symmetric)
            return _Chunk(self.derive(empty, np.zeros(0, bool)), np.zeros(0, np.int64), "", 0)
        solved = self.solver.solve(self.updates.build(rows))
        ok = np.ones(_n_rows(rows), dtype=bool)
        ok[solved.failed] = False
        return _Chunk(self.derive(solved.out, ok), solved.failed, solved.message, solved.fallback)


class _FixedPointEngine:
    """The fixed-point solver of :mod:`gridtwin.network._fixedpoint`; steps it cannot
    solve are re-solved with power-grid-model's Newton-Raphson (built on first need)."""

    def __init__(
        self,
        model: NetworkModel,
        prof: Profiles,
        o: _PgmOptions,
        fp: FixedPointNetwork,
        max_iterations: int,
    ) -> None:
        self.model, self.prof, self.options = model, prof, o
        self.fp = fp
        self.max_iterations = max_iterations
        self.injections = _injections(model.net, prof, o.power_factor)
        self._fallback: _PgmEngine | None = None
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
        o: _PgmOptions,
        *,
        max_iterations: int,
        tap_controls: Sequence[TapControl] = (),
        reactive_controls: Sequence[ReactivePowerControl] = (),
    ) -> _FixedPointEngine:
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

    def chunk_size(self, chunk_steps: int) -> int:
        fp = self.fp
        n_bus, n_br = len(fp.bus_pos), len(fp.branch_f)
        # set-points, kernel outputs, and what the caller derives from them per step
        per_step = 8 * (2 * fp.n_elements + 3 * (2 * n_bus + 3 * n_br + 8))
        return max(1, min(chunk_steps, CHUNK_BUDGET_BYTES // per_step))

    def solve(self, rows: Rows) -> _Chunk:
        fp = self.fp
        n_c = _n_rows(rows)
        p_w, q_var = np.zeros((n_c, fp.n_elements)), np.zeros((n_c, fp.n_elements))
        for table, inj in self.injections.items():
            a, b = fp.tables[table]
            if n_c and b > a:
                inj.fill(rows, p_w[:, a:b], q_var[:, a:b])
        fields, iterations, self._warm = solve_fixed_point(
            fp,
            p_w,
            q_var,
            positions=_row_positions(rows),
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
                self.first_unsettled = int(_row_positions(rows)[np.argmax(unsettled > 0)])
        failed = np.flatnonzero(iterations < 0).astype(np.int64)
        if not failed.size:
            return _Chunk(fields, failed, "", 0, iterations, taps, sgen_q)
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
            return _Chunk(fields, failed, message, 0, iterations, taps, sgen_q)
        if self._fallback is None:
            self._fallback = _PgmEngine.build(self.model, self.prof, self.options, "newton_raphson")
        again = self._fallback.solve(_row_positions(rows)[failed])
        for name, values in again.fields.items():
            if values.shape[1:] == fields[name].shape[1:]:
                fields[name][failed] = values
            else:  # out-of-service trafo3w (power-grid-model has none): no current
                fill = np.zeros((len(failed), *fields[name].shape[1:]))
                fill[again.failed] = np.nan
                fields[name][failed] = fill
        return _Chunk(fields, failed[again.failed], again.message, int(failed.size), iterations)


def _chunk_size(chunk_steps: int, g: PgmNetwork, symmetric: bool) -> int:
    """``chunk_steps`` capped so that one chunk stays within :data:`CHUNK_BUDGET_BYTES`."""
    n = {ct: len(arr) for ct, arr in g.input_data.items()}
    ph = 1 if symmetric else 3

    def count(ct: ComponentType) -> int:
        return n.get(ct, 0)

    update = 2 * (
        count(ComponentType.sym_load)
        + count(ComponentType.sym_gen)
        + 3 * count(ComponentType.asym_load)
    )
    output = ph * (
        3 * count(ComponentType.node)
        + 4 * count(ComponentType.line)
        + 4 * count(ComponentType.transformer)
        + 2 * count(ComponentType.source)
    )
    derived = (
        2
        * ph
        * (
            2 * count(ComponentType.node)
            + 3 * count(ComponentType.line)
            + 3 * count(ComponentType.transformer)
            + 2 * count(ComponentType.source)
        )
    )
    per_step = 8 * (update + output + derived + 8)
    return max(1, min(chunk_steps, CHUNK_BUDGET_BYTES // per_step))


class _FullSink:
    """Collects every chunk into ``T x n`` arrays."""

    def __init__(self, n_t: int, first: Mapping[str, FloatArray]) -> None:
        self.arrays = {
            name: np.full((n_t, *first[name].shape[1:]), np.nan) for name in RESULT_FIELDS
        }
        self.converged = np.zeros(n_t, dtype=bool)
        self.iterations: IntArray | None = None

    def add(
        self,
        offset: int,
        chunk: Mapping[str, FloatArray],
        ok: BoolArray,
        iterations: IntArray | None = None,
    ) -> None:
        sl = slice(offset, offset + len(ok))
        for name in RESULT_FIELDS:
            self.arrays[name][sl] = chunk[name]
        self.converged[sl] = ok
        if iterations is not None:
            if self.iterations is None:
                self.iterations = np.full(len(self.converged), -1, dtype=np.int64)
            self.iterations[sl] = iterations


@overload
def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
    symmetric: bool = True,
    load_phases: Mapping[int, str] | None = None,
    zero_sequence: ZeroSequence = "net",
    trafo_model: TrafoModel = "t",
    output: str | Path | None = None,
    strict: bool = False,
    threading: int = -1,
    error_tolerance_pu: float = 1e-10,
    max_iterations: int | None = None,
    progress: Progress | None = None,
    method: Method = "auto",
    keep: Literal["full"] = "full",
    statistics: StatisticsSpec | None = None,
    tap_controls: Sequence[TapControl] | None = None,
    reactive_controls: Sequence[ReactivePowerControl] | None = None,
    power_factor_controls: Sequence[PowerFactorControl] | None = None,
) -> PowerFlowResult: ...


@overload
def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
    symmetric: bool = True,
    load_phases: Mapping[int, str] | None = None,
    zero_sequence: ZeroSequence = "net",
    trafo_model: TrafoModel = "t",
    output: str | Path | None = None,
    strict: bool = False,
    threading: int = -1,
    error_tolerance_pu: float = 1e-10,
    max_iterations: int | None = None,
    progress: Progress | None = None,
    method: Method = "auto",
    keep: Literal["summary"],
    statistics: StatisticsSpec | None = None,
    tap_controls: Sequence[TapControl] | None = None,
    reactive_controls: Sequence[ReactivePowerControl] | None = None,
    power_factor_controls: Sequence[PowerFactorControl] | None = None,
) -> PowerFlowStatistics: ...


def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
    symmetric: bool = True,
    load_phases: Mapping[int, str] | None = None,
    zero_sequence: ZeroSequence = "net",
    trafo_model: TrafoModel = "t",
    output: str | Path | None = None,
    strict: bool = False,
    threading: int = -1,
    error_tolerance_pu: float = 1e-10,
    max_iterations: int | None = None,
    progress: Progress | None = None,
    method: Method = "auto",
    keep: Keep = "full",
    statistics: StatisticsSpec | None = None,
    tap_controls: Sequence[TapControl] | None = None,
    reactive_controls: Sequence[ReactivePowerControl] | None = None,
    power_factor_controls: Sequence[PowerFactorControl] | None = None,
) -> PowerFlowResult | PowerFlowStatistics:
    """Run a power flow for every (selected) profile step.

    Parameters
    ----------
    model : NetworkModel
        The grid (validated first; errors raise :class:`InputError`).
    profiles : Profiles, optional
        Set-points per step; defaults to ``model.profiles``.
    steps : slice or sequence of int, optional
        Positions in the profiles to simulate (e.g. ``slice(0, 672)`` for the first week);
        default all.
    chunk_steps : int
        Steps per power-grid-model batch (at most; large grids get fewer so that a chunk
        stays within :data:`CHUNK_BUDGET_BYTES`).
    symmetric : bool
        Balanced (positive-sequence) power flow, or unbalanced (three-phase) with
        ``load_phases``.
    load_phases : Mapping[int, str], optional
        Unbalanced only: load index -> ``'a'``, ``'b'``, ``'c'`` (all its power on that
        phase) or ``'abc'`` (balanced); loads not listed are balanced.
    zero_sequence : {"net", "lv_cable_4x"}
        Unbalanced only: line zero-sequence data from the net, or the documented four-wire
        cable assumption for missing values (see :mod:`gridtwin.network._pgm`).
    trafo_model : {"t", "pi"}
        Transformer equivalent circuit; ``"t"`` matches pandapower's default.
    output : str or Path, optional
        Also write the results as long-format Parquet (see
        :meth:`PowerFlowResult.write_parquet`). With ``keep="summary"`` the file is
        written chunk by chunk while simulating; it appears (atomically) when complete.
    strict : bool
        Raise :class:`ConvergenceError` at the first step that fails instead of marking it.
    threading : int
        ``-1`` sequential (one core), ``0`` all hardware threads, ``n > 0`` that many
        threads (the fixed point's kernel threads, or power-grid-model's; with
        power-grid-model and other than ``-1`` the next chunk is also solved while the
        previous one is post-processed).
    error_tolerance_pu : float
        Convergence tolerance on the voltage [pu].
    max_iterations : int, optional
        Iteration limit per step; default 100 for the fixed point, 30 for
        power-grid-model's methods.
    progress : callable, optional
        Called as ``progress(steps_done, steps_total)`` after each chunk.
    method : {"auto", "fixed_point", "iterative_current", "newton_raphson"}
        Power-flow method. ``"auto"`` (default): the fixed point for balanced runs,
        iterative current for unbalanced ones.

        * ``"fixed_point"`` (balanced only): pandapower's own admittance matrix,
          factorised once, and a Z-bus fixed-point iteration per step in a compiled
          kernel (:mod:`gridtwin.network._fixedpoint`); the fastest, and the only one
          with voltage-dependent (ZIP) loads and three-winding transformers
          (``trafo3w``; their results are ``trafo3w_*`` of the result). Agreement with
          pandapower's Newton-Raphson ~1e-12 pu at the default tolerance.
        * ``"iterative_current"``: power-grid-model's iterative current (factorises once;
          balanced and unbalanced).
        * ``"newton_raphson"``: power-grid-model's Newton-Raphson.

        Steps where the fixed point or iterative current fails are re-solved with
        power-grid-model's Newton-Raphson (noted in ``notes``), except with ZIP loads,
        tap or Q(U) controls or in-service three-winding transformers, which
        power-grid-model does not model (such steps stay failed).
    keep : {"full", "summary"}
        ``"full"``: return every quantity at every step (:class:`PowerFlowResult`).
        ``"summary"``: return per-element running statistics
        (:class:`PowerFlowStatistics`) whose size does not grow with ``T x n``; combine
        with ``output=`` to keep the full results on disk.
    statistics : StatisticsSpec, optional
        Voltage bands and loading limits counted with ``keep="summary"`` (default
        ±10 % and 100 %).
    tap_controls : sequence of TapControl, optional
        On-load tap changers that keep a bus voltage in a band (fixed point only; see
        :class:`~gridtwin.network.TapControl` and :func:`tap_controls_from_net`). The
        tap positions per step are in ``trafo_tap_pos`` of the result.
    reactive_controls : sequence of ReactivePowerControl, optional
        Q(U) characteristics of sgens (fixed point only; see
        :class:`~gridtwin.network.ReactivePowerControl`). Their reactive power per step
        is in ``sgen_q_mvar`` of the result.
    power_factor_controls : sequence of PowerFactorControl, optional
        cos φ(P) characteristics of sgens: their reactive power follows from the same
        step's active power (every method; see
        :class:`~gridtwin.network.PowerFactorControl`).

    Returns
    -------
    PowerFlowResult or PowerFlowStatistics
        One row (or one statistics update) per selected step; failed steps are NaN with
        ``converged=False``.

    Raises
    ------
    InputError
        The model or the profiles do not validate, or arguments are invalid.
    ConvergenceError
        With ``strict=True``, naming the first failing step.
    """
    prof = profiles if profiles is not None else model.profiles
    if prof is None:
        msg = (
            f"{model.source}: no profiles to simulate; load the grid with profiles or "
            "pass profiles="
        )
        raise InputError(msg)
    if chunk_steps < 1:
        msg = f"chunk_steps must be >= 1; got {chunk_steps}"
        raise InputError(msg)
    if symmetric and load_phases:
        msg = "load_phases needs an unbalanced calculation: pass symmetric=False"
        raise InputError(msg)
    if keep not in ("full", "summary"):
        msg = f"keep must be 'full' or 'summary'; got {keep!r}"
        raise InputError(msg)
    if statistics is not None and keep != "summary":
        msg = "statistics= is only used with keep='summary'"
        raise InputError(msg)
    chosen = _choose_method(method, symmetric)
    controls = tuple(tap_controls or ())
    q_controls = tuple(reactive_controls or ())
    if (controls or q_controls) and chosen != "fixed_point":
        msg = (
            "tap_controls and reactive_controls need the fixed-point solver: a balanced "
            "run with method='auto' or 'fixed_point'"
        )
        raise InputError(msg)
    report = validate(model, prof, solver="fixed_point" if chosen == "fixed_point" else "pgm")
    report.raise_if_errors()
    pos = _positions(prof.n_steps, steps)
    net = model.net
    angles = keep == "full" or output is not None
    rule = power_factor_rule(
        net.sgen,
        tuple(power_factor_controls or ()),
        excluded=[sid for c in q_controls for sid in c.sgens],
    )
    options = _PgmOptions(
        symmetric=symmetric,
        load_phases=load_phases,
        power_factor=rule,
        zero_sequence=zero_sequence,
        trafo_model=trafo_model,
        error_tolerance_pu=error_tolerance_pu,
        max_iterations=max_iterations if max_iterations is not None else PGM_MAX_ITERATIONS,
        threading=threading,
        angles=angles,
    )
    engine: _PgmEngine | _FixedPointEngine
    if chosen == "fixed_point":
        engine = _FixedPointEngine.build(
            model,
            prof,
            replace(options, max_iterations=PGM_MAX_ITERATIONS),  # for its NR fallback
            max_iterations=(
                max_iterations if max_iterations is not None else FIXED_POINT_MAX_ITERATIONS
            ),
            tap_controls=controls,
            reactive_controls=q_controls,
        )
    else:
        engine = _PgmEngine.build(model, prof, options, chosen)
    ids = {
        "bus_ids": np.asarray(net.bus.index, dtype=np.int64),
        "line_ids": np.asarray(net.line.index, dtype=np.int64),
        "trafo_ids": np.asarray(net.trafo.index, dtype=np.int64),
        # three-winding transformers: results from the fixed point only
        "trafo3w_ids": np.asarray(
            net.trafo3w.index if chosen == "fixed_point" and "trafo3w" in net else [],
            dtype=np.int64,
        ),
        "ext_grid_ids": np.asarray(net.ext_grid.index, dtype=np.int64),
    }
    notes = [f"validation warning: {w}" for w in report.warnings[:_MAX_NOTES]]
    if len(report.warnings) > _MAX_NOTES:
        notes.append(f"... and {len(report.warnings) - _MAX_NOTES} more validation warnings")
    notes.append(f"solver: {_LABELS[chosen]}")
    step_len = prof.step if prof.n_steps >= 2 else pd.Timedelta(minutes=15)
    time_utc = pd.DatetimeIndex(prof.time_utc[pos], name="time_utc")
    n_t = len(pos)
    size = engine.chunk_size(chunk_steps)
    starts = list(range(0, n_t, size))

    stats = (
        StatisticsAccumulator(
            statistics or StatisticsSpec(), ids, symmetric, n_t, time_utc=time_utc
        )
        if keep == "summary"
        else None
    )
    full: _FullSink | None = None
    stream = (
        ParquetStream(
            output,
            file_metadata(
                name=model.name, symmetric=symmetric, notes=notes, step_duration=step_len, ids=ids
            ),
            ids,
            symmetric,
        )
        if output is not None and keep == "summary"
        else None
    )
    messages: list[str] = []
    tap_ids = np.asarray([c.trafo for c in controls], dtype=np.int64)
    tap_pos = np.full((n_t, len(controls)), np.nan) if controls else None
    qu_ids = engine.fp.qu.sgen_ids if isinstance(engine, _FixedPointEngine) else None
    sgen_q = np.full((n_t, len(qu_ids)), np.nan) if q_controls and qu_ids is not None else None
    fallback = 0

    def job(start: int) -> _Chunk:
        return engine.solve(_as_rows(pos[start : start + size]))

    pool = (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridtwin-pgm")
        if isinstance(engine, _PgmEngine) and threading != -1 and len(starts) > 1
        else None
    )
    try:
        pending: Future[_Chunk] | None = pool.submit(job, starts[0]) if pool else None
        for k, start in enumerate(starts):
            rows = pos[start : start + size]
            n_c = len(rows)
            try:
                if pool is not None and pending is not None:
                    current = pending
                    pending = pool.submit(job, starts[k + 1]) if k + 1 < len(starts) else None
                    solved = current.result()
                else:
                    solved = job(start)
            except PowerGridError as exc:
                msg = (
                    f"{model.source}: power-grid-model failed on the steps starting "
                    f"{prof.time_utc[rows[0]].isoformat()}: {str(exc).splitlines()[0]}"
                )
                raise InputError(msg) from exc
            fallback += solved.fallback
            ok = np.ones(n_c, dtype=bool)
            failed = solved.failed
            if failed.size:
                ok[failed] = False
                first = prof.time_utc[rows[failed[0]]]
                if strict:
                    msg = (
                        f"{model.source}: power flow failed at {first.isoformat()} (step "
                        f"{int(rows[failed[0]])}) and {len(failed) - 1} other step(s) of "
                        f"this chunk: {solved.message}"
                    )
                    raise ConvergenceError(msg)
                messages.append(
                    f"{len(failed)} step(s) failed from {first.isoformat()}: {solved.message}"
                )
            chunk = solved.fields
            if tap_pos is not None and solved.taps is not None:
                tap_pos[start : start + n_c] = solved.taps
            if sgen_q is not None and solved.sgen_q is not None:
                sgen_q[start : start + n_c] = solved.sgen_q
            if stats is not None:
                stats.add(start, chunk, ok)
            else:
                if full is None:
                    full = _FullSink(n_t, chunk)
                full.add(start, chunk, ok, solved.iterations)
            if stream is not None:
                stream.write(time_utc[start : start + n_c], chunk, ok)
            if progress is not None:
                progress(min(start + n_c, n_t), n_t)
    except BaseException:
        if stream is not None:
            stream.abort()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if fallback:
        notes.append(
            f"{fallback} step(s) did not converge with {_LABELS[chosen]} and were "
            "re-solved with Newton-Raphson"
        )
    notes += messages
    if isinstance(engine, _FixedPointEngine) and engine.unsettled_steps:
        first = prof.time_utc[engine.first_unsettled or 0].isoformat()
        notes.append(
            f"tap control did not settle within {MAX_CONTROL_ROUNDS} rounds at "
            f"{engine.unsettled_steps} step(s) (first {first}): the voltage is still out "
            "of band there with the last tap positions (hunting; pandapower would stop "
            "with ControllerNotConverged)"
        )
    if stats is not None:
        if stream is not None:
            stream.close(
                file_metadata(
                    name=model.name,
                    symmetric=symmetric,
                    notes=notes,
                    step_duration=step_len,
                    ids=ids,
                )
            )
        summary = stats.finish(time_utc, name=model.name, notes=notes, step_duration=step_len)
        if tap_pos is not None:
            summary = replace(summary, tap_trafo_ids=tap_ids, trafo_tap_pos=tap_pos)
        if sgen_q is not None:
            summary = replace(summary, q_control_sgen_ids=qu_ids, sgen_q_mvar=sgen_q)
        return summary
    if full is None:  # no steps selected
        full = _FullSink(0, engine.solve(np.zeros(0, dtype=np.int64)).fields)
    a = full.arrays
    result = PowerFlowResult(
        time_utc=time_utc,
        bus_ids=ids["bus_ids"],
        line_ids=ids["line_ids"],
        trafo_ids=ids["trafo_ids"],
        ext_grid_ids=ids["ext_grid_ids"],
        vm_pu=a["vm_pu"],
        va_degree=a["va_degree"],
        line_i_ka=a["line_i_ka"],
        line_loading_percent=a["line_loading_percent"],
        line_p_from_mw=a["line_p_from_mw"],
        trafo_i_hv_ka=a["trafo_i_hv_ka"],
        trafo_i_lv_ka=a["trafo_i_lv_ka"],
        trafo_loading_percent=a["trafo_loading_percent"],
        ext_grid_p_mw=a["ext_grid_p_mw"],
        ext_grid_q_mvar=a["ext_grid_q_mvar"],
        trafo3w_ids=ids["trafo3w_ids"],
        trafo3w_i_hv_ka=a["trafo3w_i_hv_ka"],
        trafo3w_i_mv_ka=a["trafo3w_i_mv_ka"],
        trafo3w_i_lv_ka=a["trafo3w_i_lv_ka"],
        trafo3w_loading_percent=a["trafo3w_loading_percent"],
        p_loss_mw=a["p_loss_mw"],
        converged=full.converged,
        iterations=full.iterations,
        tap_trafo_ids=tap_ids if tap_pos is not None else None,
        trafo_tap_pos=tap_pos,
        q_control_sgen_ids=qu_ids if sgen_q is not None else None,
        sgen_q_mvar=sgen_q,
        symmetric=symmetric,
        name=model.name,
        notes=tuple(notes),
        step_duration=step_len,
    )
    if output is not None:
        result.write_parquet(output, chunk_steps=min(chunk_steps, 2048))
    return result


def _empty_output(
    g: PgmNetwork, spec: Mapping[ComponentType, Any], symmetric: bool
) -> dict[ComponentType, dict[str, FloatArray]]:
    """A zero-step PGM output with the right element counts."""
    ph = () if symmetric else (3,)
    out: dict[ComponentType, dict[str, FloatArray]] = {}
    for ct, attrs in spec.items():
        n = len(g.input_data[ct])
        out[ct] = {a: np.zeros((0, n) if a == "energized" else (0, n, *ph)) for a in attrs}
    return out
