"""Batch time-series power flow with power-grid-model (PGM), chunk by chunk.

The pandapower net is converted once (:mod:`gridtwin.network._pgm`); every chunk of steps
is one PGM batch calculation whose update dataset carries the load/sgen/storage set-points
of those steps. Newton-Raphson is used. A step that fails (no convergence, singular
system) is reported per step: ``converged=False`` and NaN results, or a
:class:`ConvergenceError` naming its timestamp with ``strict=True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

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
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._pgm import PgmNetwork, TrafoModel, ZeroSequence, build_pgm_network
from gridtwin.network._results import PowerFlowResult
from gridtwin.network._validate import validate

__all__ = ["DEFAULT_CHUNK_STEPS", "simulate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

#: Steps per PGM batch: bounds PGM's update and output buffers.
DEFAULT_CHUNK_STEPS = 4096
_MAX_NOTES = 20


def _positions(n_steps: int, steps: slice | Sequence[int] | npt.NDArray[np.integer] | None,
               ) -> IntArray:
    if steps is None:
        return np.arange(n_steps, dtype=np.int64)
    if isinstance(steps, slice):
        return np.arange(n_steps, dtype=np.int64)[steps]
    pos = np.asarray(steps, dtype=np.int64).reshape(-1)
    bad = pos[(pos < 0) | (pos >= n_steps)]
    if bad.size:
        msg = (f"steps: position(s) {bad[:5].tolist()} are outside the profiles' "
               f"0..{n_steps - 1}")
        raise InputError(msg)
    return pos


class _Injections:
    """Builds (chunk x element) set-point matrices [W, var] from profiles + static values."""

    def __init__(self, table: pd.DataFrame, p_frame: pd.DataFrame, q_frame: pd.DataFrame):
        index = table.index
        scaling = (table["scaling"].to_numpy(dtype=float) if "scaling" in table
                   else np.ones(len(table)))
        self.scale = np.nan_to_num(scaling) * 1e6
        self.parts = []
        for frame, col in ((p_frame, "p_mw"), (q_frame, "q_mvar")):
            static = np.nan_to_num(table[col].to_numpy(dtype=float)) if col in table \
                else np.zeros(len(table))
            cols = index.get_indexer(frame.columns) if frame.shape[1] else np.zeros(0, int)
            keep = cols >= 0
            values = frame.to_numpy(dtype=np.float64)[:, keep] if frame.shape[1] else None
            self.parts.append((static, cols[keep], values))

    def matrices(self, rows: IntArray) -> tuple[FloatArray, FloatArray]:
        out = []
        for static, cols, values in self.parts:
            m = np.broadcast_to(static, (len(rows), len(static))).copy()
            if values is not None and len(cols):
                m[:, cols] = values[rows]
            out.append(m * self.scale)
        return out[0], out[1]


def _update(component: ComponentType, ids: npt.NDArray[np.int32], p: FloatArray,
            q: FloatArray) -> np.ndarray:
    arr = initialize_array(DatasetType.update, component, p.shape[:2])
    arr["id"] = ids
    arr["p_specified"] = p
    arr["q_specified"] = q
    return arr


def _output_spec(g: PgmNetwork) -> dict[ComponentType, Any]:
    spec: dict[ComponentType, Any] = {
        ComponentType.node: ["u_pu", "u_angle", "energized"],
        ComponentType.source: ["p", "q"],
    }
    if ComponentType.line in g.input_data:
        spec[ComponentType.line] = ["i_from", "i_to", "p_from", "p_to"]
    if ComponentType.transformer in g.input_data:
        spec[ComponentType.transformer] = ["i_from", "i_to", "p_from", "p_to"]
    return spec


def _phase_sum(a: FloatArray, symmetric: bool) -> FloatArray:
    return a if symmetric else a.sum(axis=-1)


def _phase_max(a: FloatArray, symmetric: bool) -> FloatArray:
    return a if symmetric else a.max(axis=-1)


def simulate(model: NetworkModel, profiles: Profiles | None = None, *,
             steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
             chunk_steps: int = DEFAULT_CHUNK_STEPS, symmetric: bool = True,
             load_phases: Mapping[int, str] | None = None,
             zero_sequence: ZeroSequence = "net", trafo_model: TrafoModel = "t",
             output: str | Path | None = None, strict: bool = False, threading: int = -1,
             error_tolerance_pu: float = 1e-10, max_iterations: int = 30,
             progress: Progress | None = None) -> PowerFlowResult:
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
        Steps per power-grid-model batch; bounds the memory of one batch.
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
        :meth:`PowerFlowResult.write_parquet`).
    strict : bool
        Raise :class:`ConvergenceError` at the first step that fails instead of marking it.
    threading : int
        power-grid-model threading: ``-1`` sequential, ``0`` all hardware threads,
        ``n > 0`` that many threads.
    error_tolerance_pu : float
        Newton-Raphson tolerance on the voltage [pu].
    max_iterations : int
        Newton-Raphson iteration limit per step.
    progress : callable, optional
        Called as ``progress(steps_done, steps_total)`` after each chunk.

    Returns
    -------
    PowerFlowResult
        One row per selected step; failed steps are NaN with ``converged=False``.

    Raises
    ------
    InputError
        The model or the profiles do not validate, or arguments are invalid.
    ConvergenceError
        With ``strict=True``, naming the first failing step.
    """
    prof = profiles if profiles is not None else model.profiles
    if prof is None:
        msg = (f"{model.source}: no profiles to simulate; load the grid with profiles or "
               "pass profiles=")
        raise InputError(msg)
    if chunk_steps < 1:
        msg = f"chunk_steps must be >= 1; got {chunk_steps}"
        raise InputError(msg)
    if symmetric and load_phases:
        msg = "load_phases needs an unbalanced calculation: pass symmetric=False"
        raise InputError(msg)
    report = validate(model, prof)
    report.raise_if_errors()
    pos = _positions(prof.n_steps, steps)
    net = model.net
    g = build_pgm_network(net, symmetric=symmetric, load_phases=load_phases,
                          zero_sequence=zero_sequence, trafo_model=trafo_model)
    try:
        pgm = PowerGridModel(g.input_data, system_frequency=g.f_hz)
    except PowerGridError as exc:
        msg = (f"{model.source}: power-grid-model rejected the converted network: "
               f"{str(exc).splitlines()[0]}")
        raise InputError(msg) from exc

    loads = _Injections(net.load, prof.load_p_mw, prof.load_q_mvar)
    sgens = _Injections(net.sgen, prof.sgen_p_mw, prof.sgen_q_mvar)
    storage = net.storage if "storage" in net else None
    stores = (_Injections(storage, prof.storage_p_mw, prof.storage_q_mvar)
              if storage is not None and len(storage) else None)
    n_t = len(pos)
    n_bus, n_line = len(g.ids["bus"].index), len(g.ids["line"].index)
    n_trafo, n_eg = len(g.ids["trafo"].index), len(g.ids["ext_grid"].index)
    ph = () if symmetric else (3,)
    res: dict[str, FloatArray] = {
        "vm_pu": np.full((n_t, n_bus, *ph), np.nan),
        "va_degree": np.full((n_t, n_bus, *ph), np.nan),
        "line_i_ka": np.full((n_t, n_line, *ph), np.nan),
        "line_loading_percent": np.full((n_t, n_line), np.nan),
        "line_p_from_mw": np.full((n_t, n_line), np.nan),
        "trafo_i_hv_ka": np.full((n_t, n_trafo, *ph), np.nan),
        "trafo_i_lv_ka": np.full((n_t, n_trafo, *ph), np.nan),
        "trafo_loading_percent": np.full((n_t, n_trafo), np.nan),
        "ext_grid_p_mw": np.full((n_t, n_eg), np.nan),
        "ext_grid_q_mvar": np.full((n_t, n_eg), np.nan),
        "p_loss_mw": np.full(n_t, np.nan),
    }
    converged = np.zeros(n_t, dtype=bool)
    line = net.line
    with np.errstate(divide="ignore", invalid="ignore"):
        i_max_ka = (line["max_i_ka"] * line["df"] * line["parallel"]).to_numpy(dtype=float)
    tr = net.trafo
    vn_hv = tr["vn_hv_kv"].to_numpy(dtype=float)
    vn_lv = tr["vn_lv_kv"].to_numpy(dtype=float)
    tr_rating = (tr["sn_mva"] * tr["parallel"] * tr["df"]).to_numpy(dtype=float)
    spec = _output_spec(g)
    messages: list[str] = []
    load_ids = g.ids["load"].pgm_id
    for start in range(0, n_t, chunk_steps):
        rows = pos[start:start + chunk_steps]
        n_c = len(rows)
        p, q = loads.matrices(rows)
        update: dict[ComponentType, np.ndarray] = {}
        sym_parts: list[np.ndarray] = []
        if symmetric:
            sym_parts.append(_update(ComponentType.sym_load, load_ids, p, q))
        elif len(load_ids):
            share = g.load_phase_share[None, :, :]
            update[ComponentType.asym_load] = _update(ComponentType.asym_load, load_ids,
                                                      p[:, :, None] * share,
                                                      q[:, :, None] * share)
        if stores is not None:
            sp_, sq_ = stores.matrices(rows)
            sym_parts.append(_update(ComponentType.sym_load, g.ids["storage"].pgm_id, sp_, sq_))
        sym_parts = [a for a in sym_parts if a.shape[1]]
        if sym_parts:
            update[ComponentType.sym_load] = np.concatenate(sym_parts, axis=1)
        if len(g.ids["sgen"].pgm_id):
            gp, gq = sgens.matrices(rows)
            update[ComponentType.sym_gen] = _update(ComponentType.sym_gen,
                                                    g.ids["sgen"].pgm_id, gp, gq)
        if not update:  # nothing varies: still one scenario per step
            update[ComponentType.source] = initialize_array(
                DatasetType.update, ComponentType.source, (n_c, n_eg))
            update[ComponentType.source]["id"] = g.ids["ext_grid"].pgm_id
        try:
            out = pgm.calculate_power_flow(
                symmetric=symmetric, error_tolerance=error_tolerance_pu,
                max_iterations=max_iterations,
                calculation_method=CalculationMethod.newton_raphson, update_data=update,
                threading=threading, output_component_types=spec,
                continue_on_batch_error=True)
        except PowerGridError as exc:
            msg = (f"{model.source}: power-grid-model failed on the steps starting "
                   f"{prof.time_utc[rows[0]].isoformat()}: {str(exc).splitlines()[0]}")
            raise InputError(msg) from exc
        ok = np.ones(n_c, dtype=bool)
        err = pgm.batch_error
        if err is not None:
            failed = np.asarray(err.failed_scenarios, dtype=np.int64)
            ok[failed] = False
            first = prof.time_utc[rows[failed[0]]]
            text = err.error_messages[0].splitlines()[0] if err.error_messages else "failed"
            if strict:
                msg = (f"{model.source}: power flow failed at {first.isoformat()} (step "
                       f"{int(rows[failed[0]])}) and {len(failed) - 1} other step(s) of this "
                       f"chunk: {text}")
                raise ConvergenceError(msg)
            messages.append(f"{len(failed)} step(s) failed from {first.isoformat()}: {text}")
        sl = slice(start, start + n_c)
        _store(res, sl, ok, out, spec, symmetric, i_max_ka, vn_hv, vn_lv, tr_rating)
        converged[sl] = ok
        if progress is not None:
            progress(min(start + n_c, n_t), n_t)
    notes = [f"validation warning: {w}" for w in report.warnings[:_MAX_NOTES]]
    if len(report.warnings) > _MAX_NOTES:
        notes.append(f"... and {len(report.warnings) - _MAX_NOTES} more validation warnings")
    notes += messages
    step_len = prof.step if prof.n_steps >= 2 else pd.Timedelta(minutes=15)
    result = PowerFlowResult(
        time_utc=pd.DatetimeIndex(prof.time_utc[pos], name="time_utc"),
        bus_ids=g.ids["bus"].index, line_ids=g.ids["line"].index,
        trafo_ids=g.ids["trafo"].index, ext_grid_ids=g.ids["ext_grid"].index,
        vm_pu=res["vm_pu"], va_degree=res["va_degree"], line_i_ka=res["line_i_ka"],
        line_loading_percent=res["line_loading_percent"],
        line_p_from_mw=res["line_p_from_mw"], trafo_i_hv_ka=res["trafo_i_hv_ka"],
        trafo_i_lv_ka=res["trafo_i_lv_ka"], trafo_loading_percent=res["trafo_loading_percent"],
        ext_grid_p_mw=res["ext_grid_p_mw"], ext_grid_q_mvar=res["ext_grid_q_mvar"],
        p_loss_mw=res["p_loss_mw"], converged=converged, symmetric=symmetric, name=model.name,
        notes=tuple(notes), step_duration=step_len)
    if output is not None:
        result.write_parquet(output, chunk_steps=min(chunk_steps, 2048))
    return result


def _store(res: dict[str, FloatArray], sl: slice, ok: npt.NDArray[np.bool_],
           out: Any, spec: dict[ComponentType, Any], symmetric: bool,
           i_max_ka: FloatArray, vn_hv: FloatArray, vn_lv: FloatArray,
           tr_rating: FloatArray) -> None:
    """Copy one chunk of PGM output into the result arrays (NaN for failed steps)."""
    bad = ~ok
    node = out[ComponentType.node]
    energized = node["energized"].astype(bool)
    if not symmetric:
        energized = energized[:, :, None]
    vm = np.where(energized, node["u_pu"], np.nan)
    va = np.where(energized, np.rad2deg(node["u_angle"]), np.nan)
    chunk: dict[str, FloatArray] = {"vm_pu": vm, "va_degree": va}
    loss = np.zeros(len(ok))
    sqrt3 = math.sqrt(3.0)
    if ComponentType.line in spec:
        ln = out[ComponentType.line]
        i_ka = np.maximum(ln["i_from"], ln["i_to"]) / 1e3
        chunk["line_i_ka"] = i_ka
        with np.errstate(divide="ignore", invalid="ignore"):
            chunk["line_loading_percent"] = _phase_max(i_ka, symmetric) / i_max_ka * 100.0
        chunk["line_p_from_mw"] = _phase_sum(ln["p_from"], symmetric) / 1e6
        loss += (_phase_sum(ln["p_from"], symmetric) + _phase_sum(ln["p_to"], symmetric)).sum(
            axis=1)
    if ComponentType.transformer in spec:
        t = out[ComponentType.transformer]
        i_hv, i_lv = t["i_from"] / 1e3, t["i_to"] / 1e3
        chunk["trafo_i_hv_ka"], chunk["trafo_i_lv_ka"] = i_hv, i_lv
        with np.errstate(divide="ignore", invalid="ignore"):
            load = np.maximum(_phase_max(i_hv, symmetric) * vn_hv,
                              _phase_max(i_lv, symmetric) * vn_lv) * sqrt3 / tr_rating * 100.0
        chunk["trafo_loading_percent"] = load
        loss += (_phase_sum(t["p_from"], symmetric) + _phase_sum(t["p_to"], symmetric)).sum(
            axis=1)
    src = out[ComponentType.source]
    chunk["ext_grid_p_mw"] = _phase_sum(src["p"], symmetric) / 1e6
    chunk["ext_grid_q_mvar"] = _phase_sum(src["q"], symmetric) / 1e6
    chunk["p_loss_mw"] = loss / 1e6
    for name, values in chunk.items():
        values = np.array(values, dtype=np.float64)
        values[bad] = np.nan
        res[name][sl] = values
