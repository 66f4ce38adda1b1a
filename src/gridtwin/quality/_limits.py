"""Supply-voltage quality limits as validated data (GOST 32144-2013, EN 50160:2010, user sets).

A *limit set* is one YAML/TOML file per standard and edition. For each voltage level
(``LV``, ``MV``) it lists *indicators* (frequency deviation, slow voltage changes, flicker,
unbalance, THD, individual harmonics), each with

- the clause of the standard it comes from,
- the quantity and its aggregation interval (10 s, 10 min, 2 h, IEC 61000-4-30),
- the observation period (a week, or a year for the EN 50160 frequency rule),
- at most one *share limit* (a band that must hold for e.g. 95 % of the valid intervals,
  counted as N1) and at most one *maximum limit* (a band for 100 % of them, counted as N2),
- a verification mark: ``corpus`` (confirmed in a public source) or ``memory`` (recalled,
  not yet checked against the official text).

Built-in and user-defined sets share one schema (:class:`LimitSetSpec`); unknown fields
are errors that name the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.errors import InputError

__all__ = [
    "AGGREGATION_S",
    "Aggregation",
    "HarmonicsSpec",
    "Indicator",
    "IndicatorKind",
    "IndicatorSpec",
    "LevelSpec",
    "Limit",
    "LimitSet",
    "LimitSetSpec",
    "LimitSpec",
    "Observation",
    "ValueUnit",
    "Verification",
    "VoltageLevel",
    "WeekStartSpec",
    "builtin_limit_set_ids",
    "get_limit_set",
    "limit_set_from_dict",
    "load_limit_set",
]

VoltageLevel = Literal["LV", "MV"]
Aggregation = Literal["10s", "10min", "2h"]
Observation = Literal["week", "year"]
Verification = Literal["corpus", "memory"]
ValueUnit = Literal["percent", "Hz", "1"]
IndicatorKind = Literal[
    "voltage_rms_deviation",  # 10-min r.m.s. value vs U0, % of U0 (EN 50160)
    "voltage_under_over_deviation",  # δU(−), δU(+) per IEC 61000-4-30 5.12 (GOST 32144)
    "frequency_deviation",  # 10-s frequency vs nominal, Hz or % of nominal
    "magnitude",  # a non-negative quantity with an upper limit
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

AGGREGATION_S: dict[str, int] = {"10s": 10, "10min": 600, "2h": 7200}
"""Length of each aggregation interval [s] (IEC 61000-4-30 class A time structure)."""

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_HARMONIC = re.compile(r"^harmonic_(\d+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSpec(_Strict):
    """One band that must hold for ``share_percent`` of the valid intervals.

    ``lower`` and ``upper`` are in the indicator's unit; a band is read as
    ``lower <= value <= upper`` (a value exactly at a limit is inside).
    """

    share_percent: float = Field(gt=0, le=100)
    lower: float | None = None
    upper: float | None = None

    @model_validator(mode="after")
    def _check_band(self) -> LimitSpec:
        if self.lower is None and self.upper is None:
            msg = "a limit needs `lower`, `upper` or both"
            raise ValueError(msg)
        if self.lower is not None and self.lower >= 0:
            msg = (
                f"`lower` is a deviation below zero and must be negative, got {self.lower} "
                "(write -10 for 'at most 10 % below')"
            )
            raise ValueError(msg)
        if self.upper is not None and self.upper <= 0:
            msg = f"`upper` must be positive, got {self.upper}"
            raise ValueError(msg)
        if abs(self.share_percent * 100 - round(self.share_percent * 100)) > 1e-9:
            msg = f"`share_percent` {self.share_percent} has more than two decimals"
            raise ValueError(msg)
        return self


class IndicatorSpec(_Strict):
    """An indicator of a voltage level: quantity, aggregation, observation and limits."""

    clause: str = Field(min_length=1)
    quantity: str = Field(min_length=1)
    kind: IndicatorKind
    unit: ValueUnit
    aggregation: Aggregation
    observation: Observation = "week"
    limits: list[LimitSpec] = Field(min_length=1, max_length=2)
    verification: Verification
    verification_note: str = ""
    clause_verification: Verification = "memory"
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> IndicatorSpec:
        shares = [lim.share_percent for lim in self.limits]
        if sum(s == 100 for s in shares) > 1 or sum(s < 100 for s in shares) > 1:
            msg = (
                "`limits` holds at most one band with share_percent 100 (counted as N2) "
                f"and one with a smaller share (counted as N1); got shares {shares}"
            )
            raise ValueError(msg)
        if self.kind == "magnitude" and any(lim.lower is not None for lim in self.limits):
            msg = "a `magnitude` indicator is non-negative: give only `upper` limits"
            raise ValueError(msg)
        if self.kind.startswith("voltage") and self.unit != "percent":
            msg = f"a voltage deviation is in `percent` of U0, not {self.unit!r}"
            raise ValueError(msg)
        if self.kind == "frequency_deviation" and self.unit not in ("Hz", "percent"):
            msg = f"a frequency deviation is in `Hz` or `percent` of nominal, not {self.unit!r}"
            raise ValueError(msg)
        return self


class HarmonicsSpec(_Strict):
    """Individual harmonic voltages: one share-limit per order, optional 100 % multiplier.

    Expanded into indicators ``harmonic_2`` ... ``harmonic_<n>`` [% of U1].
    """

    clause: str = Field(min_length=1)
    aggregation: Aggregation = "10min"
    observation: Observation = "week"
    share_percent: float = Field(95.0, gt=0, lt=100)
    limits_percent_of_u1: dict[int, float]
    p100_multiplier: float | None = Field(None, gt=1)
    verification: Verification
    verification_note: str = ""
    clause_verification: Verification = "memory"
    note: str = ""

    @model_validator(mode="after")
    def _check_orders(self) -> HarmonicsSpec:
        for order, value in self.limits_percent_of_u1.items():
            if not 2 <= order <= 50:
                msg = f"harmonic order {order} outside 2..50"
                raise ValueError(msg)
            if value <= 0:
                msg = f"harmonic order {order}: limit must be positive, got {value}"
                raise ValueError(msg)
        return self


class LevelSpec(_Strict):
    """A voltage level (LV or MV): reference voltage and indicators."""

    label: str
    reference_voltage: str = Field(min_length=1)
    nominal_voltage_phase_v: float | None = Field(None, gt=0)
    nominal_voltage_line_v: float | None = Field(None, gt=0)
    nominal_voltage_note: str = ""
    indicators: dict[str, IndicatorSpec]
    harmonics: HarmonicsSpec | None = None

    @model_validator(mode="after")
    def _check_names(self) -> LevelSpec:
        for name in self.indicators:
            if not _NAME.match(name):
                msg = f"indicator name {name!r} must be lower_snake_case"
                raise ValueError(msg)
            if self.harmonics is not None and _HARMONIC.match(name):
                msg = (
                    f"indicator {name!r} clashes with the `harmonics` table; "
                    "give individual harmonics only in `harmonics`"
                )
                raise ValueError(msg)
        return self


class WeekStartSpec(_Strict):
    """Default start of an observation week, in local time."""

    weekday: Weekday
    time_local: str
    status: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_time(self) -> WeekStartSpec:
        if not _HHMM.match(self.time_local):
            msg = f"`time_local` {self.time_local!r} must look like 'HH:MM' (e.g. '00:00')"
            raise ValueError(msg)
        return self


class LimitSetSpec(_Strict):
    """Schema of a limit-set file (built-in or user-defined)."""

    schema_version: Literal[1]
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    edition: str = Field(min_length=1)
    source: str = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    nominal_frequency_hz: float = Field(gt=0)
    week_start: WeekStartSpec
    min_availability_percent: float = Field(90.0, gt=0, le=100)
    min_availability_note: str = ""
    levels: dict[VoltageLevel, LevelSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Limit:
    """A band ``lower <= value <= upper`` that must hold for ``share_percent`` of intervals.

    Attributes
    ----------
    share_percent : float
        Share of the valid intervals of an observation period that must lie in the band
        [%]: 100 for a maximum limit (N2 must be 0), e.g. 95 for a share limit
        (N1 / N <= 5 %).
    lower, upper : float or None
        Band edges in the indicator's unit; ``None`` means unbounded on that side.
    """

    share_percent: float
    lower: float | None
    upper: float | None

    @property
    def share_basis_points(self) -> int:
        """``share_percent`` in hundredths of a percent, for exact integer comparisons."""
        return round(self.share_percent * 100)

    def band_text(self, unit: str) -> str:
        """The band as text, e.g. ``'-10 .. +10 %'`` or ``'<= 1.38'``."""
        u = {"percent": " %", "Hz": " Hz", "1": ""}.get(unit, f" {unit}")
        if self.lower is None:
            return f"<= {self.upper:g}{u}"
        if self.upper is None:
            return f">= {self.lower:g}{u}"
        return f"{self.lower:+g} .. {self.upper:+g}{u}"


@dataclass(frozen=True)
class Indicator:
    """One resolved indicator of one voltage level of one limit set.

    Attributes
    ----------
    name : str
        Indicator id, e.g. ``voltage_deviation``, ``thd``, ``harmonic_5``.
    standard : str
        Limit-set id, e.g. ``GOST 32144-2013``.
    voltage_level : {'LV', 'MV'}
    clause : str
        Clause of the standard.
    quantity : str
        What is measured, in words.
    kind : str
        How values are turned into the compared quantity (see :data:`IndicatorKind`).
    unit : {'percent', 'Hz', '1'}
        Unit of the compared values and of the limits.
    aggregation : {'10s', '10min', '2h'}
        Aggregation interval of the values (IEC 61000-4-30).
    observation : {'week', 'year'}
        Observation period over which the shares are counted.
    share_limit : Limit or None
        The band for a share < 100 % (N1 counts intervals beyond it).
    max_limit : Limit or None
        The band for 100 % of the intervals (N2 counts intervals beyond it).
    verification, clause_verification : {'corpus', 'memory'}
        Whether the limit values / the clause number were confirmed in a public source.
    verification_note, note : str
    """

    name: str
    standard: str
    voltage_level: str
    clause: str
    quantity: str
    kind: IndicatorKind
    unit: ValueUnit
    aggregation: Aggregation
    observation: Observation
    share_limit: Limit | None
    max_limit: Limit | None
    verification: Verification
    clause_verification: Verification
    verification_note: str = ""
    note: str = ""

    @property
    def aggregation_s(self) -> int:
        """Aggregation interval [s]."""
        return AGGREGATION_S[self.aggregation]

    @property
    def citation(self) -> str:
        """``'<standard> <clause>'``."""
        return f"{self.standard} {self.clause}"

    @property
    def widest_limit(self) -> Limit:
        """The 100 % band if there is one, else the share band (used to rank the worst value)."""
        lim = self.max_limit or self.share_limit
        if lim is None:  # pragma: no cover - the schema requires at least one limit
            msg = f"{self.citation}: indicator {self.name!r} has no limit"
            raise InputError(msg)
        return lim

    @property
    def narrowest_limit(self) -> Limit:
        """The share band if there is one, else the 100 % band."""
        lim = self.share_limit or self.max_limit
        if lim is None:  # pragma: no cover - the schema requires at least one limit
            msg = f"{self.citation}: indicator {self.name!r} has no limit"
            raise InputError(msg)
        return lim

    def limits_text(self) -> str:
        """All limits as text, e.g. ``'95 %: -10 .. +10 %; 100 %: -15 .. +10 %'``."""
        parts = [
            f"{lim.share_percent:g} %: {lim.band_text(self.unit)}"
            for lim in (self.share_limit, self.max_limit)
            if lim is not None
        ]
        return "; ".join(parts)

    def verification_notes(self) -> tuple[str, ...]:
        """Notes to print with every result that uses this indicator."""
        out: list[str] = []
        if self.verification == "memory":
            out.append(
                f"{self.citation} {self.name}: limit values not verified against the "
                f"official text (verification: memory). {self.verification_note}".strip()
            )
        elif self.verification_note:
            out.append(f"{self.citation} {self.name}: {self.verification_note}")
        if self.clause_verification == "memory":
            out.append(
                f"{self.standard}: clause number {self.clause} not verified "
                "against the official text"
            )
        return tuple(out)


def _limits_of(limits: list[LimitSpec]) -> tuple[Limit | None, Limit | None]:
    """The share band (share < 100 %) and the 100 % band of an indicator, if given."""
    share = next(
        (Limit(x.share_percent, x.lower, x.upper) for x in limits if x.share_percent < 100), None
    )
    peak = next(
        (Limit(x.share_percent, x.lower, x.upper) for x in limits if x.share_percent == 100), None
    )
    return share, peak


def _resolve(spec: LimitSetSpec) -> dict[tuple[str, str], Indicator]:
    """Every indicator of a set by ``(voltage_level, name)``, harmonics expanded."""
    out: dict[tuple[str, str], Indicator] = {}
    for level, lv in spec.levels.items():
        for name, ind in lv.indicators.items():
            out[(level, name)] = _indicator(spec.id, level, name, ind)
        h = lv.harmonics
        if h is None:
            continue
        for order in sorted(h.limits_percent_of_u1):
            out[(level, f"harmonic_{order}")] = _harmonic(spec.id, level, order, h)
    return out


def _indicator(standard: str, level: str, name: str, ind: IndicatorSpec) -> Indicator:
    """An indicator as listed in a level's ``indicators``."""
    share, peak = _limits_of(ind.limits)
    return Indicator(
        name=name,
        standard=standard,
        voltage_level=level,
        clause=ind.clause,
        quantity=ind.quantity,
        kind=ind.kind,
        unit=ind.unit,
        aggregation=ind.aggregation,
        observation=ind.observation,
        share_limit=share,
        max_limit=peak,
        verification=ind.verification,
        clause_verification=ind.clause_verification,
        verification_note=ind.verification_note,
        note=ind.note,
    )


def _harmonic(standard: str, level: str, order: int, h: HarmonicsSpec) -> Indicator:
    """The indicator ``harmonic_<order>`` of a level's ``harmonics`` table [% of U1]."""
    value = h.limits_percent_of_u1[order]
    peak = Limit(100.0, None, value * h.p100_multiplier) if h.p100_multiplier is not None else None
    return Indicator(
        name=f"harmonic_{order}",
        standard=standard,
        voltage_level=level,
        clause=h.clause,
        quantity=f"harmonic voltage of order {order}, % of U1",
        kind="magnitude",
        unit="percent",
        aggregation=h.aggregation,
        observation=h.observation,
        share_limit=Limit(h.share_percent, None, value),
        max_limit=peak,
        verification=h.verification,
        clause_verification=h.clause_verification,
        verification_note=h.verification_note,
        note=h.note,
    )


@dataclass(frozen=True)
class LimitSet:
    """A validated limit set with harmonics expanded into indicators.

    Build one with :func:`get_limit_set` (built-in), :func:`load_limit_set` (file) or
    :func:`limit_set_from_dict`.
    """

    spec: LimitSetSpec
    path: str
    indicators: Mapping[tuple[str, str], Indicator] = field(init=False, repr=False)
    """Every indicator by ``(voltage_level, name)``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", _resolve(self.spec))

    @property
    def id(self) -> str:
        """Standard and edition, e.g. ``'GOST 32144-2013'``."""
        return self.spec.id

    @property
    def nominal_frequency_hz(self) -> float:
        """Nominal frequency [Hz]."""
        return self.spec.nominal_frequency_hz

    @property
    def default_week_start(self) -> str:
        """Default week start as ``'<weekday> HH:MM'`` in local time, e.g. ``'mon 00:00'``."""
        ws = self.spec.week_start
        return f"{ws.weekday} {ws.time_local}"

    @property
    def min_availability_percent(self) -> float:
        """Default minimum data availability for a verdict [% of expected intervals]."""
        return self.spec.min_availability_percent

    def levels(self) -> tuple[str, ...]:
        """Voltage levels the set covers."""
        return tuple(self.spec.levels)

    def indicator_names(self, voltage_level: str) -> tuple[str, ...]:
        """Indicator names of a level."""
        return tuple(name for (lv, name) in self.indicators if lv == voltage_level)

    def indicator(self, voltage_level: str, name: str) -> Indicator:
        """Return one indicator; raise :class:`InputError` listing what exists."""
        if voltage_level not in self.spec.levels:
            msg = (
                f"{self.id} ({self.path}): no voltage level {voltage_level!r}; "
                f"pass --voltage-level (in Python voltage_level=) one of "
                f"{sorted(self.spec.levels)}"
            )
            raise InputError(msg)
        found = self.indicators.get((voltage_level, name))
        if found is None:
            msg = (
                f"{self.id} ({self.path}): no indicator {name!r} at {voltage_level}; "
                f"available: {', '.join(self.indicator_names(voltage_level))}"
            )
            raise InputError(msg)
        return found

    def nominal_voltage_v(self, voltage_level: str, *, line: bool = False) -> float | None:
        """Default nominal voltage [V] of a level (phase-to-neutral unless ``line``)."""
        for name, lv in self.spec.levels.items():
            if name == voltage_level:
                return lv.nominal_voltage_line_v if line else lv.nominal_voltage_phase_v
        return None

    def notes(self) -> tuple[str, ...]:
        """The set's general notes (edition status, unverified items)."""
        return tuple(self.spec.notes)


def limit_set_from_dict(data: Mapping[str, Any], where: str = "<limit set>") -> LimitSet:
    """Validate a limit-set mapping.

    Parameters
    ----------
    data : mapping
        The parsed file, following :class:`LimitSetSpec`.
    where : str
        Name of the source (file path) used in error messages.

    Raises
    ------
    InputError
        If a field is unknown, missing or invalid; the message names ``where`` and the
        field path, e.g. ``limits.yaml: levels.LV.indicators.thd.limts: unknown field``.
    """
    try:
        spec = LimitSetSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InputError(validation_message(where, exc)) from exc
    return LimitSet(spec, where)


def load_limit_set(path: str | Path) -> LimitSet:
    """Load a (user-defined) limit set from a YAML or TOML file with the built-in schema.

    Raises
    ------
    InputError
        If the file cannot be read or does not validate (file and field named).
    """
    p = Path(path)
    return limit_set_from_dict(read_data_file(p, InputError), str(p))


def _builtin_files() -> dict[str, Path]:
    """Built-in limit-set files by their id."""
    root = resources.files("gridtwin.quality") / "data"
    out: dict[str, Path] = {}
    for entry in root.iterdir():
        if entry.name.endswith((".yaml", ".yml", ".toml")):
            path = Path(str(entry))
            out[str(read_data_file(path, InputError).get("id"))] = path
    return out


def builtin_limit_set_ids() -> tuple[str, ...]:
    """Ids of the limit sets shipped with gridtwin (``'EN 50160:2010'``, ``'GOST 32144-2013'``)."""
    return tuple(sorted(_builtin_files()))


@cache
def get_limit_set(standard: str) -> LimitSet:
    """Return a built-in limit set by id (cached).

    Parameters
    ----------
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'``.
    """
    files = _builtin_files()
    if standard not in files:
        msg = (
            f"no built-in limit set {standard!r}; built-in: {sorted(files)}. "
            "Load your own with load_limit_set(path)."
        )
        raise InputError(msg)
    return load_limit_set(files[standard])
