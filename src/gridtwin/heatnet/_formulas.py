"""The numbered formulas of the pumping-station norms as pure functions on floats.

Formulas (1)-(6), (8)-(11) and their input checks: the power of pump units, the
calculated, nominal and normative energy, the actual flow, the relative reserves Кр and
the task ε. Formula (7)'s root search on the characteristic is in
:mod:`gridtwin.heatnet._flow_scale`. Units: mass flow G [t/h], head H [m], power
N [kW], hours n [h], energy Э [kWh], efficiencies and factors as fractions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from gridtwin.errors import InputError
from gridtwin.heatnet.station import HYDRAULIC_CONSTANT

if TYPE_CHECKING:
    from gridtwin.heatnet.station import StationPoint

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
