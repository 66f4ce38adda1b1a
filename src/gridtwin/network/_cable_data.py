"""The IEC 60364-5-52:2009 cable-rating tables as validated data.

The schema of ``data/iec_60364_5_52.yaml`` (base capacities and the temperature, soil,
grouping and harmonic correction factors, each table with the verification level of its
transcription), its loader and the cached built-in file. :mod:`gridtwin.network.ratings`
computes permissible currents from it and re-exports these names.
"""

from __future__ import annotations

import itertools
import math
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError

__all__ = [
    "VERIFICATION_ORDER",
    "BaseCapacityTable",
    "CableRatingData",
    "GroupingFactorTable",
    "HarmonicBand",
    "HarmonicFactorTable",
    "Insulation",
    "SoilFactorTable",
    "TemperatureFactorTable",
    "Verification",
    "cable_rating_data",
    "load_cable_rating_data",
]

Verification = Literal["several_transcriptions", "single_transcription", "memory"]
Insulation = Literal["PVC", "XLPE"]

#: Verification levels from strongest to weakest.
VERIFICATION_ORDER: tuple[str, ...] = ("several_transcriptions", "single_transcription", "memory")
_DATA_FILE = "iec_60364_5_52.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseCapacityTable(_Model):
    """One base-capacity table (or the method-E part of one) of one conductor material."""

    table: str
    material: Literal["Cu", "Al"] = "Cu"
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
        seen: set[tuple[str, str, int, str]] = set()
        for tab in self.base_capacity:
            for method in tab.methods:
                key = (tab.material, tab.insulation, tab.loaded_conductors, method)
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

    def base_table(
        self, method: str, insulation: str, loaded_conductors: int, material: str = "Cu"
    ) -> BaseCapacityTable:
        """The table holding the (material, method, insulation, loaded conductors) column."""
        for tab in self.base_capacity:
            if (
                method in tab.methods
                and tab.material == material
                and tab.insulation == insulation
                and tab.loaded_conductors == loaded_conductors
            ):
                return tab
        have = sorted(
            {
                f"{t.insulation}/{t.loaded_conductors} loaded/{m}"
                for t in self.base_capacity
                if t.material == material
                for m in t.methods
            }
        )
        msg = (
            f"no base-capacity table for material {material!r}, method {method!r}, "
            f"insulation {insulation!r}, loaded_conductors={loaded_conductors}; "
            f"{material} has: {', '.join(have) or 'nothing'} (or supply the cable's own "
            "rating as rated_current_a)"
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
    """The built-in IEC 60364-5-52:2009 tables, copper and aluminium (cached)."""
    return load_cable_rating_data(Path(__file__).with_name("data") / _DATA_FILE)
