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
- Copper: every table. Aluminium: three loaded conductors only (Tables B.52.4 / B.52.5,
  16-240 mm², transcribed from memory, marked so in every result). For other aluminium
  cables (or any cable with a known rating) pass ``rated_current_a``.

The data schema and loader live in :mod:`gridtwin.network._cable_data`, the loading
check (:func:`loading_ratio`, :func:`cable_loading_check`) in
:mod:`gridtwin.network._cable_loading`; their names are re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gridtwin.errors import InputError
from gridtwin.network._cable_data import (
    VERIFICATION_ORDER,
    BaseCapacityTable,
    CableRatingData,
    cable_rating_data,
    load_cable_rating_data,
)
from gridtwin.network._cable_data import GroupingFactorTable as GroupingFactorTable
from gridtwin.network._cable_data import HarmonicBand as HarmonicBand
from gridtwin.network._cable_data import HarmonicFactorTable as HarmonicFactorTable
from gridtwin.network._cable_data import Insulation as Insulation
from gridtwin.network._cable_data import SoilFactorTable as SoilFactorTable
from gridtwin.network._cable_data import TemperatureFactorTable as TemperatureFactorTable
from gridtwin.network._cable_data import Verification as Verification
from gridtwin.network._cable_loading import CableLoadingCheck, cable_loading_check, loading_ratio

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

_GROUND_METHODS = frozenset({"D1", "D2"})


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
    """Permissible continuous current I_z of a cable (IEC 60364-5-52:2009 Annex B).

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
    material : {'Cu', 'Al'}
        Conductor material. Aluminium only with three loaded conductors (B.52.4 / B.52.5).
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
    _check_cable(data, material, method, insulation, loaded_conductors)
    tab = data.base_table(method, insulation, loaded_conductors, material)
    base = _base_capacity(tab, size_mm2, method, insulation, loaded_conductors)
    conditions = _Conditions(
        ambient_c, ground_c, soil_k_m_per_w, n_grouped, arrangement, third_harmonic_percent
    )
    factors, basis = _correction_factors(data, method, insulation, loaded_conductors, conditions)
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


@dataclass(frozen=True)
class _Conditions:
    """The installation conditions of :func:`permissible_current_a` (None: reference)."""

    ambient_c: float | None
    ground_c: float | None
    soil_k_m_per_w: float | None
    n_grouped: int
    arrangement: str | None
    third_harmonic_percent: float | None


def _check_cable(
    data: CableRatingData, material: str, method: str, insulation: str, loaded_conductors: int
) -> None:
    """Refuse a material, method, insulation or number of loaded conductors not tabulated."""
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


def _base_capacity(
    tab: BaseCapacityTable, size_mm2: float, method: str, insulation: str, loaded_conductors: int
) -> float:
    """The tabulated base capacity I_z0 [A] of a size (sizes are never interpolated)."""
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
    return tab.rows[float(size_mm2)][tab.methods.index(method)]


def _correction_factors(
    data: CableRatingData,
    method: str,
    insulation: str,
    loaded_conductors: int,
    conditions: _Conditions,
) -> tuple[list[RatingFactor], Literal["phase", "neutral"]]:
    """The correction factors of the conditions, in the order applied, and the sizing basis."""
    c = conditions
    factors: list[RatingFactor] = []
    in_ground = method in _GROUND_METHODS
    if in_ground and c.ambient_c is not None:
        msg = (
            f"ambient_c is the air temperature for in-air methods; method {method} is in "
            "the ground: give ground_c instead"
        )
        raise InputError(msg)
    if not in_ground and c.ground_c is not None:
        msg = (
            f"ground_c applies to methods D1 and D2 only; method {method} is in air: give "
            "ambient_c instead"
        )
        raise InputError(msg)
    if c.ambient_c is not None:
        factors.append(temperature_factor(c.ambient_c, insulation=insulation, medium="air"))
    if c.ground_c is not None:
        factors.append(temperature_factor(c.ground_c, insulation=insulation, medium="ground"))
    if c.soil_k_m_per_w is not None:
        factors.append(_soil_factor(data, method, c.soil_k_m_per_w))
    group = _grouping_factor(data, method, c.n_grouped, c.arrangement)
    if group is not None:
        factors.append(group)
    basis: Literal["phase", "neutral"] = "phase"
    if c.third_harmonic_percent is not None:
        harm, basis = _harmonic_factor(data, loaded_conductors, c.third_harmonic_percent)
        factors.append(harm)
    return factors, basis


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
