"""The past-year workflow: Эр (1, 2), ΣЭн (3), Gф (6, 7), Эном (4, 5), Кр (8), 3.5, 3.7-3.8.

Per station and season: the design point at Gр and the nominal point at the actual flow
Gф (flowmeter or formula (6)); per station: Эр (1), Эном (4), the optional flow
correction (7) and the rows of Table 3; over the network: ΣЭр, ΣЭном, ΣЭн (3) or
ΣЭном in the first year (cl. 3.5), Кр (8) and the findings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gridtwin.errors import InputError
from gridtwin.heatnet._findings import _network_findings, _NetworkTotals, _with_findings
from gridtwin.heatnet._flow_scale import solve_flow_scale
from gridtwin.heatnet._formulas import (
    FlowCorrectionLaw,
    actual_flow_t_per_h,
    calculated_energy_kwh,
    corrected_actual_flow_t_per_h,
    network_normative_energy_kwh,
    nominal_energy_kwh,
    relative_reserves,
    reserve_multiplier,
    station_power_kw,
)
from gridtwin.heatnet._results import PastSeasonRow, PastStationResult, PastYearResult
from gridtwin.heatnet._shared_steps import (
    _Auxiliaries,
    _auxiliaries,
    _head,
    _Notes,
    _revision_warnings,
    _season_hours,
)
from gridtwin.heatnet.schema import NormsInput, PastSeason, PastStation, PastYearSpec
from gridtwin.heatnet.station import (
    SEASONS,
    Season,
    SeasonCharacteristic,
    Station,
    StationPoint,
)


@dataclass(frozen=True)
class _StationContext:
    """What the steps of one past-year station read: the input, its section, the station."""

    inp: NormsInput
    spec: PastYearSpec
    name: str
    data: PastStation
    station: Station
    notes: _Notes

    @property
    def base(self) -> str:
        """The station's place in the input file, for messages."""
        return f"{self.inp.where}: past_year.stations.{self.name}"


@dataclass(frozen=True)
class _SeasonPoints:
    """A station's seasons in order: characteristics, hours, design and actual points."""

    seasons: tuple[Season, ...]
    chars: tuple[SeasonCharacteristic, ...]
    hours: tuple[float, ...]
    design_pts: tuple[StationPoint, ...]
    actual_flows: tuple[float, ...]
    flow_sources: tuple[str, ...]
    nominal_pts: tuple[StationPoint, ...]


@dataclass(frozen=True)
class _Nominal:
    """The actual-flow side of a station: flows, their sources, points, powers, Кэк, Эном.

    ``law`` and ``scale`` are set when the flows were corrected by formula (7).
    """

    flows: tuple[float, ...]
    sources: tuple[str, ...]
    points: tuple[StationPoint, ...]
    powers: tuple[float, ...]
    allowance: float
    energy_kwh: float
    law: FlowCorrectionLaw | None = None
    scale: float | None = None


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
    built = dict(stations) if stations is not None else inp.build_stations()
    notes = _Notes(_revision_warnings(inp, spec.year))
    results = [
        _past_station(_StationContext(inp, spec, name, st, built[name], notes))
        for name, st in spec.stations.items()
    ]
    return _past_year_result(inp, spec, results, notes)


def _past_station(ctx: _StationContext) -> PastStationResult:
    """One station before its share of ΣЭн: Эр (1), Эном (4), correction (7), Table 3 rows."""
    spec, st = ctx.spec, ctx.data
    aux = _auxiliaries(st.auxiliary_factor, st.auxiliary_energy_kwh, spec.auxiliary_factor)
    allowance = (
        st.operating_allowance if st.operating_allowance is not None else spec.operating_allowance
    )
    pts = _season_points(ctx)
    design_powers = tuple(station_power_kw(p, aux.factor) for p in pts.design_pts)
    calc = calculated_energy_kwh(design_powers, pts.hours, aux.energy_kwh)
    nominal = _uncorrected(ctx, pts, aux, allowance)
    uncorrected_nominal = nominal.energy_kwh
    if st.correct_actual_flow and st.metered_energy_kwh is not None:
        nominal = _corrected(ctx, pts, aux, st.metered_energy_kwh, uncorrected_nominal)
    return PastStationResult(
        station=ctx.name,
        seasons=_season_rows(ctx.name, pts, design_powers, nominal),
        calculated_energy_kwh=calc,
        nominal_energy_kwh=nominal.energy_kwh,
        normative_energy_kwh=math.nan,
        auxiliary_factor=aux.factor,
        auxiliary_energy_kwh=aux.energy_kwh,
        operating_allowance=nominal.allowance,
        metered_energy_kwh=st.metered_energy_kwh,
        flow_corrected=nominal.law is not None,
        flow_correction_law=nominal.law,
        flow_correction_scale=nominal.scale,
        uncorrected_nominal_energy_kwh=uncorrected_nominal,
        findings=(),
    )


def _season_points(ctx: _StationContext) -> _SeasonPoints:
    """The design point at Gр and the nominal point at the actual flow, per season."""
    opts, st = ctx.inp.options, ctx.data
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
        where = f"{ctx.base}.{season}"
        char = ctx.station.season(season, where)
        chars.append(char)
        hours.append(_season_hours(data.hours_h, getattr(ctx.spec.hours_h, season), where))
        dp = char.point(
            data.design_flow_t_per_h,
            _head(data.design_head_m, opts),
            f"{where}.design_flow_t_per_h = {data.design_flow_t_per_h:g} t/h",
        )
        ctx.notes.head_check(f"{where}.design_head_m", data.design_head_m, dp, opts)
        design_pts.append(dp)
        g_act, src = _actual_flow(ctx, season, data)
        actual_flows.append(g_act)
        flow_sources.append(src)
        ap = char.point(
            g_act,
            _head(data.nominal_head_m, opts),
            f"{where}: actual flow {g_act:.6g} t/h ({src})",
        )
        ctx.notes.head_check(f"{where}.nominal_head_m", data.nominal_head_m, ap, opts)
        nominal_pts.append(ap)
    return _SeasonPoints(
        tuple(seasons),
        tuple(chars),
        tuple(hours),
        tuple(design_pts),
        tuple(actual_flows),
        tuple(flow_sources),
        tuple(nominal_pts),
    )


def _actual_flow(ctx: _StationContext, season: Season, data: PastSeason) -> tuple[float, str]:
    """Gф of the station in a season [t/h] and its source: a flowmeter or formula (6)."""
    if data.actual_flow_t_per_h is not None:
        return data.actual_flow_t_per_h, "flowmeter"
    spec = ctx.spec
    net = None if spec.network_flow_t_per_h is None else getattr(spec.network_flow_t_per_h, season)
    if net is None:
        msg = (
            f"{ctx.inp.where}: past_year.network_flow_t_per_h.{season}: missing; "
            f"needed by formula (6) for station {ctx.name}"
        )
        raise InputError(msg)
    g_act = actual_flow_t_per_h(data.design_flow_t_per_h, net.actual_t_per_h, net.design_t_per_h)
    return g_act, "formula (6)"


def _uncorrected(
    ctx: _StationContext, pts: _SeasonPoints, aux: _Auxiliaries, allowance: float
) -> _Nominal:
    """Nominal powers Nном (5) and use Эном (4) at the actual flows, with Кэк."""
    powers = tuple(station_power_kw(p, aux.factor) for p in pts.nominal_pts)
    energy = nominal_energy_kwh(
        powers,
        pts.hours,
        allowance,
        aux.energy_kwh,
        ctx.inp.options.allowance_applies_to_auxiliaries,
    )
    return _Nominal(pts.actual_flows, pts.flow_sources, pts.nominal_pts, powers, allowance, energy)


def _corrected(
    ctx: _StationContext,
    pts: _SeasonPoints,
    aux: _Auxiliaries,
    metered: float,
    uncorrected_nominal: float,
) -> _Nominal:
    """Formula (7): the actual flows corrected by the metered Эф, and Эном there (Кэк = 1)."""
    opts = ctx.inp.options
    law = opts.flow_correction_law
    where = f"{ctx.base}: flow correction (7), law {law}"
    if law == "invert_characteristic":

        def energy_at(k: float) -> float:
            powers = [
                c.point(k * g).power_kw * aux.factor
                for c, g in zip(pts.chars, pts.actual_flows, strict=True)
            ]
            return nominal_energy_kwh(powers, pts.hours, 1.0, aux.energy_kwh)

        scale = solve_flow_scale(energy_at, metered, where)
        flows = [scale * g for g in pts.actual_flows]
    else:
        flows = [
            corrected_actual_flow_t_per_h(g, metered, uncorrected_nominal, law)
            for g in pts.actual_flows
        ]
        scale = flows[0] / pts.actual_flows[0]
    points = tuple(
        c.point(g, None, f"{where}: corrected flow {g:.6g} t/h")
        for c, g in zip(pts.chars, flows, strict=True)
    )
    sources = tuple(f"{s} + formula (7) {law}" for s in pts.flow_sources)
    powers = tuple(station_power_kw(p, aux.factor) for p in points)
    energy = nominal_energy_kwh(
        powers, pts.hours, 1.0, aux.energy_kwh, opts.allowance_applies_to_auxiliaries
    )
    return _Nominal(tuple(flows), sources, points, powers, 1.0, energy, law, scale)


def _season_rows(
    name: str, pts: _SeasonPoints, design_powers: Sequence[float], nominal: _Nominal
) -> tuple[PastSeasonRow, ...]:
    """The station's rows of Table 3, one per season."""
    rows = []
    for i, season in enumerate(pts.seasons):
        dp, ap = pts.design_pts[i], nominal.points[i]
        rows.append(
            PastSeasonRow(
                station=name,
                season=season,
                hours_h=pts.hours[i],
                design_flow_t_per_h=dp.flow_t_per_h,
                design_head_m=dp.head_m,
                design_curve_head_m=dp.curve_head_m,
                design_regime=dp.regime,
                design_pump_efficiencies=dp.pump_efficiencies,
                design_motor_efficiencies=dp.motor_efficiencies,
                design_unit_power_kw=dp.power_kw,
                design_power_kw=design_powers[i],
                calculated_energy_kwh=design_powers[i] * pts.hours[i],
                actual_flow_source=nominal.sources[i],
                uncorrected_actual_flow_t_per_h=pts.actual_flows[i],
                actual_flow_t_per_h=nominal.flows[i],
                nominal_head_m=ap.head_m,
                nominal_curve_head_m=ap.curve_head_m,
                nominal_regime=ap.regime,
                nominal_pump_efficiencies=ap.pump_efficiencies,
                nominal_motor_efficiencies=ap.motor_efficiencies,
                nominal_unit_power_kw=ap.power_kw,
                nominal_power_kw=nominal.powers[i],
                nominal_energy_kwh=nominal.allowance * nominal.powers[i] * pts.hours[i],
            )
        )
    return tuple(rows)


def _network_normative(
    inp: NormsInput, spec: PastYearSpec, total_calc: float, total_nom: float
) -> tuple[float, float]:
    """ΣЭн [kWh] by (3), or ΣЭном in the first year (cl. 3.5), and ΣЭн/ΣЭр's factor."""
    if spec.first_year:
        return total_nom, total_nom / total_calc
    if spec.reserves_factor is None or spec.task is None:  # pragma: no cover - schema
        msg = f"{inp.where}: past_year: reserves_factor and task are needed by formula (3)"
        raise InputError(msg)
    total_norm = network_normative_energy_kwh(total_calc, spec.reserves_factor, spec.task)
    return total_norm, reserve_multiplier(spec.reserves_factor, spec.task)


def _past_year_result(
    inp: NormsInput, spec: PastYearSpec, results: Sequence[PastStationResult], notes: _Notes
) -> PastYearResult:
    """The network totals, each station's share of ΣЭн, Кр (8) and the findings."""
    total_calc = sum(r.calculated_energy_kwh for r in results)
    total_nom = sum(r.nominal_energy_kwh for r in results)
    total_norm, multiplier = _network_normative(inp, spec, total_calc, total_nom)
    kr = relative_reserves(total_nom, total_calc)
    final = [
        _with_findings(
            r, r.nominal_energy_kwh if spec.first_year else r.calculated_energy_kwh * multiplier
        )
        for r in results
    ]
    meters = [r.metered_energy_kwh for r in final if r.metered_energy_kwh is not None]
    total_metered = float(sum(meters)) if meters else None
    totals = _NetworkTotals(
        total_calc, total_nom, total_norm, total_metered, len(meters), len(final), kr
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
        findings=tuple(_network_findings(inp, totals)),
        warnings=tuple(notes.warnings),
        options=inp.options,
    )
