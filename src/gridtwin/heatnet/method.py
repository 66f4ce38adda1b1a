"""The normative electricity use of heat-network pumping stations (seed 002), as code.

The numbered formulas are pure functions on floats; the workflows :func:`past_year` and
:func:`coming_year` apply them to a validated :class:`~gridtwin.heatnet.schema.NormsInput`
and return dataclasses. Units: mass flow G [t/h] (the method's unit), head H [m], power
N [kW], hours n [h], energy Э [kWh], efficiencies and factors as fractions.

The seed's formulas were lost; their forms are reconstructed (see ``docs/heatnet.md``).
Every reconstructed choice is a field of :class:`~gridtwin.heatnet.schema.MethodOptions`.

==========  ================================================================  ==============
formula     form used here                                                    status
==========  ================================================================  ==============
(1)         Эр = Nр,з·nф,з + Nр,л·nф,л + Эсн                                   reconstructed
(2)         Nр = Σ G_i·Нр/(367·ηн,i·ηд,i) · Kсн                                 reconstructed
(3)         ΣЭн = ΣЭр·(1 + Кр·(1 − ε))                                          reconstructed
(4)         Эном = Кэк·(Nном,з·nф,з + Nном,л·nф,л) + Эсн                        reconstructed
(5)         Nном = Σ G_i·Нном/(367·ηн,i·ηд,i) · Kсн at Gф                        reconstructed
(6)         Gф = Gр·Gф,тс/Gр,тс                                                reconstructed
(7)         Gф' = Gф·(Эф/Эном)^(1/3) | Gф·Эф/Эном | invert N(G)                reconstructed
(8)         Кр = (ΣЭном − ΣЭр)/ΣЭр                                              reconstructed
(9)         ε = 1 − (ΣЭном − ΔЭ − ΣЭр)/(Кр·ΣЭр), clipped to [0, 1]              reconstructed
(10)        Эн,пр = (Nпр,з·nпр,з + Nпр,л·nпр,л)·(1 + Кр·(1 − ε))                reconstructed
(11)        Nпр = Σ G_i·Нпр/(367·ηн,i·ηд,i) · Kсн                               reconstructed
cl. 3.5     first year: ΣЭн = ΣЭном                                             seed
cl. 4.3-4.4 sums over stations and over territorial units                      seed
==========  ================================================================  ==============
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq

from gridtwin.errors import InputError
from gridtwin.heatnet.schema import MethodOptions, NormsInput
from gridtwin.heatnet.station import (
    HYDRAULIC_CONSTANT,
    SEASONS,
    Season,
    SeasonCharacteristic,
    Station,
    StationPoint,
)

__all__ = [
    "ComingSeasonRow",
    "ComingStationResult",
    "ComingYearResult",
    "PastSeasonRow",
    "PastStationResult",
    "PastYearResult",
    "TaskResult",
    "TerritorialTotals",
    "UnitTotals",
    "actual_flow_t_per_h",
    "calculated_energy_kwh",
    "clip_task",
    "coming_year",
    "coming_year_normative_energy_kwh",
    "corrected_actual_flow_t_per_h",
    "network_normative_energy_kwh",
    "nominal_energy_kwh",
    "past_year",
    "relative_reserves",
    "reserve_multiplier",
    "solve_flow_scale",
    "station_power_kw",
    "task_from_saving",
    "territorial_totals",
    "unit_power_kw",
]

OPERATING_ALLOWANCE_RANGE = (1.0, 1.2)
MAX_AUXILIARY_FACTOR = 1.05
FlowCorrectionLaw = Literal["cube", "linear", "invert_characteristic"]
TaskFormula = Literal["full", "simple"]


# ============================================================================ checks


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (math.isfinite(value) and lo <= value <= hi):
        msg = f"{name} = {value} is outside [{lo:g}, {hi:g}]"
        raise InputError(msg)


def _check_efficiency(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        msg = f"{name} = {value} is outside (0, 1]; give it as a fraction, e.g. 0.82"
        raise InputError(msg)


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        msg = f"{name} = {value} must be positive"
        raise InputError(msg)


def _check_seasons(powers_kw: Sequence[float], hours_h: Sequence[float]) -> None:
    if len(powers_kw) != len(hours_h) or not powers_kw:
        msg = (
            f"give one power and one number of hours per season; got {len(powers_kw)} "
            f"powers and {len(hours_h)} hours"
        )
        raise InputError(msg)
    for i, n in enumerate(hours_h):
        _check_positive(f"hours_h[{i}] (season operating hours)", n)
    for i, p in enumerate(powers_kw):
        if not (math.isfinite(p) and p >= 0.0):
            msg = f"powers_kw[{i}] = {p} must be a non-negative number"
            raise InputError(msg)


def _check_auxiliary_factor(value: float) -> None:
    _check_range("auxiliary_factor (Kсн)", value, 1.0, MAX_AUXILIARY_FACTOR)


# ============================================================================ formulas


def unit_power_kw(
    flow_t_per_h: float,
    head_m: float,
    pump_efficiency: float,
    motor_efficiency: float,
    auxiliary_factor: float = 1.0,
    hydraulic_constant: float = HYDRAULIC_CONSTANT,
) -> float:
    """Power of pump units at a flow and head, formulas (2), (5) and (11).

    ``N = Kсн·G·H / (c·ηн·ηд)``.

    Parameters
    ----------
    flow_t_per_h : float
        G [t/h]: design Gр (2), actual Gф (5) or planned Gпр (11) flow.
    head_m : float
        H [m] at that flow.
    pump_efficiency, motor_efficiency : float
        ηн and ηд [fraction], in (0, 1].
    auxiliary_factor : float
        Kсн in [1, 1.05] (1 when auxiliaries are counted as Эсн).
    hydraulic_constant : float
        c [t/h·m per kW], 367 by default.

    Returns
    -------
    float
        N [kW].
    """
    _check_positive("flow_t_per_h", flow_t_per_h)
    _check_positive("head_m", head_m)
    _check_efficiency("pump_efficiency (ηн)", pump_efficiency)
    _check_efficiency("motor_efficiency (ηд)", motor_efficiency)
    _check_auxiliary_factor(auxiliary_factor)
    _check_positive("hydraulic_constant", hydraulic_constant)
    return (
        auxiliary_factor
        * flow_t_per_h
        * head_m
        / (hydraulic_constant * pump_efficiency * motor_efficiency)
    )


def calculated_energy_kwh(
    powers_kw: Sequence[float], hours_h: Sequence[float], auxiliary_energy_kwh: float = 0.0
) -> float:
    """Calculated use Эр of one station in the past year, formula (1) [kWh].

    ``Эр = Σ_seasons Nр·nф + Эсн``.

    Parameters
    ----------
    powers_kw : sequence of float
        Nр per season [kW] from (2) at the design flow.
    hours_h : sequence of float
        nф per season [h], positive.
    auxiliary_energy_kwh : float
        Эсн [kWh]; 0 when auxiliaries are counted by Kсн in (2).
    """
    _check_seasons(powers_kw, hours_h)
    if not auxiliary_energy_kwh >= 0.0:
        msg = f"auxiliary_energy_kwh (Эсн) = {auxiliary_energy_kwh} must not be negative"
        raise InputError(msg)
    return float(sum(p * n for p, n in zip(powers_kw, hours_h, strict=True)) + auxiliary_energy_kwh)


def reserve_multiplier(reserves_factor: float, task: float) -> float:
    """The factor ``1 + Кр·(1 − ε)`` of formulas (3) and (10) [fraction].

    Parameters
    ----------
    reserves_factor : float
        Кр, relative reserves, ≥ 0.
    task : float
        ε, share of the reserves to be used, in [0, 1].
    """
    if not (math.isfinite(reserves_factor) and reserves_factor >= 0.0):
        msg = f"reserves_factor (Кр) = {reserves_factor} must be a non-negative number"
        raise InputError(msg)
    _check_range("task (ε)", task, 0.0, 1.0)
    return 1.0 + reserves_factor * (1.0 - task)


def network_normative_energy_kwh(
    total_calculated_energy_kwh: float, reserves_factor: float, task: float
) -> float:
    """Normative use of the whole network in the past year, formula (3) [kWh].

    ``ΣЭн = ΣЭр·(1 + Кр·(1 − ε))`` with Кр and ε fixed at the start of that year.
    (In the first year of the method cl. 3.5 sets ΣЭн = ΣЭном instead.)
    """
    _check_positive("total_calculated_energy_kwh (ΣЭр)", total_calculated_energy_kwh)
    return total_calculated_energy_kwh * reserve_multiplier(reserves_factor, task)


def nominal_energy_kwh(
    powers_kw: Sequence[float],
    hours_h: Sequence[float],
    operating_allowance: float = 1.0,
    auxiliary_energy_kwh: float = 0.0,
    allowance_applies_to_auxiliaries: bool = False,
) -> float:
    """Nominal use Эном of one station in the past year, formula (4) [kWh].

    ``Эном = Кэк·Σ_seasons Nном·nф + Эсн`` (Кэк also on Эсн when
    ``allowance_applies_to_auxiliaries``).

    Parameters
    ----------
    powers_kw : sequence of float
        Nном per season [kW] from (5) at the actual flow.
    hours_h : sequence of float
        nф per season [h].
    operating_allowance : float
        Кэк in [1.0, 1.2]; 1 after the flow correction (7).
    auxiliary_energy_kwh : float
        Эсн [kWh].
    allowance_applies_to_auxiliaries : bool
        Reconstructed choice, default False.
    """
    _check_seasons(powers_kw, hours_h)
    _check_range("operating_allowance (Кэк)", operating_allowance, *OPERATING_ALLOWANCE_RANGE)
    if not auxiliary_energy_kwh >= 0.0:
        msg = f"auxiliary_energy_kwh (Эсн) = {auxiliary_energy_kwh} must not be negative"
        raise InputError(msg)
    pumping = sum(p * n for p, n in zip(powers_kw, hours_h, strict=True))
    aux = auxiliary_energy_kwh * (operating_allowance if allowance_applies_to_auxiliaries else 1.0)
    return float(operating_allowance * pumping + aux)


def actual_flow_t_per_h(
    design_flow_t_per_h: float,
    network_actual_flow_t_per_h: float,
    network_design_flow_t_per_h: float,
) -> float:
    """Actual flow of a station without a flowmeter, formula (6) [t/h].

    ``Gф = Gр·Gф,тс/Gр,тс``: the station keeps its design share of the network flow.

    Parameters
    ----------
    design_flow_t_per_h : float
        Gр of the station [t/h].
    network_actual_flow_t_per_h, network_design_flow_t_per_h : float
        Gф,тс and Gр,тс, hourly-mean flows of the whole network in the same season [t/h].
    """
    _check_positive("design_flow_t_per_h (Gр)", design_flow_t_per_h)
    _check_positive("network actual flow (Gф,тс)", network_actual_flow_t_per_h)
    _check_positive("network design flow (Gр,тс)", network_design_flow_t_per_h)
    return design_flow_t_per_h * network_actual_flow_t_per_h / network_design_flow_t_per_h


def corrected_actual_flow_t_per_h(
    actual_flow_t_per_h: float,
    metered_energy_kwh: float,
    nominal_energy_kwh: float,
    law: Literal["cube", "linear"] = "cube",
) -> float:
    """Actual flow corrected by the metered energy, formula (7) [t/h].

    ``Gф' = Gф·(Эф/Эном)^(1/3)`` (``cube``, default) or ``Gф' = Gф·Эф/Эном``
    (``linear``). The third law, inverting the characteristic, needs N(G): see
    :func:`solve_flow_scale`.

    Parameters
    ----------
    actual_flow_t_per_h : float
        Gф from a flowmeter or (6) [t/h].
    metered_energy_kwh : float
        Эф from the station's meter [kWh].
    nominal_energy_kwh : float
        Эном from (4) before the correction [kWh].
    law : {"cube", "linear"}
    """
    _check_positive("actual_flow_t_per_h (Gф)", actual_flow_t_per_h)
    _check_positive("metered_energy_kwh (Эф)", metered_energy_kwh)
    _check_positive("nominal_energy_kwh (Эном)", nominal_energy_kwh)
    ratio = metered_energy_kwh / nominal_energy_kwh
    if law == "cube":
        return float(actual_flow_t_per_h * ratio ** (1.0 / 3.0))
    if law == "linear":
        return actual_flow_t_per_h * ratio
    msg = f"flow_correction_law {law!r}: use cube or linear here (or solve_flow_scale)"
    raise InputError(msg)


def solve_flow_scale(
    energy_at_scale_kwh: Callable[[float], float],
    metered_energy_kwh: float,
    where: str = "",
    scale_max: float = 3.0,
) -> float:
    """The factor k on the actual flows at which the characteristic gives the metered energy.

    Formula (7), law ``invert_characteristic``: solve ``E(k) = Эф`` where ``E(k)`` is the
    nominal use (4) with Кэк = 1 at the flows ``k·Gф``. The flows k ∈ [0.05, ``scale_max``]
    are scanned; of several roots the one nearest k = 1 is taken.

    Parameters
    ----------
    energy_at_scale_kwh : callable
        k ↦ E(k) [kWh]; may raise :class:`InputError` where the flows leave the curve.
    metered_energy_kwh : float
        Эф [kWh].
    where : str
        Context for the error message.
    scale_max : float
        Upper end of the scan.

    Raises
    ------
    InputError
        Эф is not reached on the characteristic.
    """
    ks = np.linspace(0.05, scale_max, round((scale_max - 0.05) / 0.01) + 1)
    gaps = np.full(ks.shape, np.nan)
    for i, k in enumerate(ks):
        try:
            gaps[i] = energy_at_scale_kwh(float(k)) - metered_energy_kwh
        except InputError:
            continue
    roots: list[float] = [float(k) for k, g in zip(ks, gaps, strict=True) if g == 0.0]
    for i in range(ks.size - 1):
        a, b = gaps[i], gaps[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0.0:
            roots.append(
                float(
                    brentq(
                        lambda k: energy_at_scale_kwh(k) - metered_energy_kwh,
                        float(ks[i]),
                        float(ks[i + 1]),
                        xtol=1e-12,
                    )
                )
            )
    if not roots:
        finite = gaps[np.isfinite(gaps)] + metered_energy_kwh
        span = (
            f"{finite.min():,.0f} to {finite.max():,.0f} kWh"
            if finite.size
            else "no values (flows off the curve)"
        )
        prefix = f"{where}: " if where else ""
        msg = (
            f"{prefix}the metered energy {metered_energy_kwh:,.0f} kWh cannot be reached on "
            f"the station's characteristic (it gives {span} for flows "
            f"{ks[0]:.2f}–{ks[-1]:.2f} × the actual ones); check metered_energy_kwh or use "
            f"flow_correction_law cube or linear"
        )
        raise InputError(msg)
    return min(roots, key=lambda k: abs(k - 1.0))


def relative_reserves(total_nominal_energy_kwh: float, total_calculated_energy_kwh: float) -> float:
    """Relative reserves of the network, formula (8) [fraction].

    ``Кр = (ΣЭном − ΣЭр)/ΣЭр``.
    """
    _check_positive("total_calculated_energy_kwh (ΣЭр)", total_calculated_energy_kwh)
    _check_positive("total_nominal_energy_kwh (ΣЭном)", total_nominal_energy_kwh)
    return (total_nominal_energy_kwh - total_calculated_energy_kwh) / total_calculated_energy_kwh


def task_from_saving(
    planned_saving_kwh: float,
    total_nominal_energy_kwh: float,
    total_calculated_energy_kwh: float,
    reserves_factor: float,
    form: TaskFormula = "full",
) -> float:
    """The task ε for the coming year from the planned saving ΔЭ, formula (9), unclipped.

    ``full``: ``ε = 1 − (ΣЭном − ΔЭ − ΣЭр)/(Кр·ΣЭр)``; ``simple``:
    ``ε = ΔЭ/(ΣЭном − ΣЭр)``. Both agree when Кр is the previous year's (8). Clip the
    result with :func:`clip_task`.

    Parameters
    ----------
    planned_saving_kwh : float
        ΔЭ [kWh] at last year's regime.
    total_nominal_energy_kwh, total_calculated_energy_kwh : float
        ΣЭном and ΣЭр of the previous year [kWh].
    reserves_factor : float
        Кр of the previous year (used by ``full`` only).
    form : {"full", "simple"}
    """
    _check_positive("total_calculated_energy_kwh (ΣЭр)", total_calculated_energy_kwh)
    _check_positive("total_nominal_energy_kwh (ΣЭном)", total_nominal_energy_kwh)
    if form == "full":
        _check_positive("reserves_factor (Кр)", reserves_factor)
        return float(
            1.0
            - (
                (total_nominal_energy_kwh - planned_saving_kwh - total_calculated_energy_kwh)
                / (reserves_factor * total_calculated_energy_kwh)
            )
        )
    reserves = total_nominal_energy_kwh - total_calculated_energy_kwh
    if not reserves > 0.0:
        msg = (
            f"ΣЭном − ΣЭр = {reserves:,.0f} kWh: there are no reserves, so the task ε cannot "
            f"be derived from a saving (task_formula simple)"
        )
        raise InputError(msg)
    return float(planned_saving_kwh / reserves)


def clip_task(task: float) -> tuple[float, str | None]:
    """Clip ε to [0, 1] (cl. 4.1); return the clipped value and a warning when clipped."""
    if not math.isfinite(task):
        msg = f"task (ε) = {task} is not a number"
        raise InputError(msg)
    if task < 0.0:
        return 0.0, (
            f"ε from formula (9) is {task:.4f} < 0 (the planned saving is below what "
            f"the reserves imply); clipped to 0"
        )
    if task > 1.0:
        return 1.0, (
            f"ε from formula (9) is {task:.4f} > 1 (the planned saving exceeds the "
            f"reserves); clipped to 1"
        )
    return task, None


def coming_year_normative_energy_kwh(
    powers_kw: Sequence[float],
    hours_h: Sequence[float],
    reserves_factor: float,
    task: float,
    auxiliary_energy_kwh: float = 0.0,
    reserve_factor_applies_to_auxiliaries: bool = False,
) -> float:
    """Normative use of one station in the coming year, formula (10) [kWh].

    ``Эн,пр = (Σ_seasons Nпр·nпр)·(1 + Кр·(1 − ε))`` plus a planned Эсн (multiplied by the
    factor too when ``reserve_factor_applies_to_auxiliaries``).

    Parameters
    ----------
    powers_kw : sequence of float
        Nпр per season [kW] from (11).
    hours_h : sequence of float
        nпр per season [h].
    reserves_factor, task : float
        Кр of the previous year and ε for the coming year.
    auxiliary_energy_kwh : float
        Planned Эсн [kWh] (0 when Kсн is used).
    reserve_factor_applies_to_auxiliaries : bool
        Assumed choice, default False.
    """
    _check_seasons(powers_kw, hours_h)
    mult = reserve_multiplier(reserves_factor, task)
    pumping = sum(p * n for p, n in zip(powers_kw, hours_h, strict=True))
    aux = auxiliary_energy_kwh * (mult if reserve_factor_applies_to_auxiliaries else 1.0)
    return float(pumping * mult + aux)


# ============================================================================ results


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


@dataclass(frozen=True)
class PastSeasonRow:
    """One station in one season of the past year (a row of the seed's Table 3).

    Powers ``*_power_kw`` include Kсн; ``*_unit_power_kw`` are the pump units alone (the
    energy characteristic). ``*_energy_kwh`` are the season's pumping terms of (1), (4).
    """

    station: str
    season: Season
    hours_h: float
    design_flow_t_per_h: float
    design_head_m: float | None
    design_curve_head_m: float | None
    design_regime: str
    design_pump_efficiencies: tuple[float, ...]
    design_motor_efficiencies: tuple[float, ...]
    design_unit_power_kw: float
    design_power_kw: float
    calculated_energy_kwh: float
    actual_flow_source: str
    uncorrected_actual_flow_t_per_h: float
    actual_flow_t_per_h: float
    nominal_head_m: float | None
    nominal_curve_head_m: float | None
    nominal_regime: str
    nominal_pump_efficiencies: tuple[float, ...]
    nominal_motor_efficiencies: tuple[float, ...]
    nominal_unit_power_kw: float
    nominal_power_kw: float
    nominal_energy_kwh: float


@dataclass(frozen=True)
class PastStationResult:
    """One station over the past year: (1), (4), its share of (3), metered use, findings."""

    station: str
    seasons: tuple[PastSeasonRow, ...]
    calculated_energy_kwh: float
    nominal_energy_kwh: float
    normative_energy_kwh: float
    auxiliary_factor: float
    auxiliary_energy_kwh: float
    operating_allowance: float
    metered_energy_kwh: float | None
    flow_corrected: bool
    flow_correction_law: str | None
    flow_correction_scale: float | None
    uncorrected_nominal_energy_kwh: float
    findings: tuple[str, ...]


@dataclass(frozen=True)
class PastYearResult:
    """The past year for one network: Table 3 of the seed and the comparison (3.7, 3.8)."""

    title: str
    territorial_unit: str
    year: int | None
    stations: tuple[PastStationResult, ...]
    total_calculated_energy_kwh: float
    total_nominal_energy_kwh: float
    total_normative_energy_kwh: float
    total_metered_energy_kwh: float | None
    metered_station_count: int
    previous_reserves_factor: float | None
    previous_task: float | None
    normative_multiplier: float
    first_year: bool
    reserves_factor: float
    findings: tuple[str, ...]
    warnings: tuple[str, ...]
    options: MethodOptions

    def station(self, name: str) -> PastStationResult:
        """The result of a station by name."""
        for st in self.stations:
            if st.station == name:
                return st
        msg = f"no station {name!r} in the past-year result"
        raise InputError(msg)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (non-finite floats become null)."""
        data = asdict(self)
        data["options"] = self.options.model_dump()
        return dict(_jsonable(data))


@dataclass(frozen=True)
class TaskResult:
    """The task ε for the coming year and where it came from (Table 4 of the seed)."""

    task: float
    source: str
    task_unclipped: float | None
    planned_saving_kwh: float | None
    previous_calculated_energy_kwh: float | None
    previous_nominal_energy_kwh: float | None
    reserves_factor: float
    previous_reserves_factor: float | None


@dataclass(frozen=True)
class ComingSeasonRow:
    """One station in one season of the coming year (a row of the seed's Table 6)."""

    station: str
    season: Season
    hours_h: float
    flow_t_per_h: float
    head_m: float | None
    curve_head_m: float | None
    regime: str
    pump_efficiencies: tuple[float, ...]
    motor_efficiencies: tuple[float, ...]
    unit_power_kw: float
    power_kw: float
    pumping_energy_kwh: float


@dataclass(frozen=True)
class ComingStationResult:
    """One station in the coming year: formula (10)."""

    station: str
    seasons: tuple[ComingSeasonRow, ...]
    pumping_energy_kwh: float
    auxiliary_factor: float
    auxiliary_energy_kwh: float
    normative_energy_kwh: float


@dataclass(frozen=True)
class ComingYearResult:
    """The coming year for one network: (9), (10), (11) and the total (4.3)."""

    title: str
    territorial_unit: str
    year: int | None
    task: TaskResult
    reserves_factor: float
    normative_multiplier: float
    stations: tuple[ComingStationResult, ...]
    total_normative_energy_kwh: float
    warnings: tuple[str, ...]
    options: MethodOptions

    def station(self, name: str) -> ComingStationResult:
        """The result of a station by name."""
        for st in self.stations:
            if st.station == name:
                return st
        msg = f"no station {name!r} in the coming-year result"
        raise InputError(msg)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (non-finite floats become null)."""
        data = asdict(self)
        data["options"] = self.options.model_dump()
        return dict(_jsonable(data))


@dataclass(frozen=True)
class UnitTotals:
    """One territorial unit's absolute amounts (cl. 4.4) [kWh]."""

    territorial_unit: str
    past_normative_energy_kwh: float | None
    past_metered_energy_kwh: float | None
    coming_normative_energy_kwh: float | None


@dataclass(frozen=True)
class TerritorialTotals:
    """Sums over territorial units (cl. 4.4) [kWh]; a missing amount makes a sum partial."""

    units: tuple[UnitTotals, ...]
    total_past_normative_energy_kwh: float | None
    total_past_metered_energy_kwh: float | None
    total_coming_normative_energy_kwh: float | None
    warnings: tuple[str, ...] = field(default=())


# ============================================================================ workflows


def _pct(a: float, b: float) -> str:
    return f"{(a / b - 1.0) * 100.0:+.1f} %"


@dataclass
class _Notes:
    warnings: list[str] = field(default_factory=list)

    def head_check(
        self, label: str, given: float | None, point: StationPoint, opts: MethodOptions
    ) -> None:
        if given is None:
            return
        if point.source == "measured":
            self.warnings.append(
                f"{label}: head {given:g} m ignored; the measured "
                f"characteristic gives N(G) directly"
            )
            return
        curve = point.curve_head_m
        if opts.head_source == "curve":
            return
        if curve is not None and abs(given - curve) > opts.head_mismatch_fraction * curve:
            self.warnings.append(
                f"{label}: given head {given:g} m differs from the pump curves' {curve:.1f} m "
                f"by more than {opts.head_mismatch_fraction:.0%}; check the head or the curves"
            )


def _head(given: float | None, opts: MethodOptions) -> float | None:
    return given if opts.head_source == "input" else None


def _revision_warnings(inp: NormsInput, year: int | None) -> list[str]:
    out: list[str] = []
    if year is None:
        return out
    for name, spec in inp.stations.items():
        if (
            spec.tested_year is not None
            and spec.measured_characteristic is not None
            and (year - spec.tested_year > 5)
        ):
            out.append(
                f"station {name}: the measured characteristic dates from "
                f"{spec.tested_year}; it is due for revision (every five years, cl. 1.2)"
            )
    return out


def _season_hours(season_hours: float | None, default: float | None, label: str) -> float:
    hours = season_hours if season_hours is not None else default
    if hours is None:
        msg = f"{label}: no operating hours; give hours_h for this season"
        raise InputError(msg)
    return hours


def past_year(inp: NormsInput, stations: Mapping[str, Station] | None = None) -> PastYearResult:
    """Past-year workflow: Эр (1, 2), ΣЭн (3), Gф (6, 7), Эном (4, 5), Кр (8), 3.5, 3.7-3.8.

    Parameters
    ----------
    inp : NormsInput
        A validated input with a ``past_year`` section.
    stations : mapping, optional
        Pre-built station characteristics (default: built from ``inp``).

    Raises
    ------
    InputError
        Missing section, flows off a pump's curve, unreachable metered energy; messages
        name the file and the field.
    """
    spec = inp.past_year
    if spec is None:
        msg = f"{inp.where}: past_year: missing; the past-year calculation needs it"
        raise InputError(msg)
    opts = inp.options
    built = dict(stations) if stations is not None else inp.build_stations()
    notes = _Notes(_revision_warnings(inp, spec.year))
    results: list[PastStationResult] = []
    for name, st in spec.stations.items():
        station = built[name]
        base = f"{inp.where}: past_year.stations.{name}"
        aux_energy = st.auxiliary_energy_kwh or 0.0
        aux_factor = (
            st.auxiliary_factor
            if st.auxiliary_factor is not None
            else 1.0
            if st.auxiliary_energy_kwh is not None
            else spec.auxiliary_factor
        )
        allowance = (
            st.operating_allowance
            if st.operating_allowance is not None
            else spec.operating_allowance
        )
        seasons: list[Season] = [s for s in SEASONS if st.season(s) is not None]
        chars: list[SeasonCharacteristic] = []
        hours: list[float] = []
        design_pts: list[StationPoint] = []
        actual_flows: list[float] = []
        flow_sources: list[str] = []
        nominal_pts: list[StationPoint] = []
        for season in seasons:
            data = st.season(season)
            if data is None:  # pragma: no cover - filtered above
                continue
            where = f"{base}.{season}"
            char = station.season(season, where)
            chars.append(char)
            hours.append(_season_hours(data.hours_h, getattr(spec.hours_h, season), where))
            dp = char.point(
                data.design_flow_t_per_h,
                _head(data.design_head_m, opts),
                f"{where}.design_flow_t_per_h = {data.design_flow_t_per_h:g} t/h",
            )
            notes.head_check(f"{where}.design_head_m", data.design_head_m, dp, opts)
            design_pts.append(dp)
            if data.actual_flow_t_per_h is not None:
                g_act, src = data.actual_flow_t_per_h, "flowmeter"
            else:
                net = (
                    None
                    if spec.network_flow_t_per_h is None
                    else getattr(spec.network_flow_t_per_h, season)
                )
                if net is None:
                    msg = (
                        f"{inp.where}: past_year.network_flow_t_per_h.{season}: missing; "
                        f"needed by formula (6) for station {name}"
                    )
                    raise InputError(msg)
                g_act = actual_flow_t_per_h(
                    data.design_flow_t_per_h, net.actual_t_per_h, net.design_t_per_h
                )
                src = "formula (6)"
            actual_flows.append(g_act)
            flow_sources.append(src)
            ap = char.point(
                g_act,
                _head(data.nominal_head_m, opts),
                f"{where}: actual flow {g_act:.6g} t/h ({src})",
            )
            notes.head_check(f"{where}.nominal_head_m", data.nominal_head_m, ap, opts)
            nominal_pts.append(ap)
        design_powers = [station_power_kw(p, aux_factor) for p in design_pts]
        calc = calculated_energy_kwh(design_powers, hours, aux_energy)
        nominal_powers = [station_power_kw(p, aux_factor) for p in nominal_pts]
        nominal = nominal_energy_kwh(
            nominal_powers, hours, allowance, aux_energy, opts.allowance_applies_to_auxiliaries
        )
        uncorrected_nominal = nominal
        corrected_flows = list(actual_flows)
        scale: float | None = None
        law: str | None = None
        if st.correct_actual_flow and st.metered_energy_kwh is not None:
            metered = st.metered_energy_kwh
            law = opts.flow_correction_law
            where = f"{base}: flow correction (7), law {law}"
            if law == "invert_characteristic":

                def energy_at(
                    k: float,
                    chars: list[SeasonCharacteristic] = chars,
                    flows: list[float] = actual_flows,
                    hours: list[float] = hours,
                    aux_factor: float = aux_factor,
                    aux_energy: float = aux_energy,
                ) -> float:
                    powers = [
                        c.point(k * g).power_kw * aux_factor
                        for c, g in zip(chars, flows, strict=True)
                    ]
                    return nominal_energy_kwh(powers, hours, 1.0, aux_energy)

                scale = solve_flow_scale(energy_at, metered, where)
                corrected_flows = [scale * g for g in actual_flows]
            else:
                corrected_flows = [
                    corrected_actual_flow_t_per_h(g, metered, nominal, law) for g in actual_flows
                ]
                scale = corrected_flows[0] / actual_flows[0]
            nominal_pts = [
                c.point(g, None, f"{where}: corrected flow {g:.6g} t/h")
                for c, g in zip(chars, corrected_flows, strict=True)
            ]
            flow_sources = [f"{s} + formula (7) {law}" for s in flow_sources]
            allowance = 1.0
            nominal_powers = [station_power_kw(p, aux_factor) for p in nominal_pts]
            nominal = nominal_energy_kwh(
                nominal_powers, hours, 1.0, aux_energy, opts.allowance_applies_to_auxiliaries
            )
        rows = []
        for i, season in enumerate(seasons):
            dp, ap = design_pts[i], nominal_pts[i]
            rows.append(
                PastSeasonRow(
                    station=name,
                    season=season,
                    hours_h=hours[i],
                    design_flow_t_per_h=dp.flow_t_per_h,
                    design_head_m=dp.head_m,
                    design_curve_head_m=dp.curve_head_m,
                    design_regime=dp.regime,
                    design_pump_efficiencies=dp.pump_efficiencies,
                    design_motor_efficiencies=dp.motor_efficiencies,
                    design_unit_power_kw=dp.power_kw,
                    design_power_kw=design_powers[i],
                    calculated_energy_kwh=design_powers[i] * hours[i],
                    actual_flow_source=flow_sources[i],
                    uncorrected_actual_flow_t_per_h=actual_flows[i],
                    actual_flow_t_per_h=corrected_flows[i],
                    nominal_head_m=ap.head_m,
                    nominal_curve_head_m=ap.curve_head_m,
                    nominal_regime=ap.regime,
                    nominal_pump_efficiencies=ap.pump_efficiencies,
                    nominal_motor_efficiencies=ap.motor_efficiencies,
                    nominal_unit_power_kw=ap.power_kw,
                    nominal_power_kw=nominal_powers[i],
                    nominal_energy_kwh=allowance * nominal_powers[i] * hours[i],
                )
            )
        results.append(
            PastStationResult(
                station=name,
                seasons=tuple(rows),
                calculated_energy_kwh=calc,
                nominal_energy_kwh=nominal,
                normative_energy_kwh=math.nan,
                auxiliary_factor=aux_factor,
                auxiliary_energy_kwh=aux_energy,
                operating_allowance=allowance,
                metered_energy_kwh=st.metered_energy_kwh,
                flow_corrected=law is not None,
                flow_correction_law=law,
                flow_correction_scale=scale,
                uncorrected_nominal_energy_kwh=uncorrected_nominal,
                findings=(),
            )
        )
    total_calc = sum(r.calculated_energy_kwh for r in results)
    total_nom = sum(r.nominal_energy_kwh for r in results)
    if spec.first_year:
        total_norm = total_nom
        multiplier = total_nom / total_calc
    else:
        if spec.reserves_factor is None or spec.task is None:  # pragma: no cover - schema
            msg = f"{inp.where}: past_year: reserves_factor and task are needed by formula (3)"
            raise InputError(msg)
        total_norm = network_normative_energy_kwh(total_calc, spec.reserves_factor, spec.task)
        multiplier = reserve_multiplier(spec.reserves_factor, spec.task)
    kr = relative_reserves(total_nom, total_calc)
    final = []
    for r in results:
        norm = r.nominal_energy_kwh if spec.first_year else r.calculated_energy_kwh * multiplier
        final.append(_with_findings(r, norm))
    meters = [r.metered_energy_kwh for r in final if r.metered_energy_kwh is not None]
    total_metered = float(sum(meters)) if meters else None
    findings = _network_findings(
        inp, final, total_calc, total_nom, total_norm, total_metered, len(meters), kr
    )
    return PastYearResult(
        title=inp.title,
        territorial_unit=inp.name,
        year=spec.year,
        stations=tuple(final),
        total_calculated_energy_kwh=total_calc,
        total_nominal_energy_kwh=total_nom,
        total_normative_energy_kwh=total_norm,
        total_metered_energy_kwh=total_metered,
        metered_station_count=len(meters),
        previous_reserves_factor=spec.reserves_factor,
        previous_task=spec.task,
        normative_multiplier=multiplier,
        first_year=spec.first_year,
        reserves_factor=kr,
        findings=tuple(findings),
        warnings=tuple(notes.warnings),
        options=opts,
    )


def station_power_kw(point: StationPoint, auxiliary_factor: float) -> float:
    """Power of a station point times the auxiliaries factor Kсн, (2), (5), (11) [kW].

    Parameters
    ----------
    point : StationPoint
        The station at a flow (pump-unit power N [kW] from its characteristic).
    auxiliary_factor : float
        Kсн in [1, 1.05].
    """
    _check_auxiliary_factor(auxiliary_factor)
    return point.power_kw * auxiliary_factor


def _with_findings(r: PastStationResult, normative_kwh: float) -> PastStationResult:
    found: list[str] = []
    if r.flow_corrected and r.flow_correction_scale is not None:
        found.append(
            f"actual flow corrected by formula (7) ({r.flow_correction_law}): "
            f"×{r.flow_correction_scale:.4f}; Кэк = 1; Эном "
            f"{r.uncorrected_nominal_energy_kwh:,.0f} → {r.nominal_energy_kwh:,.0f} kWh"
        )
        if (
            r.metered_energy_kwh is not None
            and abs(r.nominal_energy_kwh / r.metered_energy_kwh - 1.0) > 0.01
        ):
            found.append(
                f"after the correction Эном still differs from Эф by "
                f"{_pct(r.nominal_energy_kwh, r.metered_energy_kwh)}: along a "
                f"fixed-speed pump curve N(G) is flatter than the {r.flow_correction_law} "
                f"law assumes; flow_correction_law invert_characteristic matches Эф"
            )
    if r.metered_energy_kwh is not None:
        ef, en, enorm = r.metered_energy_kwh, r.nominal_energy_kwh, normative_kwh
        if ef > en:
            found.append(
                f"metered {ef:,.0f} kWh is above the nominal {en:,.0f} kWh "
                f"({_pct(ef, en)}): shortfalls in the station's own operation "
                f"(pump combination or control not optimal, worn units; cl. 1.8)"
            )
        else:
            found.append(
                f"metered {ef:,.0f} kWh is within the nominal {en:,.0f} kWh ({_pct(ef, en)})"
            )
        word = "saving" if ef <= enorm else "overspend"
        found.append(
            f"{word} of {abs(enorm - ef):,.0f} kWh against the station's share of the "
            f"normative {enorm:,.0f} kWh ({_pct(ef, enorm)})"
        )
    else:
        found.append("no metered energy: the comparisons of cl. 3.7-3.8 are not possible")
    return replace(r, normative_energy_kwh=normative_kwh, findings=tuple(found))


def _network_findings(
    inp: NormsInput,
    stations: Sequence[PastStationResult],
    total_calc: float,
    total_nom: float,
    total_norm: float,
    total_metered: float | None,
    n_metered: int,
    kr: float,
) -> list[str]:
    found = []
    spec = inp.past_year
    flows = []
    if spec is not None and spec.network_flow_t_per_h is not None:
        for season in SEASONS:
            net = getattr(spec.network_flow_t_per_h, season)
            if net is not None:
                flows.append(f"{season} {_pct(net.actual_t_per_h, net.design_t_per_h)}")
    flow_text = (
        f"the network's actual flows differ from the design ones ({', '.join(flows)})"
        if flows
        else "actual flows differ from the design ones"
    )
    found.append(
        f"reserves ΣЭном − ΣЭр = {total_nom - total_calc:,.0f} kWh, Кр = {kr:.4f} "
        f"(8): {flow_text}; causes outside the station staff's control: consumer "
        f"systems out of adjustment, no automatic flow control at consumers (cl. 1.6)"
    )
    if total_metered is None:
        found.append(
            "no station has metered energy: ΣЭф cannot be compared with ΣЭном and ΣЭн (cl. 3.7-3.8)"
        )
    elif n_metered < len(stations):
        found.append(
            f"ΣЭф = {total_metered:,.0f} kWh covers {n_metered} of {len(stations)} "
            f"stations; the network comparison needs every station metered"
        )
    else:
        if total_metered > total_nom:
            found.append(
                f"ΣЭф {total_metered:,.0f} kWh is above ΣЭном {total_nom:,.0f} kWh "
                f"({_pct(total_metered, total_nom)}): operating shortfalls of the "
                f"stations' staff (cl. 1.8)"
            )
        else:
            found.append(
                f"ΣЭф {total_metered:,.0f} kWh is within ΣЭном {total_nom:,.0f} kWh "
                f"({_pct(total_metered, total_nom)})"
            )
        if total_metered <= total_norm:
            found.append(
                f"real saving of {total_norm - total_metered:,.0f} kWh against "
                f"ΣЭн {total_norm:,.0f} kWh: the saving task was met (cl. 2.6)"
            )
        else:
            found.append(
                f"overspend of {total_metered - total_norm:,.0f} kWh against ΣЭн "
                f"{total_norm:,.0f} kWh: the saving task was not met; find the causes "
                f"(cl. 2.6)"
            )
    return found


def _task(
    inp: NormsInput, past: PastYearResult | None, kr: float, warnings: list[str]
) -> TaskResult:
    cy = inp.coming_year
    if cy is None:  # pragma: no cover - checked by the caller
        msg = f"{inp.where}: coming_year: missing"
        raise InputError(msg)
    prev_kr = None if past is None else past.reserves_factor
    if cy.task is not None:
        return TaskResult(cy.task, "given", None, None, None, None, kr, prev_kr)
    if cy.planned_saving_kwh is None:  # pragma: no cover - schema
        msg = f"{inp.where}: coming_year: give task or planned_saving_kwh"
        raise InputError(msg)
    if cy.previous_year is not None:
        calc, nom = cy.previous_year.calculated_energy_kwh, cy.previous_year.nominal_energy_kwh
    elif past is not None:
        calc, nom = past.total_calculated_energy_kwh, past.total_nominal_energy_kwh
    else:  # pragma: no cover - schema
        msg = f"{inp.where}: coming_year.previous_year: missing; formula (9) needs ΣЭр, ΣЭном"
        raise InputError(msg)
    form = inp.options.task_formula
    try:
        raw = task_from_saving(cy.planned_saving_kwh, nom, calc, kr, form)
        task, warn = clip_task(raw)
    except InputError as exc:
        msg = f"{inp.where}: coming_year.planned_saving_kwh: {exc}"
        raise InputError(msg) from exc
    if warn is not None:
        warnings.append(warn)
    own_kr = (nom - calc) / calc
    if form == "full" and abs(kr - own_kr) > inp.options.reserves_tolerance:
        warnings.append(
            f"Кр = {kr:.4f} used for the coming year differs from the previous "
            f"year's (8) value {own_kr:.4f}; formula (9) full and simple then "
            f"give different ε"
        )
    return TaskResult(
        task, f"formula (9) {form}", raw, cy.planned_saving_kwh, calc, nom, kr, prev_kr
    )


def coming_year(
    inp: NormsInput,
    past: PastYearResult | None = None,
    stations: Mapping[str, Station] | None = None,
) -> ComingYearResult:
    """Coming-year workflow: ε (9), Nпр (11), Эн,пр (10) per station and the total (4.3).

    Parameters
    ----------
    inp : NormsInput
        A validated input with a ``coming_year`` section.
    past : PastYearResult, optional
        The past-year result (computed from ``inp`` when it has a past_year section).
    stations : mapping, optional
        Pre-built station characteristics.

    Raises
    ------
    InputError
        Missing section or data, flows off a pump's curve.
    """
    cy = inp.coming_year
    if cy is None:
        msg = f"{inp.where}: coming_year: missing; the coming-year calculation needs it"
        raise InputError(msg)
    opts = inp.options
    built = dict(stations) if stations is not None else inp.build_stations()
    if past is None and inp.past_year is not None:
        past = past_year(inp, built)
    year = (
        cy.year
        if cy.year is not None
        else (
            None if inp.past_year is None or inp.past_year.year is None else inp.past_year.year + 1
        )
    )
    warnings = _revision_warnings(inp, year)
    if cy.reserves_factor is not None:
        kr = cy.reserves_factor
        # with ΔЭ, formula (9) reports the difference itself (see _task)
        if (
            past is not None
            and cy.planned_saving_kwh is None
            and (abs(kr - past.reserves_factor) > opts.reserves_tolerance)
        ):
            warnings.append(
                f"coming_year.reserves_factor = {kr:g} differs from the past year's "
                f"Кр by formula (8), {past.reserves_factor:.4f}"
            )
    elif past is not None:
        kr = past.reserves_factor
    else:  # pragma: no cover - schema
        msg = f"{inp.where}: coming_year.reserves_factor: missing"
        raise InputError(msg)
    task = _task(inp, past, kr, warnings)
    try:
        multiplier = reserve_multiplier(kr, task.task)
    except InputError as exc:
        msg = f"{inp.where}: coming_year: {exc}"
        raise InputError(msg) from exc
    notes = _Notes(warnings)
    results = []
    for name, st in cy.stations.items():
        station = built[name]
        base = f"{inp.where}: coming_year.stations.{name}"
        aux_energy = st.auxiliary_energy_kwh or 0.0
        aux_factor = (
            st.auxiliary_factor
            if st.auxiliary_factor is not None
            else 1.0
            if st.auxiliary_energy_kwh is not None
            else cy.auxiliary_factor
        )
        rows = []
        for season in SEASONS:
            data = st.season(season)
            if data is None:
                continue
            where = f"{base}.{season}"
            char = station.season(season, where)
            hours = _season_hours(data.hours_h, getattr(cy.hours_h, season), where)
            pt = char.point(
                data.flow_t_per_h,
                _head(data.head_m, opts),
                f"{where}.flow_t_per_h = {data.flow_t_per_h:g} t/h",
            )
            notes.head_check(f"{where}.head_m", data.head_m, pt, opts)
            power = station_power_kw(pt, aux_factor)
            rows.append(
                ComingSeasonRow(
                    station=name,
                    season=season,
                    hours_h=hours,
                    flow_t_per_h=data.flow_t_per_h,
                    head_m=pt.head_m,
                    curve_head_m=pt.curve_head_m,
                    regime=pt.regime,
                    pump_efficiencies=pt.pump_efficiencies,
                    motor_efficiencies=pt.motor_efficiencies,
                    unit_power_kw=pt.power_kw,
                    power_kw=power,
                    pumping_energy_kwh=power * hours,
                )
            )
        normative = coming_year_normative_energy_kwh(
            [r.power_kw for r in rows],
            [r.hours_h for r in rows],
            kr,
            task.task,
            aux_energy,
            opts.reserve_factor_applies_to_auxiliaries,
        )
        results.append(
            ComingStationResult(
                station=name,
                seasons=tuple(rows),
                pumping_energy_kwh=float(sum(r.pumping_energy_kwh for r in rows)),
                auxiliary_factor=aux_factor,
                auxiliary_energy_kwh=aux_energy,
                normative_energy_kwh=normative,
            )
        )
    return ComingYearResult(
        title=inp.title,
        territorial_unit=inp.name,
        year=year,
        task=task,
        reserves_factor=kr,
        normative_multiplier=multiplier,
        stations=tuple(results),
        total_normative_energy_kwh=float(sum(r.normative_energy_kwh for r in results)),
        warnings=tuple(notes.warnings),
        options=opts,
    )


def territorial_totals(
    units: Sequence[tuple[str, PastYearResult | None, ComingYearResult | None]],
) -> TerritorialTotals:
    """Sum absolute amounts over territorial units (cl. 4.4) [kWh].

    Parameters
    ----------
    units : sequence of (name, past-year result or None, coming-year result or None)

    Raises
    ------
    InputError
        Two units with the same name.
    """
    seen: set[str] = set()
    rows = []
    warnings = []
    for name, past, coming in units:
        if name in seen:
            msg = (
                f"territorial unit {name!r} appears twice; give each input file its own "
                f"territorial_unit"
            )
            raise InputError(msg)
        seen.add(name)
        metered = None
        if past is not None and past.total_metered_energy_kwh is not None:
            metered = past.total_metered_energy_kwh
            if past.metered_station_count < len(past.stations):
                warnings.append(
                    f"{name}: metered energy covers {past.metered_station_count} of "
                    f"{len(past.stations)} stations"
                )
        rows.append(
            UnitTotals(
                name,
                None if past is None else past.total_normative_energy_kwh,
                metered,
                None if coming is None else coming.total_normative_energy_kwh,
            )
        )

    def total(values: list[float | None], label: str) -> float | None:
        present: list[float] = [v for v in values if v is not None]
        if not present:
            return None
        if len(present) < len(values):
            warnings.append(
                f"{label}: {len(values) - len(present)} unit(s) without a value; the sum is partial"
            )
        return float(sum(present))

    return TerritorialTotals(
        tuple(rows),
        total([r.past_normative_energy_kwh for r in rows], "past normative"),
        total([r.past_metered_energy_kwh for r in rows], "past metered"),
        total([r.coming_normative_energy_kwh for r in rows], "coming normative"),
        tuple(warnings),
    )
