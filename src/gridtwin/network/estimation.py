"""State estimation with bad-data detection, on power-grid-model (PGM).

A :class:`StateEstimator` converts a pandapower net once (:mod:`gridtwin.network._pgm`)
and adds one PGM sensor per possible reading: a voltage sensor per bus, a power sensor
per load, sgen and branch end. Every interval only their values and standard deviations
change (PGM's in-place ``update``; a reading that is absent has an infinite sigma, which
PGM treats as no sensor), so an interval costs one estimation, not a model build.

Inputs (:class:`Measurements`) are arrays keyed by pandapower element indices, in
pandapower's units and frames:

* ``vm``: bus voltage magnitudes [pu] (a PGM ``sym_voltage_sensor``, ``u = vm * vn_kv``).
* ``load``: load powers [MW], [Mvar], **consumer frame** (import positive, as
  ``net.load`` and gridtwin's meters); PGM sensor ``measured_terminal_type = load``,
  whose reference direction is the load's (positive = power from the node into the
  load), so the values pass unchanged.
* ``sgen``: static generator powers, **generator frame** (as ``net.sgen``); PGM
  ``measured_terminal_type = generator`` (positive = power from the generator into the
  node).
* ``line`` / ``trafo``: branch-end flows, positive **into the branch** at that end
  (pandapower's ``res_line.p_from_mw``); ``side`` is ``"from"``/``"to"`` for lines and
  ``"hv"``/``"lv"`` for transformers (PGM ``branch_from`` / ``branch_to``).

Pseudo-measurements: loads and sgens without a reading (or whose reading was removed as
bad data) take a pseudo-measurement when one is given (``pseudo=Measurements(load=...)``),
typically the profile's value for the interval. :func:`pseudo_readings` builds them with
``sigma = max(relative_sigma * |value|, floor)`` (default 50 % and 1 kW / 1 kvar): a
profile says little about one household in one quarter hour, and the weighting lets
every real reading dominate. Without either, the element's bus injection is unknown.

Method: PGM's Newton-Raphson estimator by default. It is the exact weighted least squares
(WLS) solution with independent ``sigma_P`` and ``sigma_Q`` and exact zero-injection
constraints, so the objective ``J`` follows the chi-square law the bad-data test
assumes. PGM's iterative linear method (``method="iterative_linear"``) is faster per
iteration but approximates the weights (``sigma_S^2 = sigma_P^2 + sigma_Q^2``, voltages
frozen in the pre-factorised gain matrix), which biases ``J``.

Statistics (computed here from the estimated state; PGM returns the state and
per-sensor residuals, not the residual covariance): with ``m`` measured quantities (PGM's
aggregation: the appliances of a bus form one injection measurement when all are
measured, with the sum of their variances), ``n = 2 N - 1`` state variables and ``c``
zero-injection constraints,

* ``J = sum r_i^2 / sigma_i^2`` and ``dof = m - n + c``; under correct sigmas and no
  bad data ``J ~ chi2(dof)``; the test fails when ``P(chi2(dof) >= J) < alpha``
  (default ``alpha = 0.01``, the false-alarm rate).
* normalised residuals ``r_N,i = r_i / sqrt(Omega_ii)`` with ``Omega = R - H E H^T``:
  ``H`` the analytic Jacobian of the measurement functions at the estimate (PGM's own
  branch model, :mod:`gridtwin.network._se_model`), ``E`` the state covariance, the
  upper-left block of ``[[H^T W H, C^T], [C, 0]]^-1`` (``C``: the zero-injection rows),
  from one sparse LU. A critical measurement (``Omega_ii = 0``) has no ``r_N``.
* Bad data (largest normalised residual): while the test fails, the reading with the
  largest ``|r_N|`` above ``rn_threshold`` (default 3) is removed and the state
  re-estimated, at most ``max_removals`` times. The appliances of one bus share one
  injection measurement: their ``r_N`` are equal, so a bad reading is located to the
  bus; the one with the largest ``|r|/sigma`` is named and its neighbours listed.

Observability: before PGM runs, a structural check (:func:`_se_model.unobservable_zones`)
names the buses a measurement set leaves undetermined and what to add; PGM's own
``NotObservableError`` is translated the same way. Both raise
:class:`ObservabilityError` (an :class:`~gridtwin.errors.InputError`).

power-grid-model and scipy are imported by the functions that use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import ConvergenceError, InputError

if TYPE_CHECKING:
    from gridtwin.network._pgm import PgmNetwork
    from gridtwin.network._se_model import Grid, Rows, Zone

__all__ = [
    "BadReading",
    "ChiSquareTest",
    "EstimationOptions",
    "EstimationResult",
    "FlowReadings",
    "Measurements",
    "ObservabilityError",
    "PowerReadings",
    "ReadingResiduals",
    "StateEstimator",
    "VoltageReadings",
    "estimate",
    "pseudo_readings",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
SeMethod = Literal["newton_raphson", "iterative_linear"]


class ObservabilityError(InputError):
    """The measurements do not determine the state of some buses.

    Attributes
    ----------
    buses : tuple of int
        pandapower indices of the buses that are not observable.
    """

    def __init__(self, message: str, buses: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.buses = buses


def _ids(values: Any) -> IntArray:
    return np.atleast_1d(np.asarray(values, dtype=np.int64))


def _floats(values: Any) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


@dataclass(frozen=True)
class VoltageReadings:
    """Bus voltage magnitudes.

    Attributes
    ----------
    bus : numpy.ndarray of int
        pandapower bus indices.
    vm_pu : numpy.ndarray
        Measured magnitude [pu of the bus's ``vn_kv``].
    sigma_pu : numpy.ndarray
        Standard deviation of the meter's error [pu] (> 0).
    """

    bus: IntArray
    vm_pu: FloatArray
    sigma_pu: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "bus", _ids(self.bus))
        object.__setattr__(self, "vm_pu", _floats(self.vm_pu))
        object.__setattr__(self, "sigma_pu", _floats(self.sigma_pu))


@dataclass(frozen=True)
class PowerReadings:
    """Powers of loads (consumer frame) or sgens (generator frame).

    Attributes
    ----------
    element : numpy.ndarray of int
        pandapower indices in ``net.load`` or ``net.sgen``.
    p_mw, q_mvar : numpy.ndarray
        Measured active [MW] and reactive [Mvar] power.
    sigma_p_mw, sigma_q_mvar : numpy.ndarray
        Standard deviations [MW], [Mvar] (> 0).
    """

    element: IntArray
    p_mw: FloatArray
    q_mvar: FloatArray
    sigma_p_mw: FloatArray
    sigma_q_mvar: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "element", _ids(self.element))
        for name in ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar"):
            object.__setattr__(self, name, _floats(getattr(self, name)))


@dataclass(frozen=True)
class FlowReadings:
    """Branch-end flows, positive into the branch.

    Attributes
    ----------
    element : numpy.ndarray of int
        pandapower indices in ``net.line`` or ``net.trafo``.
    side : numpy.ndarray of str
        ``"from"``/``"to"`` (lines) or ``"hv"``/``"lv"`` (transformers).
    p_mw, q_mvar, sigma_p_mw, sigma_q_mvar : numpy.ndarray
        As :class:`PowerReadings`.
    """

    element: IntArray
    side: npt.NDArray[np.str_]
    p_mw: FloatArray
    q_mvar: FloatArray
    sigma_p_mw: FloatArray
    sigma_q_mvar: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "element", _ids(self.element))
        object.__setattr__(self, "side", np.atleast_1d(np.asarray(self.side, dtype=str)))
        for name in ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar"):
            object.__setattr__(self, name, _floats(getattr(self, name)))


@dataclass(frozen=True)
class Measurements:
    """The readings of one interval (any subset; ``None``: no readings of that kind)."""

    vm: VoltageReadings | None = None
    load: PowerReadings | None = None
    sgen: PowerReadings | None = None
    line: FlowReadings | None = None
    trafo: FlowReadings | None = None


def pseudo_readings(
    element: Any,
    p_mw: Any,
    q_mvar: Any,
    *,
    relative_sigma: float = 0.5,
    floor_mw: float = 1e-3,
    floor_mvar: float = 1e-3,
) -> PowerReadings:
    """Pseudo-measurements from profile values: ``sigma = max(relative_sigma * |value|,
    floor)``.

    Parameters
    ----------
    element : array of int
        pandapower load (or sgen) indices.
    p_mw, q_mvar : array
        The profile's values for the interval [MW], [Mvar], in the element's frame.
    relative_sigma : float
        Standard deviation as a share of the value (default 0.5).
    floor_mw, floor_mvar : float
        Smallest standard deviation [MW], [Mvar] (default 1 kW, 1 kvar), so that a
        profile value near zero is not taken as exact.
    """
    if not (relative_sigma >= 0 and floor_mw > 0 and floor_mvar > 0):
        msg = "pseudo_readings: relative_sigma must be >= 0 and the floors > 0"
        raise InputError(msg)
    p, q = _floats(p_mw), _floats(q_mvar)
    return PowerReadings(
        element=_ids(element),
        p_mw=p,
        q_mvar=q,
        sigma_p_mw=np.maximum(relative_sigma * np.abs(p), floor_mw),
        sigma_q_mvar=np.maximum(relative_sigma * np.abs(q), floor_mvar),
    )


@dataclass(frozen=True)
class EstimationOptions:
    """How :meth:`StateEstimator.estimate` runs.

    Attributes
    ----------
    method : {"newton_raphson", "iterative_linear"}
        PGM's estimator (module docstring: why Newton-Raphson is the default).
    error_tolerance_pu : float
        PGM's convergence tolerance on the voltages [pu].
    max_iterations : int
        PGM's iteration limit.
    alpha : float
        False-alarm rate of the chi-square test.
    rn_threshold : float
        A reading is removed only when its ``|r_N|`` exceeds this.
    max_removals : int
        Bad-data rounds (readings removed) at most.
    detect_by_rn : bool
        Also raise the alarm when the test passes but a ``|r_N|`` exceeds
        ``rn_threshold`` (more detections, more false alarms: with ``m`` readings about
        ``m * 0.27 %`` per clean interval at 3).
    normalized_residuals : {"always", "on_alarm"}
        Compute ``r_N`` every interval, or only when the chi-square test fails (saves
        the covariance on large grids).
    """

    method: SeMethod = "newton_raphson"
    error_tolerance_pu: float = 1e-8
    max_iterations: int = 30
    alpha: float = 0.01
    rn_threshold: float = 3.0
    max_removals: int = 3
    detect_by_rn: bool = False
    normalized_residuals: Literal["always", "on_alarm"] = "always"

    def __post_init__(self) -> None:
        if self.method not in ("newton_raphson", "iterative_linear"):
            msg = f"EstimationOptions.method = {self.method!r}: use 'newton_raphson' or 'iterative_linear'"
            raise InputError(msg)
        if not 0.0 < self.alpha < 1.0:
            msg = f"EstimationOptions.alpha = {self.alpha}: the false-alarm rate is in (0, 1), e.g. 0.01"
            raise InputError(msg)
        if not self.rn_threshold > 0 or self.max_removals < 0 or self.max_iterations < 1:
            msg = (
                "EstimationOptions: rn_threshold must be > 0, max_removals >= 0 and "
                "max_iterations >= 1"
            )
            raise InputError(msg)
        if self.normalized_residuals not in ("always", "on_alarm"):
            msg = "EstimationOptions.normalized_residuals must be 'always' or 'on_alarm'"
            raise InputError(msg)


@dataclass(frozen=True)
class ChiSquareTest:
    """The chi-square test of the objective.

    Attributes
    ----------
    j : float
        ``sum r_i^2 / sigma_i^2`` over the measured quantities (pseudo included).
    dof : int
        Degrees of freedom ``m - n + c``; 0: no redundancy, bad data undetectable.
    alpha : float
        False-alarm rate.
    threshold : float
        ``chi2.ppf(1 - alpha, dof)``: the test fails above it (NaN when ``dof = 0``).
    p_value : float
        ``P(chi2(dof) >= j)`` (NaN when ``dof = 0``).
    passed : bool
        ``p_value >= alpha`` (True when ``dof = 0``: nothing can be tested).
    """

    j: float
    dof: int
    alpha: float
    threshold: float
    p_value: float
    passed: bool


@dataclass(frozen=True)
class ReadingResiduals:
    """Residuals per measured quantity (one entry per quantity of each reading used).

    Values are in the reading's units and frame: [pu] for ``vm``, [MW] for ``p``,
    [Mvar] for ``q``.

    Attributes
    ----------
    table : numpy.ndarray of str
        ``"bus"``, ``"load"``, ``"sgen"``, ``"line"``, ``"trafo"``.
    element : numpy.ndarray of int
        pandapower index.
    side : numpy.ndarray of str
        Branch end (``""`` otherwise).
    quantity : numpy.ndarray of str
        ``"vm"``, ``"p"`` or ``"q"``.
    measured, estimated, residual, sigma : numpy.ndarray
        ``residual = measured - estimated``.
    normalized : numpy.ndarray
        ``r_N`` (NaN: not computed, a critical measurement, or a pseudo-measurement).
    pseudo : numpy.ndarray of bool
        A pseudo-measurement.
    """

    table: npt.NDArray[np.str_]
    element: IntArray
    side: npt.NDArray[np.str_]
    quantity: npt.NDArray[np.str_]
    measured: FloatArray
    estimated: FloatArray
    residual: FloatArray
    sigma: FloatArray
    normalized: FloatArray
    pseudo: BoolArray


@dataclass(frozen=True)
class BadReading:
    """A reading removed as bad data.

    Attributes
    ----------
    table, element, side, quantity : str, int, str, str
        Which reading, and the quantity with the largest ``|r_N|``.
    normalized_residual : float
        Its ``r_N`` when it was removed.
    round : int
        Bad-data round (1 = first removal).
    same_bus : tuple of str
        Other readings of the same bus injection, which had the same ``|r_N|``.
    replaced_by_pseudo : bool
        The element then took its pseudo-measurement.
    """

    table: str
    element: int
    side: str
    quantity: str
    normalized_residual: float
    round: int
    same_bus: tuple[str, ...] = ()
    replaced_by_pseudo: bool = False

    @property
    def label(self) -> str:
        """``"load 3 p"``, ``"line 5 from p"``, ``"bus 12 vm"``."""
        side = f" {self.side}" if self.side else ""
        return f"{self.table} {self.element}{side} {self.quantity}"


@dataclass(frozen=True)
class EstimationResult:
    """The estimated state, the test of its measurements and the bad data removed.

    Attributes
    ----------
    bus : numpy.ndarray of int
        pandapower bus indices (net order).
    vm_pu, va_degree : numpy.ndarray
        Estimated voltage [pu], angle [degree] (NaN where not energised).
    line, trafo : numpy.ndarray of int
        pandapower indices.
    line_p_from_mw, line_q_from_mvar, line_p_to_mw, line_q_to_mvar : numpy.ndarray
        Line flows into the line at each end [MW], [Mvar].
    line_i_ka, line_loading_percent : numpy.ndarray
        Larger end current [kA] and loading against ``max_i_ka * df * parallel`` [%].
    trafo_p_hv_mw, trafo_q_hv_mvar, trafo_p_lv_mw, trafo_q_lv_mvar : numpy.ndarray
        Transformer flows into it at each side [MW], [Mvar].
    trafo_loading_percent : numpy.ndarray
        Loading against ``sn_mva * parallel * df`` from the larger side current [%].
    load_p_mw, load_q_mvar, sgen_p_mw, sgen_q_mvar : numpy.ndarray
        Estimated element powers (net order; consumer / generator frame).
    test : ChiSquareTest
        The test of the final estimate.
    residuals : ReadingResiduals
        Residuals of the final estimate.
    removed : tuple of BadReading
        Bad data removed, in order.
    method : str
        PGM's estimator.
    notes : tuple of str
        What the operator should know (a test that failed with nothing to remove ...).
    """

    bus: IntArray
    vm_pu: FloatArray
    va_degree: FloatArray
    line: IntArray
    line_p_from_mw: FloatArray
    line_q_from_mvar: FloatArray
    line_p_to_mw: FloatArray
    line_q_to_mvar: FloatArray
    line_i_ka: FloatArray
    line_loading_percent: FloatArray
    trafo: IntArray
    trafo_p_hv_mw: FloatArray
    trafo_q_hv_mvar: FloatArray
    trafo_p_lv_mw: FloatArray
    trafo_q_lv_mvar: FloatArray
    trafo_loading_percent: FloatArray
    load_p_mw: FloatArray
    load_q_mvar: FloatArray
    sgen_p_mw: FloatArray
    sgen_q_mvar: FloatArray
    test: ChiSquareTest
    residuals: ReadingResiduals
    removed: tuple[BadReading, ...]
    method: str
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- the estimator ----------------------------------------------------------------------

_TABLES = ("load", "sgen")
_S_BASE_VA = 1e6  # the per-unit base of _se_model: 1 pu = 1 MW
_OUTPUT = {
    "node": ["u_pu", "u_angle", "energized"],
    "line": ["p_from", "q_from", "p_to", "q_to", "i_from", "i_to"],
    "transformer": ["p_from", "q_from", "p_to", "q_to", "i_from", "i_to"],
    "sym_load": ["p", "q"],
    "sym_gen": ["p", "q"],
}
_SIDES = {"line": ("from", "to"), "trafo": ("hv", "lv")}


@dataclass(frozen=True)
class _Layout:
    """Where every possible reading sits: one slot per bus voltage, per load and sgen,
    per branch end (lines from, lines to, trafos hv, trafos lv), in that order."""

    bus: IntArray
    load: IntArray
    sgen: IntArray
    line: IntArray
    trafo: IntArray

    @property
    def n_bus(self) -> int:
        return len(self.bus)

    @property
    def n_app(self) -> int:
        return len(self.load) + len(self.sgen)

    @property
    def n_end(self) -> int:
        return 2 * (len(self.line) + len(self.trafo))

    def app_offset(self, table: str) -> int:
        return 0 if table == "load" else len(self.load)

    def end_offset(self, table: str, side_k: int) -> int:
        nl = len(self.line)
        return side_k * nl if table == "line" else 2 * nl + side_k * len(self.trafo)

    def describe(self, slot: int) -> tuple[str, int, str]:
        """``(table, element, side)`` of a global slot."""
        if slot < self.n_bus:
            return "bus", int(self.bus[slot]), ""
        k = slot - self.n_bus
        if k < len(self.load):
            return "load", int(self.load[k]), ""
        if k < self.n_app:
            return "sgen", int(self.sgen[k - len(self.load)]), ""
        e = k - self.n_app
        nl, nt = len(self.line), len(self.trafo)
        if e < 2 * nl:
            return "line", int(self.line[e % nl]), _SIDES["line"][e // nl]
        e -= 2 * nl
        return "trafo", int(self.trafo[e % nt]), _SIDES["trafo"][e // nt]


@dataclass
class _Slots:
    """Values [pu = MW, Mvar on 1 MVA] and sigmas (inf: no reading) of every slot."""

    vm: FloatArray
    vm_sigma: FloatArray
    p: FloatArray  # appliances then branch ends
    q: FloatArray
    p_sigma: FloatArray
    q_sigma: FloatArray
    pseudo: BoolArray  # per appliance/branch slot

    @classmethod
    def empty(cls, lay: _Layout) -> _Slots:
        n = lay.n_app + lay.n_end
        return cls(
            np.zeros(lay.n_bus),
            np.full(lay.n_bus, np.inf),
            np.zeros(n),
            np.zeros(n),
            np.full(n, np.inf),
            np.full(n, np.inf),
            np.zeros(n, dtype=bool),
        )

    def copy(self) -> _Slots:
        return _Slots(*(np.array(getattr(self, f)) for f in self.__dataclass_fields__))


def _check_values(prefix: str, names: tuple[str, ...], arrays: tuple[FloatArray, ...]) -> None:
    """Equal lengths, finite values, sigmas > 0 (the last two names are sigmas)."""
    n = len(arrays[0])
    for name, arr in zip(names, arrays, strict=True):
        if arr.ndim != 1 or len(arr) != n:
            msg = f"{prefix}.{name} has {arr.size} values; {prefix}.{names[0]} has {n}"
            raise InputError(msg)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            k = int(bad[0])
            msg = (
                f"{prefix}.{name}[{k}] = {arr[k]}: values must be finite numbers; leave a "
                "missing reading out instead of passing NaN"
            )
            raise InputError(msg)
        if "sigma" in name and np.any(arr <= 0):
            k = int(np.flatnonzero(arr <= 0)[0])
            msg = (
                f"{prefix}.{name}[{k}] = {arr[k]}: a standard deviation must be > 0 (the "
                "meter's error, e.g. a third of its accuracy class)"
            )
            raise InputError(msg)


def _positions(
    prefix: str, index: IntArray, ids: IntArray, what: str, unique: bool = True
) -> IntArray:
    """Positions of ``ids`` in ``index``; unknown and duplicate ids are errors."""
    sorter = np.argsort(index)
    k = np.searchsorted(index, ids, sorter=sorter) if len(index) else np.zeros(len(ids), int)
    k = np.minimum(k, max(len(index) - 1, 0))
    pos = sorter[k] if len(index) else k
    ok = (index[pos] == ids) if len(index) else np.zeros(len(ids), dtype=bool)
    if not ok.all():
        j = int(np.flatnonzero(~ok)[0])
        msg = (
            f"{prefix}[{j}] = {ids[j]}: not a {what} of the net ({len(index)} {what}s); "
            "use pandapower indices"
        )
        raise InputError(msg)
    uniq, counts = np.unique(pos, return_counts=True)
    if unique and np.any(counts > 1):
        dup = int(index[uniq[counts > 1][0]])
        msg = f"{prefix}: {what} {dup} has more than one reading; pass one per {what}"
        raise InputError(msg)
    return np.asarray(pos, dtype=np.int64)


def _fill(lay: _Layout, slots: _Slots, m: Measurements, prefix: str, pseudo: bool) -> None:
    """Write the readings of ``m`` into ``slots`` (``pseudo``: only where there is no
    reading yet)."""
    if m.vm is not None and not pseudo:
        r = m.vm
        _check_values(f"{prefix}.vm", ("vm_pu", "sigma_pu"), (r.vm_pu, r.sigma_pu))
        pos = _positions(f"{prefix}.vm.bus", lay.bus, r.bus, "bus")
        slots.vm[pos], slots.vm_sigma[pos] = r.vm_pu, r.sigma_pu
    names = ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar")
    for table in _TABLES:
        pr: PowerReadings | None = getattr(m, table)
        if pr is None:
            continue
        _check_values(f"{prefix}.{table}", names, tuple(getattr(pr, n) for n in names))
        pos = _positions(f"{prefix}.{table}.element", getattr(lay, table), pr.element, table)
        pos = pos + lay.app_offset(table)
        if pseudo:
            free = ~np.isfinite(slots.p_sigma[pos])
            pos, sel = pos[free], free
        else:
            sel = np.ones(len(pos), dtype=bool)
        _write(slots, pos, pr.p_mw[sel], pr.q_mvar[sel], pr.sigma_p_mw[sel], pr.sigma_q_mvar[sel])
        slots.pseudo[pos] = pseudo
    if not pseudo:
        for table in ("line", "trafo"):
            _fill_flows(lay, slots, getattr(m, table), f"{prefix}.{table}", table)


def _write(slots: _Slots, pos: IntArray, *values: FloatArray) -> None:
    slots.p[pos], slots.q[pos], slots.p_sigma[pos], slots.q_sigma[pos] = values


def _fill_flows(
    lay: _Layout, slots: _Slots, fr: FlowReadings | None, prefix: str, table: str
) -> None:
    if fr is None:
        return
    names = ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar")
    _check_values(prefix, names, tuple(getattr(fr, n) for n in names))
    if len(fr.side) != len(fr.element):
        msg = f"{prefix}.side has {len(fr.side)} values; {prefix}.element has {len(fr.element)}"
        raise InputError(msg)
    sides = _SIDES[table]
    bad = np.flatnonzero(~np.isin(fr.side, sides))
    if bad.size:
        k = int(bad[0])
        msg = f"{prefix}.side[{k}] = {fr.side[k]!r}: use {sides[0]!r} or {sides[1]!r}"
        raise InputError(msg)
    index = getattr(lay, table)
    _positions(f"{prefix}.element", index, fr.element, table, unique=False)
    side_k = np.where(fr.side == sides[0], 0, 1)
    # position in [lines or trafos at side 0, then at side 1] = the slots' end order
    ends = np.r_[index * 2, index * 2 + 1]
    pos = _positions(f"{prefix}.element", ends, fr.element * 2 + side_k, f"{table} end")
    pos = lay.n_app + lay.end_offset(table, 0) + pos
    _write(slots, pos, fr.p_mw, fr.q_mvar, fr.sigma_p_mw, fr.sigma_q_mvar)


@dataclass(frozen=True)
class _Appliances:
    """Loads and sgens on the state nodes, and the appliances no reading can measure."""

    node: IntArray  # state node per load/sgen slot
    on: BoolArray  # in service (PGM status)
    sign: FloatArray  # -1 load, +1 sgen: to the injection (generator) frame
    fixed_unknown: BoolArray  # per state node: a source, storage or asymmetric element
    has_any: BoolArray  # per state node: any in-service appliance
    fixed_labels: dict[int, list[str]]


def _appliances(g: PgmNetwork, grid: Grid, lay: _Layout) -> _Appliances:
    """The appliance map of a converted net (built once)."""
    from power_grid_model import ComponentType as CT

    from gridtwin.network._se_model import node_positions

    pos = node_positions(g)
    n_load, n_sgen = len(lay.load), len(lay.sgen)
    fixed_unknown = np.zeros(grid.n_super, dtype=bool)
    has_any = np.zeros(grid.n_super, dtype=bool)
    labels: dict[int, list[str]] = {}
    node = np.zeros(n_load + n_sgen, dtype=np.int64)
    on = np.zeros(n_load + n_sgen, dtype=bool)
    parts = [
        (CT.sym_load, n_load, 0, ("storage", "asymmetric_load")),
        (CT.sym_gen, n_sgen, n_load, ("asymmetric_sgen",)),
        (CT.source, 0, 0, ("ext_grid",)),
    ]
    for ct, n_meas, offset, others in parts:
        arr = g.input_data.get(ct)
        if arr is None:
            continue
        sn = grid.node_super[[pos[int(i)] for i in arr["node"]]]
        st = arr["status"].astype(bool)
        has_any[sn[st]] = True
        node[offset : offset + n_meas], on[offset : offset + n_meas] = sn[:n_meas], st[:n_meas]
        rest = [(t, e) for t in others for e in g.ids[t].index.tolist()]
        for (table, element), k in zip(rest, range(n_meas, len(arr)), strict=True):
            if st[k]:
                fixed_unknown[sn[k]] = True
                labels.setdefault(int(sn[k]), []).append(f"{table} {element}")
    sign = np.r_[-np.ones(n_load), np.ones(n_sgen)]
    return _Appliances(node, on, sign, fixed_unknown, has_any, labels)


@dataclass(frozen=True)
class _RowSet:
    """Measurement rows of one set of slots and which slots feed which rows."""

    rows: Rows
    real: BoolArray  # per row: carries a real (not pseudo) reading
    p_row: IntArray  # per slot (bus, appliance, end): its P (or vm) row, -1 none
    q_row: IntArray  # per slot: its Q row, -1 none
    unknown: BoolArray  # per state node: injection not measured


def _ranges(values: list[int]) -> str:
    """``[12, 13, 14, 17]`` -> ``"12-14, 17"`` (first 12 runs)."""
    vals = sorted(set(values))
    runs: list[str] = []
    start = prev = vals[0] if vals else 0
    for v in vals[1:] + [None]:  # type: ignore[list-item]
        if v is not None and v == prev + 1:
            prev = v
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    more = f", ... ({len(runs)} runs)" if len(runs) > 12 else ""
    return ", ".join(runs[:12]) + more


class StateEstimator:
    """A network prepared for state estimation, reused interval after interval.

    Parameters
    ----------
    model : NetworkModel or pandapowerNet
        The grid (validated with :func:`gridtwin.network.validate`; balanced).
    options : EstimationOptions, optional
        Method, test and bad-data settings.

    Notes
    -----
    Not thread-safe: every call updates the one PGM model in place.
    """

    def __init__(self, model: Any, options: EstimationOptions | None = None) -> None:
        from gridtwin.network._pgm import build_pgm_network
        from gridtwin.network._se_model import build_grid

        net = getattr(model, "net", model)
        self.options = options or EstimationOptions()
        g = build_pgm_network(net, symmetric=True)
        self._g = g
        self._layout = _Layout(*(g.ids[t].index for t in ("bus", "load", "sgen", "line", "trafo")))
        self._grid = build_grid(g)
        self._apps = _appliances(g, self._grid, self._layout)
        self._pgm, self._vs_ids, self._ps_ids = _pgm_model(g, self._layout)
        self._vs_ids = self._vs_ids.astype(np.int32)
        self._ps_ids = self._ps_ids.astype(np.int32)
        self._ratings = _ratings(net)
        u = g.input_data[_ct("node")]["u_rated"].astype(float)
        self._u_rated = u
        _, self._rep = np.unique(self._grid.node_super, return_index=True)

    @property
    def layout(self) -> _Layout:
        """The pandapower indices of buses, loads, sgens, lines and trafos (net order)."""
        return self._layout

    def estimate(
        self, measurements: Measurements, pseudo: Measurements | None = None
    ) -> EstimationResult:
        """Estimate the state of one interval, test it and remove bad data.

        Parameters
        ----------
        measurements : Measurements
            The interval's readings.
        pseudo : Measurements, optional
            Pseudo-measurements for loads and sgens (:func:`pseudo_readings`), used where
            an element has no reading or its reading is removed as bad data.

        Raises
        ------
        InputError
            A reading names no element, is NaN or has a sigma <= 0 (the message names
            the field), or sits at an element out of service.
        ObservabilityError
            The readings leave buses undetermined (the message names them).
        ConvergenceError
            PGM's estimator did not converge.
        """
        slots = self._slots(measurements, pseudo)
        fallback = self._pseudo_only(pseudo)
        o = self.options
        removed: list[BadReading] = []
        notes: list[str] = []
        state, an = self._run(slots, o.normalized_residuals == "always")
        for rnd in range(1, o.max_removals + 1):
            if not self._alarm(an):
                break
            if np.all(np.isnan(an.rn)):
                an = self._analyse(slots, state, want_rn=True)
            suspect = self._suspect(slots, an)
            if suspect is None or abs(suspect[2]) <= o.rn_threshold:
                notes.append(
                    "the chi-square test failed but no reading has |r_N| above "
                    f"{o.rn_threshold}: check the sigmas and the pseudo-measurements"
                )
                break
            slot, quantity, rn, same = suspect
            trial = slots.copy()
            has_pseudo = _drop(trial, fallback, slot, self._layout.n_bus)
            try:
                state2, an2 = self._run(trial, o.normalized_residuals == "always")
            except ObservabilityError as exc:
                notes.append(
                    f"{_label(self._layout, slot, quantity)} is suspect (r_N = {rn:.1f}) but "
                    f"removing it leaves the state undetermined: {exc}"
                )
                break
            table, element, side = self._layout.describe(slot)
            removed.append(
                BadReading(table, element, side, quantity, float(rn), rnd, same, has_pseudo)
            )
            slots, state, an = trial, state2, an2
        if self._alarm(an) and len(removed) == o.max_removals and o.max_removals:
            notes.append(f"bad data remains after {o.max_removals} removals (max_removals)")
        return self._result(state, an, tuple(removed), tuple(notes))

    # -- one interval's slots ------------------------------------------------------------

    def _slots(self, m: Measurements, pseudo: Measurements | None) -> _Slots:
        """Validated readings, then pseudo-measurements where there is no reading."""
        if not isinstance(m, Measurements):
            msg = "measurements must be a gridtwin.network.estimation.Measurements"
            raise InputError(msg)
        slots = _Slots.empty(self._layout)
        _fill(self._layout, slots, m, "measurements", pseudo=False)
        if pseudo is not None:
            self._check_pseudo(pseudo)
            _fill(self._layout, slots, pseudo, "pseudo", pseudo=True)
        self._check_in_service(slots)
        return slots

    @staticmethod
    def _check_pseudo(pseudo: Measurements) -> None:
        for name in ("vm", "line", "trafo"):
            if getattr(pseudo, name) is not None:
                msg = f"pseudo.{name}: pseudo-measurements are for loads and sgens only"
                raise InputError(msg)

    def _pseudo_only(self, pseudo: Measurements | None) -> _Slots | None:
        if pseudo is None:
            return None
        slots = _Slots.empty(self._layout)
        _fill(self._layout, slots, pseudo, "pseudo", pseudo=True)
        return slots

    def _check_in_service(self, s: _Slots) -> None:
        """Readings only at energised buses and in-service elements."""
        lay, grid, ap = self._layout, self._grid, self._apps
        en_bus = grid.energized[grid.node_super]
        bad_vm = np.flatnonzero(np.isfinite(s.vm_sigma) & ~en_bus)
        na = lay.n_app
        app_ok = ap.on & grid.energized[ap.node]
        drop = s.pseudo[:na] & ~app_ok  # profiles may cover elements out of service
        s.p_sigma[:na][drop] = s.q_sigma[:na][drop] = np.inf
        bad_app = np.flatnonzero(np.isfinite(s.p_sigma[:na]) & ~app_ok)
        ends = grid.branch_ends
        nl, nt = len(lay.line), len(lay.trafo)
        end_node = np.r_[ends[:nl, 0], ends[:nl, 1], ends[nl:, 0], ends[nl:, 1]]
        end_ok = (end_node >= 0) & grid.energized[np.maximum(end_node, 0)]
        bad_end = np.flatnonzero(np.isfinite(s.p_sigma[na:]) & ~end_ok)
        bad = [int(k) for k in bad_vm] + [lay.n_bus + int(k) for k in bad_app]
        bad += [lay.n_bus + na + int(k) for k in bad_end]
        if bad:
            table, element, side = lay.describe(bad[0])
            what = f"{table} {element}" + (f" ({side} end)" if side else "")
            msg = (
                f"measurements: {what} is out of service, open at that end or not connected "
                f"to a source ({len(bad)} such readings); leave its reading out"
            )
            raise InputError(msg)

    # -- rows, estimation, analysis -------------------------------------------------------

    def _rowset(self, s: _Slots) -> _RowSet:  # long: one table of rows, built in order
        """The measurement rows of ``s`` (PGM's aggregation, module docstring)."""
        from gridtwin.network._se_model import (
            KIND_P_FLOW,
            KIND_P_INJ,
            KIND_Q_FLOW,
            KIND_Q_INJ,
            KIND_VM,
            Rows,
        )

        lay, grid, ap = self._layout, self._grid, self._apps
        na, ns = lay.n_app, grid.n_super
        vm_slot = np.flatnonzero(np.isfinite(s.vm_sigma))
        a_on = np.isfinite(s.p_sigma[:na]) & ap.on
        unknown = ap.fixed_unknown.copy()
        unknown[ap.node[ap.on & ~a_on]] = True
        inj = np.flatnonzero(grid.energized & ap.has_any & ~unknown)
        zero = np.flatnonzero(grid.energized & ~ap.has_any)
        sums = np.zeros((4, ns))
        k = np.flatnonzero(a_on)
        for row, vals in enumerate(
            (ap.sign * s.p[:na], ap.sign * s.q[:na], s.p_sigma[:na] ** 2, s.q_sigma[:na] ** 2)
        ):
            np.add.at(sums[row], ap.node[k], vals[k])
        e = np.flatnonzero(np.isfinite(s.p_sigma[na:]))
        n = [len(vm_slot), len(inj), len(inj), len(zero), len(zero), len(e), len(e)]
        kinds = (KIND_VM, KIND_P_INJ, KIND_Q_INJ, KIND_P_INJ, KIND_Q_INJ, KIND_P_FLOW, KIND_Q_FLOW)
        rows = Rows(
            kind=np.repeat(np.array(kinds, dtype=np.int64), n),
            where=np.concatenate([grid.node_super[vm_slot], inj, inj, zero, zero, e, e]),
            z=np.concatenate(
                [
                    s.vm[vm_slot],
                    sums[0, inj],
                    sums[1, inj],
                    np.zeros(2 * len(zero)),
                    s.p[na + e],
                    s.q[na + e],
                ]
            ),
            sigma=np.concatenate(
                [
                    s.vm_sigma[vm_slot],
                    np.sqrt(sums[2, inj]),
                    np.sqrt(sums[3, inj]),
                    np.zeros(2 * len(zero)),
                    s.p_sigma[na + e],
                    s.q_sigma[na + e],
                ]
            ),
        )
        start = np.cumsum([0, *n])
        n_slot = lay.n_bus + na + lay.n_end
        p_row = np.full(n_slot, -1, dtype=np.int64)
        q_row = np.full(n_slot, -1, dtype=np.int64)
        p_row[vm_slot] = start[0] + np.arange(len(vm_slot))
        node_p = np.full(ns, -1, dtype=np.int64)
        node_p[inj] = start[1] + np.arange(len(inj))
        used = k[node_p[ap.node[k]] >= 0]
        p_row[lay.n_bus + used] = node_p[ap.node[used]]
        q_row[lay.n_bus + used] = node_p[ap.node[used]] + len(inj)
        p_row[lay.n_bus + na + e] = start[5] + np.arange(len(e))
        q_row[lay.n_bus + na + e] = start[6] + np.arange(len(e))
        real = np.zeros(len(rows.kind), dtype=bool)
        real[: start[1]] = True
        real[start[5] :] = True
        real_app = used[~s.pseudo[used]]
        real[node_p[ap.node[real_app]]] = True
        real[node_p[ap.node[real_app]] + len(inj)] = True
        return _RowSet(rows, real, p_row, q_row, unknown)

    def _observable(self, s: _Slots, rs: _RowSet) -> None:
        """The structural check; raises :class:`ObservabilityError` naming the buses."""
        from gridtwin.network._se_model import unobservable_zones

        lay, grid = self._layout, self._grid
        na, nl, nt = lay.n_app, len(lay.line), len(lay.trafo)
        on = np.isfinite(s.p_sigma[na:])
        measured = np.r_[on[:nl] | on[nl : 2 * nl], on[2 * nl : 2 * nl + nt] | on[2 * nl + nt :]]
        vm_on = np.zeros(grid.n_super, dtype=bool)
        vm_on[grid.node_super[np.isfinite(s.vm_sigma)]] = True
        zones = unobservable_zones(grid, ~rs.unknown, measured, vm_on)
        if zones:
            raise ObservabilityError(*self._explain(zones, s))

    def _explain(self, zones: list[Zone], s: _Slots) -> tuple[str, tuple[int, ...]]:
        """An operator's message for unobservable zones, and their buses."""
        lay, grid, ap = self._layout, self._grid, self._apps
        na = lay.n_app
        missing = ap.on & ~np.isfinite(s.p_sigma[:na])
        parts: list[str] = []
        all_buses: list[int] = []
        for z in zones[:5]:
            buses = lay.bus[np.isin(grid.node_super, z.nodes)].tolist()
            all_buses += buses
            if not z.has_voltage:
                parts.append(
                    f"buses {_ranges(buses)} have no voltage measurement in their part of "
                    "the grid: add one (e.g. the substation busbar)"
                )
                continue
            what: list[str] = []
            for node in z.unknown.tolist():
                what += self._apps.fixed_labels.get(node, [])
                for k in np.flatnonzero(missing & (ap.node == node)).tolist():
                    table, element, _ = lay.describe(lay.n_bus + k)
                    what.append(f"{table} {element}")
            behind = [self._branch_label(b) for b in z.boundary.tolist()]
            where = f" behind measured {', '.join(behind[:6])}" if behind else ""
            parts.append(
                f"buses {_ranges(buses)}{where} have {len(z.unknown)} bus injections "
                f"without a reading ({', '.join(what[:8])}{' ...' if len(what) > 8 else ''}); "
                "the flows into that part determine at most one: add pseudo-measurements "
                "(profile values) or meters for the others, or a flow meter"
            )
        more = f"; and {len(zones) - 5} more parts" if len(zones) > 5 else ""
        msg = "not observable: " + "; ".join(parts) + more
        return msg, tuple(sorted(set(all_buses)))

    def _branch_label(self, b: int) -> str:
        nl = len(self._layout.line)
        if b < nl:
            return f"line {int(self._layout.line[b])}"
        return f"trafo {int(self._layout.trafo[b - nl])}"

    def _run(self, s: _Slots, want_rn: bool) -> tuple[_State, _Analysis]:
        """Check, estimate with PGM, analyse."""
        rs = self._rowset(s)
        self._observable(s, rs)
        out = self._pgm_estimate(s)
        node = out[_ct("node")]
        energized = node["energized"].astype(bool)
        v_node = np.where(energized, node["u_pu"] * np.exp(1j * node["u_angle"]), 0.0)
        state = _State(out, v_node[self._rep], rs)
        return state, self._analyse(s, state, want_rn)

    def _pgm_estimate(self, s: _Slots) -> dict[Any, Any]:
        """Update the sensors and run PGM's estimator."""
        from power_grid_model import CalculationMethod
        from power_grid_model.errors import (  # type: ignore[attr-defined]
            IterationDiverge,
            NotObservableError,
            SparseMatrixError,
        )

        u, w = self._u_rated, _S_BASE_VA
        vm_on = np.isfinite(s.vm_sigma)
        update = {
            _ct("sym_voltage_sensor"): {
                "id": self._vs_ids,
                "u_measured": np.where(vm_on, s.vm, 1.0) * u,
                "u_sigma": s.vm_sigma * u,
            },
            _ct("sym_power_sensor"): {
                "id": self._ps_ids,
                "p_measured": s.p * w,
                "q_measured": s.q * w,
                "p_sigma": s.p_sigma * w,
                "q_sigma": s.q_sigma * w,
            },
        }
        self._pgm.update(update_data=update)
        o = self.options
        try:
            return dict(
                self._pgm.calculate_state_estimation(
                    symmetric=True,
                    error_tolerance=o.error_tolerance_pu,
                    max_iterations=o.max_iterations,
                    calculation_method=getattr(CalculationMethod, o.method),
                    output_component_types={_ct(k): v for k, v in _OUTPUT.items()},
                )
            )
        except (NotObservableError, SparseMatrixError) as exc:
            msg = (
                "not observable (power-grid-model: "
                f"{str(exc).splitlines()[0]}): add voltage, flow or pseudo-measurements"
            )
            raise ObservabilityError(msg) from exc
        except IterationDiverge as exc:
            msg = (
                f"state estimation did not converge in {o.max_iterations} iterations "
                f"({str(exc).splitlines()[0]}); check the readings' units and frames"
            )
            raise ConvergenceError(msg) from exc

    def _analyse(self, s: _Slots, state: _State, want_rn: bool) -> _Analysis:
        """Residuals, the chi-square test and (``want_rn`` or a failed test) ``r_N``."""
        from gridtwin.network._se_model import evaluate, omega_diagonal

        rs = state.rowset
        rows = rs.rows
        ev = evaluate(self._grid, rows, state.v)
        r = rows.z - ev.h
        con = rows.constraint
        j = float(np.sum((r[~con] / rows.sigma[~con]) ** 2))
        dof = int((~con).sum()) - ev.n_state + int(con.sum())
        test = _chi2(j, dof, self.options.alpha)
        rn = np.full(len(r), np.nan)
        if want_rn or not test.passed:
            wanted = np.flatnonzero(rs.real & ~con)
            try:
                omega = omega_diagonal(ev, rows, wanted)
            except RuntimeError as exc:  # a singular gain matrix: PGM should have refused
                msg = f"the measurements do not determine the state ({exc})"
                raise ObservabilityError(msg) from exc
            ok = omega > 1e-9 * rows.sigma[wanted] ** 2
            rn[wanted[ok]] = r[wanted[ok]] / np.sqrt(omega[ok])
        return _Analysis(r=r, rn=rn, test=test, state=state, slots=s)

    def _alarm(self, an: _Analysis) -> bool:
        o = self.options
        big = bool(np.nanmax(np.abs(an.rn), initial=0.0) > o.rn_threshold)
        return (not an.test.passed) or (o.detect_by_rn and big)

    # -- readings, suspects, result -------------------------------------------------------

    def _per_reading(self, s: _Slots, state: _State, an: _Analysis) -> dict[str, Any]:
        """Residuals per (slot, quantity): an appliance's share of its bus injection's
        residual is ``sigma_k^2 / sigma_bus^2`` (the WLS split), its ``r_N`` the bus's."""
        rs, lay = state.rowset, self._layout
        nb, na = lay.n_bus, lay.n_app
        cols: dict[str, list[Any]] = {k: [] for k in ("slot", "q", "z", "r", "sigma", "rn")}
        for qi, row_of in enumerate((rs.p_row, rs.q_row)):
            used = np.flatnonzero(row_of >= 0)
            rows = row_of[used]
            k = used - nb
            if qi == 0:
                z = np.where(used < nb, s.vm[np.minimum(used, nb - 1)], s.p[np.maximum(k, 0)])
                sig = np.where(
                    used < nb, s.vm_sigma[np.minimum(used, nb - 1)], s.p_sigma[np.maximum(k, 0)]
                )
            else:
                z, sig = s.q[k], s.q_sigma[k]
            app = (k >= 0) & (k < na)
            sign = np.where(app, self._apps.sign[np.clip(k, 0, na - 1)], 1.0)
            share = np.where(app, sign * sig**2 / state.rowset.rows.sigma[rows] ** 2, 1.0)
            for name, val in (
                ("slot", used),
                ("q", np.full(len(used), qi)),
                ("z", z),
                ("r", share * an.r[rows]),
                ("sigma", sig),
                ("rn", sign * an.rn[rows]),
            ):
                cols[name].append(val)
        out = {k: np.concatenate(v) for k, v in cols.items()}
        out["row"] = np.concatenate([rs.p_row[rs.p_row >= 0], rs.q_row[rs.q_row >= 0]])
        slot_k = out["slot"] - nb
        out["pseudo"] = (slot_k >= 0) & s.pseudo[np.maximum(slot_k, 0)]
        return out

    def _suspect(self, s: _Slots, an: _Analysis) -> tuple[int, str, float, tuple[str, ...]] | None:
        """The real reading with the largest ``|r_N|`` (ties in one bus injection: the
        largest ``|r| / sigma``), its quantity, ``r_N`` and the readings it ties with."""
        per = self._per_reading(s, an.state, an)
        cand = np.flatnonzero(~per["pseudo"] & np.isfinite(per["rn"]))
        if not cand.size:
            return None
        best = cand[np.argmax(np.abs(per["rn"][cand]))]
        tie = cand[(per["row"][cand] == per["row"][best]) & (per["q"][cand] == per["q"][best])]
        pick = tie[np.argmax(np.abs(per["r"][tie]) / per["sigma"][tie])]
        quantity = _quantity(int(per["slot"][pick]), int(per["q"][pick]), self._layout.n_bus)
        same = tuple(
            " ".join(str(x) for x in self._layout.describe(int(per["slot"][t]))[:2])
            for t in tie
            if t != pick
        )
        return int(per["slot"][pick]), quantity, float(per["rn"][pick]), same

    def _result(
        self, state: _State, an: _Analysis, removed: tuple[BadReading, ...], notes: tuple[str, ...]
    ) -> EstimationResult:
        """The result in pandapower's units."""
        out, lay, rt = state.out, self._layout, self._ratings
        node = out[_ct("node")]
        on = node["energized"].astype(bool)
        ln, tr = out.get(_ct("line")), out.get(_ct("transformer"))
        ld, sg = out.get(_ct("sym_load")), out.get(_ct("sym_gen"))
        nl, ns = len(lay.load), len(lay.sgen)
        line_i = np.maximum(ln["i_from"], ln["i_to"]) / 1e3 if ln is not None else np.zeros(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            line_load = line_i / rt["i_max_ka"] * 100.0
            trafo_load = (
                np.maximum(tr["i_from"] / 1e3 * rt["vn_hv"], tr["i_to"] / 1e3 * rt["vn_lv"])
                * math.sqrt(3.0)
                / rt["rating"]
                * 100.0
                if tr is not None
                else np.zeros(0)
            )

        def mw(arr: Any, name: str, n: int = -1) -> FloatArray:
            if arr is None:
                return np.zeros(0)
            v = np.asarray(arr[name], dtype=np.float64) / 1e6
            return v[:n] if n >= 0 else v

        return EstimationResult(
            bus=lay.bus,
            vm_pu=np.where(on, node["u_pu"], np.nan),
            va_degree=np.where(on, np.rad2deg(node["u_angle"]), np.nan),
            line=lay.line,
            line_p_from_mw=mw(ln, "p_from"),
            line_q_from_mvar=mw(ln, "q_from"),
            line_p_to_mw=mw(ln, "p_to"),
            line_q_to_mvar=mw(ln, "q_to"),
            line_i_ka=line_i,
            line_loading_percent=line_load,
            trafo=lay.trafo,
            trafo_p_hv_mw=mw(tr, "p_from"),
            trafo_q_hv_mvar=mw(tr, "q_from"),
            trafo_p_lv_mw=mw(tr, "p_to"),
            trafo_q_lv_mvar=mw(tr, "q_to"),
            trafo_loading_percent=trafo_load,
            load_p_mw=mw(ld, "p", nl),
            load_q_mvar=mw(ld, "q", nl),
            sgen_p_mw=mw(sg, "p", ns),
            sgen_q_mvar=mw(sg, "q", ns),
            test=an.test,
            residuals=self._residual_table(an),
            removed=removed,
            method=self.options.method,
            notes=notes,
        )

    def _residual_table(self, an: _Analysis) -> ReadingResiduals:
        per = self._per_reading(an.slots, an.state, an)
        desc = [self._layout.describe(int(k)) for k in per["slot"]]
        nb = self._layout.n_bus
        return ReadingResiduals(
            table=np.array([d[0] for d in desc], dtype=str),
            element=np.array([d[1] for d in desc], dtype=np.int64),
            side=np.array([d[2] for d in desc], dtype=str),
            quantity=np.array(
                [_quantity(int(k), int(q), nb) for k, q in zip(per["slot"], per["q"], strict=True)],
                dtype=str,
            ),
            measured=per["z"],
            estimated=per["z"] - per["r"],
            residual=per["r"],
            sigma=per["sigma"],
            normalized=np.where(per["pseudo"], np.nan, per["rn"]),
            pseudo=per["pseudo"],
        )


@dataclass(frozen=True)
class _State:
    out: dict[Any, Any]
    v: npt.NDArray[np.complex128]
    rowset: _RowSet


@dataclass(frozen=True)
class _Analysis:
    r: FloatArray
    rn: FloatArray
    test: ChiSquareTest
    state: _State
    slots: _Slots


def _quantity(slot: int, q: int, n_bus: int) -> str:
    return "vm" if slot < n_bus else ("q" if q else "p")


def _label(lay: _Layout, slot: int, quantity: str) -> str:
    table, element, side = lay.describe(slot)
    return f"{table} {element}" + (f" {side}" if side else "") + f" {quantity}"


def _drop(s: _Slots, fallback: _Slots | None, slot: int, n_bus: int) -> bool:
    """Remove the reading of ``slot``; an appliance takes its pseudo-measurement when
    there is one (returns whether it did)."""
    if slot < n_bus:
        s.vm_sigma[slot] = np.inf
        return False
    k = slot - n_bus
    if fallback is not None and np.isfinite(fallback.p_sigma[k]):
        s.p[k], s.q[k] = fallback.p[k], fallback.q[k]
        s.p_sigma[k], s.q_sigma[k] = fallback.p_sigma[k], fallback.q_sigma[k]
        s.pseudo[k] = True
        return True
    s.p_sigma[k] = s.q_sigma[k] = np.inf
    return False


def _chi2(j: float, dof: int, alpha: float) -> ChiSquareTest:
    """The chi-square test of ``J`` with ``dof`` degrees of freedom at ``alpha``."""
    from scipy.stats import chi2

    if dof <= 0:
        return ChiSquareTest(j, max(dof, 0), alpha, math.nan, math.nan, True)
    p = float(chi2.sf(j, dof))
    return ChiSquareTest(j, dof, alpha, float(chi2.ppf(1.0 - alpha, dof)), p, p >= alpha)


def _ct(name: str) -> Any:
    from power_grid_model import ComponentType

    return ComponentType(name)


def _ratings(net: Any) -> dict[str, FloatArray]:
    """Line and transformer ratings for the loading [kA], [kV], [MVA]."""
    line, tr = net.line, net.trafo

    def col(df: Any, name: str, default: float) -> FloatArray:
        if name not in df:
            return np.full(len(df), default)
        return np.asarray(df[name].fillna(default), dtype=np.float64)

    return {
        "i_max_ka": col(line, "max_i_ka", np.nan)
        * col(line, "df", 1.0)
        * col(line, "parallel", 1.0),
        "vn_hv": col(tr, "vn_hv_kv", np.nan),
        "vn_lv": col(tr, "vn_lv_kv", np.nan),
        "rating": col(tr, "sn_mva", np.nan) * col(tr, "parallel", 1.0) * col(tr, "df", 1.0),
    }


def _pgm_model(g: PgmNetwork, lay: _Layout) -> tuple[Any, IntArray, IntArray]:
    """The PGM model with one (disabled) sensor per slot, and the sensor ids."""
    from power_grid_model import ComponentType as CT
    from power_grid_model import DatasetType, MeasuredTerminalType, PowerGridModel, initialize_array

    next_id = 1 + max(int(a["id"].max()) for a in g.input_data.values() if len(a))
    nodes = g.input_data[CT.node]
    vs = initialize_array(DatasetType.input, CT.sym_voltage_sensor, len(nodes))
    vs["id"] = next_id + np.arange(len(nodes))
    vs["measured_object"] = nodes["id"]
    vs["u_measured"] = nodes["u_rated"]
    vs["u_sigma"] = np.inf
    objects = [g.ids[t].pgm_id for t in ("load", "sgen", "line", "line", "trafo", "trafo")]
    mt = MeasuredTerminalType
    terms = (mt.load, mt.generator, mt.branch_from, mt.branch_to, mt.branch_from, mt.branch_to)
    n_ps = lay.n_app + lay.n_end
    ps = initialize_array(DatasetType.input, CT.sym_power_sensor, n_ps)
    ps["id"] = next_id + len(nodes) + np.arange(n_ps)
    ps["measured_object"] = np.concatenate(objects)
    ps["measured_terminal_type"] = np.concatenate(
        [np.full(len(o), int(t)) for o, t in zip(objects, terms, strict=True)]
    )
    ps["p_measured"], ps["q_measured"] = 0.0, 0.0
    ps["p_sigma"], ps["q_sigma"] = np.inf, np.inf
    data = dict(g.input_data)
    data[CT.sym_voltage_sensor], data[CT.sym_power_sensor] = vs, ps
    model = PowerGridModel(data, system_frequency=g.f_hz)
    return model, vs["id"].astype(np.int64), ps["id"].astype(np.int64)


def estimate(
    model: Any,
    measurements: Measurements,
    *,
    pseudo: Measurements | None = None,
    options: EstimationOptions | None = None,
) -> EstimationResult:
    """Estimate the state of one interval (see :class:`StateEstimator`).

    Parameters
    ----------
    model : StateEstimator, NetworkModel or pandapowerNet
        A prepared estimator (reused across intervals: only the readings change) or a
        grid, prepared for this one call.
    measurements : Measurements
        The interval's readings.
    pseudo : Measurements, optional
        Pseudo-measurements for loads and sgens without a reading.
    options : EstimationOptions, optional
        Only when ``model`` is not already a :class:`StateEstimator`.
    """
    if isinstance(model, StateEstimator):
        if options is not None:
            msg = "options: pass them to StateEstimator(...) when reusing an estimator"
            raise InputError(msg)
        return model.estimate(measurements, pseudo)
    return StateEstimator(model, options).estimate(measurements, pseudo)
