"""The characteristics of one territorial unit as numbers to plot.

For each pump type: head H(Q) and efficiency ηн(Q) over its usable flow range. For each
station and season: the joint characteristic of the regime the method picks at each
flow (head, unit power N without Kсн, overall efficiency ηн·ηд), a network (system)
curve H = S·G² through the design point, where it crosses the joint characteristic, and
the method's operating points (design, actual, coming year). :data:`FORMULAS` says which
of the method's forms survive in the seed's text and which are reconstructed.

The network curve has no static head: the seed's stations are boosters inside the
network, and the seed gives one design point per season only. **Assumed.**
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gridtwin.errors import InputError
from gridtwin.heatnet._coming_year import coming_year
from gridtwin.heatnet._past_year import past_year
from gridtwin.heatnet._results import ComingYearResult, PastYearResult
from gridtwin.heatnet.pumps import operating_point
from gridtwin.heatnet.schema import NormsInput
from gridtwin.heatnet.station import SeasonCharacteristic

__all__ = [
    "FORMULAS",
    "Characteristics",
    "FormulaFlag",
    "Mark",
    "PumpCurves",
    "SeasonCurves",
    "characteristics",
]

Status = Literal["seed", "reconstructed", "assumed", "confirmed"]


@dataclass(frozen=True)
class FormulaFlag:
    """One of the method's forms and how much of it the seed's surviving text gives."""

    number: str
    clause: str
    quantity: str
    form: str
    status: Status


#: The method's forms (docs/heatnet.md): the seed's formulas were images and are lost.
FORMULAS: tuple[FormulaFlag, ...] = (
    FormulaFlag("(1)", "3.1", "Эр", "Nр,з·nф,з + Nр,л·nф,л + Эсн", "reconstructed"),
    FormulaFlag("(2)", "3.1", "Nр", "Kсн·Σ Gᵢ·Нр/(c·ηн,ᵢ·ηд,ᵢ) at Gр", "reconstructed"),
    FormulaFlag("(3)", "3.3", "ΣЭн", "ΣЭр·(1 + Кр·(1 − ε))", "reconstructed"),
    FormulaFlag("(4)", "3.4", "Эном", "Кэк·(Nном,з·nф,з + Nном,л·nф,л) + Эсн", "reconstructed"),
    FormulaFlag("(5)", "3.4", "Nном", "Kсн·Σ Gᵢ·Нном/(c·ηн,ᵢ·ηд,ᵢ) at Gф", "reconstructed"),
    FormulaFlag("(6)", "3.4", "Gф", "Gр·Gф,тс/Gр,тс", "reconstructed"),
    FormulaFlag(
        "(7)", "3.4", "Gф′", "Gф·(Эф/Эном)^(1/3), or linear, or N(G) inverted", "reconstructed"
    ),
    FormulaFlag("(8)", "3.6", "Кр", "(ΣЭном − ΣЭр)/ΣЭр", "reconstructed"),
    FormulaFlag(
        "(9)", "4.1", "ε", "1 − (ΣЭном − ΔЭ − ΣЭр)/(Кр·ΣЭр), clipped to [0, 1]", "reconstructed"
    ),
    FormulaFlag(
        "(10)", "4.2", "Эн,пр", "(Nпр,з·nпр,з + Nпр,л·nпр,л)·(1 + Кр·(1 − ε))", "reconstructed"
    ),
    FormulaFlag("(11)", "4.2", "Nпр", "Kсн·Σ Gᵢ·Нпр/(c·ηн,ᵢ·ηд,ᵢ)", "reconstructed"),
    FormulaFlag("3.5", "3.5", "ΣЭн", "first year of the method: ΣЭн = ΣЭном", "seed"),
    FormulaFlag(
        "4.3-4.4", "4.3, 4.4", "totals", "sums over stations and territorial units", "seed"
    ),
    FormulaFlag("c", "3.1", "c", "367 ≈ 3600/9.81 (G in t/h, H in m)", "reconstructed"),
    FormulaFlag("Kсн ≤ 1.05", "3.1", "Kсн", "the auxiliaries' factor is at most 1.05", "seed"),
    FormulaFlag(
        "network curve", "-", "H(G)", "S·G² through the design point, no static head", "assumed"
    ),
)


@dataclass(frozen=True)
class PumpCurves:
    """One pump type's curves over its usable range (Q in m³/h)."""

    name: str
    status: str | None
    source: str | None
    motor_efficiency: float
    flow_m3_per_h: tuple[float, ...]
    head_m: tuple[float, ...]
    efficiency: tuple[float, ...]


@dataclass(frozen=True)
class Mark:
    """An operating point of the method (unit power without Kсн)."""

    kind: Literal["design", "actual", "coming", "crossing"]
    flow_t_per_h: float
    head_m: float | None
    power_kw: float | None


@dataclass(frozen=True)
class SeasonCurves:
    """One station in one season: N(G), H(G), η(G) and the network curve (G in t/h)."""

    station: str
    season: str
    source: str
    regimes: tuple[str, ...]
    flow_t_per_h: tuple[float, ...]
    head_m: tuple[float | None, ...]
    power_kw: tuple[float, ...]
    unit_efficiency: tuple[float | None, ...]
    regime: tuple[str, ...]
    network_resistance: float | None
    network_head_m: tuple[float | None, ...]
    marks: tuple[Mark, ...] = field(default=())


@dataclass(frozen=True)
class Characteristics:
    """The unit's curves, the method's points and the forms' status."""

    title: str
    pumps: tuple[PumpCurves, ...]
    seasons: tuple[SeasonCurves, ...]
    formulas: tuple[FormulaFlag, ...]
    notes: tuple[str, ...]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _season_marks(
    station: str,
    season: str,
    past: PastYearResult | None,
    coming: ComingYearResult | None,
) -> list[Mark]:
    marks: list[Mark] = []
    for st in () if past is None else past.stations:
        for row in st.seasons:
            if st.station != station or row.season != season:
                continue
            head = row.design_head_m or row.design_curve_head_m
            marks.append(Mark("design", row.design_flow_t_per_h, head, row.design_unit_power_kw))
            head = row.nominal_head_m or row.nominal_curve_head_m
            marks.append(Mark("actual", row.actual_flow_t_per_h, head, row.nominal_unit_power_kw))
    for cst in () if coming is None else coming.stations:
        for crow in cst.seasons:
            if cst.station == station and crow.season == season:
                head = crow.head_m or crow.curve_head_m
                marks.append(Mark("coming", crow.flow_t_per_h, head, crow.unit_power_kw))
    return marks


def _crossing(char: SeasonCharacteristic, regime: str, s_t: float) -> Mark | None:
    """Where the network curve H = S·G² meets the joint characteristic of ``regime``."""
    rho = char.water_density_t_per_m3
    for r in char.regimes:
        if r.label != regime:
            continue
        try:
            joint = operating_point(r.pumps, 0.0, s_t * rho * rho)
            g = joint.flow_m3_per_h * rho
            return Mark("crossing", g, joint.head_m, _finite(char.point(g).power_kw))
        except InputError:
            return None
    return None


def characteristics(inp: NormsInput, n_points: int = 41) -> Characteristics:
    """The curves of ``inp``'s pumps and stations, sampled at ``n_points`` flows.

    Raises
    ------
    InputError
        The input's pumps or stations cannot be built, or ``n_points`` is below 2.
    """
    if n_points < 2:
        msg = f"n_points {n_points} must be at least 2"
        raise InputError(msg)
    pumps = []
    built = inp.build_pumps()
    for name, pump in built.items():
        spec = inp.pumps[name]
        q = np.linspace(pump.min_flow_m3_per_h, pump.max_flow_m3_per_h, n_points)
        pumps.append(
            PumpCurves(
                name,
                spec.status,
                spec.source,
                pump.motor_efficiency,
                tuple(float(x) for x in q),
                tuple(float(x) for x in pump.head(q)),
                tuple(float(x) for x in pump.efficiency(q)),
            )
        )
    stations = inp.build_stations()
    notes: list[str] = []
    past: PastYearResult | None = None
    coming: ComingYearResult | None = None
    if inp.past_year is not None:
        past = past_year(inp, stations)
    if inp.coming_year is not None:
        coming = coming_year(inp, past, stations)
    seasons: list[SeasonCurves] = []
    for name, station in stations.items():
        for season, char in station.seasons.items():
            points = char.curve_points(n_points)
            marks = _season_marks(name, season, past, coming)
            design = next((m for m in marks if m.kind == "design"), None)
            s_t = None
            if design is not None and design.head_m:
                s_t = design.head_m / design.flow_t_per_h**2
                regime = char.point(design.flow_t_per_h).regime
                cross = _crossing(char, regime, s_t)
                if cross is not None:
                    marks.append(cross)
                else:
                    notes.append(
                        f"station {name} {season}: the network curve does not cross the "
                        f"joint characteristic of {regime}"
                    )
            flows = tuple(p.flow_t_per_h for p in points)
            seasons.append(
                SeasonCurves(
                    station=name,
                    season=season,
                    source="measured" if char.uses_measured else "pump curves",
                    regimes=tuple(r.label for r in char.regimes),
                    flow_t_per_h=flows,
                    head_m=tuple(_finite(p.curve_head_m) for p in points),
                    power_kw=tuple(p.power_kw for p in points),
                    unit_efficiency=tuple(_finite(p.unit_efficiency) for p in points),
                    regime=tuple(p.regime for p in points),
                    network_resistance=s_t,
                    network_head_m=tuple(None if s_t is None else s_t * g * g for g in flows),
                    marks=tuple(marks),
                )
            )
    return Characteristics(inp.title, tuple(pumps), tuple(seasons), FORMULAS, tuple(notes))
