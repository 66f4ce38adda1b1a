"""Time-series power flow: :func:`simulate` runs the profile steps chunk by chunk.

The order of one run, each step a named function below:

1. ``_plan``: the options resolved (``"auto"`` picks the engine), the model and profiles
   validated once, the selected steps, the element ids and the first notes;
2. ``_build_engine``: the fixed point (:mod:`gridtwin.network._engine_fp`, balanced, the
   default) or power-grid-model (:mod:`gridtwin.network._engine_pgm`, unbalanced and on
   request; imported only then);
3. ``_run_chunks``: every chunk of steps solved (with power-grid-model, the next chunk
   solved in a worker thread while the previous one is collected), failed steps reported
   or, with ``strict``, raised;
4. a :class:`_Collector` keeps what ``keep`` asks for: every field of every step
   (:class:`~gridtwin.network.PowerFlowResult`), or running statistics
   (:class:`~gridtwin.network.PowerFlowStatistics`) with the full results streamed to
   Parquet if wanted, so that memory stays bounded by one or two chunks.

A step that fails (no convergence, singular system) is re-solved with power-grid-model's
Newton-Raphson where the model allows it, else reported per step: ``converged=False`` and
NaN results, or a :class:`~gridtwin.errors.ConvergenceError` naming its timestamp with
``PowerFlowOptions(strict=True)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import ConvergenceError, InputError
from gridtwin.network._accumulator import StatisticsAccumulator
from gridtwin.network._chunks import Chunk, EngineOptions, Rows, as_rows, positions
from gridtwin.network._controls import Controls, tap_controls_from_net
from gridtwin.network._fixedpoint import MAX_CONTROL_ROUNDS
from gridtwin.network._full_result import PowerFlowResult
from gridtwin.network._issues import ValidationReport
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._options import (
    CHUNK_BUDGET_BYTES,
    DEFAULT_CHUNK_STEPS,
    PGM_MAX_ITERATIONS,
    KeepFull,
    KeepSummary,
    PowerFlowOptions,
    check_keep,
)
from gridtwin.network._result_file import ParquetStream, file_metadata
from gridtwin.network._result_layout import RESULT_FIELDS
from gridtwin.network._setpoints import power_factor_rule
from gridtwin.network._statistics import PowerFlowStatistics, StatisticsSpec
from gridtwin.network._tables import _in_service
from gridtwin.network._validate import validate

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "DEFAULT_CHUNK_STEPS",
    "simulate",
    "tap_controls_from_net",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int, int], None]
Solver = Literal["fixed_point", "newton_raphson", "iterative_current"]
_MAX_NOTES = 20
_LABELS = {
    "fixed_point": "fixed point (Z-bus) over pandapower's admittance matrix",
    "iterative_current": "power-grid-model iterative current",
    "newton_raphson": "power-grid-model Newton-Raphson",
    "newton_case": "Newton-Raphson over pandapower's admittance matrix (voltage-controlled "
    "generators)",
}


class _Engine(Protocol):
    """What the chunk loop needs of an engine."""

    def chunk_size(self, chunk_steps: int, budget_bytes: int) -> int: ...

    def solve(self, rows: Rows) -> Chunk: ...


@overload
def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    keep: KeepFull | None = None,
    progress: Progress | None = None,
) -> PowerFlowResult: ...


@overload
def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    keep: KeepSummary,
    progress: Progress | None = None,
) -> PowerFlowStatistics: ...


def simulate(
    model: NetworkModel,
    profiles: Profiles | None = None,
    *,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    keep: KeepFull | KeepSummary | None = None,
    progress: Progress | None = None,
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
    options : PowerFlowOptions, optional
        How to calculate: balanced or unbalanced, method (``"auto"``: the fixed point for
        balanced runs, iterative current for unbalanced ones), tolerance, iteration limit,
        threads, chunking, strictness; see :class:`~gridtwin.network.PowerFlowOptions`.
    controls : Controls, optional
        On-load tap changers, Q(U) and cos φ(P) characteristics of inverters; see
        :class:`~gridtwin.network.Controls` (tap and Q(U) controls need the fixed point).
    keep : KeepFull or KeepSummary, optional
        :class:`~gridtwin.network.KeepFull` (default): every quantity at every step,
        optionally also written to Parquet. :class:`~gridtwin.network.KeepSummary`:
        per-element running statistics whose size does not grow with ``T x n``,
        optionally with the full results streamed to Parquet.
    progress : callable, optional
        Called as ``progress(steps_done, steps_total)`` after each chunk.

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
        With ``PowerFlowOptions(strict=True)``, naming the first failing step.
    """
    run = _plan(
        model,
        profiles,
        steps,
        options if options is not None else PowerFlowOptions(),
        controls if controls is not None else Controls(),
        check_keep(keep),
    )
    engine = _build_engine(run)
    collector = _Collector.open(run, engine)
    with collector.aborting():
        fallback, messages = _run_chunks(run, engine, collector, progress)
    notes = [*run.notes, *_final_notes(run, engine, fallback, messages)]
    return collector.finish(notes)


@dataclass(frozen=True)
class _Run:
    """One run: what was asked, resolved and validated, before any step is solved."""

    model: NetworkModel
    prof: Profiles
    pos: IntArray
    options: PowerFlowOptions
    controls: Controls
    keep: KeepFull | KeepSummary
    solver: Solver
    ids: dict[str, IntArray]
    notes: tuple[str, ...]
    step_len: pd.Timedelta
    time_utc: pd.DatetimeIndex = field(repr=False)

    @property
    def n_steps(self) -> int:
        """Selected steps."""
        return len(self.pos)

    def metadata(self, notes: Sequence[str]) -> dict[str, object]:
        """The Parquet file metadata of this run."""
        return file_metadata(
            name=self.model.name,
            symmetric=self.options.symmetric,
            notes=notes,
            step_duration=self.step_len,
            ids=self.ids,
        )


def _plan(
    model: NetworkModel,
    profiles: Profiles | None,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None,
    options: PowerFlowOptions,
    controls: Controls,
    keep: KeepFull | KeepSummary,
) -> _Run:
    """Resolve and check the request, validate the model once, select the steps."""
    prof = profiles if profiles is not None else model.profiles
    if prof is None:
        msg = (
            f"{model.source}: no profiles to simulate; load the grid with profiles or "
            "pass profiles="
        )
        raise InputError(msg)
    if not isinstance(options, PowerFlowOptions):
        msg = f"options must be a PowerFlowOptions; got {type(options).__name__}"
        raise InputError(msg)
    if not isinstance(controls, Controls):
        msg = f"controls must be a Controls; got {type(controls).__name__}"
        raise InputError(msg)
    solver = options.solver
    if controls.need_fixed_point and solver != "fixed_point":
        msg = (
            "tap and Q(U) (reactive_power) controls need the fixed-point solver: a "
            "balanced run with method='auto' or 'fixed_point'"
        )
        raise InputError(msg)
    report = validate(model, prof, solver=options.engine)
    report.raise_if_errors()
    pos = positions(prof.n_steps, steps)
    return _Run(
        model=model,
        prof=prof,
        pos=pos,
        options=options,
        controls=controls,
        keep=keep,
        solver=solver,
        ids=_element_ids(model.net, solver),
        notes=_first_notes(report, solver, model.net),
        step_len=prof.step if prof.n_steps >= 2 else pd.Timedelta(minutes=15),
        time_utc=pd.DatetimeIndex(prof.time_utc[pos], name="time_utc"),
    )


def _element_ids(net: Any, solver: Solver) -> dict[str, IntArray]:
    """Ids of the elements with results (three-winding transformers: fixed point only)."""
    with_trafo3w = solver == "fixed_point" and "trafo3w" in net
    return {
        "bus_ids": np.asarray(net.bus.index, dtype=np.int64),
        "line_ids": np.asarray(net.line.index, dtype=np.int64),
        "trafo_ids": np.asarray(net.trafo.index, dtype=np.int64),
        "trafo3w_ids": np.asarray(net.trafo3w.index if with_trafo3w else [], dtype=np.int64),
        "ext_grid_ids": np.asarray(net.ext_grid.index, dtype=np.int64),
    }


def _first_notes(report: ValidationReport, solver: Solver, net: Any) -> tuple[str, ...]:
    """Validation warnings (at most :data:`_MAX_NOTES`) and the solver used."""
    notes = [f"validation warning: {w}" for w in report.warnings[:_MAX_NOTES]]
    if len(report.warnings) > _MAX_NOTES:
        notes.append(f"... and {len(report.warnings) - _MAX_NOTES} more validation warnings")
    controlled = any(
        t in net and isinstance(net[t], pd.DataFrame) and _in_service(net[t]).any()
        for t in ("gen", "xward")
    )
    if solver == "fixed_point" and controlled:
        notes.append(f"solver: {_LABELS['newton_case']}")
    else:
        notes.append(f"solver: {_LABELS[solver]}")
    return tuple(notes)


def _engine_options(run: _Run, max_iterations: int) -> EngineOptions:
    o = run.options
    return EngineOptions(
        symmetric=o.symmetric,
        load_phases=o.load_phases,
        power_factor=power_factor_rule(
            run.model.net.sgen,
            tuple(run.controls.power_factor),
            excluded=[sid for c in run.controls.reactive_power for sid in c.sgens],
        ),
        zero_sequence=o.zero_sequence,
        trafo_model=o.trafo_model,
        error_tolerance_pu=o.error_tolerance_pu,
        max_iterations=max_iterations,
        threading=o.threading,
        angles=isinstance(run.keep, KeepFull) or run.keep.parquet is not None,
        enforce_q_lims=o.enforce_q_lims,
    )


def _build_engine(run: _Run) -> _Engine:
    """The engine of the run's solver (power-grid-model imported only when used)."""
    if run.solver == "fixed_point":
        from gridtwin.network._engine_fp import FixedPointEngine

        return FixedPointEngine.build(
            run.model,
            run.prof,
            _engine_options(run, PGM_MAX_ITERATIONS),  # for its Newton-Raphson fallback
            max_iterations=run.options.iteration_limit("fixed_point"),
            tap_controls=tuple(run.controls.taps),
            reactive_controls=tuple(run.controls.reactive_power),
        )
    from gridtwin.network._engine_pgm import PgmEngine

    method: Literal["newton_raphson", "iterative_current"] = (
        "newton_raphson" if run.solver == "newton_raphson" else "iterative_current"
    )
    options = _engine_options(run, run.options.iteration_limit(method))
    return PgmEngine.build(run.model, run.prof, options, method)


def _pgm_errors() -> tuple[type[BaseException], ...]:
    """power-grid-model's error type once the library is loaded (else nothing to catch)."""
    if "power_grid_model" not in sys.modules:
        return ()
    from power_grid_model.errors import PowerGridError  # type: ignore[attr-defined]

    return (PowerGridError,)


def _run_chunks(
    run: _Run, engine: _Engine, collector: _Collector, progress: Progress | None
) -> tuple[int, list[str]]:
    """Solve every chunk in order and hand it to the collector; returns the number of
    steps re-solved by the fallback and a message per chunk with failed steps."""
    n_t, pos = run.n_steps, run.pos
    size = engine.chunk_size(run.options.chunk_steps, CHUNK_BUDGET_BYTES)
    starts = list(range(0, n_t, size))
    fallback, messages = 0, []
    with closing(_solved_chunks(run, engine, starts, size)) as chunks:
        for start, solved in chunks:
            rows = pos[start : start + size]
            fallback += solved.fallback
            ok = np.ones(len(rows), dtype=bool)
            if solved.failed.size:
                ok[solved.failed] = False
                messages.append(_failure(run, rows, solved))
            collector.add(start, solved, ok)
            if progress is not None:
                progress(min(start + len(rows), n_t), n_t)
    return fallback, messages


def _solved_chunks(
    run: _Run, engine: _Engine, starts: list[int], size: int
) -> Generator[tuple[int, Chunk], None, None]:
    """Each chunk's start and solution, in order. With power-grid-model and threads the
    next chunk is solved in a worker while the caller collects the previous one."""
    pos = run.pos

    def job(start: int) -> Chunk:
        return engine.solve(as_rows(pos[start : start + size]))

    pool = (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridtwin-pgm")
        if run.solver != "fixed_point" and run.options.threading != -1 and len(starts) > 1
        else None
    )
    try:
        pending: Future[Chunk] | None = pool.submit(job, starts[0]) if pool else None
        for k, start in enumerate(starts):
            try:
                if pool is not None and pending is not None:
                    current = pending
                    pending = pool.submit(job, starts[k + 1]) if k + 1 < len(starts) else None
                    solved = current.result()
                else:
                    solved = job(start)
            except _pgm_errors() as exc:
                first = run.prof.time_utc[pos[start]].isoformat()
                msg = (
                    f"{run.model.source}: power-grid-model failed on the steps starting "
                    f"{first}: {str(exc).splitlines()[0]}"
                )
                raise InputError(msg) from exc
            yield start, solved
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _failure(run: _Run, rows: IntArray, solved: Chunk) -> str:
    """The note on a chunk's failed steps; with ``strict`` a ConvergenceError instead."""
    failed = solved.failed
    first = run.prof.time_utc[rows[failed[0]]]
    if run.options.strict:
        msg = (
            f"{run.model.source}: power flow failed at {first.isoformat()} (step "
            f"{int(rows[failed[0]])}) and {len(failed) - 1} other step(s) of "
            f"this chunk: {solved.message}"
        )
        raise ConvergenceError(msg)
    return f"{len(failed)} step(s) failed from {first.isoformat()}: {solved.message}"


def _final_notes(run: _Run, engine: _Engine, fallback: int, messages: list[str]) -> list[str]:
    """Notes on what the engine's conversion replaced, steps re-solved by the fallback,
    failed steps, and unsettled tap control."""
    notes = list(getattr(engine, "notes", ()))
    if fallback:
        notes.append(
            f"{fallback} step(s) did not converge with {_LABELS[run.solver]} and were "
            "re-solved with Newton-Raphson"
        )
    notes += messages
    unsettled = getattr(engine, "unsettled_steps", 0)
    if unsettled:
        first = run.prof.time_utc[getattr(engine, "first_unsettled", None) or 0].isoformat()
        notes.append(
            f"tap control did not settle within {MAX_CONTROL_ROUNDS} rounds at "
            f"{unsettled} step(s) (first {first}): the voltage is still out "
            "of band there with the last tap positions (hunting; pandapower would stop "
            "with ControllerNotConverged)"
        )
    return notes


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
        """Store one chunk's fields at step ``offset``."""
        sl = slice(offset, offset + len(ok))
        for name in RESULT_FIELDS:
            self.arrays[name][sl] = chunk[name]
        self.converged[sl] = ok
        if iterations is not None:
            if self.iterations is None:
                self.iterations = np.full(len(self.converged), -1, dtype=np.int64)
            self.iterations[sl] = iterations


@dataclass
class _Collector:
    """Keeps what ``keep`` asks for while the chunks arrive, and builds the result."""

    run: _Run
    engine: _Engine
    stats: StatisticsAccumulator | None
    stream: ParquetStream | None
    tap_ids: IntArray
    tap_pos: FloatArray | None
    qu_ids: IntArray | None
    sgen_q: FloatArray | None
    gen_ids: IntArray | None = None
    gen_q: FloatArray | None = None
    full: _FullSink | None = None

    @classmethod
    def open(cls, run: _Run, engine: _Engine) -> _Collector:
        """Accumulators for a run (the Parquet stream opened when statistics are kept)."""
        keep, n_t = run.keep, run.n_steps
        stats = stream = None
        if isinstance(keep, KeepSummary):
            stats = StatisticsAccumulator(
                keep.statistics or StatisticsSpec(),
                run.ids,
                run.options.symmetric,
                n_t,
                time_utc=run.time_utc,
            )
            if keep.parquet is not None:
                stream = ParquetStream(
                    keep.parquet, run.metadata(run.notes), run.ids, run.options.symmetric
                )
        taps = run.controls.taps
        fp = getattr(engine, "fp", None)
        qu_ids = fp.qu.sgen_ids if fp is not None else None
        with_qu = bool(run.controls.reactive_power) and qu_ids is not None
        gen_ids = None
        if fp is not None and fp.n_pv and "gen" in run.model.net and len(run.model.net.gen):
            gen_ids = np.asarray(run.model.net.gen.index, dtype=np.int64)
        return cls(
            run=run,
            engine=engine,
            stats=stats,
            stream=stream,
            tap_ids=np.asarray([c.trafo for c in taps], dtype=np.int64),
            tap_pos=np.full((n_t, len(taps)), np.nan) if taps else None,
            qu_ids=qu_ids,
            sgen_q=np.full((n_t, len(qu_ids)), np.nan) if with_qu and qu_ids is not None else None,
            gen_ids=gen_ids,
            gen_q=np.full((n_t, len(gen_ids)), np.nan) if gen_ids is not None else None,
        )

    @contextmanager
    def aborting(self) -> Iterator[None]:
        """Remove a half-written Parquet file when the run fails."""
        try:
            yield
        except BaseException:
            if self.stream is not None:
                self.stream.abort()
            raise

    def add(self, start: int, solved: Chunk, ok: BoolArray) -> None:
        """One solved chunk at step ``start``."""
        n_c, chunk = len(ok), solved.fields
        if self.tap_pos is not None and solved.taps is not None:
            self.tap_pos[start : start + n_c] = solved.taps
        if self.sgen_q is not None and solved.sgen_q is not None:
            self.sgen_q[start : start + n_c] = solved.sgen_q
        if self.gen_q is not None and solved.gen_q is not None:
            self.gen_q[start : start + n_c] = solved.gen_q
        if self.stats is not None:
            self.stats.add(start, chunk, ok)
        else:
            if self.full is None:
                self.full = _FullSink(self.run.n_steps, chunk)
            self.full.add(start, chunk, ok, solved.iterations)
        if self.stream is not None:
            self.stream.write(self.run.time_utc[start : start + n_c], chunk, ok)

    def finish(self, notes: list[str]) -> PowerFlowResult | PowerFlowStatistics:
        """The result: statistics (the Parquet file closed) or the full result."""
        run = self.run
        if self.stats is not None:
            if self.stream is not None:
                self.stream.close(run.metadata(notes))
            summary = self.stats.finish(
                run.time_utc, name=run.model.name, notes=notes, step_duration=run.step_len
            )
            if self.tap_pos is not None:
                summary = replace(summary, tap_trafo_ids=self.tap_ids, trafo_tap_pos=self.tap_pos)
            if self.sgen_q is not None:
                summary = replace(summary, q_control_sgen_ids=self.qu_ids, sgen_q_mvar=self.sgen_q)
            if self.gen_q is not None:
                summary = replace(summary, gen_ids=self.gen_ids, gen_q_mvar=self.gen_q)
            return summary
        result = self._full_result(notes)
        if isinstance(run.keep, KeepFull) and run.keep.parquet is not None:
            result.write_parquet(run.keep.parquet, chunk_steps=min(run.options.chunk_steps, 2048))
        return result

    def _full_result(self, notes: list[str]) -> PowerFlowResult:
        run = self.run
        full = self.full
        if full is None:  # no steps selected
            empty = self.engine.solve(np.zeros(0, dtype=np.int64)).fields
            full = _FullSink(0, empty)
        a, ids = full.arrays, run.ids
        return PowerFlowResult(
            time_utc=run.time_utc,
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
            tap_trafo_ids=self.tap_ids if self.tap_pos is not None else None,
            trafo_tap_pos=self.tap_pos,
            q_control_sgen_ids=self.qu_ids if self.sgen_q is not None else None,
            sgen_q_mvar=self.sgen_q,
            gen_ids=self.gen_ids,
            gen_q_mvar=self.gen_q,
            symmetric=run.options.symmetric,
            name=run.model.name,
            notes=tuple(notes),
            step_duration=run.step_len,
        )


def own_arrays(
    template: Profiles,
) -> tuple[dict[str, FloatArray], dict[str, pd.Index], Profiles]:
    """A copy of ``template`` whose frames are views of C-ordered float arrays of its
    own (writing the arrays changes the profiles the solver reads): the arrays by
    profile name, each frame's columns, and the profiles."""
    idx = pd.DatetimeIndex(template.time_utc, name="time_utc")
    arrays: dict[str, FloatArray] = {}
    frames = {}
    for name, frame in template.frames().items():
        arr = np.array(frame.to_numpy(dtype=np.float64), order="C")
        arrays[name] = arr
        frames[name] = pd.DataFrame(arr, index=idx, columns=frame.columns, copy=False)
    columns = {name: frame.columns for name, frame in frames.items()}
    return arrays, columns, type(template)(time_utc=idx, source=template.source, **frames)


class StepPowerFlow:
    """Power flows of one step at a time on a model validated and built once.

    The live twin solves one interval at a time on a network that does not change
    between intervals; :func:`simulate` would validate the model and build the solver's
    network every time, several times the cost of the solution. This keeps both and
    writes each step's set-points into the one-step profile the solver reads.

    Parameters
    ----------
    model : NetworkModel
    template : Profiles
        One step whose frames name the columns of every later step (their values are
        replaced by :meth:`solve`).
    options : PowerFlowOptions, optional

    Notes
    -----
    Only the fixed-point engine reads the profile's arrays at solve time; with another
    solver (or when the arrays are not the solver's own), each step runs through
    :func:`simulate` and says nothing different.
    """

    def __init__(
        self, model: NetworkModel, template: Profiles, options: PowerFlowOptions | None = None
    ) -> None:
        if template.n_steps != 1:
            msg = f"StepPowerFlow: the template has {template.n_steps} steps; give one"
            raise InputError(msg)
        self.model = model
        self.options = options if options is not None else PowerFlowOptions()
        self._arrays, self._columns, self._prof = own_arrays(template)
        self._run = _plan(model, self._prof, None, self.options, Controls(), KeepFull())
        self._engine = _build_engine(self._run)
        self.fast = self._reads_our_arrays()

    def _reads_our_arrays(self) -> bool:
        """Whether the engine's set-points are views of :attr:`_arrays` (then writing
        them is enough)."""
        from gridtwin.network._engine_fp import FixedPointEngine

        engine = self._engine
        if not isinstance(engine, FixedPointEngine):
            return False
        ours = [a for a in self._arrays.values() if a.size]
        for inj in engine.injections.values():
            for _static, cols, values, _select, _identity in inj.parts:
                if values is None or not len(cols):
                    continue
                if not any(np.shares_memory(values, a) for a in ours):
                    return False
        return True

    def solve(self, frames: Mapping[str, pd.Series]) -> PowerFlowResult:
        """The power flow of one step: ``frames`` maps a profile name (``load_p_mw``,
        ``sgen_q_mvar``, ...) to that step's values by element id; every name of the
        template must be given, and the same elements."""
        for name, arr in self._arrays.items():
            if name not in frames:
                msg = f"StepPowerFlow.solve: no values for {name}"
                raise InputError(msg)
            values = frames[name]
            if not values.index.equals(self._columns[name]):
                values = values.reindex(self._columns[name])
                if values.isna().any():
                    msg = f"StepPowerFlow.solve: {name} lacks elements of the template"
                    raise InputError(msg)
            arr[0, :] = values.to_numpy(dtype=np.float64)
        if not self.fast:
            return simulate(self.model, self._prof, options=self.options)
        run, engine = self._run, self._engine
        for counter in ("outside_replaced", "outside_confirmed", "outside_unchecked"):
            setattr(engine, counter, 0)
        collector = _Collector.open(run, engine)
        fallback, messages = _run_chunks(run, engine, collector, None)
        notes = [*run.notes, *_final_notes(run, engine, fallback, messages)]
        result = collector.finish(notes)
        assert isinstance(result, PowerFlowResult)
        return result
