"""Result dataclasses of the past-year and coming-year workflows (Tables 3, 4 and 6).

Plain frozen dataclasses with a ``to_dict`` for JSON; the workflows that fill them are
:mod:`gridtwin.heatnet._past_year` and :mod:`gridtwin.heatnet._coming_year`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from gridtwin.errors import InputError
from gridtwin.heatnet.schema import MethodOptions
from gridtwin.heatnet.station import Season


def _jsonable(obj: Any) -> Any:
    """``obj`` with non-finite floats turned to None, recursively (for JSON)."""
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
