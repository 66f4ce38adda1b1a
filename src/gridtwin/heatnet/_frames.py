"""The results as pandas DataFrames: wide per-season and per-station tables, method tables.

Table 3 (past year), Table 4 (the task ε) and Table 6 (the coming year) of the seed, each
as a tidy "method table" (one row per computed quantity, with its symbol, formula number,
station, season, value and unit) plus wide per-season, per-station and total tables; the
sums over territorial units and the stations' characteristics N(G).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.heatnet._format import _effs
from gridtwin.heatnet._results import ComingYearResult, PastYearResult
from gridtwin.heatnet._territorial import TerritorialTotals
from gridtwin.heatnet.station import Station, StationPoint

METHOD_COLUMNS = [
    "territorial_unit",
    "table",
    "item",
    "symbol",
    "formula",
    "station",
    "season",
    "value",
    "unit",
]


@dataclass
class _MethodTable:
    """Rows of a tidy method table of one territorial unit and one of the seed's tables."""

    unit: str
    table: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        item: str,
        symbol: str,
        formula: str,
        value: float | None,
        unit_: str,
        station: str = "",
        season: str = "",
    ) -> None:
        """Append one computed quantity (value in ``unit_``)."""
        self.rows.append(
            {
                "territorial_unit": self.unit,
                "table": self.table,
                "item": item,
                "symbol": symbol,
                "formula": formula,
                "station": station,
                "season": season,
                "value": value,
                "unit": unit_,
            }
        )


# ============================================================================ past year


def past_year_frames(result: PastYearResult) -> dict[str, pd.DataFrame]:
    """The past year as DataFrames: ``seasons``, ``stations``, ``totals`` and ``method``."""
    method = _MethodTable(result.territorial_unit, "3")
    _add_calculated_rows(method, result)
    _add_nominal_rows(method, result)
    return {
        "seasons": _past_seasons_frame(result),
        "stations": _past_stations_frame(result),
        "totals": _past_totals_frame(result),
        "method": pd.DataFrame(method.rows, columns=METHOD_COLUMNS),
    }


def _past_seasons_frame(result: PastYearResult) -> pd.DataFrame:
    """One row per station and season of the past year (Table 3)."""
    return pd.DataFrame(
        [
            {
                "station": r.station,
                "season": r.season,
                "hours_h": r.hours_h,
                "design_flow_t_per_h": r.design_flow_t_per_h,
                "design_head_m": r.design_head_m,
                "design_curve_head_m": r.design_curve_head_m,
                "design_regime": r.design_regime,
                "design_pump_efficiency": _effs(r.design_pump_efficiencies),
                "design_power_kw": r.design_power_kw,
                "calculated_energy_kwh": r.calculated_energy_kwh,
                "actual_flow_source": r.actual_flow_source,
                "actual_flow_t_per_h": r.actual_flow_t_per_h,
                "nominal_head_m": r.nominal_head_m,
                "nominal_curve_head_m": r.nominal_curve_head_m,
                "nominal_pump_efficiency": _effs(r.nominal_pump_efficiencies),
                "nominal_power_kw": r.nominal_power_kw,
                "nominal_energy_kwh": r.nominal_energy_kwh,
            }
            for st in result.stations
            for r in st.seasons
        ]
    )


def _past_stations_frame(result: PastYearResult) -> pd.DataFrame:
    """One row per station of the past year: Эр, Эном, Эн, Эф and the factors."""
    return pd.DataFrame(
        [
            {
                "station": st.station,
                "calculated_energy_kwh": st.calculated_energy_kwh,
                "nominal_energy_kwh": st.nominal_energy_kwh,
                "normative_energy_kwh": st.normative_energy_kwh,
                "metered_energy_kwh": st.metered_energy_kwh,
                "auxiliary_factor": st.auxiliary_factor,
                "auxiliary_energy_kwh": st.auxiliary_energy_kwh,
                "operating_allowance": st.operating_allowance,
                "flow_corrected": st.flow_corrected,
            }
            for st in result.stations
        ]
    )


def _past_totals_frame(result: PastYearResult) -> pd.DataFrame:
    """The network's past-year totals in one row."""
    return pd.DataFrame(
        [
            {
                "territorial_unit": result.territorial_unit,
                "total_calculated_energy_kwh": result.total_calculated_energy_kwh,
                "total_normative_energy_kwh": result.total_normative_energy_kwh,
                "total_nominal_energy_kwh": result.total_nominal_energy_kwh,
                "total_metered_energy_kwh": result.total_metered_energy_kwh,
                "reserves_factor": result.reserves_factor,
                "normative_multiplier": result.normative_multiplier,
                "first_year": result.first_year,
            }
        ]
    )


def _add_calculated_rows(method: _MethodTable, result: PastYearResult) -> None:
    """Method rows at the design flows: Nр (2), Эр (1), ΣЭр and ΣЭн (3 or cl. 3.5)."""
    add = method.add
    for st in result.stations:
        for r in st.seasons:
            add(
                "power of the pump units at the design flow",
                "Nр",
                "(2)",
                r.design_power_kw,
                "kW",
                st.station,
                r.season,
            )
        add("calculated use", "Эр", "(1)", st.calculated_energy_kwh, "kWh", st.station)
    add("total calculated use", "ΣЭр", "3.2", result.total_calculated_energy_kwh, "kWh")
    add(
        "normative use of the network",
        "ΣЭн",
        "3.5 (first year)" if result.first_year else "(3)",
        result.total_normative_energy_kwh,
        "kWh",
    )


def _add_nominal_rows(method: _MethodTable, result: PastYearResult) -> None:
    """Method rows at the actual flows: Gф, Нном, Nном (5), Эном (4), Кр (8), Эф."""
    add = method.add
    for st in result.stations:
        for r in st.seasons:
            formula = "(6)" if "formula (6)" in r.actual_flow_source else "flowmeter"
            if st.flow_corrected:
                formula += " + (7)"
            add("actual flow", "Gф", formula, r.actual_flow_t_per_h, "t/h", st.station, r.season)
    for st in result.stations:
        for r in st.seasons:
            add("head at the actual flow", "Нном", "", r.nominal_head_m, "m", st.station, r.season)
    for st in result.stations:
        for r in st.seasons:
            add(
                "power of the pump units at the actual flow",
                "Nном",
                "(5)",
                r.nominal_power_kw,
                "kW",
                st.station,
                r.season,
            )
        add("nominal use", "Эном", "(4)", st.nominal_energy_kwh, "kWh", st.station)
    add("total nominal use", "ΣЭном", "3.5", result.total_nominal_energy_kwh, "kWh")
    add("relative reserves", "Кр", "(8)", result.reserves_factor, "")
    for st in result.stations:
        if st.metered_energy_kwh is not None:
            add("metered use", "Эф", "3.7", st.metered_energy_kwh, "kWh", st.station)
    if result.total_metered_energy_kwh is not None:
        add("total metered use", "ΣЭф", "3.7", result.total_metered_energy_kwh, "kWh")


# ============================================================================ coming year


def coming_year_frames(result: ComingYearResult) -> dict[str, pd.DataFrame]:
    """The coming year as DataFrames: ``seasons``, ``stations``, ``task`` and ``method``."""
    task = _MethodTable(result.territorial_unit, "4")
    _add_task_rows(task, result)
    normative = _MethodTable(result.territorial_unit, "6")
    _add_coming_rows(normative, result)
    return {
        "seasons": _coming_seasons_frame(result),
        "stations": _coming_stations_frame(result),
        "task": _task_frame(result),
        "method": pd.DataFrame(task.rows + normative.rows, columns=METHOD_COLUMNS),
    }


def _coming_seasons_frame(result: ComingYearResult) -> pd.DataFrame:
    """One row per station and season of the coming year (Table 6)."""
    return pd.DataFrame(
        [
            {
                "station": r.station,
                "season": r.season,
                "hours_h": r.hours_h,
                "flow_t_per_h": r.flow_t_per_h,
                "head_m": r.head_m,
                "curve_head_m": r.curve_head_m,
                "regime": r.regime,
                "pump_efficiency": _effs(r.pump_efficiencies),
                "power_kw": r.power_kw,
                "pumping_energy_kwh": r.pumping_energy_kwh,
            }
            for st in result.stations
            for r in st.seasons
        ]
    )


def _coming_stations_frame(result: ComingYearResult) -> pd.DataFrame:
    """One row per station of the coming year: Σ N·n, auxiliaries and Эн,пр."""
    return pd.DataFrame(
        [
            {
                "station": st.station,
                "pumping_energy_kwh": st.pumping_energy_kwh,
                "auxiliary_factor": st.auxiliary_factor,
                "auxiliary_energy_kwh": st.auxiliary_energy_kwh,
                "normative_energy_kwh": st.normative_energy_kwh,
            }
            for st in result.stations
        ]
    )


def _task_frame(result: ComingYearResult) -> pd.DataFrame:
    """The task ε and where it came from (Table 4) in one row."""
    t = result.task
    return pd.DataFrame(
        [
            {
                "territorial_unit": result.territorial_unit,
                "task": t.task,
                "task_source": t.source,
                "task_unclipped": t.task_unclipped,
                "planned_saving_kwh": t.planned_saving_kwh,
                "previous_calculated_energy_kwh": t.previous_calculated_energy_kwh,
                "previous_nominal_energy_kwh": t.previous_nominal_energy_kwh,
                "reserves_factor": result.reserves_factor,
                "normative_multiplier": result.normative_multiplier,
                "total_normative_energy_kwh": result.total_normative_energy_kwh,
            }
        ]
    )


def _add_task_rows(method: _MethodTable, result: ComingYearResult) -> None:
    """Method rows of Table 4: Кр, ΔЭ and ε."""
    t = result.task
    method.add("relative reserves of the previous year", "Кр", "(8)", result.reserves_factor, "")
    if t.planned_saving_kwh is not None:
        method.add("planned saving", "ΔЭ", "4.1", t.planned_saving_kwh, "kWh")
    method.add(
        "task for the coming year",
        "ε",
        "(9)" if t.task_unclipped is not None else "given",
        t.task,
        "",
    )


def _add_coming_rows(method: _MethodTable, result: ComingYearResult) -> None:
    """Method rows of Table 6: Nпр (11), Эн,пр (10) per station and the total (4.3)."""
    for st in result.stations:
        for r in st.seasons:
            method.add(
                "power of the pump units at the planned flow",
                "Nпр",
                "(11)",
                r.power_kw,
                "kW",
                st.station,
                r.season,
            )
        method.add(
            "normative use in the coming year",
            "Эн,пр",
            "(10)",
            st.normative_energy_kwh,
            "kWh",
            st.station,
        )
    method.add(
        "total normative use in the coming year",
        "ΣЭн,пр",
        "4.3",
        result.total_normative_energy_kwh,
        "kWh",
    )


# ============================================================================ other tables


def territorial_frame(totals: TerritorialTotals) -> pd.DataFrame:
    """Sums over territorial units (cl. 4.4), one row per unit and a total row."""
    rows = [
        {
            "territorial_unit": u.territorial_unit,
            "past_normative_energy_kwh": u.past_normative_energy_kwh,
            "past_metered_energy_kwh": u.past_metered_energy_kwh,
            "coming_normative_energy_kwh": u.coming_normative_energy_kwh,
        }
        for u in totals.units
    ]
    rows.append(
        {
            "territorial_unit": "TOTAL",
            "past_normative_energy_kwh": totals.total_past_normative_energy_kwh,
            "past_metered_energy_kwh": totals.total_past_metered_energy_kwh,
            "coming_normative_energy_kwh": totals.total_coming_normative_energy_kwh,
        }
    )
    return pd.DataFrame(rows)


def _point_row(station: str, season: str, pt: StationPoint) -> dict[str, Any]:
    """One point of a characteristic as a row of :func:`characteristic_frame`."""
    return {
        "station": station,
        "season": season,
        "regime": pt.regime,
        "flow_t_per_h": pt.flow_t_per_h,
        "head_m": pt.head_m,
        "pump_flows_t_per_h": "/".join(f"{g:.1f}" for g in pt.pump_flows_t_per_h),
        "pump_efficiency": _effs(pt.pump_efficiencies),
        "unit_efficiency": pt.unit_efficiency,
        "power_kw": pt.power_kw,
    }


def characteristic_frame(
    stations: Mapping[str, Station],
    station: str | None = None,
    season: str | None = None,
    n_points: int = 21,
) -> pd.DataFrame:
    """N(G) of the stations' regimes at evenly spread flows (pump units, without Kсн).

    Raises
    ------
    InputError
        Unknown station or season.
    """
    if station is not None and station not in stations:
        msg = f"--station {station!r}: unknown; stations: {', '.join(stations)}"
        raise InputError(msg)
    if season is not None and season not in ("winter", "summer"):
        msg = f"--season {season!r}: use winter or summer"
        raise InputError(msg)
    rows: list[dict[str, Any]] = []
    for name, st in stations.items():
        if station is not None and name != station:
            continue
        for s, char in st.seasons.items():
            if season is not None and s != season:
                continue
            rows.extend(_point_row(name, s, pt) for pt in char.curve_points(n_points))
    if not rows:
        which = "the stations" if station is None else f"station {station}"
        msg = f"{which}: no {season or 'usable'} characteristic to tabulate"
        raise InputError(msg)
    return pd.DataFrame(rows)
