"""Sums over territorial units (cl. 4.4): one row per unit and partial-sum warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gridtwin.errors import InputError
from gridtwin.heatnet._results import ComingYearResult, PastYearResult


@dataclass(frozen=True)
class UnitTotals:
    """One territorial unit's absolute amounts (cl. 4.4) [kWh]."""

    territorial_unit: str
    past_normative_energy_kwh: float | None
    past_metered_energy_kwh: float | None
    coming_normative_energy_kwh: float | None


@dataclass(frozen=True)
class TerritorialTotals:
    """Sums over territorial units (cl. 4.4) [kWh]; a missing amount makes a sum partial."""

    units: tuple[UnitTotals, ...]
    total_past_normative_energy_kwh: float | None
    total_past_metered_energy_kwh: float | None
    total_coming_normative_energy_kwh: float | None
    warnings: tuple[str, ...] = field(default=())


def territorial_totals(
    units: Sequence[tuple[str, PastYearResult | None, ComingYearResult | None]],
) -> TerritorialTotals:
    """Sum absolute amounts over territorial units (cl. 4.4) [kWh].

    Parameters
    ----------
    units : sequence of (name, past-year result or None, coming-year result or None)

    Raises
    ------
    InputError
        Two units with the same name.
    """
    seen: set[str] = set()
    rows = []
    warnings = []
    for name, past, coming in units:
        if name in seen:
            msg = (
                f"territorial unit {name!r} appears twice; give each input file its own "
                f"territorial_unit"
            )
            raise InputError(msg)
        seen.add(name)
        metered = None
        if past is not None and past.total_metered_energy_kwh is not None:
            metered = past.total_metered_energy_kwh
            if past.metered_station_count < len(past.stations):
                warnings.append(
                    f"{name}: metered energy covers {past.metered_station_count} of "
                    f"{len(past.stations)} stations"
                )
        rows.append(
            UnitTotals(
                name,
                None if past is None else past.total_normative_energy_kwh,
                metered,
                None if coming is None else coming.total_normative_energy_kwh,
            )
        )

    def total(values: list[float | None], label: str) -> float | None:
        present: list[float] = [v for v in values if v is not None]
        if not present:
            return None
        if len(present) < len(values):
            warnings.append(
                f"{label}: {len(values) - len(present)} unit(s) without a value; the sum is partial"
            )
        return float(sum(present))

    return TerritorialTotals(
        tuple(rows),
        total([r.past_normative_energy_kwh for r in rows], "past normative"),
        total([r.past_metered_energy_kwh for r in rows], "past metered"),
        total([r.coming_normative_energy_kwh for r in rows], "coming normative"),
        tuple(warnings),
    )
