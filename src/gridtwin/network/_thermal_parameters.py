"""Thermal characteristics of oil-immersed transformers (IEC 60076-7:2018).

:class:`ThermalParameters` holds the characteristics of one transformer (oil and winding
exponents, time constants, rises and gradients); the recommended values per cooling mode
are data (``data/iec_60076_7_thermal.yaml``, validated as :class:`ThermalTable`, with a
verification level per row) and :func:`thermal_parameters` reads one mode. The thermal
model that uses them is :mod:`gridtwin.network.ageing`, which re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError

__all__ = [
    "ThermalParameters",
    "ThermalTable",
    "cooling_modes",
    "load_thermal_table",
    "thermal_parameters",
    "thermal_table",
]

_DATA_FILE = "iec_60076_7_thermal.yaml"


@dataclass(frozen=True)
class ThermalParameters:
    """Thermal characteristics of one transformer (IEC 60076-7 symbols in brackets).

    Attributes
    ----------
    top_oil_rise_k : float
        Top-oil temperature rise at rated losses, steady state (Δθor) [K].
    hot_spot_factor : float
        Hot-spot factor (H) [dimensionless].
    winding_gradient_k : float
        Average-winding-to-average-oil gradient at rated current (gr) [K].
    loss_ratio : float
        Load losses at rated current / no-load losses (R) [dimensionless].
    oil_exponent : float
        Oil exponent (x) [dimensionless].
    winding_exponent : float
        Winding exponent (y) [dimensionless].
    k11, k21, k22 : float
        Thermal model constants [dimensionless]; ``k21 >= 1``.
    oil_time_constant_min : float
        Average oil time constant (τo) [min].
    winding_time_constant_min : float
        Winding time constant (τw) [min].
    cooling : str
        Label (cooling mode of the table, or ``custom``).
    source : str
        Where the values come from, printed with results.
    """

    top_oil_rise_k: float
    hot_spot_factor: float
    winding_gradient_k: float
    loss_ratio: float
    oil_exponent: float
    winding_exponent: float
    k11: float
    k21: float
    k22: float
    oil_time_constant_min: float
    winding_time_constant_min: float
    cooling: str = "custom"
    source: str = "user"

    def __post_init__(self) -> None:
        positive = (
            "top_oil_rise_k",
            "hot_spot_factor",
            "oil_exponent",
            "winding_exponent",
            "k11",
            "k21",
            "k22",
            "oil_time_constant_min",
            "winding_time_constant_min",
        )
        non_negative = ("winding_gradient_k", "loss_ratio")
        for name in (*positive, *non_negative):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                msg = f"ThermalParameters.{name}={value!r} must be a finite number"
                raise InputError(msg)
            if name in positive and value <= 0:
                msg = f"ThermalParameters.{name}={value!r} must be > 0"
                raise InputError(msg)
            if value < 0:
                msg = f"ThermalParameters.{name}={value!r} must be >= 0"
                raise InputError(msg)
        if self.k21 < 1:
            msg = (
                f"ThermalParameters.k21={self.k21!r} must be >= 1 (k21 - 1 scales the "
                "oil-flow term of the hot-spot gradient)"
            )
            raise InputError(msg)

    @property
    def hot_spot_gradient_k(self) -> float:
        """Hot-spot-to-top-oil gradient at rated current H·gr (Δθhr) [K]."""
        return self.hot_spot_factor * self.winding_gradient_k

    @property
    def time_constants_min(self) -> tuple[float, float, float]:
        """Time constants of the three equations: k11·τo, k22·τw, τo/k22 [min]."""
        return (
            self.k11 * self.oil_time_constant_min,
            self.k22 * self.winding_time_constant_min,
            self.oil_time_constant_min / self.k22,
        )

    def rated_hot_spot_c(self, ambient_c: float = 20.0) -> float:
        """Steady-state hot spot at K = 1: θa + Δθor + H·gr [°C]."""
        return ambient_c + self.top_oil_rise_k + self.hot_spot_gradient_k


Verification = Literal["vendor_manual", "memory"]


class _Mode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    oil_exponent: float = Field(gt=0)
    winding_exponent: float = Field(gt=0)
    loss_ratio: float = Field(ge=0)
    hot_spot_factor: float = Field(gt=0)
    oil_time_constant_min: float = Field(gt=0)
    winding_time_constant_min: float = Field(gt=0)
    hot_spot_gradient_k: float = Field(ge=0)
    top_oil_rise_k: float = Field(gt=0)
    k11: float = Field(gt=0)
    k21: float = Field(ge=1)
    k22: float = Field(gt=0)


class ThermalTable(BaseModel):
    """The validated data file ``iec_60076_7_thermal.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    standard: str
    table: str
    reference_conditions: dict[str, float]
    verification: dict[str, Verification]
    cooling_modes: dict[str, _Mode] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> ThermalTable:
        fields = set(_Mode.model_fields) - {"description"}
        if set(self.verification) != fields:
            msg = f"verification: needs exactly one level per parameter {sorted(fields)}"
            raise ValueError(msg)
        ambient = self.reference_conditions["ambient_c"]
        hot_spot = self.reference_conditions["hot_spot_c"]
        for name, mode in self.cooling_modes.items():
            rated = ambient + mode.top_oil_rise_k + mode.hot_spot_gradient_k
            if not math.isclose(rated, hot_spot, abs_tol=1e-9):
                msg = (
                    f"cooling_modes.{name}: θa + Δθor + H·gr = {rated:g} °C, but the table's "
                    f"rated hot spot is {hot_spot:g} °C (a transcription error?)"
                )
                raise ValueError(msg)
        return self

    @property
    def weakest_verification(self) -> str:
        """``memory`` if any parameter row rests on memory, else ``vendor_manual``."""
        return "memory" if "memory" in self.verification.values() else "vendor_manual"


def load_thermal_table(path: str | Path) -> ThermalTable:
    """Load and validate a thermal-characteristics file (layout of the built-in one).

    Raises
    ------
    InputError
        The file cannot be read or does not validate (file, field and reason named).
    """
    return load_validated(path, ThermalTable)


@cache
def thermal_table() -> ThermalTable:
    """The built-in IEC 60076-7:2018 table of recommended thermal characteristics (cached)."""
    return load_thermal_table(Path(__file__).with_name("data") / _DATA_FILE)


def cooling_modes() -> tuple[str, ...]:
    """Cooling modes of the built-in table (``distribution_onan``, ``onan``, ``onaf``, ...)."""
    return tuple(thermal_table().cooling_modes)


def thermal_parameters(cooling: str) -> ThermalParameters:
    """Recommended thermal characteristics of one cooling mode (IEC 60076-7:2018 table).

    Parameters
    ----------
    cooling : str
        ``distribution_onan``, ``onan_restricted``, ``onan``, ``onaf_restricted``, ``onaf``,
        ``of_restricted``, ``of`` or ``od``.

    Returns
    -------
    ThermalParameters
        With ``gr = H·gr / H`` derived from the tabulated gradient H·gr.

    Raises
    ------
    InputError
        Unknown cooling mode (the allowed ones are listed).
    """
    table = thermal_table()
    if cooling not in table.cooling_modes:
        msg = (
            f"cooling={cooling!r} is not in the table; use one of: {', '.join(table.cooling_modes)}"
        )
        raise InputError(msg)
    m = table.cooling_modes[cooling]
    memory = sorted(k for k, v in table.verification.items() if v == "memory")
    source = (
        f"{table.standard}, {table.table}, column {cooling} (unverified: "
        f"{', '.join(memory)} from memory)"
    )
    return ThermalParameters(
        top_oil_rise_k=m.top_oil_rise_k,
        hot_spot_factor=m.hot_spot_factor,
        winding_gradient_k=m.hot_spot_gradient_k / m.hot_spot_factor,
        loss_ratio=m.loss_ratio,
        oil_exponent=m.oil_exponent,
        winding_exponent=m.winding_exponent,
        k11=m.k11,
        k21=m.k21,
        k22=m.k22,
        oil_time_constant_min=m.oil_time_constant_min,
        winding_time_constant_min=m.winding_time_constant_min,
        cooling=cooling,
        source=source,
    )
