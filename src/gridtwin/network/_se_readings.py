"""The data types of :mod:`gridtwin.network.estimation`: readings, options, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
SeMethod = Literal["newton_raphson", "iterative_linear"]

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
    "VoltageReadings",
    "pseudo_readings",
]


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


def as_ids(values: Any) -> IntArray:
    return np.atleast_1d(np.asarray(values, dtype=np.int64))


def as_floats(values: Any) -> FloatArray:
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
        object.__setattr__(self, "bus", as_ids(self.bus))
        object.__setattr__(self, "vm_pu", as_floats(self.vm_pu))
        object.__setattr__(self, "sigma_pu", as_floats(self.sigma_pu))


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
        object.__setattr__(self, "element", as_ids(self.element))
        for name in ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar"):
            object.__setattr__(self, name, as_floats(getattr(self, name)))


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
        object.__setattr__(self, "element", as_ids(self.element))
        object.__setattr__(self, "side", np.atleast_1d(np.asarray(self.side, dtype=str)))
        for name in ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar"):
            object.__setattr__(self, name, as_floats(getattr(self, name)))


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
    p, q = as_floats(p_mw), as_floats(q_mvar)
    return PowerReadings(
        element=as_ids(element),
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
    rn_max_rows : int or None
        Compute ``r_N`` for at most this many measured quantities, those with the
        largest ``|r| / sigma`` (``r_N >= |r| / sigma``, so a gross error is among them
        unless it sits on a nearly critical measurement); ``None``: all. One sparse
        solve per quantity: thousands cost seconds on a 9,000-bus grid.
    fallback_tolerance_pu : float
        When Newton-Raphson diverges, retry with PGM's iterative linear method at this
        tolerance [pu] (it stalls near 1e-6 on large grids); 0: no fallback, raise.
    """

    method: SeMethod = "newton_raphson"
    error_tolerance_pu: float = 1e-8
    max_iterations: int = 30
    alpha: float = 0.01
    rn_threshold: float = 3.0
    max_removals: int = 3
    detect_by_rn: bool = False
    normalized_residuals: Literal["always", "on_alarm"] = "always"
    rn_max_rows: int | None = None
    fallback_tolerance_pu: float = 1e-5

    def __post_init__(self) -> None:
        if self.method not in ("newton_raphson", "iterative_linear"):
            msg = (
                f"EstimationOptions.method = {self.method!r}: use 'newton_raphson' or "
                "'iterative_linear'"
            )
            raise InputError(msg)
        if not 0.0 < self.alpha < 1.0:
            msg = (
                f"EstimationOptions.alpha = {self.alpha}: the false-alarm rate is in (0, 1), "
                "e.g. 0.01"
            )
            raise InputError(msg)
        if not self.rn_threshold > 0 or self.max_removals < 0 or self.max_iterations < 1:
            msg = (
                "EstimationOptions: rn_threshold must be > 0, max_removals >= 0 and "
                "max_iterations >= 1"
            )
            raise InputError(msg)
        if (self.rn_max_rows is not None and self.rn_max_rows < 1) or not (
            self.fallback_tolerance_pu >= 0
        ):
            msg = (
                "EstimationOptions: rn_max_rows must be >= 1 (or None), fallback_tolerance_pu >= 0"
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
