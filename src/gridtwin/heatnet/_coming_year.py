"""The coming-year workflow: ε (9), Nпр (11), Эн,пр (10) per station and the total (4.3).

The task ε comes from the input or from the planned saving ΔЭ by formula (9); Кр is the
input's or the past year's (8). Each station's planned flows give Nпр (11) on its
characteristic and its normative use Эн,пр (10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gridtwin.errors import InputError
from gridtwin.heatnet._formulas import (
    clip_task,
    coming_year_normative_energy_kwh,
    reserve_multiplier,
    station_power_kw,
    task_from_saving,
)
from gridtwin.heatnet._past_year import past_year
from gridtwin.heatnet._results import (
    ComingSeasonRow,
    ComingStationResult,
    ComingYearResult,
    PastYearResult,
    TaskResult,
)
from gridtwin.heatnet._shared_steps import (
    _auxiliaries,
    _head,
    _Notes,
    _revision_warnings,
    _season_hours,
)
from gridtwin.heatnet.schema import ComingSeason, ComingStation, ComingYearSpec, NormsInput
from gridtwin.heatnet.station import SEASONS, Season, Station


@dataclass(frozen=True)
class _StationContext:
    """What the steps of one coming-year station read: the input, its section, the station."""

    inp: NormsInput
    spec: ComingYearSpec
    name: str
    data: ComingStation
    station: Station
    notes: _Notes

    @property
    def base(self) -> str:
        """The station's place in the input file, for messages."""
        return f"{self.inp.where}: coming_year.stations.{self.name}"


def _task(
    inp: NormsInput, past: PastYearResult | None, kr: float, warnings: list[str]
) -> TaskResult:
    """The task ε (Table 4): given, or from the planned saving ΔЭ by formula (9), clipped."""
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
    built = dict(stations) if stations is not None else inp.build_stations()
    if past is None and inp.past_year is not None:
        past = past_year(inp, built)
    year = _year(inp, cy)
    warnings = _revision_warnings(inp, year)
    kr = _reserves_factor(inp, cy, past, warnings)
    task = _task(inp, past, kr, warnings)
    try:
        multiplier = reserve_multiplier(kr, task.task)
    except InputError as exc:
        msg = f"{inp.where}: coming_year: {exc}"
        raise InputError(msg) from exc
    notes = _Notes(warnings)
    results = [
        _coming_station(_StationContext(inp, cy, name, st, built[name], notes), kr, task.task)
        for name, st in cy.stations.items()
    ]
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
        options=inp.options,
    )


def _year(inp: NormsInput, cy: ComingYearSpec) -> int | None:
    """The coming year: given, else the year after the past year's, else unknown."""
    if cy.year is not None:
        return cy.year
    return None if inp.past_year is None or inp.past_year.year is None else inp.past_year.year + 1


def _reserves_factor(
    inp: NormsInput, cy: ComingYearSpec, past: PastYearResult | None, warnings: list[str]
) -> float:
    """Кр for the coming year: given (warned when it differs from (8)), else the past year's."""
    if cy.reserves_factor is not None:
        kr = cy.reserves_factor
        # with ΔЭ, formula (9) reports the difference itself (see _task)
        if (
            past is not None
            and cy.planned_saving_kwh is None
            and (abs(kr - past.reserves_factor) > inp.options.reserves_tolerance)
        ):
            warnings.append(
                f"coming_year.reserves_factor = {kr:g} differs from the past year's "
                f"Кр by formula (8), {past.reserves_factor:.4f}"
            )
        return kr
    if past is None:  # pragma: no cover - schema
        msg = f"{inp.where}: coming_year.reserves_factor: missing"
        raise InputError(msg)
    return past.reserves_factor


def _coming_station(ctx: _StationContext, kr: float, task: float) -> ComingStationResult:
    """One station in the coming year: its season rows and Эн,пр (10)."""
    st = ctx.data
    aux = _auxiliaries(st.auxiliary_factor, st.auxiliary_energy_kwh, ctx.spec.auxiliary_factor)
    rows = []
    for season in SEASONS:
        data = st.season(season)
        if data is None:
            continue
        rows.append(_coming_row(ctx, season, data, aux.factor))
    normative = coming_year_normative_energy_kwh(
        [r.power_kw for r in rows],
        [r.hours_h for r in rows],
        kr,
        task,
        aux.energy_kwh,
        ctx.inp.options.reserve_factor_applies_to_auxiliaries,
    )
    return ComingStationResult(
        station=ctx.name,
        seasons=tuple(rows),
        pumping_energy_kwh=float(sum(r.pumping_energy_kwh for r in rows)),
        auxiliary_factor=aux.factor,
        auxiliary_energy_kwh=aux.energy_kwh,
        normative_energy_kwh=normative,
    )


def _coming_row(
    ctx: _StationContext, season: Season, data: ComingSeason, aux_factor: float
) -> ComingSeasonRow:
    """A station in one season of the coming year: Nпр (11) at the planned flow (Table 6)."""
    opts = ctx.inp.options
    where = f"{ctx.base}.{season}"
    char = ctx.station.season(season, where)
    hours = _season_hours(data.hours_h, getattr(ctx.spec.hours_h, season), where)
    pt = char.point(
        data.flow_t_per_h,
        _head(data.head_m, opts),
        f"{where}.flow_t_per_h = {data.flow_t_per_h:g} t/h",
    )
    ctx.notes.head_check(f"{where}.head_m", data.head_m, pt, opts)
    power = station_power_kw(pt, aux_factor)
    return ComingSeasonRow(
        station=ctx.name,
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
