"""Input files of the pumping-station norms (YAML or TOML), validated by pydantic.

One file describes one heat-network enterprise (a territorial unit): its pump types, its
stations with the pumps running in winter and summer (or measured characteristics), the
past year's data and/or the coming year's plan, and the method's options. Unknown fields
are errors; every error names the file and the field. See ``examples/heatnet/`` and
``docs/heatnet.md``.

Flows of the method are mass flows in t/h (``*_t_per_h``); pump curves are in m³/h
(``*_m3_per_h``) as in catalogues; heads in m, powers in kW, energy in kWh, hours in h,
efficiencies and factors as fractions.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from gridtwin._datafile import read_data_file, validation_lines
from gridtwin.errors import InputError
from gridtwin.heatnet.pumps import (
    Curve,
    Pump,
    TabulatedCurve,
    constant_curve,
    fit_efficiency_curve,
    fit_head_curve,
    nominal_parabola_efficiency,
    parabola_head_curve,
)
from gridtwin.heatnet.station import (
    SEASONS,
    MeasuredCharacteristic,
    Season,
    SeasonCharacteristic,
    Station,
    regimes_from_counts,
)

__all__ = [
    "ComingYearSpec",
    "MethodOptions",
    "NormsInput",
    "PastYearSpec",
    "PumpSpec",
    "StationSpec",
    "input_from_dict",
    "load_input",
]

# Bounds far outside any real station, there so that a typo (1e308 m of head, 2^63 pumps)
# is an error naming the field rather than an overflow deep in the arithmetic.
#: An efficiency [-]: a pump or motor below 1 % is a typo.
Fraction = Annotated[float, Field(ge=0.01, le=1.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, le=1e15, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, le=1e15, allow_inf_nan=False)]
#: A flow [m³/h or t/h]: ten million is beyond any heat network.
Flow = Annotated[float, Field(gt=0.0, le=1e7, allow_inf_nan=False)]
FlowOrZero = Annotated[float, Field(ge=0.0, le=1e7, allow_inf_nan=False)]
#: A head [m]: ten kilometres is beyond any pump.
Head = Annotated[float, Field(gt=0.0, le=1e4, allow_inf_nan=False)]
#: Hours of a season [h]: at most a leap year.
Hours = Annotated[float, Field(gt=0.0, le=8784.0, allow_inf_nan=False)]
Task = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
OperatingAllowance = Annotated[float, Field(ge=1.0, le=1.2, allow_inf_nan=False)]
AuxiliaryFactor = Annotated[float, Field(ge=1.0, le=1.05, allow_inf_nan=False)]
#: Pumps of one type in a regime.
Count = Annotated[int, Field(ge=1, le=1000)]
PumpSet = dict[str, Count]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _same_length(a: list[float], b: list[float], a_name: str, b_name: str) -> None:
    if len(a) != len(b):
        msg = f"{a_name} has {len(a)} values but {b_name} has {len(b)}; give one per point"
        raise ValueError(msg)
    if any(y <= x for x, y in itertools.pairwise(a)):
        msg = f"{a_name} must strictly increase, got {a}"
        raise ValueError(msg)


# ---------------------------------------------------------------------------- options


class MethodOptions(_Strict):
    """The method's reconstructed choices as named parameters (defaults: the reference's).

    Attributes
    ----------
    flow_correction_law : {"cube", "linear", "invert_characteristic"}
        Formula (7): ``G' = G·(Эф/Эном)^(1/3)`` (default), ``G' = G·Эф/Эном``, or the
        common factor k on the season flows solving ``Kсн·Σ N(k·G)·n + Эсн = Эф``.
    task_formula : {"full", "simple"}
        Formula (9): ``ε = 1 − (ΣЭном − ΔЭ − ΣЭр)/(Кр·ΣЭр)`` (default) or
        ``ε = ΔЭ/(ΣЭном − ΣЭр)``.
    allowance_applies_to_auxiliaries : bool
        Formula (4): whether Кэк also multiplies a metered Эсн (default False).
    reserve_factor_applies_to_auxiliaries : bool
        Formula (10): whether ``1 + Кр(1 − ε)`` also multiplies a planned Эсн (default False).
    hydraulic_constant : float
        c in N = G·H/(c·ηн·ηд) [t/h·m per kW], default 367 (3600/9.81 = 366.97).
    water_density_t_per_m3 : float
        ρ converting the method's G [t/h] to the pumps' Q [m³/h]; default 1.0.
    head_source : {"input", "curve"}
        ``input`` (default): a head given in the input (as in the seed's tables) is used in
        (2), (5), (11), else the joint characteristic's; ``curve``: always the curve's.
    reserves_tolerance : float
        Absolute difference between the Кр given for the coming year and the Кр of (8)
        above which a warning is printed (default 0.005: rounding to two decimals).
    head_mismatch_fraction : float
        Relative difference between a given head and the curve's above which a warning
        is printed (default 0.05).
    """

    flow_correction_law: Literal["cube", "linear", "invert_characteristic"] = "cube"
    task_formula: Literal["full", "simple"] = "full"
    allowance_applies_to_auxiliaries: bool = False
    reserve_factor_applies_to_auxiliaries: bool = False
    hydraulic_constant: Positive = 367.0
    water_density_t_per_m3: Positive = 1.0
    head_source: Literal["input", "curve"] = "input"
    reserves_tolerance: NonNegative = 0.005
    head_mismatch_fraction: NonNegative = 0.05


# ---------------------------------------------------------------------------- pumps


class PointsHead(_Strict):
    """Tabulated H(Q), interpolated (never extrapolated)."""

    form: Literal["points"]
    flow_m3_per_h: list[FlowOrZero] = Field(min_length=2)
    head_m: list[Head] = Field(min_length=2)
    interpolation: Literal["pchip", "linear"] = "pchip"

    @model_validator(mode="after")
    def _check(self) -> PointsHead:
        _same_length(self.flow_m3_per_h, self.head_m, "flow_m3_per_h", "head_m")
        return self


class FitHead(_Strict):
    """H(Q) fitted by least squares to points: quadratic or ``H0 − S·Q²``."""

    form: Literal["fit"]
    flow_m3_per_h: list[FlowOrZero] = Field(min_length=2)
    head_m: list[Head] = Field(min_length=2)
    model: Literal["quadratic", "parabola"] = "quadratic"

    @model_validator(mode="after")
    def _check(self) -> FitHead:
        _same_length(self.flow_m3_per_h, self.head_m, "flow_m3_per_h", "head_m")
        if self.model == "quadratic" and len(self.head_m) < 3:
            msg = "a quadratic fit needs at least 3 points; use model: parabola for 2"
            raise ValueError(msg)
        return self


class ParabolaHead(_Strict):
    """``H = H0 − S·Q²`` from its coefficients."""

    form: Literal["parabola"]
    shutoff_head_m: Head
    drop_coefficient_m_per_m3_per_h_sq: Positive


class PointsEfficiency(_Strict):
    """Tabulated ηн(Q), interpolated (never extrapolated)."""

    form: Literal["points"]
    flow_m3_per_h: list[Flow] = Field(min_length=2)
    efficiency: list[Fraction] = Field(min_length=2)
    interpolation: Literal["pchip", "linear"] = "pchip"

    @model_validator(mode="after")
    def _check(self) -> PointsEfficiency:
        _same_length(self.flow_m3_per_h, self.efficiency, "flow_m3_per_h", "efficiency")
        return self


class FitEfficiency(_Strict):
    """``η = e1·Q + e2·Q²`` fitted by least squares to points."""

    form: Literal["fit"]
    flow_m3_per_h: list[Flow] = Field(min_length=2)
    efficiency: list[Fraction] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> FitEfficiency:
        _same_length(self.flow_m3_per_h, self.efficiency, "flow_m3_per_h", "efficiency")
        return self


class NominalParabolaEfficiency(_Strict):
    """``η = η_nom·(2q − q²)``, ``q = Q/Q_nom`` (textbook shape; an assumption)."""

    form: Literal["nominal_parabola"]
    nominal_flow_m3_per_h: Flow
    nominal_efficiency: Fraction


class ConstantEfficiency(_Strict):
    """ηн independent of flow."""

    form: Literal["constant"]
    value: Fraction


HeadSpec = Annotated[PointsHead | FitHead | ParabolaHead, Field(discriminator="form")]
EfficiencySpec = Annotated[
    PointsEfficiency | FitEfficiency | NominalParabolaEfficiency | ConstantEfficiency,
    Field(discriminator="form"),
]


class PumpSpec(_Strict):
    """A pump type: head and efficiency curves, motor efficiency, usable flow range."""

    motor_efficiency: Fraction
    head: HeadSpec
    efficiency: EfficiencySpec
    flow_range_m3_per_h: tuple[FlowOrZero, Flow] | None = None
    source: str | None = None
    status: Literal["confirmed", "seed", "reconstructed", "assumed"] | None = None

    @model_validator(mode="after")
    def _check(self) -> PumpSpec:
        rng = self.flow_range_m3_per_h
        if rng is not None and not rng[0] < rng[1]:
            msg = f"flow_range_m3_per_h {list(rng)} must be [low, high] with low < high"
            raise ValueError(msg)
        return self

    def build(self, name: str) -> Pump:
        """The :class:`Pump` this spec describes."""
        head: Curve
        h = self.head
        if isinstance(h, PointsHead):
            head = TabulatedCurve(tuple(h.flow_m3_per_h), tuple(h.head_m), h.interpolation)
        elif isinstance(h, FitHead):
            head = fit_head_curve(h.flow_m3_per_h, h.head_m, h.model)
        else:
            head = parabola_head_curve(h.shutoff_head_m, h.drop_coefficient_m_per_m3_per_h_sq)
        eff: Curve
        e = self.efficiency
        if isinstance(e, PointsEfficiency):
            eff = TabulatedCurve(tuple(e.flow_m3_per_h), tuple(e.efficiency), e.interpolation)
        elif isinstance(e, FitEfficiency):
            eff = fit_efficiency_curve(e.flow_m3_per_h, e.efficiency)
        elif isinstance(e, NominalParabolaEfficiency):
            eff = nominal_parabola_efficiency(e.nominal_flow_m3_per_h, e.nominal_efficiency)
        else:
            eff = constant_curve(e.value)
        return Pump(name, head, eff, self.motor_efficiency, self.flow_range_m3_per_h)


# ---------------------------------------------------------------------------- stations


class SeasonRegimes(_Strict):
    """Running pumps per season: ``{type: count}`` or a list of candidate combinations."""

    winter: PumpSet | list[PumpSet] | None = None
    summer: PumpSet | list[PumpSet] | None = None


class MeasuredSpec(_Strict):
    """A tested N(G) of the running units in one season."""

    flow_t_per_h: list[Flow] = Field(min_length=2)
    power_kw: list[Positive] = Field(min_length=2)
    interpolation: Literal["pchip", "linear"] = "pchip"

    @model_validator(mode="after")
    def _check(self) -> MeasuredSpec:
        _same_length(self.flow_t_per_h, self.power_kw, "flow_t_per_h", "power_kw")
        return self


class SeasonMeasured(_Strict):
    winter: MeasuredSpec | None = None
    summer: MeasuredSpec | None = None


class StationSpec(_Strict):
    """A pumping station: its running pumps per season and/or a measured characteristic."""

    regimes: SeasonRegimes = SeasonRegimes()
    measured_characteristic: SeasonMeasured | None = None
    tested_year: int | None = None
    characteristic_source: Literal["auto", "pumps", "measured"] = "auto"
    description: str | None = None

    def candidates(self, season: Season) -> list[PumpSet]:
        """Candidate pump combinations for a season (empty when none)."""
        value = getattr(self.regimes, season)
        if value is None:
            return []
        return [value] if isinstance(value, dict) else list(value)

    def measured(self, season: Season) -> MeasuredSpec | None:
        """Measured points for a season, if any."""
        if self.measured_characteristic is None:
            return None
        spec: MeasuredSpec | None = getattr(self.measured_characteristic, season)
        return spec


# ---------------------------------------------------------------------------- past year


class SeasonHours(_Strict):
    """Operating hours per season [h]."""

    winter: Hours | None = None
    summer: Hours | None = None


class NetworkFlow(_Strict):
    """Hourly-mean flows of the whole network in one season [t/h] (for formula (6))."""

    design_t_per_h: Flow
    actual_t_per_h: Flow


class SeasonNetworkFlows(_Strict):
    winter: NetworkFlow | None = None
    summer: NetworkFlow | None = None


class PastSeason(_Strict):
    """One station in one season of the past year."""

    hours_h: Hours | None = None
    design_flow_t_per_h: Flow
    design_head_m: Head | None = None
    actual_flow_t_per_h: Flow | None = None
    nominal_head_m: Head | None = None


class PastStation(_Strict):
    """One station in the past year."""

    winter: PastSeason | None = None
    summer: PastSeason | None = None
    operating_allowance: OperatingAllowance | None = None
    auxiliary_factor: AuxiliaryFactor | None = None
    auxiliary_energy_kwh: NonNegative | None = None
    metered_energy_kwh: NonNegative | None = None
    correct_actual_flow: bool = False

    @model_validator(mode="after")
    def _check(self) -> PastStation:
        if self.winter is None and self.summer is None:
            msg = "give the winter and/or summer data of the station"
            raise ValueError(msg)
        if self.auxiliary_factor is not None and self.auxiliary_energy_kwh is not None:
            msg = (
                "give auxiliaries either as auxiliary_factor (Kсн) or as "
                "auxiliary_energy_kwh (Эсн), not both"
            )
            raise ValueError(msg)
        if self.correct_actual_flow and self.metered_energy_kwh is None:
            msg = (
                "correct_actual_flow (formula (7)) needs metered_energy_kwh (Эф from the "
                "station's meter)"
            )
            raise ValueError(msg)
        return self

    def season(self, season: Season) -> PastSeason | None:
        """The station's data for a season, if any."""
        value: PastSeason | None = getattr(self, season)
        return value


class PastYearSpec(_Strict):
    """The past year: hours, network flows, allowances, last year's Кр and ε, stations."""

    year: int | None = None
    hours_h: SeasonHours = SeasonHours()
    network_flow_t_per_h: SeasonNetworkFlows | None = None
    operating_allowance: OperatingAllowance = 1.0
    auxiliary_factor: AuxiliaryFactor = 1.0
    reserves_factor: NonNegative | None = None
    task: Task | None = None
    first_year: bool = False
    stations: dict[str, PastStation] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> PastYearSpec:
        no_hours: dict[str, list[str]] = {}
        no_network: dict[str, list[str]] = {}
        for name, st in self.stations.items():
            for season in SEASONS:
                data = st.season(season)
                if data is None:
                    continue
                if data.hours_h is None and getattr(self.hours_h, season) is None:
                    no_hours.setdefault(season, []).append(name)
                if data.actual_flow_t_per_h is None and (
                    self.network_flow_t_per_h is None
                    or getattr(self.network_flow_t_per_h, season) is None
                ):
                    no_network.setdefault(season, []).append(name)
        problems = _hours_problems(no_hours)
        for key, names in no_network.items():
            problems.append(
                f"network_flow_t_per_h.{key}: missing; station(s) {', '.join(names)} have no "
                f"actual_flow_t_per_h in {key} (no flowmeter), so formula (6) needs the "
                f"network's design and actual {key} flows"
            )
        if not self.first_year:
            if self.reserves_factor is None:
                problems.append(
                    "reserves_factor: missing; formula (3) needs Кр fixed at the "
                    "start of the past year (or set first_year: true, cl. 3.5)"
                )
            if self.task is None:
                problems.append(
                    "task: missing; formula (3) needs the task ε planned for the "
                    "past year (or set first_year: true, cl. 3.5)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _hours_problems(no_hours: dict[str, list[str]]) -> list[str]:
    return [
        f"hours_h.{season}: missing; station(s) {', '.join(names)} have {season} data, so "
        f"give the {season} operating hours here or in each station's {season} entry "
        f"(hours_h)"
        for season, names in no_hours.items()
    ]


# ---------------------------------------------------------------------------- coming year


class ComingSeason(_Strict):
    """One station in one season of the coming year."""

    hours_h: Hours | None = None
    flow_t_per_h: Flow
    head_m: Head | None = None


class ComingStation(_Strict):
    """One station in the coming year."""

    winter: ComingSeason | None = None
    summer: ComingSeason | None = None
    auxiliary_factor: AuxiliaryFactor | None = None
    auxiliary_energy_kwh: NonNegative | None = None

    @model_validator(mode="after")
    def _check(self) -> ComingStation:
        if self.winter is None and self.summer is None:
            msg = "give the winter and/or summer data of the station"
            raise ValueError(msg)
        if self.auxiliary_factor is not None and self.auxiliary_energy_kwh is not None:
            msg = (
                "give auxiliaries either as auxiliary_factor (Kсн) or as "
                "auxiliary_energy_kwh (Эсн), not both"
            )
            raise ValueError(msg)
        return self

    def season(self, season: Season) -> ComingSeason | None:
        """The station's data for a season, if any."""
        value: ComingSeason | None = getattr(self, season)
        return value


class PreviousYearTotals(_Strict):
    """ΣЭр and ΣЭном of the previous year when no past_year section is given [kWh]."""

    calculated_energy_kwh: Positive
    nominal_energy_kwh: Positive


class SeasonFlows(_Strict):
    winter: Flow | None = None
    summer: Flow | None = None


class ComingYearSpec(_Strict):
    """The coming year: hours, Кр, the task ε or the planned saving ΔЭ, stations."""

    year: int | None = None
    hours_h: SeasonHours = SeasonHours()
    auxiliary_factor: AuxiliaryFactor = 1.0
    reserves_factor: NonNegative | None = None
    task: Task | None = None
    planned_saving_kwh: Annotated[float, Field(allow_inf_nan=False)] | None = None
    previous_year: PreviousYearTotals | None = None
    network_design_flow_t_per_h: SeasonFlows | None = None
    stations: dict[str, ComingStation] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> ComingYearSpec:
        problems = []
        if (self.task is None) == (self.planned_saving_kwh is None):
            problems.append(
                "give exactly one of task (ε) and planned_saving_kwh (ΔЭ, turned "
                "into ε by formula (9))"
            )
        no_hours: dict[str, list[str]] = {}
        for name, st in self.stations.items():
            for season in SEASONS:
                data = st.season(season)
                if (
                    data is not None
                    and data.hours_h is None
                    and (getattr(self.hours_h, season) is None)
                ):
                    no_hours.setdefault(season, []).append(name)
        problems += _hours_problems(no_hours)
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ---------------------------------------------------------------------------- the file


class NormsInput(_Strict):
    """One heat-network enterprise: pumps, stations, past year and/or coming year."""

    title: str
    territorial_unit: str | None = None
    source: str | None = None
    notes: list[str] = Field(default_factory=list)
    options: MethodOptions = MethodOptions()
    pumps: dict[str, PumpSpec] = Field(default_factory=dict)
    stations: dict[str, StationSpec] = Field(min_length=1)
    past_year: PastYearSpec | None = None
    coming_year: ComingYearSpec | None = None

    _source: str = PrivateAttr(default="<input>")

    @model_validator(mode="after")
    def _check(self) -> NormsInput:
        problems: list[str] = []
        if self.past_year is None and self.coming_year is None:
            problems.append("give past_year and/or coming_year")
        problems += _station_problems(self)
        problems += _section_problems(self)
        problems += _coming_without_past_problems(self)
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))
        return self

    @property
    def where(self) -> str:
        """The file (or label) this input came from, for messages."""
        return self._source

    @property
    def name(self) -> str:
        """The territorial unit's name (default: the title)."""
        return self.territorial_unit or self.title

    def build_pumps(self) -> dict[str, Pump]:
        """Pump objects by type name; errors name ``pumps.<type>``."""
        out: dict[str, Pump] = {}
        for name, spec in self.pumps.items():
            try:
                out[name] = spec.build(name)
            except InputError as exc:
                msg = f"{self.where}: pumps.{name}: {exc}"
                raise InputError(msg) from exc
        return out

    def build_stations(self) -> dict[str, Station]:
        """Station characteristics by name; errors name ``stations.<name>``."""
        pumps = self.build_pumps()
        opts = self.options
        out: dict[str, Station] = {}
        for name, spec in self.stations.items():
            seasons: dict[Season, SeasonCharacteristic] = {}
            for season in SEASONS:
                counts = spec.candidates(season)
                mspec = spec.measured(season)
                if not counts and mspec is None:
                    continue
                try:
                    measured = (
                        None
                        if mspec is None
                        else MeasuredCharacteristic(
                            tuple(mspec.flow_t_per_h),
                            tuple(mspec.power_kw),
                            mspec.interpolation,
                            spec.tested_year,
                        )
                    )
                    seasons[season] = SeasonCharacteristic(
                        name,
                        season,
                        regimes_from_counts(pumps, counts),
                        measured,
                        spec.characteristic_source,
                        opts.water_density_t_per_m3,
                        opts.hydraulic_constant,
                    )
                except InputError as exc:
                    msg = f"{self.where}: stations.{name} ({season}): {exc}"
                    raise InputError(msg) from exc
            out[name] = Station(name, seasons)
        return out


def _station_problems(inp: NormsInput) -> list[str]:
    """Unknown pump types in the regimes, missing measured points when they are required."""
    problems: list[str] = []
    for name, st in inp.stations.items():
        for season in SEASONS:
            for combo in st.candidates(season):
                for pump in combo:
                    if pump not in inp.pumps:
                        known = ", ".join(sorted(inp.pumps)) or "none"
                        problems.append(
                            f"stations.{name}.regimes.{season}: unknown pump "
                            f"type {pump!r} (pumps defined: {known})"
                        )
            if (
                st.characteristic_source == "measured"
                and st.candidates(season)
                and (st.measured(season) is None)
            ):
                problems.append(
                    f"stations.{name}.measured_characteristic.{season}: missing "
                    f"while characteristic_source is 'measured'"
                )
    return problems


def _section_problems(inp: NormsInput) -> list[str]:
    """Stations of the year sections that are not defined, or lack a season's pumps."""
    problems: list[str] = []
    sections: list[tuple[str, dict[str, Any]]] = []
    if inp.past_year is not None:
        sections.append(("past_year", dict(inp.past_year.stations)))
    if inp.coming_year is not None:
        sections.append(("coming_year", dict(inp.coming_year.stations)))
    for section, stations in sections:
        for name, data in stations.items():
            if name not in inp.stations:
                known = ", ".join(inp.stations)
                problems.append(
                    f"{section}.stations.{name}: unknown station (stations defined: {known})"
                )
                continue
            spec = inp.stations[name]
            for season in SEASONS:
                if (
                    data.season(season) is not None
                    and not spec.candidates(season)
                    and (spec.measured(season) is None)
                ):
                    problems.append(
                        f"stations.{name}.regimes.{season}: missing; {section}.stations."
                        f"{name} has {season} data, so give the pumps running in {season} "
                        f"(or a measured characteristic)"
                    )
    return problems


def _coming_without_past_problems(inp: NormsInput) -> list[str]:
    """What a coming_year section needs when there is no past_year section: Кр, ΣЭр, ΣЭном."""
    problems: list[str] = []
    cy = inp.coming_year
    if cy is not None and inp.past_year is None:
        if cy.reserves_factor is None:
            problems.append(
                "coming_year.reserves_factor: missing; without a past_year "
                "section Кр cannot be computed by formula (8)"
            )
        if cy.planned_saving_kwh is not None and cy.previous_year is None:
            problems.append(
                "coming_year.previous_year: missing; formula (9) needs ΣЭр and "
                "ΣЭном of the previous year (or a past_year section)"
            )
    return problems


_FORMS = {
    "head": "points, fit or parabola",
    "efficiency": "points, fit, nominal_parabola or constant",
}


def _messages(where: str, exc: ValidationError) -> str:
    """``file: field.path: reason`` lines (the project's format), with clearer curve forms."""
    lines = []
    for line, err in zip(validation_lines(where, exc), exc.errors(), strict=True):
        if err["type"] == "union_tag_not_found" and err["loc"]:
            kind = str(err["loc"][-1])
            loc = ".".join(str(x) for x in err["loc"])
            line = f"{where}: {loc}: missing 'form'; give form: {_FORMS.get(kind, '...')}"
        lines.append(line.replace(": <top level>: ", ": "))
    return "\n".join(lines)


def input_from_dict(data: dict[str, Any], where: str = "<input>") -> NormsInput:
    """Validate a mapping into :class:`NormsInput`.

    Raises
    ------
    InputError
        Naming ``where`` (the file) and each bad field.
    """
    try:
        spec = NormsInput.model_validate(data)
    except ValidationError as exc:
        raise InputError(_messages(where, exc)) from exc
    spec._source = where
    return spec


def load_input(path: str | Path) -> NormsInput:
    """Load and validate an input file (``.yaml``, ``.yml`` or ``.toml``)."""
    p = Path(path)
    return input_from_dict(read_data_file(p, InputError), str(p))
