"""The pumping-station norms for the terminal, as rich renderables.

Tables 3, 4 and 6 of the seed, the sums over territorial units and any small DataFrame as
rich tables, with the findings and warnings below them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gridtwin.heatnet._format import ASSUMPTION_NOTE, _effs, _num
from gridtwin.heatnet.method import ComingYearResult, PastYearResult, TerritorialTotals

__all__ = [
    "coming_year_renderable",
    "frame_renderable",
    "past_year_renderable",
    "territorial_renderable",
]


def _table(title: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    return table


def frame_renderable(frame: pd.DataFrame, title: str, digits: int = 3) -> RenderableType:
    """Any small DataFrame as a rich table (floats with ``digits`` decimals)."""
    cols = [(str(c), "right" if frame[c].dtype.kind in "fi" else "left") for c in frame.columns]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "—" if not math.isfinite(v) else f"{v:,.{digits}f}"
        return "—" if v is None else str(v)

    return _table(title, cols, ([fmt(v) for v in row] for row in frame.itertuples(index=False)))


def _notes(findings: Sequence[str], warnings: Sequence[str]) -> list[RenderableType]:
    out: list[RenderableType] = []
    for f in findings:
        out.append(Text(f"• {f}"))
    for w in warnings:
        out.append(Text(f"warning: {w}", style="yellow"))
    return out


def _past_seasons(result: PastYearResult) -> Table:
    """Table 3 by season: design and actual operation of each station (N with Kсн)."""
    r_cols = [
        ("station", "left"),
        ("season", "left"),
        ("nф, h", "right"),
        ("Gр, t/h", "right"),
        ("Нр, m", "right"),
        ("ηн", "right"),
        ("Nр, kW", "right"),
        ("Gф, t/h", "right"),
        ("Gф from", "left"),
        ("Нном, m", "right"),
        ("ηн", "right"),
        ("Nном, kW", "right"),
    ]
    return _table(
        f"{result.title} — past year{'' if result.year is None else f' {result.year}'}: "
        f"Table 3 by season (N with Kсн)",
        r_cols,
        (
            [
                r.station,
                r.season,
                _num(r.hours_h, 0),
                _num(r.design_flow_t_per_h),
                _num(r.design_head_m),
                _effs(r.design_pump_efficiencies),
                _num(r.design_power_kw),
                _num(r.actual_flow_t_per_h),
                r.actual_flow_source,
                _num(r.nominal_head_m),
                _effs(r.nominal_pump_efficiencies),
                _num(r.nominal_power_kw),
            ]
            for st in result.stations
            for r in st.seasons
        ),
    )


def _past_stations(result: PastYearResult) -> Table:
    """The past year's energies per station."""
    s_cols = [
        ("station", "left"),
        ("Эр (1), kWh", "right"),
        ("Эном (4), kWh", "right"),
        ("Эн, kWh", "right"),
        ("Эф, kWh", "right"),
        ("Kсн", "right"),
        ("Эсн, kWh", "right"),
        ("Кэк", "right"),
    ]
    return _table(
        "Per station",
        s_cols,
        (
            [
                st.station,
                _num(st.calculated_energy_kwh, 0),
                _num(st.nominal_energy_kwh, 0),
                _num(st.normative_energy_kwh, 0),
                _num(st.metered_energy_kwh, 0),
                f"{st.auxiliary_factor:.3f}",
                _num(st.auxiliary_energy_kwh, 0),
                f"{st.operating_allowance:.3f}",
            ]
            for st in result.stations
        ),
    )


def _past_totals(result: PastYearResult) -> Table:
    """The network's past-year totals and Кр."""
    norm_label = "ΣЭн (cl. 3.5, first year)" if result.first_year else "ΣЭн (3)"
    prev = (
        ""
        if result.first_year
        else f"  [Кр = {result.previous_reserves_factor:g}, ε = {result.previous_task:g}, "
        f"factor {result.normative_multiplier:.4f}]"
    )
    return _table(
        "Network totals",
        [("quantity", "left"), ("value", "right")],
        [
            ["ΣЭр, kWh", _num(result.total_calculated_energy_kwh, 0)],
            [f"{norm_label}, kWh{prev}", _num(result.total_normative_energy_kwh, 0)],
            ["ΣЭном, kWh", _num(result.total_nominal_energy_kwh, 0)],
            ["ΣЭф, kWh (3.7)", _num(result.total_metered_energy_kwh, 0)],
            ["Кр (8)", f"{result.reserves_factor:.4f}"],
        ],
    )


def past_year_renderable(result: PastYearResult) -> RenderableType:
    """The past year for the terminal: stations by season, per station, totals, findings."""
    station_findings = [f"station {st.station}: {f}" for st in result.stations for f in st.findings]
    return Group(
        _past_seasons(result),
        _past_stations(result),
        _past_totals(result),
        *_notes([*station_findings, *result.findings], result.warnings),
        Text(ASSUMPTION_NOTE, style="dim"),
    )


def _coming_task(result: ComingYearResult) -> Table:
    """Table 4: the task ε and the normative multiplier."""
    t = result.task
    task_rows = [["Кр", f"{result.reserves_factor:.4f}"]]
    if t.planned_saving_kwh is not None:
        task_rows += [
            ["ΔЭ, kWh", _num(t.planned_saving_kwh, 0)],
            ["ΣЭр of the previous year, kWh", _num(t.previous_calculated_energy_kwh, 0)],
            ["ΣЭном of the previous year, kWh", _num(t.previous_nominal_energy_kwh, 0)],
            [f"ε ({t.source}), unclipped", f"{t.task_unclipped:.4f}"],
        ]
    task_rows += [
        ["ε used", f"{t.task:.4f}"],
        ["1 + Кр·(1 − ε)", f"{result.normative_multiplier:.4f}"],
    ]
    return _table(
        f"{result.title} — coming year{'' if result.year is None else f' {result.year}'}"
        f": Table 4, the task",
        [("quantity", "left"), ("value", "right")],
        task_rows,
    )


def _coming_seasons(result: ComingYearResult) -> Table:
    """Table 6 by season: the planned operation of each station (N with Kсн)."""
    cols = [
        ("station", "left"),
        ("season", "left"),
        ("nпр, h", "right"),
        ("Gпр, t/h", "right"),
        ("Нпр, m", "right"),
        ("regime", "left"),
        ("ηн", "right"),
        ("Nпр (11), kW", "right"),
        ("N·n, kWh", "right"),
    ]
    return _table(
        "Table 6 by season (N with Kсн)",
        cols,
        (
            [
                r.station,
                r.season,
                _num(r.hours_h, 0),
                _num(r.flow_t_per_h),
                _num(r.head_m),
                r.regime,
                _effs(r.pump_efficiencies),
                _num(r.power_kw),
                _num(r.pumping_energy_kwh, 0),
            ]
            for st in result.stations
            for r in st.seasons
        ),
    )


def _coming_stations(result: ComingYearResult) -> Table:
    """The coming year's normative per station."""
    return _table(
        "Normative per station",
        [
            ("station", "left"),
            ("Σ N·n, kWh", "right"),
            ("Эсн, kWh", "right"),
            ("Эн,пр (10), kWh", "right"),
        ],
        (
            [
                st.station,
                _num(st.pumping_energy_kwh, 0),
                _num(st.auxiliary_energy_kwh, 0),
                _num(st.normative_energy_kwh, 0),
            ]
            for st in result.stations
        ),
    )


def coming_year_renderable(result: ComingYearResult) -> RenderableType:
    """The coming year for the terminal: ε (Table 4), stations (Table 6), total."""
    total = Text(f"ΣЭн,пр (4.3) = {result.total_normative_energy_kwh:,.0f} kWh", style="bold")
    return Group(
        _coming_task(result),
        _coming_seasons(result),
        _coming_stations(result),
        total,
        *_notes([], result.warnings),
        Text(ASSUMPTION_NOTE, style="dim"),
    )


def territorial_renderable(totals: TerritorialTotals) -> RenderableType:
    """Sums over territorial units (cl. 4.4)."""
    rows = [
        (
            u.territorial_unit,
            u.past_normative_energy_kwh,
            u.past_metered_energy_kwh,
            u.coming_normative_energy_kwh,
        )
        for u in totals.units
    ]
    rows.append(
        (
            "TOTAL",
            totals.total_past_normative_energy_kwh,
            totals.total_past_metered_energy_kwh,
            totals.total_coming_normative_energy_kwh,
        )
    )
    table = _table(
        "Sums over territorial units (cl. 4.4)",
        [
            ("territorial unit", "left"),
            ("past ΣЭн, kWh", "right"),
            ("past ΣЭф, kWh", "right"),
            ("coming ΣЭн,пр, kWh", "right"),
        ],
        ([name, _num(a, 0), _num(b, 0), _num(c, 0)] for name, a, b, c in rows),
    )
    return Group(table, *_notes([], totals.warnings))
