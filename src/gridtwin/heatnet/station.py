"""The energy characteristic N(G) of a pumping station, per season (regime).

The characteristic gives the electric power of the running pump units N [kW] against the
mass flow of network water through the station G [t/h]. The method prefers a *measured*
characteristic (tests of the running units together, revised every five years); without
one it is built from the pump curves:

    N = Σ_i G_i·H / (c·ηн,i·ηд,i)                                   formulas (2), (5), (11)

with G_i the flow of running pump i from the joint characteristic (equal shares for
identical pumps), H the common head, ηн,i the pump efficiency at G_i, ηд,i the motor
efficiency and c = 367 (= 3600/9.81, turns t/h·m into kW). Pump curves are given against
the volumetric flow Q [m³/h]; Q = G / ρ with ρ = ``water_density_t_per_m3`` (default 1.0,
i.e. catalogue m³/h read as t/h, as the seed's example does).

A season may list several candidate combinations of running pumps; at each flow the
feasible one with the least power is used (the method's "energy-optimal regime").
Powers here are those of the pump units only: the auxiliaries factor Kсн is applied by
:mod:`gridtwin.heatnet.method`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.heatnet.pumps import FloatArray, Interpolation, Pump, joint_operation

if TYPE_CHECKING:
    from scipy.interpolate import PchipInterpolator

__all__ = [
    "HYDRAULIC_CONSTANT",
    "SEASONS",
    "CharacteristicSource",
    "MeasuredCharacteristic",
    "Regime",
    "Season",
    "SeasonCharacteristic",
    "Station",
    "StationPoint",
]

Season = Literal["winter", "summer"]
SEASONS: tuple[Season, ...] = ("winter", "summer")
CharacteristicSource = Literal["auto", "pumps", "measured"]

HYDRAULIC_CONSTANT = 367.0
"""c in N = G·H/(c·η) [t/h·m per kW]: 3600/9.81 = 366.97, rounded as in the method."""


@dataclass(frozen=True)
class Regime:
    """One combination of running pumps (one entry per running unit)."""

    pumps: tuple[Pump, ...]

    @property
    def label(self) -> str:
        """E.g. ``"2×СЭ-1250-140"`` or ``"1×A + 1×B"``."""
        counts = Counter(p.name for p in self.pumps)
        return " + ".join(f"{n}×{name}" for name, n in counts.items())


@dataclass(frozen=True)
class MeasuredCharacteristic:
    """A tested N(G): points of pump-unit power against station flow, interpolated.

    Parameters
    ----------
    flow_t_per_h : tuple of float
        Station flows [t/h], strictly increasing, at least two.
    power_kw : tuple of float
        Electric power of the running pump units at those flows [kW].
    interpolation : {"pchip", "linear"}
        Interpolation between the points; never extrapolated.
    tested_year : int, optional
        Year of the test (the characteristic is revised every five years).
    """

    flow_t_per_h: tuple[float, ...]
    power_kw: tuple[float, ...]
    interpolation: Interpolation = "pchip"
    tested_year: int | None = None
    _pchip: PchipInterpolator | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        x = np.asarray(self.flow_t_per_h, dtype=float)
        y = np.asarray(self.power_kw, dtype=float)
        if x.size < 2 or x.size != y.size or np.any(np.diff(x) <= 0) or np.any(y <= 0):
            msg = (
                "a measured characteristic needs at least two points with strictly "
                "increasing flow_t_per_h and positive power_kw, of equal count"
            )
            raise InputError(msg)
        if self.interpolation == "pchip":
            from scipy.interpolate import PchipInterpolator

            object.__setattr__(self, "_pchip", PchipInterpolator(x, y, extrapolate=False))

    def range_t_per_h(self) -> tuple[float, float]:
        """First and last tested flow [t/h]."""
        return float(self.flow_t_per_h[0]), float(self.flow_t_per_h[-1])

    def power_at_kw(self, flow_t_per_h: float) -> float:
        """Interpolated power [kW]; NaN outside the tested flows."""
        lo, hi = self.range_t_per_h()
        if not lo - 1e-9 <= flow_t_per_h <= hi + 1e-9:
            return float("nan")
        g = min(max(flow_t_per_h, lo), hi)
        if self._pchip is not None:
            return float(self._pchip(g))
        return float(np.interp(g, self.flow_t_per_h, self.power_kw))


@dataclass(frozen=True)
class StationPoint:
    """A station at one flow: the values formulas (2), (5) and (11) use.

    Attributes
    ----------
    flow_t_per_h : float
        Station flow G [t/h].
    power_kw : float
        Electric power of the running pump units N [kW] (without Kсн).
    head_m : float or None
        Head H used in the power formula [m] (None for a measured characteristic).
    curve_head_m : float or None
        Head of the joint characteristic at this flow [m] (None when measured).
    regime : str
        The running pumps, e.g. ``"2×СЭ-800-100"``, or ``"measured"``.
    pump_flows_t_per_h, pump_efficiencies, motor_efficiencies : tuple of float
        Per running pump: flow G_i [t/h], ηн,i and ηд,i [fraction] (empty when measured).
    source : {"pump curves", "measured"}
    """

    flow_t_per_h: float
    power_kw: float
    head_m: float | None
    curve_head_m: float | None
    regime: str
    pump_flows_t_per_h: tuple[float, ...]
    pump_efficiencies: tuple[float, ...]
    motor_efficiencies: tuple[float, ...]
    source: Literal["pump curves", "measured"]

    @property
    def unit_efficiency(self) -> float | None:
        """Overall ηн·ηд of the station [fraction]: hydraulic over electric power."""
        if self.head_m is None or not self.pump_flows_t_per_h:
            return None
        hydraulic = sum(
            g / (eta * eta_m)
            for g, eta, eta_m in zip(
                self.pump_flows_t_per_h,
                self.pump_efficiencies,
                self.motor_efficiencies,
                strict=True,
            )
        )
        return float(sum(self.pump_flows_t_per_h) / hydraulic)


@dataclass(frozen=True)
class SeasonCharacteristic:
    """N(G) of one station in one season.

    Parameters
    ----------
    station : str
        Station name (for messages).
    season : {"winter", "summer"}
    regimes : tuple of Regime
        Candidate combinations of running pumps (one for a fixed regime).
    measured : MeasuredCharacteristic, optional
        A tested characteristic.
    source : {"auto", "pumps", "measured"}
        ``auto`` (default) uses the measured characteristic when there is one.
    water_density_t_per_m3 : float
        ρ converting G [t/h] to the pumps' Q [m³/h].
    hydraulic_constant : float
        c in the power formula (default 367).
    """

    station: str
    season: Season
    regimes: tuple[Regime, ...] = ()
    measured: MeasuredCharacteristic | None = None
    source: CharacteristicSource = "auto"
    water_density_t_per_m3: float = 1.0
    hydraulic_constant: float = HYDRAULIC_CONSTANT

    def __post_init__(self) -> None:
        where = f"station {self.station} {self.season}"
        if self.source == "measured" and self.measured is None:
            msg = f"{where}: characteristic_source is 'measured' but no measured points are given"
            raise InputError(msg)
        if not self.uses_measured and not self.regimes:
            msg = f"{where}: no running pumps and no measured characteristic"
            raise InputError(msg)
        if not self.water_density_t_per_m3 > 0 or not self.hydraulic_constant > 0:
            msg = f"{where}: water density and hydraulic constant must be positive"
            raise InputError(msg)

    @property
    def uses_measured(self) -> bool:
        """True when N(G) comes from the measured points."""
        return self.measured is not None and self.source in ("auto", "measured")

    def flow_range_t_per_h(self) -> tuple[float, float]:
        """Flows [t/h] the characteristic spans (the union over candidate regimes)."""
        if self.uses_measured and self.measured is not None:
            return self.measured.range_t_per_h()
        rho = self.water_density_t_per_m3
        lo = min(sum(p.min_flow_m3_per_h for p in r.pumps) for r in self.regimes)
        hi = max(sum(p.max_flow_m3_per_h for p in r.pumps) for r in self.regimes)
        return lo * rho, hi * rho

    def _regime_point(
        self, regime: Regime, flow_t_per_h: float, head_m: float | None, where: str
    ) -> StationPoint:
        rho, c = self.water_density_t_per_m3, self.hydraulic_constant
        joint = joint_operation(regime.pumps, flow_t_per_h / rho, where)
        head = joint.head_m if head_m is None else head_m
        flows = tuple(q * rho for q in joint.pump_flows_m3_per_h)
        motors = tuple(p.motor_efficiency for p in regime.pumps)
        power = sum(
            g * head / (c * eta * eta_m)
            for g, eta, eta_m in zip(flows, joint.pump_efficiencies, motors, strict=True)
        )
        return StationPoint(
            flow_t_per_h,
            float(power),
            head,
            joint.head_m,
            regime.label,
            flows,
            joint.pump_efficiencies,
            motors,
            "pump curves",
        )

    def point(
        self, flow_t_per_h: float, head_m: float | None = None, where: str = ""
    ) -> StationPoint:
        """The station at a flow [t/h], optionally at a given head [m].

        Parameters
        ----------
        flow_t_per_h : float
            Station flow G [t/h].
        head_m : float, optional
            Head [m] to use in the power formula instead of the joint characteristic's
            (a head read off the station's graphs, as the seed's tables give). The flow
            split and the efficiencies still come from the pump curves. Ignored for a
            measured characteristic.
        where : str
            Context for error messages.

        Raises
        ------
        InputError
            The flow is not positive or lies outside the characteristic (every candidate
            regime infeasible); the message names the pump and its range.
        """
        ctx = where or f"station {self.station} {self.season}"
        if not flow_t_per_h > 0:
            msg = f"{ctx}: flow {flow_t_per_h} t/h must be positive"
            raise InputError(msg)
        if self.uses_measured and self.measured is not None:
            power = self.measured.power_at_kw(flow_t_per_h)
            if np.isnan(power):
                lo, hi = self.measured.range_t_per_h()
                msg = (
                    f"{ctx}: {flow_t_per_h:.6g} t/h is outside the measured characteristic "
                    f"[{lo:.6g}, {hi:.6g}] t/h; extend the tested points"
                )
                raise InputError(msg)
            return StationPoint(flow_t_per_h, power, None, None, "measured", (), (), (), "measured")
        best: StationPoint | None = None
        first_error: InputError | None = None
        for regime in self.regimes:
            try:
                pt = self._regime_point(regime, flow_t_per_h, head_m, ctx)
            except InputError as exc:
                first_error = first_error or exc
                continue
            if best is None or pt.power_kw < best.power_kw:
                best = pt
        if best is None:
            if first_error is not None and len(self.regimes) == 1:
                raise first_error
            labels = ", ".join(r.label for r in self.regimes)
            msg = (
                f"{ctx}: {flow_t_per_h:.6g} t/h is outside the characteristic of every "
                f"candidate regime ({labels}); first reason: {first_error}"
            )
            raise InputError(msg)
        return best

    def power_curve_kw(self, flow_t_per_h: npt.ArrayLike) -> FloatArray:
        """N(G) [kW] at flows [t/h] on the joint characteristic; NaN off the curve."""
        g = np.atleast_1d(np.asarray(flow_t_per_h, dtype=float))
        out = np.full(g.shape, np.nan)
        for i, gi in enumerate(g):
            try:
                out[i] = self.point(float(gi)).power_kw
            except InputError:
                continue
        return out

    def curve_points(self, n_points: int = 41) -> list[StationPoint]:
        """Points of N(G) spread evenly over :meth:`flow_range_t_per_h` (off-curve ones skipped).

        The lowest flow plotted is at least 5 % of the top of the range (no pump runs at
        zero flow).
        """
        if n_points < 2:
            msg = f"number of points {n_points} must be at least 2"
            raise InputError(msg)
        lo, hi = self.flow_range_t_per_h()
        lo = max(lo, 0.05 * hi)
        out: list[StationPoint] = []
        for g in np.linspace(lo, hi, n_points):
            try:
                out.append(self.point(float(g)))
            except InputError:
                continue
        return out


@dataclass(frozen=True)
class Station:
    """A pumping station: its characteristic per season."""

    name: str
    seasons: Mapping[Season, SeasonCharacteristic]

    def season(self, season: Season, where: str = "") -> SeasonCharacteristic:
        """The characteristic for a season; :class:`InputError` when the station has none."""
        try:
            return self.seasons[season]
        except KeyError:
            ctx = f"{where}: " if where else ""
            msg = (
                f"{ctx}station {self.name} has no {season} regime; give "
                f"stations.{self.name}.regimes.{season} (or a measured characteristic)"
            )
            raise InputError(msg) from None


def regimes_from_counts(
    pumps: Mapping[str, Pump], candidates: Sequence[Mapping[str, int]]
) -> tuple[Regime, ...]:
    """Expand ``[{"A": 2}, {"A": 1, "B": 1}]`` into regimes of pump units."""
    out = []
    for combo in candidates:
        units: list[Pump] = []
        for name, count in combo.items():
            units.extend([pumps[name]] * count)
        out.append(Regime(tuple(units)))
    return tuple(out)
