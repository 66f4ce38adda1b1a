"""Options of a time-series power flow: how to solve it and what to keep.

:func:`gridtwin.network.simulate` takes three small objects instead of a long keyword list,
each validated once when it is made:

* :class:`PowerFlowOptions`: the calculation (balanced or unbalanced, method, tolerance,
  iteration limit, threads, chunking, strictness, transformer and zero-sequence models);
* :class:`~gridtwin.network.Controls`: the controllers acting at every step (on-load tap
  changers, Q(U) and cos φ(P) characteristics of inverters);
* :class:`KeepFull` or :class:`KeepSummary`: every quantity at every step, or bounded-memory
  running statistics (with the full results streamed to Parquet if wanted).

The command line builds these from its flags; a service keeps one per twin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from gridtwin.errors import InputError
from gridtwin.network._issues import Solver
from gridtwin.network._statistics import StatisticsSpec

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "DEFAULT_CHUNK_STEPS",
    "FIXED_POINT_MAX_ITERATIONS",
    "PGM_MAX_ITERATIONS",
    "Keep",
    "KeepFull",
    "KeepSummary",
    "Method",
    "PowerFlowOptions",
    "TrafoModel",
    "ZeroSequence",
]

Method = Literal["auto", "fixed_point", "newton_raphson", "iterative_current"]
ZeroSequence = Literal["net", "lv_cable_4x"]
TrafoModel = Literal["t", "pi"]

#: Steps per chunk (upper bound; see :data:`CHUNK_BUDGET_BYTES`).
DEFAULT_CHUNK_STEPS = 4096
#: Memory budget of one chunk [bytes]: set-points, solver output and the derived arrays.
#: Large grids get fewer steps per chunk than ``chunk_steps``.
CHUNK_BUDGET_BYTES = 256 * 2**20
#: Iteration limit of the fixed-point method when none is given (it needs more, cheaper
#: iterations than Newton-Raphson: about 5-8 on ordinary days, 20-40 near collapse).
FIXED_POINT_MAX_ITERATIONS = 100
#: Iteration limit of power-grid-model's methods when none is given.
PGM_MAX_ITERATIONS = 30


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}"
        raise InputError(msg)


@dataclass(frozen=True)
class PowerFlowOptions:
    """How a time-series power flow is calculated.

    Attributes
    ----------
    method : {"auto", "fixed_point", "iterative_current", "newton_raphson"}
        ``"auto"`` (default): the fixed point for balanced runs, power-grid-model's
        iterative current for unbalanced ones.

        * ``"fixed_point"`` (balanced only): pandapower's own admittance matrix,
          factorised once, and a Z-bus fixed-point iteration per step in a compiled
          kernel; the fastest, and the only one with voltage-dependent (ZIP) loads,
          three-winding transformers, wards, motors, impedances, phase shifters,
          voltage-controlled generators and tap or Q(U) controls. Agreement with
          pandapower's Newton-Raphson ~1e-12 pu at the default tolerance. A net with
          voltage-controlled generators (``gen``) is solved step by step with
          Newton-Raphson on the same admittance model (from pandapower's DC start, as
          ``runpp``).
        * ``"iterative_current"``: power-grid-model's iterative current (factorises once;
          balanced and unbalanced).
        * ``"newton_raphson"``: power-grid-model's Newton-Raphson.

        Steps where the fixed point fails are re-solved with Newton-Raphson on the same
        admittance model, and so are steps whose fixed-point solution has a voltage
        outside 0.5-1.5 pu (a power flow can have a second, non-operable solution):
        Newton-Raphson's solution replaces it when it differs (noted in the result).
        Neither is done with tap or Q(U) controls (such steps stay failed, or are
        noted). Steps where iterative current fails are re-solved with power-grid-model's
        Newton-Raphson.
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
    error_tolerance_pu : float
        Convergence tolerance on the voltage [pu].
    max_iterations : int, optional
        Iteration limit per step; default :data:`FIXED_POINT_MAX_ITERATIONS` for the fixed
        point, :data:`PGM_MAX_ITERATIONS` for power-grid-model's methods.
    threading : int
        ``-1`` sequential (one core), ``0`` all hardware threads, ``n > 0`` that many
        threads (the fixed point's kernel threads, or power-grid-model's; with
        power-grid-model and other than ``-1`` the next chunk is also solved while the
        previous one is post-processed).
    chunk_steps : int
        Steps per chunk (at most; large grids get fewer so that a chunk stays within
        :data:`CHUNK_BUDGET_BYTES`).
    strict : bool
        Raise :class:`~gridtwin.errors.ConvergenceError` at the first step that fails
        instead of marking it.
    enforce_q_lims : bool
        Voltage-controlled generators (``gen``) keep within their reactive limits
        (``min_q_mvar``, ``max_q_mvar``): a bus whose generators would exceed them holds
        the limit instead of the voltage, as pandapower's ``runpp(enforce_q_lims=True)``.
        Off by default, as in pandapower.

    Raises
    ------
    InputError
        An option is out of its range or contradicts another one.
    """

    method: Method = "auto"
    symmetric: bool = True
    load_phases: Mapping[int, str] | None = None
    zero_sequence: ZeroSequence = "net"
    trafo_model: TrafoModel = "t"
    error_tolerance_pu: float = 1e-10
    max_iterations: int | None = None
    threading: int = -1
    chunk_steps: int = DEFAULT_CHUNK_STEPS
    strict: bool = False
    enforce_q_lims: bool = False

    def __post_init__(self) -> None:
        _one_of("method", self.method, get_args(Method))
        _one_of("zero_sequence", self.zero_sequence, get_args(ZeroSequence))
        _one_of("trafo_model", self.trafo_model, get_args(TrafoModel))
        if self.chunk_steps < 1:
            msg = f"chunk_steps must be >= 1; got {self.chunk_steps}"
            raise InputError(msg)
        if self.symmetric and self.load_phases:
            msg = "load_phases needs an unbalanced calculation: pass symmetric=False"
            raise InputError(msg)
        if self.method == "fixed_point" and not self.symmetric:
            msg = (
                "method='fixed_point' solves balanced power flows only; use "
                "'iterative_current' or 'newton_raphson' with symmetric=False"
            )
            raise InputError(msg)
        if not self.error_tolerance_pu > 0.0:
            msg = f"error_tolerance_pu must be > 0; got {self.error_tolerance_pu}"
            raise InputError(msg)
        if self.max_iterations is not None and self.max_iterations < 1:
            msg = (
                f"max_iterations must be >= 1 (or None for the default); got {self.max_iterations}"
            )
            raise InputError(msg)
        if self.threading < -1:
            msg = f"threading must be -1 (sequential), 0 (all cores) or n > 0; got {self.threading}"
            raise InputError(msg)

    @property
    def solver(self) -> Literal["fixed_point", "newton_raphson", "iterative_current"]:
        """The method that runs: ``"auto"`` resolved for this run's symmetry."""
        if self.method == "auto":
            return "fixed_point" if self.symmetric else "iterative_current"
        return self.method

    @property
    def engine(self) -> Solver:
        """The engine the run uses, which :func:`gridtwin.network.validate` checks the
        model for: ``"fixed_point"`` (pandapower's own case), ``"pgm"`` or
        ``"pgm_unbalanced"`` (power-grid-model)."""
        if self.solver == "fixed_point":
            return "fixed_point"
        return "pgm" if self.symmetric else "pgm_unbalanced"

    def iteration_limit(self, method: str) -> int:
        """``max_iterations``, or the default of ``method``."""
        if self.max_iterations is not None:
            return self.max_iterations
        return FIXED_POINT_MAX_ITERATIONS if method == "fixed_point" else PGM_MAX_ITERATIONS


@dataclass(frozen=True)
class KeepFull:
    """Keep every quantity at every step: :func:`simulate` returns a
    :class:`~gridtwin.network.PowerFlowResult` (``T x n`` arrays).

    Attributes
    ----------
    parquet : str or Path, optional
        Also write the results as long-format Parquet (see
        :meth:`~gridtwin.network.PowerFlowResult.write_parquet`).
    """

    parquet: str | Path | None = None


@dataclass(frozen=True)
class KeepSummary:
    """Keep per-element running statistics: :func:`simulate` returns a
    :class:`~gridtwin.network.PowerFlowStatistics` whose size does not grow with ``T x n``
    (what large grids over a year need).

    Attributes
    ----------
    statistics : StatisticsSpec, optional
        Voltage bands and loading limits to count (default ±10 % and 100 %), and the
        weekly customer-voltage counts of :func:`gridtwin.network.checks.check_statistics_spec`.
    parquet : str or Path, optional
        Also stream the full results to long-format Parquet chunk by chunk while
        simulating; the file appears (atomically) when complete.
    """

    statistics: StatisticsSpec | None = None
    parquet: str | Path | None = None

    def __post_init__(self) -> None:
        if self.statistics is not None and not isinstance(self.statistics, StatisticsSpec):
            msg = f"statistics must be a StatisticsSpec; got {type(self.statistics).__name__}"
            raise InputError(msg)


Keep = KeepFull | KeepSummary


def check_keep(keep: object) -> KeepFull | KeepSummary:
    """``keep`` as given, or :class:`InputError` saying what it must be."""
    if keep is None:
        return KeepFull()
    if isinstance(keep, KeepFull | KeepSummary):
        return keep
    hint = (
        "; wrap statistics as keep=KeepSummary(statistics=...)"
        if isinstance(keep, StatisticsSpec)
        else ""
    )
    msg = (
        "keep must be KeepFull(parquet=None) (every quantity at every step) or "
        f"KeepSummary(statistics=None, parquet=None) (running statistics); got {keep!r}{hint}"
    )
    raise InputError(msg)
