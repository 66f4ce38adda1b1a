"""The normative electricity use of heat-network pumping stations (seed 002), as code.

The numbered formulas are pure functions on floats; the workflows :func:`past_year` and
:func:`coming_year` apply them to a validated :class:`~gridtwin.heatnet.schema.NormsInput`
and return dataclasses. Units: mass flow G [t/h] (the method's unit), head H [m], power
N [kW], hours n [h], energy Э [kWh], efficiencies and factors as fractions.

The seed's formulas were lost; their forms are reconstructed (see ``docs/heatnet.md``).
Every reconstructed choice is a field of :class:`~gridtwin.heatnet.schema.MethodOptions`.

This module is the method's public face; the code lives by topic in private modules: the
formulas (:mod:`._formulas`), formula (7) by inverting the characteristic
(:mod:`._flow_scale`), the result dataclasses (:mod:`._results`), the workflows
(:mod:`._past_year`, :mod:`._coming_year`) and the steps they share
(:mod:`._shared_steps`), the past year's findings (:mod:`._findings`) and the sums over
territorial units (:mod:`._territorial`).

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

from gridtwin.heatnet._coming_year import coming_year
from gridtwin.heatnet._flow_scale import solve_flow_scale
from gridtwin.heatnet._formulas import MAX_AUXILIARY_FACTOR as MAX_AUXILIARY_FACTOR
from gridtwin.heatnet._formulas import OPERATING_ALLOWANCE_RANGE as OPERATING_ALLOWANCE_RANGE
from gridtwin.heatnet._formulas import FlowCorrectionLaw as FlowCorrectionLaw
from gridtwin.heatnet._formulas import TaskFormula as TaskFormula
from gridtwin.heatnet._formulas import (
    actual_flow_t_per_h,
    calculated_energy_kwh,
    clip_task,
    coming_year_normative_energy_kwh,
    corrected_actual_flow_t_per_h,
    network_normative_energy_kwh,
    nominal_energy_kwh,
    relative_reserves,
    reserve_multiplier,
    station_power_kw,
    task_from_saving,
    unit_power_kw,
)
from gridtwin.heatnet._past_year import past_year
from gridtwin.heatnet._results import (
    ComingSeasonRow,
    ComingStationResult,
    ComingYearResult,
    PastSeasonRow,
    PastStationResult,
    PastYearResult,
    TaskResult,
)
from gridtwin.heatnet._territorial import TerritorialTotals, UnitTotals, territorial_totals

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
