"""Permissible current of LV cables (IEC 60364-5-52:2009 = GOST R 50571.5.52-2011) and loading.

The base capacities and correction factors are data (``data/iec_60364_5_52.yaml``), validated
on load. Each table carries the verification level of its transcription; every
:class:`CableRating` reports the weakest level it used, so that a value that rests on a
single transcription or on memory is never presented as confirmed.

The permissible current follows the check formula of the research note (§5.4)::

    I_z = I_z0(method, insulation, loaded conductors, size)
          · k_temp(θ, insulation, air | ground)          Tables B.52.14 / B.52.15
          · k_soil(ρ)              [method D1]            Table B.52.16
          · k_group(arrangement, n)                       Tables B.52.17 - B.52.19
          · k_harm(3rd harmonic)   [4/5-core, 3 loaded]   Annex E, Table E.52.1

Rules:

- Sizes are never interpolated: only tabulated sizes are accepted.
- Temperature factors use the standard's formula ``sqrt((θmax - θ)/(θmax - θref))`` for any
  temperature inside the tabulated range (the tables equal the formula to two decimals).
- Only copper is available: the aluminium halves of the tables were not transcribed. For an
  aluminium cable (or any cable with a known rating) pass ``rated_current_a``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import DataQualityError, InputError
from gridtwin.timeseries import utc_ns

__all__ = [
    "CableLoadingCheck",
    "CableRating",
    "CableRatingData",
    "RatingFactor",
    "cable_loading_check",
    "cable_rating_data",
    "load_cable_rating_data",
    "loading_ratio",
    "permissible_current_a",
    "temperature_factor",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Verification = Literal["several_transcriptions", "single_transcription", "memory"]
Insulation = Literal["PVC", "XLPE"]

#: Verification levels from strongest to weakest.
VERIFICATION_ORDER: tuple[str, ...] = ("several_transcriptions", "single_transcription", "memory")
_GROUND_METHODS = frozenset({"D1", "D2"})
_DATA_FILE = "iec_60364_5_52.yaml"


# --------------------------------------------------------------------------- data schema


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseCapacityTable(_Model):
    """One copper base-capacity table (or the method-E part of one)."""

    table: str
    table_number_verification: Verification | None = None
    insulation: Insulation
    conductor_max_c: float = Field(gt=0)
    loaded_conductors: Literal[2, 3]
    methods: tuple[str, ...] = Field(min_length=1)
    verification: Verification
    verification_by_method: dict[str, Verification] = Field(default_factory=dict)
    rows: dict[float, tuple[float, ...]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_rows(self) -> BaseCapacityTable:
        for size, values in self.rows.items():
            if size <= 0:
                msg = f"rows: size {size} mm² must be positive"
                raise ValueError(msg)
            if len(values) != len(self.methods):
                msg = (
                    f"rows.{size}: {len(values)} values for {len(self.methods)} methods "
                    f"{list(self.methods)}"
                )
                raise ValueError(msg)
            if any(not (v > 0 and math.isfinite(v)) for v in values):
                msg = f"rows.{size}: every capacity must be a positive number of amperes"
                raise ValueError(msg)
        unknown = set(self.verification_by_method) - set(self.methods)
        if unknown:
            msg = f"verification_by_method: unknown method(s) {sorted(unknown)}"
            raise ValueError(msg)
        return self

    def method_verification(self, method: str) -> str:
        """Verification level of one method column."""
        return self.verification_by_method.get(method, self.verification)


class TemperatureFactorTable(_Model):
    """Ambient temperature correction factors for one medium (air or ground)."""

    table: str
    medium: Literal["air", "ground"]
    reference_c: float
    verification: Verification
    values: dict[Insulation, dict[float, float]]


class SoilFactorTable(_Model):
    """Soil thermal resistivity factors (methods D1/D2)."""

    table: str
    reference_k_m_per_w: float = Field(gt=0)
    verification: Verification
    rows: dict[str, dict[float, float]]
    not_transcribed: dict[str, str] = Field(default_factory=dict)


class GroupingFactorTable(_Model):
    """Reduction factors for a group of circuits in one arrangement."""

    arrangement: str
    description: str
    table: str
    item: int | None = None
    applies_to: tuple[str, ...] = Field(min_length=1)
    verification: Verification
    beyond_last: Literal["error", "constant"]
    values: dict[int, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_values(self) -> GroupingFactorTable:
        if self.values.get(1) != 1.0:
            msg = "values: the factor for a single circuit (n = 1) must be 1.00"
            raise ValueError(msg)
        ordered = [self.values[n] for n in sorted(self.values)]
        if any(b > a for a, b in itertools.pairwise(ordered)):
            msg = "values: factors must not increase with the number of circuits"
            raise ValueError(msg)
        return self


class HarmonicBand(_Model):
    """One band of Table E.52.1: (above_percent, up_to_percent] of 3rd harmonic."""

    above_percent: float = Field(ge=0)
    up_to_percent: float = Field(gt=0)
    basis: Literal["phase", "neutral"]
    factor: float = Field(gt=0, le=1)


class HarmonicFactorTable(_Model):
    """Triplen-harmonic reduction factors for 4- and 5-core cables."""

    table: str
    verification: Verification
    bands: tuple[HarmonicBand, ...] = Field(min_length=1)


class CableRatingData(_Model):
    """The whole validated data file ``iec_60364_5_52.yaml``."""

    id: str
    standard: str
    national_equivalent: str
    annex: str
    source: str
    materials_available: tuple[str, ...]
    materials_not_transcribed: dict[str, str]
    reference_conditions: dict[str, float]
    base_capacity: tuple[BaseCapacityTable, ...]
    temperature_factors: tuple[TemperatureFactorTable, ...]
    soil_resistivity_factors: SoilFactorTable
    grouping_factors: tuple[GroupingFactorTable, ...]
    harmonic_factors: HarmonicFactorTable

    @model_validator(mode="after")
    def _check_unique(self) -> CableRatingData:
        seen: set[tuple[str, int, str]] = set()
        for tab in self.base_capacity:
            for method in tab.methods:
                key = (tab.insulation, tab.loaded_conductors, method)
                if key in seen:
                    msg = f"base_capacity: {key} is defined twice"
                    raise ValueError(msg)
                seen.add(key)
        media = {t.medium for t in self.temperature_factors}
        if media != {"air", "ground"}:
            msg = "temperature_factors: need exactly one air and one ground table"
            raise ValueError(msg)
        names = [g.arrangement for g in self.grouping_factors]
        if len(names) != len(set(names)):
            msg = "grouping_factors: arrangement names must be unique"
            raise ValueError(msg)
        return self

    @property
    def methods(self) -> tuple[str, ...]:
        """Installation methods with at least one base-capacity table."""
        out: list[str] = []
        for tab in self.base_capacity:
            out.extend(m for m in tab.methods if m not in out)
        return tuple(out)

    def base_table(self, method: str, insulation: str, loaded_conductors: int) -> BaseCapacityTable:
        """The table holding the (method, insulation, loaded conductors) column."""
        for tab in self.base_capacity:
            if (
                method in tab.methods
                and tab.insulation == insulation
                and tab.loaded_conductors == loaded_conductors
            ):
                return tab
        msg = (
            f"no base-capacity table for method {method!r}, insulation {insulation!r}, "
            f"loaded_conductors={loaded_conductors}"
        )
        raise InputError(msg)

    def temperature_table(self, medium: str) -> TemperatureFactorTable:
        """The ambient-temperature table of ``medium`` ('air' or 'ground')."""
        return next(t for t in self.temperature_factors if t.medium == medium)


def load_cable_rating_data(path: str | Path) -> CableRatingData:
    """Load and validate a cable-rating data file.

    Parameters
    ----------
    path : str or Path
        YAML or TOML file with the layout of the built-in ``iec_60364_5_52.yaml``.

    Raises
    ------
    InputError
        The file cannot be read or does not validate (file, field and reason named).
    """
    return load_validated(path, CableRatingData)


@cache
def cable_rating_data() -> CableRatingData:
    """The built-in IEC 60364-5-52:2009 copper tables (cached)."""
    return load_cable_rating_data(Path(__file__).with_name("data") / _DATA_FILE)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RatingFactor:
    """One correction factor applied to the base capacity.

    Attributes
    ----------
    name : str
        ``ambient_air_temperature``, ``ground_temperature``, ``soil_resistivity``,
        ``grouping`` or ``harmonics``.
    value : float
        Multiplier [dimensionless].
    table : str
        Table of IEC 60364-5-52:2009 it comes from (e.g. ``B.52.14``).
    verification : str
        Verification level of that table's transcription.
    note : str
        How the value was obtained (formula, exact cell, conservative neighbour, ...).
    """

    name: str
    value: float
    table: str
    verification: str
    note: str


@dataclass(frozen=True)
class CableRating:
    """Permissible current of one cable and how it was obtained.

    Attributes
    ----------
    i_z_a : float
        Corrected permissible (phase) current I_z [A].
    base_a : float
        Base capacity I_z0 from the table, or the cable's own rating [A].
    base_table : str
        Table of the base value (``B.52.4``), or ``rated_current_a``.
    base_verification : str
        Verification level of the base value (``supplied`` for a cable's own rating).
    factors : tuple of RatingFactor
        Correction factors in the order applied.
    size_mm2, method, insulation, loaded_conductors, material
        The cable as requested (size [mm²]).
    sizing_basis : {'phase', 'neutral'}
        ``neutral`` when triplen harmonics make the neutral current size the cable (Annex E);
        ``i_z_a`` is then the phase current at which the neutral reaches its capacity.
    standard : str
        Standard and edition of the tables, or ``cable's own rating``.
    """

    i_z_a: float
    base_a: float
    base_table: str
    base_verification: str
    factors: tuple[RatingFactor, ...]
    size_mm2: float
    method: str
    insulation: str
    loaded_conductors: int
    material: str
    sizing_basis: Literal["phase", "neutral"]
    standard: str

    @property
    def total_factor(self) -> float:
        """Product of all correction factors [dimensionless]."""
        return math.prod(f.value for f in self.factors)

    @property
    def verification(self) -> str:
        """The weakest verification level among the base value and the factors."""
        levels = [self.base_verification, *(f.verification for f in self.factors)]
        known = [lv for lv in levels if lv in VERIFICATION_ORDER]
        if not known:
            return self.base_verification
        return max(known, key=VERIFICATION_ORDER.index)

    def describe(self) -> str:
        """Human-readable breakdown, one line per term."""
        lines = [f"I_z0 = {self.base_a:g} A ({self.base_table}, {self.base_verification})"]
        lines += [
            f"  × {f.value:.4f} {f.name} ({f.table}, {f.verification}): {f.note}"
            for f in self.factors
        ]
        lines.append(
            f"I_z = {self.i_z_a:.1f} A [{self.sizing_basis} basis; "
            f"weakest verification: {self.verification}]"
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------- factors


def _fmt(values: object) -> str:
    if isinstance(values, (list, tuple)):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    return str(values)


def _check_choice(
    field: str, value: object, allowed: tuple[str, ...] | list[str], hint: str = ""
) -> str:
    if not isinstance(value, str) or value not in allowed:
        msg = f"{field}={value!r} is not allowed; use one of: {_fmt(list(allowed))}{hint}"
        raise InputError(msg)
    return value


def temperature_factor(
    temperature_c: float, *, insulation: str, medium: Literal["air", "ground"]
) -> RatingFactor:
    """Ambient temperature correction factor (IEC 60364-5-52:2009 Tables B.52.14 / B.52.15).

    ``k = sqrt((θmax - θ) / (θmax - θref))`` with θmax = 70 °C (PVC) or 90 °C (XLPE/EPR)
    and θref = 30 °C in air or 20 °C in the ground. Tabulated values equal this formula to
    two decimals; it is used for every temperature within the tabulated range.

    Parameters
    ----------
    temperature_c : float
        Ambient air or ground temperature θ [°C].
    insulation : {'PVC', 'XLPE'}
        Insulation (sets θmax).
    medium : {'air', 'ground'}
        Which table and reference temperature apply.

    Returns
    -------
    RatingFactor
        The factor with its table and verification.

    Raises
    ------
    InputError
        Unknown insulation, or a temperature outside the tabulated range.
    """
    data = cable_rating_data()
    tab = data.temperature_table(medium)
    _check_choice("insulation", insulation, list(tab.values))
    theta_max = 70.0 if insulation == "PVC" else 90.0
    points = sorted(tab.values[insulation])  # type: ignore[index]
    field = "ambient_c" if medium == "air" else "ground_c"
    if not (isinstance(temperature_c, (int, float)) and math.isfinite(temperature_c)):
        msg = f"{field}={temperature_c!r} must be a finite temperature in °C"
        raise InputError(msg)
    if not points[0] <= temperature_c <= points[-1]:
        msg = (
            f"{field}={temperature_c:g} °C is outside Table {tab.table} for {insulation} "
            f"({points[0]:g} to {points[-1]:g} °C); the standard gives no factor there"
        )
        raise InputError(msg)
    value = math.sqrt((theta_max - temperature_c) / (theta_max - tab.reference_c))
    note = (
        f"sqrt(({theta_max:g} - {temperature_c:g})/({theta_max:g} - {tab.reference_c:g})) "
        f"at {temperature_c:g} °C"
    )
    name = "ambient_air_temperature" if medium == "air" else "ground_temperature"
    return RatingFactor(name, value, tab.table, tab.verification, note)


def _soil_factor(data: CableRatingData, method: str, soil_k_m_per_w: float) -> RatingFactor:
    tab = data.soil_resistivity_factors
    if method not in _GROUND_METHODS:
        msg = (
            f"soil_k_m_per_w applies to cables in the ground (methods D1, D2) only, not to "
            f"method {method!r}; omit it"
        )
        raise InputError(msg)
    if method in tab.not_transcribed:
        msg = (
            f"soil_k_m_per_w: no factor for method {method}: {tab.not_transcribed[method]}; "
            f"omit soil_k_m_per_w (reference {tab.reference_k_m_per_w:g} K·m/W) or supply "
            "the cable's own rating as rated_current_a"
        )
        raise InputError(msg)
    row = tab.rows[method]
    match = [r for r in row if math.isclose(r, soil_k_m_per_w, rel_tol=0, abs_tol=1e-9)]
    if not match:
        msg = (
            f"soil_k_m_per_w={soil_k_m_per_w!r} is not tabulated in {tab.table} for method "
            f"{method}; use one of: {_fmt(sorted(row))} K·m/W (take the next higher value "
            "for a conservative rating)"
        )
        raise InputError(msg)
    value = row[match[0]]
    return RatingFactor(
        "soil_resistivity", value, tab.table, tab.verification, f"{match[0]:g} K·m/W, {method} row"
    )


def _grouping_factor(
    data: CableRatingData, method: str, n_grouped: int, arrangement: str | None
) -> RatingFactor | None:
    if isinstance(n_grouped, bool) or not isinstance(n_grouped, (int, np.integer)) or n_grouped < 1:
        msg = f"n_grouped={n_grouped!r} must be a whole number of circuits >= 1"
        raise InputError(msg)
    allowed = [g.arrangement for g in data.grouping_factors if method in g.applies_to]
    if n_grouped == 1:
        if arrangement is not None:
            _check_choice("arrangement", arrangement, allowed, f" (for method {method})")
        return None
    if arrangement is None:
        msg = (
            f"arrangement is required when n_grouped={n_grouped} > 1; for method {method} "
            f"use one of: {_fmt(allowed)}"
        )
        raise InputError(msg)
    _check_choice("arrangement", arrangement, allowed, f" (for method {method})")
    tab = next(g for g in data.grouping_factors if g.arrangement == arrangement)
    ns = sorted(tab.values)
    n = int(n_grouped)
    if n in tab.values:
        return RatingFactor(
            "grouping", tab.values[n], tab.table, tab.verification, f"{arrangement}, n = {n}"
        )
    if n > ns[-1]:
        if tab.beyond_last == "constant":
            return RatingFactor(
                "grouping",
                tab.values[ns[-1]],
                tab.table,
                tab.verification,
                f"{arrangement}, n = {n}: no further reduction beyond "
                f"{ns[-1]} circuits in this arrangement",
            )
        msg = (
            f"n_grouped={n} exceeds Table {tab.table} ({arrangement}: up to {ns[-1]} "
            "circuits); split the group or supply the cable's own rating as rated_current_a"
        )
        raise InputError(msg)
    upper = next(m for m in ns if m > n)
    return RatingFactor(
        "grouping",
        tab.values[upper],
        tab.table,
        tab.verification,
        f"{arrangement}, n = {n} not tabulated: factor of n = {upper} (next higher, conservative)",
    )


def _harmonic_factor(
    data: CableRatingData, loaded_conductors: int, third_harmonic_percent: float
) -> tuple[RatingFactor, Literal["phase", "neutral"]]:
    tab = data.harmonic_factors
    h = third_harmonic_percent
    if not (isinstance(h, (int, float)) and math.isfinite(h) and 0 <= h <= 100):
        msg = f"third_harmonic_percent={h!r} must be between 0 and 100 (% of phase current)"
        raise InputError(msg)
    if loaded_conductors != 3:
        msg = (
            "third_harmonic_percent applies to 4- and 5-core cables in three-phase circuits "
            f"(loaded_conductors=3), not loaded_conductors={loaded_conductors}"
        )
        raise InputError(msg)
    band = next(b for b in tab.bands if h <= b.up_to_percent)
    span = f"{band.above_percent:g}-{band.up_to_percent:g} % band"
    if band.basis == "phase":
        return RatingFactor(
            "harmonics",
            band.factor,
            tab.table,
            tab.verification,
            f"{h:g} % third harmonic: {span}, sized on phase current",
        ), "phase"
    # The neutral carries I_N = 3 · h · I_phase; the cable is sized on I_N with the factor.
    # Express the result as the phase current at which the neutral reaches its capacity.
    value = band.factor / (3.0 * h / 100.0)
    note = (
        f"{h:g} % third harmonic: {span}, sized on neutral current "
        f"I_N = 3·{h / 100:g}·I_phase; factor {band.factor:g} / {3 * h / 100:g}"
    )
    return RatingFactor("harmonics", value, tab.table, tab.verification, note), "neutral"


# --------------------------------------------------------------------------- main API


def permissible_current_a(
    size_mm2: float,
    *,
    method: str,
    insulation: str,
    loaded_conductors: int,
    material: str = "Cu",
    ambient_c: float | None = None,
    ground_c: float | None = None,
    soil_k_m_per_w: float | None = None,
    n_grouped: int = 1,
    arrangement: str | None = None,
    third_harmonic_percent: float | None = None,
    rated_current_a: float | None = None,
) -> CableRating:
    """Permissible continuous current I_z of a copper cable (IEC 60364-5-52:2009 Annex B).

    Parameters
    ----------
    size_mm2 : float
        Conductor cross-section [mm²]; must be a tabulated size (no interpolation).
    method : str
        Reference installation method: ``A1, A2, B1, B2, C, D1, D2`` (Tables B.52.2-B.52.5)
        or ``E`` (multi-core cable in free air, perforated tray).
    insulation : {'PVC', 'XLPE'}
        PVC (70 °C) or XLPE/EPR (90 °C).
    loaded_conductors : {2, 3}
        Number of loaded conductors (2 = single-phase, 3 = three-phase).
    material : {'Cu'}
        Conductor material. Aluminium is refused: its tables were not transcribed.
    ambient_c : float, optional
        Air temperature [°C] for in-air methods; reference 30 °C (Table B.52.14).
    ground_c : float, optional
        Ground temperature [°C] for methods D1/D2; reference 20 °C (Table B.52.15).
    soil_k_m_per_w : float, optional
        Soil thermal resistivity [K·m/W] for method D1; reference 2.5 (Table B.52.16).
    n_grouped : int
        Number of circuits or multi-core cables in the group (1 = alone).
    arrangement : str, optional
        Group arrangement, required when ``n_grouped > 1``: ``bunched``,
        ``single_layer_wall``, ``single_layer_perforated_tray``, ``single_layer_ladder``
        (in air, Table B.52.17), ``ground_direct_touching`` (D2, Table B.52.18),
        ``ground_ducts_touching`` (D1, Table B.52.19).
    third_harmonic_percent : float, optional
        Third-harmonic content of the phase current [%] of a 4/5-core cable (Annex E).
    rated_current_a : float, optional
        The cable's own rating [A] (manufacturer, PUE, GOST 31996 ...). It bypasses the
        tables and is returned as I_z unchanged; no correction argument may be given with it
        because its reference conditions are unknown here.

    Returns
    -------
    CableRating
        ``i_z_a`` and the breakdown (base value, each factor with its table).

    Raises
    ------
    InputError
        An argument is outside the tables; the message names the field and the allowed
        values.
    """
    data = cable_rating_data()
    if rated_current_a is not None:
        return _own_rating(
            size_mm2,
            method,
            insulation,
            loaded_conductors,
            material,
            rated_current_a,
            ambient_c=ambient_c,
            ground_c=ground_c,
            soil_k_m_per_w=soil_k_m_per_w,
            n_grouped=n_grouped,
            third_harmonic_percent=third_harmonic_percent,
        )

    if material in data.materials_not_transcribed:
        msg = (
            f"material={material!r}: {data.materials_not_transcribed[material]}; supply the "
            "cable's own rating as rated_current_a (manufacturer data or the official "
            "GOST R 50571.5.52-2011 table)"
        )
        raise InputError(msg)
    _check_choice(
        "material",
        material,
        data.materials_available,
        f" (not transcribed: {_fmt(list(data.materials_not_transcribed))})",
    )
    _check_choice("method", method, data.methods)
    _check_choice("insulation", insulation, ["PVC", "XLPE"], " (EPR is rated as XLPE)")
    if loaded_conductors not in (2, 3) or isinstance(loaded_conductors, bool):
        msg = f"loaded_conductors={loaded_conductors!r} is not allowed; use one of: 2, 3"
        raise InputError(msg)

    tab = data.base_table(method, insulation, loaded_conductors)
    sizes = sorted(tab.rows)
    if (
        not isinstance(size_mm2, (int, float))
        or isinstance(size_mm2, bool)
        or float(size_mm2) not in tab.rows
    ):
        msg = (
            f"size_mm2={size_mm2!r} is not in Table {tab.table} for method {method} "
            f"({insulation}, {loaded_conductors} loaded); available sizes: {_fmt(sizes)} "
            "mm² (sizes are never interpolated)"
        )
        raise InputError(msg)
    base = tab.rows[float(size_mm2)][tab.methods.index(method)]
    factors: list[RatingFactor] = []

    in_ground = method in _GROUND_METHODS
    if in_ground and ambient_c is not None:
        msg = (
            f"ambient_c is the air temperature for in-air methods; method {method} is in "
            "the ground: give ground_c instead"
        )
        raise InputError(msg)
    if not in_ground and ground_c is not None:
        msg = (
            f"ground_c applies to methods D1 and D2 only; method {method} is in air: give "
            "ambient_c instead"
        )
        raise InputError(msg)
    if ambient_c is not None:
        factors.append(temperature_factor(ambient_c, insulation=insulation, medium="air"))
    if ground_c is not None:
        factors.append(temperature_factor(ground_c, insulation=insulation, medium="ground"))
    if soil_k_m_per_w is not None:
        factors.append(_soil_factor(data, method, soil_k_m_per_w))
    group = _grouping_factor(data, method, n_grouped, arrangement)
    if group is not None:
        factors.append(group)
    basis: Literal["phase", "neutral"] = "phase"
    if third_harmonic_percent is not None:
        harm, basis = _harmonic_factor(data, loaded_conductors, third_harmonic_percent)
        factors.append(harm)

    i_z = base * math.prod(f.value for f in factors)
    return CableRating(
        i_z_a=i_z,
        base_a=base,
        base_table=tab.table,
        base_verification=tab.method_verification(method),
        factors=tuple(factors),
        size_mm2=float(size_mm2),
        method=method,
        insulation=insulation,
        loaded_conductors=int(loaded_conductors),
        material=material,
        sizing_basis=basis,
        standard=f"{data.standard} / {data.national_equivalent}",
    )


def _own_rating(
    size_mm2: float,
    method: str,
    insulation: str,
    loaded_conductors: int,
    material: str,
    rated_current_a: float,
    **conditions: object,
) -> CableRating:
    if not (
        isinstance(rated_current_a, (int, float))
        and math.isfinite(rated_current_a)
        and rated_current_a > 0
    ):
        msg = f"rated_current_a={rated_current_a!r} must be a positive current in A"
        raise InputError(msg)
    given = sorted(
        k for k, v in conditions.items() if v is not None and not (k == "n_grouped" and v == 1)
    )
    if given:
        msg = (
            f"rated_current_a is used as the final permissible current at its own reference "
            f"conditions; remove {', '.join(given)} (apply your own derating to "
            "rated_current_a instead)"
        )
        raise InputError(msg)
    return CableRating(
        i_z_a=float(rated_current_a),
        base_a=float(rated_current_a),
        base_table="rated_current_a",
        base_verification="supplied",
        factors=(),
        size_mm2=float(size_mm2),
        method=method,
        insulation=insulation,
        loaded_conductors=int(loaded_conductors),
        material=material,
        sizing_basis="phase",
        standard="cable's own rating",
    )


# --------------------------------------------------------------------------- loading


def loading_ratio(i_a: npt.ArrayLike, i_z_a: npt.ArrayLike) -> FloatArray:
    """Loading I_b / I_z, vectorised (research note §5.4).

    Parameters
    ----------
    i_a : array_like
        Current magnitudes [A], any shape; for a matrix the rows are cables, shape
        ``(n_cables, n_steps)``. ``NaN`` (a gap) is kept as ``NaN``.
    i_z_a : array_like
        Permissible currents [A]: a scalar, one per cable ``(n_cables,)`` for a matrix
        ``i_a``, or any shape that broadcasts against ``i_a``.

    Returns
    -------
    numpy.ndarray
        Loading ratio [dimensionless], the broadcast shape.

    Raises
    ------
    InputError
        A non-positive or non-finite I_z, or shapes that do not broadcast.
    DataQualityError
        A negative current.
    """
    i = np.asarray(i_a, dtype=np.float64)
    z = np.asarray(i_z_a, dtype=np.float64)
    if i.ndim == 2 and z.ndim == 1:
        if z.shape[0] != i.shape[0]:
            msg = (
                f"i_z_a has {z.shape[0]} values but i_a has {i.shape[0]} cables (rows); give "
                "one permissible current per cable"
            )
            raise InputError(msg)
        z = z[:, None]
    if not np.all(np.isfinite(z)) or np.any(z <= 0):
        bad = np.flatnonzero(~(np.isfinite(z) & (z > 0)).ravel())
        msg = f"i_z_a must be positive and finite [A]; bad at position(s) {bad[:10].tolist()}"
        raise InputError(msg)
    negative = np.argwhere(i < 0)
    if negative.size:
        msg = (
            f"i_a has negative current(s), first at index {tuple(negative[0].tolist())}; "
            "give current magnitudes [A]"
        )
        raise DataQualityError(msg)
    try:
        return np.asarray(i / z, dtype=np.float64)
    except ValueError as exc:
        msg = f"i_a shape {i.shape} and i_z_a shape {z.shape} do not broadcast"
        raise InputError(msg) from exc


@dataclass(frozen=True)
class CableLoadingCheck:
    """Loading of many cables over a time series.

    Attributes
    ----------
    max_ratio : numpy.ndarray, shape (n_cables,)
        Highest I/I_z [dimensionless]; ``NaN`` when a cable has no data.
    hours_above_limit : numpy.ndarray, shape (n_cables,)
        Time with I/I_z > 1.0 [h].
    hours_above_warn : numpy.ndarray, shape (n_cables,)
        Time with I/I_z > ``warn_ratio`` [h] (includes the time above 1.0).
    first_above_limit_step, first_above_warn_step : numpy.ndarray, shape (n_cables,)
        Index of the first interval above the limit / warning level, -1 if none.
    first_above_limit_utc, first_above_warn_utc : pandas.DatetimeIndex or None
        Start (UTC) of that interval, ``NaT`` if none; ``None`` without ``time_utc``.
    n_missing : numpy.ndarray, shape (n_cables,)
        Intervals without data (``NaN``); they count neither way.
    status : numpy.ndarray of str, shape (n_cables,)
        ``alarm`` (above 1.0 at least once), ``warning`` (above warn only) or ``ok``.
    warn_ratio : float
        The warning level used [dimensionless].
    step_h : float
        Interval length [h].
    """

    max_ratio: FloatArray
    hours_above_limit: FloatArray
    hours_above_warn: FloatArray
    first_above_limit_step: IntArray
    first_above_warn_step: IntArray
    first_above_limit_utc: pd.DatetimeIndex | None
    first_above_warn_utc: pd.DatetimeIndex | None
    n_missing: IntArray
    status: npt.NDArray[np.str_]
    warn_ratio: float
    step_h: float


def _step_hours(n_steps: int, time_utc: pd.DatetimeIndex | None, step_h: float | None) -> float:
    if time_utc is None:
        if step_h is None:
            msg = "give time_utc (interval starts) or step_h (interval length in hours)"
            raise InputError(msg)
        if not (math.isfinite(step_h) and step_h > 0):
            msg = f"step_h={step_h!r} must be a positive number of hours"
            raise InputError(msg)
        return float(step_h)
    idx = pd.DatetimeIndex(time_utc)
    if idx.tz is None:
        msg = "time_utc must be tz-aware (UTC interval starts)"
        raise InputError(msg)
    if len(idx) != n_steps:
        msg = f"time_utc has {len(idx)} timestamps for {n_steps} intervals (columns)"
        raise InputError(msg)
    if n_steps < 2:
        if step_h is None:
            msg = "a single timestamp does not define the interval length; also give step_h"
            raise InputError(msg)
        return _step_hours(n_steps, None, step_h)
    diffs = np.diff(utc_ns(idx))
    if np.any(diffs <= 0) or np.any(diffs != diffs[0]):
        bad = int(np.flatnonzero((diffs <= 0) | (diffs != diffs[0]))[0]) + 1
        msg = f"time_utc is not a regular increasing axis (first irregular step at {idx[bad]})"
        raise DataQualityError(msg)
    hours = float(diffs[0]) / 3.6e12
    if step_h is not None and not math.isclose(step_h, hours, rel_tol=1e-9):
        msg = f"step_h={step_h!r} disagrees with time_utc ({hours:g} h); give only one"
        raise InputError(msg)
    return hours


def _first_true(mask: npt.NDArray[np.bool_]) -> IntArray:
    has = mask.any(axis=1)
    return np.where(has, mask.argmax(axis=1), -1).astype(np.int64)


def cable_loading_check(
    i_a_matrix: npt.ArrayLike,
    i_z_a: npt.ArrayLike,
    warn_ratio: float = 0.9,
    *,
    time_utc: pd.DatetimeIndex | None = None,
    step_h: float | None = None,
) -> CableLoadingCheck:
    """Check many cables' currents against their permissible currents.

    Parameters
    ----------
    i_a_matrix : array_like, shape (n_cables, n_steps)
        Current per cable and interval [A] (measured or forecast, e.g. 10-min or hourly
        maxima); ``NaN`` marks a gap.
    i_z_a : array_like, shape (n_cables,) or scalar
        Permissible current per cable [A] (``CableRating.i_z_a``).
    warn_ratio : float
        Warning level of I/I_z, project policy (the research note suggests 0.8-0.9).
    time_utc : pandas.DatetimeIndex, optional
        tz-aware interval starts (regular); gives the interval length and the first times.
    step_h : float, optional
        Interval length [h] when ``time_utc`` is not given.

    Returns
    -------
    CableLoadingCheck
        Per cable: maximum ratio, hours above 1.0 and above ``warn_ratio``, first time.

    Raises
    ------
    InputError
        Bad shapes, warn level or time axis.
    DataQualityError
        Negative currents or an irregular time axis.
    """
    i = np.asarray(i_a_matrix, dtype=np.float64)
    if i.ndim != 2:
        msg = f"i_a_matrix must be 2-D (n_cables, n_steps), got shape {i.shape}"
        raise InputError(msg)
    if not (isinstance(warn_ratio, (int, float)) and 0 < warn_ratio <= 1):
        msg = f"warn_ratio={warn_ratio!r} must be in (0, 1]"
        raise InputError(msg)
    hours = _step_hours(i.shape[1], time_utc, step_h)
    z = np.asarray(i_z_a, dtype=np.float64)
    if z.ndim == 0:
        z = np.full(i.shape[0], float(z))
    ratio = loading_ratio(i, z)
    missing = np.isnan(ratio)
    filled = np.where(missing, -np.inf, ratio)
    max_ratio = filled.max(axis=1, initial=-np.inf)
    max_ratio = np.where(missing.all(axis=1), np.nan, max_ratio)
    above = np.where(missing, False, ratio > 1.0)
    warn = np.where(missing, False, ratio > warn_ratio)
    first_limit = _first_true(above)
    first_warn = _first_true(warn)
    limit_utc = warn_utc = None
    if time_utc is not None:
        idx = pd.DatetimeIndex(time_utc).tz_convert("UTC")
        nat = pd.NaT

        def at(steps: IntArray) -> pd.DatetimeIndex:
            return pd.DatetimeIndex([idx[s] if s >= 0 else nat for s in steps.tolist()], tz="UTC")

        limit_utc, warn_utc = at(first_limit), at(first_warn)
    status = np.where(above.any(axis=1), "alarm", np.where(warn.any(axis=1), "warning", "ok"))
    return CableLoadingCheck(
        max_ratio=max_ratio.astype(np.float64),
        hours_above_limit=above.sum(axis=1) * hours,
        hours_above_warn=warn.sum(axis=1) * hours,
        first_above_limit_step=first_limit,
        first_above_warn_step=first_warn,
        first_above_limit_utc=limit_utc,
        first_above_warn_utc=warn_utc,
        n_missing=missing.sum(axis=1).astype(np.int64),
        status=status.astype(np.str_),
        warn_ratio=float(warn_ratio),
        step_h=hours,
    )
