"""Tables (terminal, CSV, JSON) and the HTML report of the pumping-station norms.

Tables follow the seed's: Table 3 (past year), Table 4 (the task ε) and Table 6 (the
coming year), each as a tidy "method table" (one row per computed quantity, with its
symbol, formula number, station, season, value and unit), plus wide per-station tables.
The HTML report draws each station's energy characteristic N(G) as inline SVG with the
design, actual and coming-year operating points; no plotting library is needed.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gridtwin.errors import InputError
from gridtwin.heatnet.method import (
    ComingYearResult,
    PastYearResult,
    TerritorialTotals,
)
from gridtwin.heatnet.schema import NormsInput
from gridtwin.heatnet.station import SeasonCharacteristic, Station, StationPoint

__all__ = [
    "ASSUMPTION_NOTE",
    "characteristic_frame",
    "coming_year_frames",
    "coming_year_renderable",
    "frame_renderable",
    "html_report",
    "method_csv",
    "past_year_frames",
    "past_year_renderable",
    "svg_characteristic",
    "territorial_frame",
    "territorial_renderable",
    "to_json",
    "write_text_atomic",
]

ASSUMPTION_NOTE = (
    "kWh values rest on the pump and motor efficiencies of the input file; where "
    "those are assumed, the results are reference values under those assumptions."
)
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


def _effs(values: Sequence[float]) -> str:
    if not values:
        return ""
    uniq = dict.fromkeys(round(v, 4) for v in values)
    return "/".join(f"{v:.3f}" for v in uniq)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


# ============================================================================ frames


def past_year_frames(result: PastYearResult) -> dict[str, pd.DataFrame]:
    """The past year as DataFrames: ``seasons``, ``stations``, ``totals`` and ``method``."""
    unit = result.territorial_unit
    seasons = pd.DataFrame(
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
    stations = pd.DataFrame(
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
    totals = pd.DataFrame(
        [
            {
                "territorial_unit": unit,
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
    rows: list[dict[str, Any]] = []

    def add(
        item: str,
        symbol: str,
        formula: str,
        value: float | None,
        unit_: str,
        station: str = "",
        season: str = "",
    ) -> None:
        rows.append(
            {
                "territorial_unit": unit,
                "table": "3",
                "item": item,
                "symbol": symbol,
                "formula": formula,
                "station": station,
                "season": season,
                "value": value,
                "unit": unit_,
            }
        )

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
    return {
        "seasons": seasons,
        "stations": stations,
        "totals": totals,
        "method": pd.DataFrame(rows, columns=METHOD_COLUMNS),
    }


def coming_year_frames(result: ComingYearResult) -> dict[str, pd.DataFrame]:
    """The coming year as DataFrames: ``seasons``, ``stations``, ``task`` and ``method``."""
    unit = result.territorial_unit
    seasons = pd.DataFrame(
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
    stations = pd.DataFrame(
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
    t = result.task
    task = pd.DataFrame(
        [
            {
                "territorial_unit": unit,
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
    rows: list[dict[str, Any]] = []

    def add(
        table: str,
        item: str,
        symbol: str,
        formula: str,
        value: float | None,
        unit_: str,
        station: str = "",
        season: str = "",
    ) -> None:
        rows.append(
            {
                "territorial_unit": unit,
                "table": table,
                "item": item,
                "symbol": symbol,
                "formula": formula,
                "station": station,
                "season": season,
                "value": value,
                "unit": unit_,
            }
        )

    add("4", "relative reserves of the previous year", "Кр", "(8)", result.reserves_factor, "")
    if t.planned_saving_kwh is not None:
        add("4", "planned saving", "ΔЭ", "4.1", t.planned_saving_kwh, "kWh")
    add(
        "4",
        "task for the coming year",
        "ε",
        "(9)" if t.task_unclipped is not None else "given",
        t.task,
        "",
    )
    for st in result.stations:
        for r in st.seasons:
            add(
                "6",
                "power of the pump units at the planned flow",
                "Nпр",
                "(11)",
                r.power_kw,
                "kW",
                st.station,
                r.season,
            )
        add(
            "6",
            "normative use in the coming year",
            "Эн,пр",
            "(10)",
            st.normative_energy_kwh,
            "kWh",
            st.station,
        )
    add(
        "6",
        "total normative use in the coming year",
        "ΣЭн,пр",
        "4.3",
        result.total_normative_energy_kwh,
        "kWh",
    )
    return {
        "seasons": seasons,
        "stations": stations,
        "task": task,
        "method": pd.DataFrame(rows, columns=METHOD_COLUMNS),
    }


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


# ============================================================================ output


def method_csv(frames: Iterable[pd.DataFrame]) -> str:
    """Concatenate tidy method tables into one CSV text."""
    parts = [f for f in frames if not f.empty]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=METHOD_COLUMNS)
    return str(frame.to_csv(index=False, float_format="%.10g"))


def to_json(obj: Any) -> str:
    """Indented JSON (non-finite floats already turned to null by ``to_dict``)."""
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file whole or not at all (temporary file, then rename)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        msg = f"{path}: cannot write ({exc.strerror})"
        raise InputError(msg) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"{path}: cannot write ({exc.strerror})"
        raise InputError(msg) from exc


# ============================================================================ terminal


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


def past_year_renderable(result: PastYearResult) -> RenderableType:
    """The past year for the terminal: stations by season, per station, totals, findings."""
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
    seasons = _table(
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
    stations = _table(
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
    norm_label = "ΣЭн (cl. 3.5, first year)" if result.first_year else "ΣЭн (3)"
    prev = (
        ""
        if result.first_year
        else f"  [Кр = {result.previous_reserves_factor:g}, ε = {result.previous_task:g}, "
        f"factor {result.normative_multiplier:.4f}]"
    )
    totals = _table(
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
    station_findings = [f"station {st.station}: {f}" for st in result.stations for f in st.findings]
    return Group(
        seasons,
        stations,
        totals,
        *_notes([*station_findings, *result.findings], result.warnings),
        Text(ASSUMPTION_NOTE, style="dim"),
    )


def coming_year_renderable(result: ComingYearResult) -> RenderableType:
    """The coming year for the terminal: ε (Table 4), stations (Table 6), total."""
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
    task = _table(
        f"{result.title} — coming year{'' if result.year is None else f' {result.year}'}"
        f": Table 4, the task",
        [("quantity", "left"), ("value", "right")],
        task_rows,
    )
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
    seasons = _table(
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
    stations = _table(
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
    total = Text(f"ΣЭн,пр (4.3) = {result.total_normative_energy_kwh:,.0f} kWh", style="bold")
    return Group(
        task,
        seasons,
        stations,
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


# ============================================================================ SVG / HTML

_COLOURS = {"winter": "#1f5fa8", "summer": "#d9661f"}
_W, _H = 640, 400
_ML, _MR, _MT, _MB = 70, 150, 30, 50


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "design":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="white" stroke="{colour}" '
            f'stroke-width="2"/>'
        )
    if kind == "actual":
        return (
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}" '
            f'stroke="{colour}"/>'
        )
    return (
        f'<polygon points="{x:.1f},{y - 6:.1f} {x - 6:.1f},{y + 5:.1f} {x + 6:.1f},'
        f'{y + 5:.1f}" fill="white" stroke="{colour}" stroke-width="2"/>'
    )


def svg_characteristic(
    title: str,
    curves: Mapping[str, Sequence[tuple[float, float]]],
    points: Sequence[tuple[str, str, float, float]],
) -> str:
    """An SVG chart of N(G) curves with operating points.

    Parameters
    ----------
    title : str
        Chart title.
    curves : mapping season -> [(flow [t/h], power [kW]), ...]
        The characteristic per season (polylines).
    points : sequence of (kind, season, flow [t/h], power [kW])
        ``kind`` is ``design``, ``actual`` or ``coming``.
    """
    xs = [g for c in curves.values() for g, _ in c] + [p[2] for p in points]
    ys = [n for c in curves.values() for _, n in c] + [p[3] for p in points]
    if not xs:
        return ""
    x_lo, x_hi = 0.0, max(xs) * 1.05
    y_lo, y_hi = 0.0, max(ys) * 1.1
    pw, ph = _W - _ML - _MR, _H - _MT - _MB

    def sx(g: float) -> float:
        return _ML + (g - x_lo) / (x_hi - x_lo) * pw

    def sy(n: float) -> float:
        return _MT + ph - (n - y_lo) / (y_hi - y_lo) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif" font-size="12">',
        f'<text x="{_ML}" y="18" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>',
    ]
    for t in _nice_ticks(x_lo, x_hi):
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" y1="{_MT}" x2="{x:.1f}" y2="{_MT + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{_MT + ph + 16}" text-anchor="middle">{t:g}</text>')
    for t in _nice_ticks(y_lo, y_hi):
        y = sy(t)
        out.append(f'<line x1="{_ML}" y1="{y:.1f}" x2="{_ML + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{_ML - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<text x="{_ML + pw / 2:.1f}" y="{_H - 10}" text-anchor="middle">G, t/h</text>')
    out.append(
        f'<text x="16" y="{_MT + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {_MT + ph / 2:.1f})">N, kW</text>'
    )
    for season, curve in curves.items():
        if len(curve) < 2:
            continue
        pts = " ".join(f"{sx(g):.1f},{sy(n):.1f}" for g, n in curve)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{_COLOURS.get(season, "#333")}"'
            f' stroke-width="2"/>'
        )
    for kind, season, g, n in points:
        out.append(_marker(kind, sx(g), sy(n), _COLOURS.get(season, "#333")))
    ly = _MT + 10
    lx = _ML + pw + 15
    for season in curves:
        colour = _COLOURS.get(season, "#333")
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"/><text x="{lx + 26}" y="{ly + 4}">{season} N(G)</text>'
        )
        ly += 20
    for kind, label in (
        ("design", "design Gр"),
        ("actual", "actual Gф"),
        ("coming", "coming year Gпр"),
    ):
        if any(p[0] == kind for p in points):
            out.append(_marker(kind, lx + 10, ly, "#333"))
            out.append(f'<text x="{lx + 26}" y="{ly + 4}">{label}</text>')
            ly += 20
    out.append("</svg>")
    return "\n".join(out)


def _curve(char: SeasonCharacteristic, flows: Sequence[float]) -> list[tuple[float, float]]:
    lo, hi = char.flow_range_t_per_h()
    if flows:
        lo, hi = max(lo, 0.5 * min(flows)), min(hi, 1.3 * max(flows))
    lo = max(lo, 0.05 * hi)
    out = []
    for i in range(81):
        g = lo + (hi - lo) * i / 80
        n = float(char.power_curve_kw(g)[0])
        if math.isfinite(n):
            out.append((g, n))
    return out


def _station_svg(
    name: str, station: Station, past: PastYearResult | None, coming: ComingYearResult | None
) -> str:
    points: list[tuple[str, str, float, float]] = []
    if past is not None:
        for st in past.stations:
            if st.station == name:
                for r in st.seasons:
                    points.append(
                        ("design", r.season, r.design_flow_t_per_h, r.design_unit_power_kw)
                    )
                    points.append(
                        ("actual", r.season, r.actual_flow_t_per_h, r.nominal_unit_power_kw)
                    )
    if coming is not None:
        for cs in coming.stations:
            if cs.station == name:
                for c in cs.seasons:
                    points.append(("coming", c.season, c.flow_t_per_h, c.unit_power_kw))
    curves: dict[str, list[tuple[float, float]]] = {}
    for season, char in station.seasons.items():
        flows = [p[2] for p in points if p[1] == season]
        curves[season] = _curve(char, flows)
    return svg_characteristic(f"Station {name}: N(G) of the running pump units", curves, points)


def _frame_html(frame: pd.DataFrame, digits: int = 1) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if not math.isfinite(v):
                return "—"
            return f"{v:,.{digits}f}" if abs(v) >= 10 else f"{v:.4g}"
        return "—" if v is None else str(v)

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list_html(items: Sequence[str], cls: str = "") -> str:
    if not items:
        return ""
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def html_report(
    inp: NormsInput,
    stations: Mapping[str, Station],
    past: PastYearResult | None,
    coming: ComingYearResult | None,
) -> str:
    """A self-contained HTML page: inputs' notes, options, tables, findings and N(G) plots."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(inp.title)}</title><style>",
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}",
        "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}",
        "td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}",
        "th{background:#eee}td:first-child,th:first-child{text-align:left}",
        ".warn{color:#a15c00}.note{color:#555;font-size:13px}</style></head><body>",
        f"<h1>{html.escape(inp.title)}</h1>",
        f"<p>Territorial unit: {html.escape(inp.name)}. Source: "
        f"{html.escape(inp.source or 'not given')}.</p>",
        f"<p class='note'>{html.escape(ASSUMPTION_NOTE)} Flows are mass flows in t/h; "
        f"N is the power of the pump units; Э in kWh.</p>",
        _list_html(inp.notes, "note"),
        "<h2>Method options (reconstructed choices)</h2>",
        _frame_html(
            pd.DataFrame(
                [{"option": k, "value": str(v)} for k, v in inp.options.model_dump().items()]
            )
        ),
    ]
    if past is not None:
        frames = past_year_frames(past)
        parts += [
            "<h2>Past year (Table 3)</h2>",
            _frame_html(frames["seasons"]),
            _frame_html(frames["stations"], 0),
            _frame_html(frames["totals"], 0),
            "<h3>Findings (cl. 3.7-3.8)</h3>",
            _list_html(
                [f"station {st.station}: {f}" for st in past.stations for f in st.findings]
                + list(past.findings)
            ),
            _list_html(list(past.warnings), "warn"),
        ]
    if coming is not None:
        frames = coming_year_frames(coming)
        parts += [
            "<h2>Coming year (Tables 4 and 6)</h2>",
            _frame_html(frames["task"], 0),
            _frame_html(frames["seasons"]),
            _frame_html(frames["stations"], 0),
            _list_html(list(coming.warnings), "warn"),
        ]
    parts.append(
        "<h2>Energy characteristics N(G)</h2><p class='note'>Curves: the pump units' "
        "power from the characteristic (pump curves at their own heads, or measured "
        "points). Markers: the method's operating points without Kсн; where the input "
        "gives heads read off the station's graphs, a point may sit slightly off the "
        "curve. Circle: design (past year); square: actual (past year); triangle: "
        "coming year.</p>"
    )
    for name, station in stations.items():
        parts.append(f"<div>{_station_svg(name, station, past, coming)}</div>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
