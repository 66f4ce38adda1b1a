"""Pump characteristics, parallel operation and operating points.

A network pump is described by its head curve H(Q) [m] and its efficiency curve η(Q)
[fraction] over a flow range, both against the *volumetric* flow Q [m³/h] of catalogues,
and by the average efficiency of its motor ηд [fraction]. The method of seed 002 works
with the *mass* flow G [t/h]; :mod:`gridtwin.heatnet.station` converts between the two
with the water density (``water_density_t_per_m3``, default 1.0).

Curves come in three shapes:

- :class:`TabulatedCurve`: points read off a catalogue graph or a test, interpolated
  piecewise linearly or with a shape-preserving cubic (PCHIP, the default);
- :class:`PolynomialCurve`: ``value = c0 + c1·Q + c2·Q² + ...``; built from coefficients
  (:func:`parabola_head_curve`, :func:`nominal_parabola_efficiency`,
  :func:`constant_curve`) or fitted by least squares (:func:`fit_head_curve`,
  :func:`fit_efficiency_curve`).

Parallel operation (:func:`joint_operation`): running pumps share one head; the station
flow is the sum of the pump flows. Identical pumps split the flow equally; different
pumps are solved for the common head with their inverted head curves (a pump whose
shut-off head is below the common head would be pushed off its curve: an error).
:func:`operating_point` intersects the joint curve with a system curve
``H = H0 + S·Q²``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

if TYPE_CHECKING:
    from scipy.interpolate import PchipInterpolator

__all__ = [
    "Curve",
    "Interpolation",
    "JointPoint",
    "PolynomialCurve",
    "Pump",
    "TabulatedCurve",
    "constant_curve",
    "fit_efficiency_curve",
    "fit_head_curve",
    "joint_head_curve_m",
    "joint_operation",
    "nominal_parabola_efficiency",
    "operating_point",
    "parabola_head_curve",
]

FloatArray = npt.NDArray[np.float64]
Interpolation = Literal["linear", "pchip"]

_GRID_POINTS = 201
_XTOL = 1e-10


class Curve(Protocol):
    """A function of the volumetric flow Q [m³/h] with the flow interval it is defined on."""

    def __call__(self, flow_m3_per_h: npt.ArrayLike) -> FloatArray:
        """Evaluate the curve [value units] at flows [m³/h]."""
        ...

    def domain_m3_per_h(self) -> tuple[float, float]:
        """Flow interval [m³/h] on which the curve holds (``inf`` when unbounded)."""
        ...


@dataclass(frozen=True)
class TabulatedCurve:
    """Points of a curve against flow, interpolated between them (never extrapolated).

    Parameters
    ----------
    flow_m3_per_h : tuple of float
        Flows [m³/h], strictly increasing, at least two.
    values : tuple of float
        Curve values at those flows (head [m] or efficiency [fraction]).
    interpolation : {"pchip", "linear"}
        ``pchip`` (default) is a shape-preserving cubic: it keeps a falling curve falling
        and does not overshoot; ``linear`` joins the points with straight lines.
    """

    flow_m3_per_h: tuple[float, ...]
    values: tuple[float, ...]
    interpolation: Interpolation = "pchip"
    _pchip: PchipInterpolator | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        x = np.asarray(self.flow_m3_per_h, dtype=float)
        y = np.asarray(self.values, dtype=float)
        if x.ndim != 1 or x.size < 2 or x.size != y.size:
            msg = (
                f"a tabulated curve needs at least two (flow, value) points of equal count; "
                f"got {x.size} flows and {y.size} values"
            )
            raise InputError(msg)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            msg = "a tabulated curve has a non-finite flow or value"
            raise InputError(msg)
        if np.any(np.diff(x) <= 0):
            msg = f"tabulated flows must strictly increase; got {list(self.flow_m3_per_h)}"
            raise InputError(msg)
        if self.interpolation == "pchip":
            from scipy.interpolate import PchipInterpolator

            object.__setattr__(self, "_pchip", PchipInterpolator(x, y, extrapolate=False))

    def __call__(self, flow_m3_per_h: npt.ArrayLike) -> FloatArray:
        """Interpolated values at flows [m³/h]; NaN outside the tabulated flows."""
        q = np.asarray(flow_m3_per_h, dtype=float)
        if self._pchip is not None:
            return np.asarray(self._pchip(q), dtype=float)
        x = np.asarray(self.flow_m3_per_h, dtype=float)
        out = np.interp(q, x, np.asarray(self.values, dtype=float))
        return np.where((q < x[0]) | (q > x[-1]), np.nan, out)

    def domain_m3_per_h(self) -> tuple[float, float]:
        """The first and the last tabulated flow [m³/h]."""
        return float(self.flow_m3_per_h[0]), float(self.flow_m3_per_h[-1])


@dataclass(frozen=True)
class PolynomialCurve:
    """``value = Σ c_k·Q^k`` with Q [m³/h]; defined for Q ≥ 0 up to its first positive root.

    Parameters
    ----------
    coefficients : tuple of float
        ``(c0, c1, c2, ...)`` in ascending powers of Q [m³/h].
    domain : tuple of float, optional
        The flows [m³/h] the curve holds for; a fitted curve keeps the span of its points.
        Default: from zero to the first positive root.
    """

    coefficients: tuple[float, ...]
    domain: tuple[float, float] | None = None

    def __call__(self, flow_m3_per_h: npt.ArrayLike) -> FloatArray:
        """Polynomial values at flows [m³/h]."""
        q = np.asarray(flow_m3_per_h, dtype=float)
        return np.asarray(np.polynomial.polynomial.polyval(q, self.coefficients), dtype=float)

    def domain_m3_per_h(self) -> tuple[float, float]:
        """``(0, first positive root)`` [m³/h]: where a head or an efficiency stays positive.

        A constant or a polynomial with no positive root is unbounded above (``inf``).
        An explicit ``domain`` takes precedence.
        """
        if self.domain is not None:
            return self.domain
        coeffs = np.trim_zeros(np.asarray(self.coefficients, dtype=float), trim="b")
        if coeffs.size <= 1:
            return 0.0, math.inf
        roots = np.polynomial.polynomial.polyroots(coeffs)
        real = [
            r.real for r in roots if abs(r.imag) <= 1e-9 * max(1.0, abs(r.real)) and r.real > 1e-12
        ]
        return 0.0, (min(real) if real else math.inf)


def parabola_head_curve(
    shutoff_head_m: float, drop_coefficient_m_per_m3_per_h_sq: float
) -> PolynomialCurve:
    """The catalogue parabola ``H = H0 − S·Q²``.

    Parameters
    ----------
    shutoff_head_m : float
        H0, the head at zero flow [m].
    drop_coefficient_m_per_m3_per_h_sq : float
        S [m/(m³/h)²].
    """
    return PolynomialCurve((shutoff_head_m, 0.0, -drop_coefficient_m_per_m3_per_h_sq))


def nominal_parabola_efficiency(
    nominal_flow_m3_per_h: float, nominal_efficiency: float
) -> PolynomialCurve:
    """The textbook efficiency parabola ``η = η_nom·(2q − q²)``, ``q = Q/Q_nom``.

    It is zero at Q = 0 and Q = 2·Q_nom and peaks at η_nom at the nominal flow.

    Parameters
    ----------
    nominal_flow_m3_per_h : float
        Q_nom [m³/h].
    nominal_efficiency : float
        η_nom [fraction].
    """
    q_n, eta = nominal_flow_m3_per_h, nominal_efficiency
    return PolynomialCurve((0.0, 2.0 * eta / q_n, -eta / q_n**2))


def constant_curve(value: float) -> PolynomialCurve:
    """A curve that does not depend on flow (e.g. a pump efficiency taken as constant)."""
    return PolynomialCurve((value,))


def fit_head_curve(
    flow_m3_per_h: Sequence[float],
    head_m: Sequence[float],
    form: Literal["quadratic", "parabola"] = "quadratic",
) -> PolynomialCurve:
    """Least-squares fit of a head curve to points.

    Parameters
    ----------
    flow_m3_per_h, head_m : sequence of float
        Points (Q [m³/h], H [m]). The fitted curve holds over the span of the points
        (a pump's ``flow_range_m3_per_h`` may extend it on purpose).
    form : {"quadratic", "parabola"}
        ``quadratic``: ``H = a + b·Q + c·Q²`` (three or more points);
        ``parabola``: ``H = H0 − S·Q²`` (two or more points).

    Returns
    -------
    PolynomialCurve
    """
    q = np.asarray(flow_m3_per_h, dtype=float)
    h = np.asarray(head_m, dtype=float)
    powers = (0, 1, 2) if form == "quadratic" else (0, 2)
    if q.size != h.size or q.size < len(powers):
        msg = (
            f"a {form} head fit needs at least {len(powers)} (flow, head) points of equal "
            f"count; got {q.size} flows and {h.size} heads"
        )
        raise InputError(msg)
    design = np.column_stack([q**p for p in powers])
    sol, *_ = np.linalg.lstsq(design, h, rcond=None)
    coeffs = [0.0, 0.0, 0.0]
    for p, c in zip(powers, sol, strict=True):
        coeffs[p] = float(c)
    return PolynomialCurve(tuple(coeffs), (float(q.min()), float(q.max())))


def fit_efficiency_curve(
    flow_m3_per_h: Sequence[float], efficiency: Sequence[float]
) -> PolynomialCurve:
    """Least-squares fit of ``η = e1·Q + e2·Q²`` (zero at zero flow) to points.

    Parameters
    ----------
    flow_m3_per_h, efficiency : sequence of float
        Points (Q [m³/h], η [fraction]); at least two.
    """
    q = np.asarray(flow_m3_per_h, dtype=float)
    e = np.asarray(efficiency, dtype=float)
    if q.size != e.size or q.size < 2:
        msg = (
            f"an efficiency fit needs at least two (flow, efficiency) points of equal count; "
            f"got {q.size} flows and {e.size} efficiencies"
        )
        raise InputError(msg)
    sol, *_ = np.linalg.lstsq(np.column_stack([q, q**2]), e, rcond=None)
    return PolynomialCurve((0.0, float(sol[0]), float(sol[1])), (float(q.min()), float(q.max())))


@dataclass(frozen=True)
class Pump:
    """One pump unit (pump + motor): head and efficiency curves over a flow range.

    Parameters
    ----------
    name : str
        The pump type, e.g. ``"СЭ-1250-70"``; used in error messages.
    head : Curve
        H(Q): head [m] against flow [m³/h].
    efficiency : Curve
        ηн(Q): pump efficiency [fraction] against flow [m³/h].
    motor_efficiency : float
        ηд, the average motor efficiency [fraction] (nameplate or tests).
    flow_range_m3_per_h : tuple of float, optional
        The flows [m³/h] the curves may be used at. Default: where both curves are
        defined (tabulated points; a polynomial head or efficiency up to its first zero).
        A tabulated curve is never extrapolated.

    Raises
    ------
    InputError
        An efficiency outside (0, 1], a head that is not positive over the range, or a
        range that is empty, unbounded or outside a tabulated curve.
    """

    name: str
    head: Curve
    efficiency: Curve
    motor_efficiency: float = 1.0
    flow_range_m3_per_h: tuple[float, float] | None = None
    head_falls: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.motor_efficiency <= 1.0:
            msg = (
                f"pump {self.name}: motor_efficiency = {self.motor_efficiency} is outside "
                f"(0, 1]; give it as a fraction, e.g. 0.95"
            )
            raise InputError(msg)
        lo, hi = self._natural_range()
        if self.flow_range_m3_per_h is not None:
            u_lo, u_hi = self.flow_range_m3_per_h
            for curve in (self.head, self.efficiency):
                if isinstance(curve, TabulatedCurve):
                    t_lo, t_hi = curve.domain_m3_per_h()
                    if u_lo < t_lo - 1e-9 or u_hi > t_hi + 1e-9:
                        msg = (
                            f"pump {self.name}: flow_range_m3_per_h [{u_lo:g}, {u_hi:g}] "
                            f"goes beyond the tabulated points [{t_lo:g}, {t_hi:g}]; "
                            f"tabulated curves are not extrapolated"
                        )
                        raise InputError(msg)
            lo, hi = u_lo, u_hi
        if not (0.0 <= lo < hi < math.inf):
            msg = (
                f"pump {self.name}: the usable flow range [{lo:g}, {hi:g}] m³/h is empty or "
                f"unbounded; give flow_range_m3_per_h"
            )
            raise InputError(msg)
        object.__setattr__(self, "flow_range_m3_per_h", (float(lo), float(hi)))
        grid = np.linspace(lo, hi, _GRID_POINTS)
        inner = grid[1:-1]
        head = self.head(inner)
        eta = self.efficiency(inner)
        bad = ~((eta > 0.0) & (eta <= 1.0))
        if np.any(bad):
            q_bad = float(inner[np.argmax(bad)])
            msg = (
                f"pump {self.name}: efficiency {float(self.efficiency(q_bad)):.4g} at "
                f"{q_bad:.4g} m³/h is outside (0, 1]; check the efficiency curve (fractions, "
                f"not percent) or narrow flow_range_m3_per_h"
            )
            raise InputError(msg)
        if np.any(~(head > 0.0)):
            q_bad = float(inner[np.argmax(~(head > 0.0))])
            msg = (
                f"pump {self.name}: head {float(self.head(q_bad)):.4g} m at {q_bad:.4g} m³/h "
                f"is not positive; narrow flow_range_m3_per_h"
            )
            raise InputError(msg)
        ends = self.head(np.array([lo, hi]))
        full = np.concatenate([ends[:1], head, ends[1:]])
        object.__setattr__(self, "head_falls", bool(np.all(np.diff(full) < 0.0)))

    def _natural_range(self) -> tuple[float, float]:
        h_lo, h_hi = self.head.domain_m3_per_h()
        e_lo, e_hi = self.efficiency.domain_m3_per_h()
        return max(h_lo, e_lo), min(h_hi, e_hi)

    @property
    def min_flow_m3_per_h(self) -> float:
        """Lower end of the usable flow range [m³/h] (a pump never runs at zero flow)."""
        return self._range()[0]

    @property
    def max_flow_m3_per_h(self) -> float:
        """Upper end of the usable flow range [m³/h]."""
        return self._range()[1]

    def _range(self) -> tuple[float, float]:
        rng = self.flow_range_m3_per_h
        if rng is None:  # pragma: no cover - set in __post_init__
            msg = f"pump {self.name}: flow range not set"
            raise InputError(msg)
        return rng

    def in_range(self, flow_m3_per_h: float) -> bool:
        """True when the flow [m³/h] is positive and inside the usable range."""
        lo, hi = self._range()
        return flow_m3_per_h > 0.0 and lo - 1e-9 <= flow_m3_per_h <= hi + 1e-9

    def check_flow(self, flow_m3_per_h: float, where: str = "") -> None:
        """Raise :class:`InputError` when the flow [m³/h] is off the pump's curve."""
        if not self.in_range(flow_m3_per_h):
            lo, hi = self._range()
            prefix = f"{where}: " if where else ""
            msg = (
                f"{prefix}pump {self.name} would run at {flow_m3_per_h:.6g} m³/h, outside "
                f"its curve [{lo:.6g}, {hi:.6g}] m³/h; check the flow, the number of running "
                f"pumps or the pump's flow_range_m3_per_h"
            )
            raise InputError(msg)

    def head_m(self, flow_m3_per_h: float) -> float:
        """Head H(Q) [m] at a flow [m³/h] on the curve (checked: positive)."""
        self.check_flow(flow_m3_per_h)
        head = float(self.head(flow_m3_per_h))
        if not head > 0.0:
            msg = (
                f"pump {self.name}: head {head:.4g} m at {flow_m3_per_h:.6g} m³/h is not "
                f"positive (beyond run-out); narrow flow_range_m3_per_h"
            )
            raise InputError(msg)
        return head

    def pump_efficiency(self, flow_m3_per_h: float) -> float:
        """Pump efficiency ηн(Q) [fraction] at a flow [m³/h] on the curve (checked)."""
        self.check_flow(flow_m3_per_h)
        eta = float(self.efficiency(flow_m3_per_h))
        if not 0.0 < eta <= 1.0:
            msg = (
                f"pump {self.name}: efficiency {eta:.4g} at {flow_m3_per_h:.6g} m³/h is "
                f"outside (0, 1]"
            )
            raise InputError(msg)
        return eta

    def head_span_m(self) -> tuple[float, float]:
        """Heads [m] at the upper and the lower end of the flow range (low, high)."""
        lo, hi = self._range()
        return float(self.head(hi)), float(self.head(lo))

    def flow_at_head_m3_per_h(self, head_m: float) -> float:
        """Invert the head curve: the flow [m³/h] at which the pump gives ``head_m``.

        Heads above the curve's top give the lower end of the range and heads below its
        bottom give the upper end (callers check the result with :meth:`in_range`).

        Raises
        ------
        InputError
            The head curve does not fall monotonically over the range, so it cannot be
            inverted (needed for different pumps in parallel and for system curves).
        """
        if not self.head_falls:
            msg = (
                f"pump {self.name}: the head curve does not fall monotonically over "
                f"{self._range()} m³/h, so the flow at a given head is ambiguous; narrow "
                f"flow_range_m3_per_h to the falling part of the curve"
            )
            raise InputError(msg)
        lo, hi = self._range()
        h_low, h_high = self.head_span_m()
        if head_m >= h_high:
            return lo
        if head_m <= h_low:
            return hi
        from scipy.optimize import brentq

        return float(brentq(lambda q: float(self.head(q)) - head_m, lo, hi, xtol=_XTOL))


@dataclass(frozen=True)
class JointPoint:
    """Parallel pumps at one station flow: the common head and the per-pump split.

    Attributes
    ----------
    flow_m3_per_h : float
        Total flow [m³/h].
    head_m : float
        Common head [m] from the joint characteristic.
    pump_flows_m3_per_h : tuple of float
        Flow through each running pump [m³/h], in the order given.
    pump_efficiencies : tuple of float
        ηн of each pump at its own flow [fraction].
    """

    flow_m3_per_h: float
    head_m: float
    pump_flows_m3_per_h: tuple[float, ...]
    pump_efficiencies: tuple[float, ...]


def _identical(pumps: Sequence[Pump]) -> bool:
    return all(p == pumps[0] for p in pumps[1:])


def joint_operation(pumps: Sequence[Pump], flow_m3_per_h: float, where: str = "") -> JointPoint:
    """Operate pumps in parallel at a total flow: common head, flow split, efficiencies.

    Identical pumps carry ``Q/n`` each and the head is ``H(Q/n)``. Different pumps are
    solved for the head H at which ``Σ Q_i(H) = Q`` with each ``Q_i`` from the inverted
    head curve of pump i (joint characteristic).

    Parameters
    ----------
    pumps : sequence of Pump
        The running pumps (one entry per running unit).
    flow_m3_per_h : float
        Total flow through the group [m³/h].
    where : str
        Context for error messages (station, season, field).

    Raises
    ------
    InputError
        No pumps, or the flow lies outside the joint characteristic, or a pump would run
        outside its curve (for instance pushed to shut-off by a stronger pump).
    """
    if not pumps:
        msg = f"{where}: no running pumps" if where else "no running pumps"
        raise InputError(msg)
    if _identical(pumps):
        return _identical_joint(pumps, flow_m3_per_h, where)
    return _mixed_joint(pumps, flow_m3_per_h, where)


def _identical_joint(pumps: Sequence[Pump], flow_m3_per_h: float, where: str) -> JointPoint:
    """Identical pumps in parallel: each carries ``Q/n`` at the head ``H(Q/n)``."""
    n = len(pumps)
    q = flow_m3_per_h / n
    pumps[0].check_flow(q, where)
    return JointPoint(
        flow_m3_per_h, pumps[0].head_m(q), (q,) * n, (pumps[0].pump_efficiency(q),) * n
    )


def _mixed_joint(pumps: Sequence[Pump], flow_m3_per_h: float, where: str) -> JointPoint:
    """Different pumps in parallel: the common head H with ``Σ Q_i(H) = Q``, then the split."""
    q_min = sum(p.min_flow_m3_per_h for p in pumps)
    q_max = sum(p.max_flow_m3_per_h for p in pumps)
    names = " + ".join(p.name for p in pumps)
    prefix = f"{where}: " if where else ""
    if not (flow_m3_per_h > 0.0 and q_min - 1e-9 <= flow_m3_per_h <= q_max + 1e-9):
        msg = (
            f"{prefix}{flow_m3_per_h:.6g} m³/h is outside the joint characteristic of "
            f"{names} [{q_min:.6g}, {q_max:.6g}] m³/h"
        )
        raise InputError(msg)
    head = _common_head(pumps, flow_m3_per_h)
    flows = tuple(p.flow_at_head_m3_per_h(head) for p in pumps)
    for p, q in zip(pumps, flows, strict=True):
        h_p_low, h_p_high = p.head_span_m()
        if head > h_p_high + 1e-6 or head < h_p_low - 1e-6:
            msg = (
                f"{prefix}at {flow_m3_per_h:.6g} m³/h the common head {head:.4g} m of "
                f"{names} is outside pump {p.name}'s curve [{h_p_low:.4g}, {h_p_high:.4g}] m: "
                f"that pump would be pushed off its curve; this combination of pumps is not "
                f"a valid regime at this flow"
            )
            raise InputError(msg)
        p.check_flow(q, where)
    return JointPoint(
        flow_m3_per_h,
        head,
        flows,
        tuple(p.pump_efficiency(q) for p, q in zip(pumps, flows, strict=True)),
    )


def _common_head(pumps: Sequence[Pump], flow_m3_per_h: float) -> float:
    """The head [m] at which the inverted head curves give ``Σ Q_i(H) = Q`` (clamped)."""
    from scipy.optimize import brentq

    h_lo = min(p.head_span_m()[0] for p in pumps)
    h_hi = max(p.head_span_m()[1] for p in pumps)

    def excess(h: float) -> float:
        return sum(p.flow_at_head_m3_per_h(h) for p in pumps) - flow_m3_per_h

    if excess(h_lo) <= 0.0:
        return h_lo
    if excess(h_hi) >= 0.0:
        return h_hi
    return float(brentq(excess, h_lo, h_hi, xtol=_XTOL))


def joint_head_curve_m(pumps: Sequence[Pump], flow_m3_per_h: npt.ArrayLike) -> FloatArray:
    """Joint characteristic H(Q) [m] of parallel pumps at total flows [m³/h] (NaN off it)."""
    q = np.atleast_1d(np.asarray(flow_m3_per_h, dtype=float))
    out = np.full(q.shape, np.nan)
    for i, qi in enumerate(q):
        try:
            out[i] = joint_operation(pumps, float(qi)).head_m
        except InputError:
            continue
    return out


def operating_point(
    pumps: Sequence[Pump], static_head_m: float, resistance_m_per_m3_per_h_sq: float
) -> JointPoint:
    """Intersect the joint characteristic with the system curve ``H = H0 + S·Q²``.

    Parameters
    ----------
    pumps : sequence of Pump
        The running pumps.
    static_head_m : float
        H0 of the system curve [m] (may be zero or negative for a booster station).
    resistance_m_per_m3_per_h_sq : float
        S of the system curve [m/(m³/h)²], positive.

    Raises
    ------
    InputError
        The curves do not meet within the joint characteristic.
    """
    if not pumps:
        msg = "operating point: no running pumps"
        raise InputError(msg)
    if not resistance_m_per_m3_per_h_sq > 0.0:
        msg = f"operating point: system resistance {resistance_m_per_m3_per_h_sq} must be positive"
        raise InputError(msg)
    names = " + ".join(p.name for p in pumps)
    s = resistance_m_per_m3_per_h_sq
    no_cross = (
        f"the system curve H = {static_head_m:g} + {s:g}·Q² does not cross the joint "
        f"characteristic of {names}"
    )
    if _identical(pumps):
        return joint_operation(pumps, _identical_crossing(pumps, static_head_m, s, no_cross))
    # different pumps: solve in head, where the joint characteristic is Σ Q_i(H)
    head = _mixed_crossing_head(pumps, static_head_m, s, no_cross)
    return joint_operation(pumps, math.sqrt(max(head - static_head_m, 0.0) / s))


def _identical_crossing(
    pumps: Sequence[Pump], static_head_m: float, s: float, no_cross: str
) -> float:
    """Total flow [m³/h] where n identical pumps' ``H(Q/n)`` meets ``H0 + S·Q²``."""
    from scipy.optimize import brentq

    n = len(pumps)
    q_hi = n * pumps[0].max_flow_m3_per_h
    q_lo = max(n * pumps[0].min_flow_m3_per_h, 1e-9 * q_hi)

    def gap(q: float) -> float:
        return float(pumps[0].head(q / n)) - (static_head_m + s * q * q)

    g_lo, g_hi = gap(q_lo), gap(q_hi)
    if g_lo < 0.0 or g_hi > 0.0:
        msg = f"{no_cross} within [{q_lo:.6g}, {q_hi:.6g}] m³/h"
        raise InputError(msg)
    return (
        float(brentq(gap, q_lo, q_hi, xtol=_XTOL))
        if g_lo * g_hi < 0.0
        else (q_lo if g_lo == 0.0 else q_hi)
    )


def _mixed_crossing_head(
    pumps: Sequence[Pump], static_head_m: float, s: float, no_cross: str
) -> float:
    """Head [m] where different pumps' ``Σ Q_i(H)`` meets the system curve's flow."""
    from scipy.optimize import brentq

    h_lo = max(min(p.head_span_m()[0] for p in pumps), static_head_m)
    h_hi = max(p.head_span_m()[1] for p in pumps)

    def excess(h: float) -> float:
        return sum(p.flow_at_head_m3_per_h(h) for p in pumps) - math.sqrt(
            max(h - static_head_m, 0.0) / s
        )

    if not h_lo < h_hi or excess(h_lo) < 0.0 or excess(h_hi) > 0.0:
        msg = f"{no_cross} (heads {h_lo:.4g}–{h_hi:.4g} m)"
        raise InputError(msg)
    return float(brentq(excess, h_lo, h_hi, xtol=_XTOL))
