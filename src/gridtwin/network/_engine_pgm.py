"""The power-grid-model engine of the time series (unbalanced runs, and on request).

The net is converted once (:mod:`gridtwin.network._pgm`); every chunk is one batch
calculation whose update dataset carries the load/sgen/storage set-points of those steps,
columnar and in input order, built from the profiles' numpy arrays. Iterative current
factorises once; steps it cannot solve are re-solved with Newton-Raphson. The output is
turned into the result fields in pandapower's units (:class:`_Derive`).

Imported only when a run needs power-grid-model (it loads the library).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from power_grid_model import (
    CalculationMethod,
    ComponentType,
    DatasetType,
    PowerGridModel,
    initialize_array,
)
from power_grid_model.errors import PowerGridError  # type: ignore[attr-defined]

from gridtwin.errors import InputError
from gridtwin.network._chunks import (
    Chunk,
    EngineOptions,
    Injections,
    Rows,
    injections,
    n_rows,
)
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._pgm import PgmNetwork, build_pgm_network

__all__ = ["PgmEngine", "PgmMethod", "PowerGridError"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
PgmMethod = Literal["newton_raphson", "iterative_current"]
_METHODS: dict[str, CalculationMethod] = {
    "newton_raphson": CalculationMethod.newton_raphson,
    "iterative_current": CalculationMethod.iterative_current,
}


@dataclass(frozen=True)
class _Updates:
    """Builds PGM batch update datasets for chunks of profile rows."""

    g: PgmNetwork
    loads: Injections
    sgens: Injections
    stores: Injections | None
    symmetric: bool

    def _tail(self, ct: ComponentType, p: FloatArray, q: FloatArray) -> dict[str, FloatArray]:
        """``p``, ``q`` of the profiled elements of ``ct`` followed by the static set-points
        of its last elements (asymmetric loads and sgens), one row per step."""
        tail = self.g.static_tail.get(ct)
        if tail is not None:
            n_c = p.shape[0]
            p = np.concatenate([p, np.broadcast_to(tail[0], (n_c, *tail[0].shape))], axis=1)
            q = np.concatenate([q, np.broadcast_to(tail[1], (n_c, *tail[1].shape))], axis=1)
        return {"p_specified": p, "q_specified": q}

    def build(self, rows: Rows) -> dict[ComponentType, Any]:
        n_c = (rows.stop - rows.start) if isinstance(rows, slice) else len(rows)
        g, nl = self.g, self.loads.n
        ns = self.stores.n if self.stores is not None else 0
        update: dict[ComponentType, Any] = {}
        # columnar, every element in input order: PGM needs no ids (sym_load = loads then
        # storage in balanced runs, storage only in unbalanced ones; asymmetric loads and
        # sgens last, with their static set-points)
        n_sym = nl + ns if self.symmetric else ns
        if n_sym:
            p, q = np.empty((n_c, n_sym)), np.empty((n_c, n_sym))
            if self.symmetric:
                self.loads.fill(rows, p[:, :nl], q[:, :nl])
            if self.stores is not None and ns:
                self.stores.fill(rows, p[:, n_sym - ns :], q[:, n_sym - ns :])
            update[ComponentType.sym_load] = self._tail(ComponentType.sym_load, p, q)
        if not self.symmetric and nl:
            p, q = np.empty((n_c, nl)), np.empty((n_c, nl))
            self.loads.fill(rows, p, q)
            share = g.load_phase_share[None, :, :]
            update[ComponentType.asym_load] = self._tail(
                ComponentType.asym_load, p[:, :, None] * share, q[:, :, None] * share
            )
        if self.sgens.n:
            p, q = np.empty((n_c, self.sgens.n)), np.empty((n_c, self.sgens.n))
            self.sgens.fill(rows, p, q)
            update[ComponentType.sym_gen] = self._tail(ComponentType.sym_gen, p, q)
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

    def _psum(self, a: FloatArray) -> FloatArray:
        """Sum over phases (unbalanced runs)."""
        return a if self.symmetric else a.sum(axis=-1)

    def _pmax(self, a: FloatArray) -> FloatArray:
        """Largest phase (unbalanced runs)."""
        return a if self.symmetric else a.max(axis=-1)

    def _lines(
        self, out: Mapping[ComponentType, Any], n_c: int, chunk: dict[str, FloatArray]
    ) -> Any:
        """Line fields into ``chunk``; returns the lines' losses per step [W] (or 0)."""
        if not self.has_line:
            ph = () if self.symmetric else (3,)
            chunk["line_i_ka"] = np.empty((n_c, 0, *ph))
            chunk["line_loading_percent"] = np.empty((n_c, 0))
            chunk["line_p_from_mw"] = np.empty((n_c, 0))
            return 0.0
        ln = out[ComponentType.line]
        i_ka = np.maximum(ln["i_from"], ln["i_to"]) / 1e3
        chunk["line_i_ka"] = i_ka
        with np.errstate(divide="ignore", invalid="ignore"):
            chunk["line_loading_percent"] = self._pmax(i_ka) / self.i_max_ka * 100.0
        chunk["line_p_from_mw"] = self._psum(ln["p_from"]) / 1e6
        return (self._psum(ln["p_from"]) + self._psum(ln["p_to"])).sum(axis=1)

    def _trafos(
        self, out: Mapping[ComponentType, Any], n_c: int, chunk: dict[str, FloatArray]
    ) -> Any:
        """Transformer fields into ``chunk``; returns their losses per step [W] (or 0)."""
        ph = () if self.symmetric else (3,)
        if not self.has_trafo:
            chunk["trafo_i_hv_ka"] = np.empty((n_c, 0, *ph))
            chunk["trafo_i_lv_ka"] = np.empty((n_c, 0, *ph))
            chunk["trafo_loading_percent"] = np.empty((n_c, 0))
            return 0.0
        t = out[ComponentType.transformer]
        i_hv, i_lv = t["i_from"] / 1e3, t["i_to"] / 1e3
        chunk["trafo_i_hv_ka"], chunk["trafo_i_lv_ka"] = i_hv, i_lv
        with np.errstate(divide="ignore", invalid="ignore"):
            chunk["trafo_loading_percent"] = (
                np.maximum(self._pmax(i_hv) * self.vn_hv, self._pmax(i_lv) * self.vn_lv)
                * math.sqrt(3.0)
                / self.tr_rating
                * 100.0
            )
        return (self._psum(t["p_from"]) + self._psum(t["p_to"])).sum(axis=1)

    def __call__(self, out: Mapping[ComponentType, Any], ok: BoolArray) -> dict[str, FloatArray]:
        """Result fields of one chunk; NaN where ``ok`` is False."""
        n_c = len(ok)
        ph = () if self.symmetric else (3,)
        node = out[ComponentType.node]
        energized = node["energized"].astype(bool)
        if not self.symmetric:
            energized = energized[:, :, None]
        chunk: dict[str, FloatArray] = {"vm_pu": np.where(energized, node["u_pu"], np.nan)}
        if "u_angle" in node:  # not requested when only statistics are kept
            chunk["va_degree"] = np.where(energized, np.rad2deg(node["u_angle"]), np.nan)
        loss = np.zeros(n_c)
        loss += self._lines(out, n_c, chunk)
        loss += self._trafos(out, n_c, chunk)
        # three-winding transformers are simulated by the fixed point only (validation
        # refuses them here): every engine returns the same fields
        for side in ("hv", "mv", "lv"):
            chunk[f"trafo3w_i_{side}_ka"] = np.empty((n_c, 0, *ph))
        chunk["trafo3w_loading_percent"] = np.empty((n_c, 0))
        src = out[ComponentType.source]
        chunk["ext_grid_p_mw"] = self._psum(src["p"]) / 1e6
        chunk["ext_grid_q_mvar"] = self._psum(src["q"]) / 1e6
        chunk["p_loss_mw"] = loss / 1e6
        bad = ~ok
        if bad.any():
            for name, values in chunk.items():
                values = np.array(values, dtype=np.float64)
                values[bad] = np.nan
                chunk[name] = values
        return chunk


@dataclass(frozen=True)
class PgmEngine:
    """power-grid-model batches: update dataset, solve, result fields."""

    g: PgmNetwork
    updates: _Updates
    solver: _Solver
    derive: _Derive

    @classmethod
    def build(
        cls, model: NetworkModel, prof: Profiles, o: EngineOptions, method: PgmMethod
    ) -> PgmEngine:
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
        inj = injections(net, prof, o.power_factor)
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

    @property
    def notes(self) -> tuple[str, ...]:
        """What the conversion replaced (transformer zero-sequence data), for the result."""
        return self.g.notes

    def chunk_size(self, chunk_steps: int, budget_bytes: int) -> int:
        """Steps per chunk: ``chunk_steps`` capped by the memory budget [bytes]."""
        return _chunk_size(chunk_steps, budget_bytes, self.g, self.solver.symmetric)

    def solve(self, rows: Rows) -> Chunk:
        if n_rows(rows) == 0:
            empty = _empty_output(self.g, self.solver.spec, self.solver.symmetric)
            return Chunk(self.derive(empty, np.zeros(0, bool)), np.zeros(0, np.int64), "", 0)
        solved = self.solver.solve(self.updates.build(rows))
        ok = np.ones(n_rows(rows), dtype=bool)
        ok[solved.failed] = False
        return Chunk(self.derive(solved.out, ok), solved.failed, solved.message, solved.fallback)


def _chunk_size(chunk_steps: int, budget_bytes: int, g: PgmNetwork, symmetric: bool) -> int:
    """``chunk_steps`` capped so that one chunk stays within ``budget_bytes``: PGM update
    and output buffers plus the derived arrays."""
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
    return max(1, min(chunk_steps, budget_bytes // per_step))


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
