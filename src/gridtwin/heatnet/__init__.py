"""Normative electricity use of district-heating pumping stations (seed 002).

A heat-network enterprise sets every year the normative electricity use of its pumping
stations, compares it with metered use and plans savings. This package implements the
method: pump characteristics and parallel operation (:mod:`.pumps`), the stations' energy
characteristic N(G) (:mod:`.station`), the numbered formulas and the past-year /
coming-year workflows (:mod:`.method`), validated input files (:mod:`.schema`) and the
tables and HTML report (:mod:`.report`). Typical use::

    from gridtwin import heatnet
    inp = heatnet.load_input("examples/heatnet/seed-example.yaml")
    past = heatnet.past_year(inp)           # Table 3: Эр, ΣЭн, Gф, Эном, Кр
    plan = heatnet.coming_year(inp, past)   # Tables 4 and 6: ε, Эн,пр

Flows of the method are mass flows in t/h; pump curves are in m³/h. The seed's formulas
were lost: their reconstructed forms and the parameters that switch them are in
``docs/heatnet.md``.
"""

from gridtwin.heatnet.method import (
    ComingSeasonRow,
    ComingStationResult,
    ComingYearResult,
    PastSeasonRow,
    PastStationResult,
    PastYearResult,
    TaskResult,
    TerritorialTotals,
    UnitTotals,
    actual_flow_t_per_h,
    calculated_energy_kwh,
    clip_task,
    coming_year,
    coming_year_normative_energy_kwh,
    corrected_actual_flow_t_per_h,
    network_normative_energy_kwh,
    nominal_energy_kwh,
    past_year,
    relative_reserves,
    reserve_multiplier,
    solve_flow_scale,
    station_power_kw,
    task_from_saving,
    territorial_totals,
    unit_power_kw,
)
from gridtwin.heatnet.pumps import (
    JointPoint,
    PolynomialCurve,
    Pump,
    TabulatedCurve,
    constant_curve,
    fit_efficiency_curve,
    fit_head_curve,
    joint_head_curve_m,
    joint_operation,
    nominal_parabola_efficiency,
    operating_point,
    parabola_head_curve,
)
from gridtwin.heatnet.report import html_report
from gridtwin.heatnet.schema import MethodOptions, NormsInput, input_from_dict, load_input
from gridtwin.heatnet.station import (
    HYDRAULIC_CONSTANT,
    SEASONS,
    MeasuredCharacteristic,
    Regime,
    SeasonCharacteristic,
    Station,
    StationPoint,
)

__all__ = [
    "HYDRAULIC_CONSTANT",
    "SEASONS",
    "ComingSeasonRow",
    "ComingStationResult",
    "ComingYearResult",
    "JointPoint",
    "MeasuredCharacteristic",
    "MethodOptions",
    "NormsInput",
    "PastSeasonRow",
    "PastStationResult",
    "PastYearResult",
    "PolynomialCurve",
    "Pump",
    "Regime",
    "SeasonCharacteristic",
    "Station",
    "StationPoint",
    "TabulatedCurve",
    "TaskResult",
    "TerritorialTotals",
    "UnitTotals",
    "actual_flow_t_per_h",
    "calculated_energy_kwh",
    "clip_task",
    "coming_year",
    "coming_year_normative_energy_kwh",
    "constant_curve",
    "corrected_actual_flow_t_per_h",
    "fit_efficiency_curve",
    "fit_head_curve",
    "html_report",
    "input_from_dict",
    "joint_head_curve_m",
    "joint_operation",
    "load_input",
    "network_normative_energy_kwh",
    "nominal_energy_kwh",
    "nominal_parabola_efficiency",
    "operating_point",
    "parabola_head_curve",
    "past_year",
    "relative_reserves",
    "reserve_multiplier",
    "solve_flow_scale",
    "station_power_kw",
    "task_from_saving",
    "territorial_totals",
    "unit_power_kw",
]
