"""Steps both workflows share: a station's season hours, head and auxiliaries, and notes.

The past-year and the coming-year workflows read a station's season data the same way:
operating hours (the station's or the section's), the head used in the power formula
(``head_source``), the auxiliaries (Kсн or Эсн), and they collect warnings in
:class:`_Notes` (heads that differ from the curves, characteristics due for revision).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridtwin.errors import InputError
from gridtwin.heatnet.schema import MethodOptions, NormsInput
from gridtwin.heatnet.station import StationPoint


@dataclass
class _Notes:
    """Warnings collected by a workflow (in the order they arise)."""

    warnings: list[str] = field(default_factory=list)

    def head_check(
        self, label: str, given: float | None, point: StationPoint, opts: MethodOptions
    ) -> None:
        """Warn when a given head is ignored or differs from the curves' by too much."""
        if given is None:
            return
        if point.source == "measured":
            self.warnings.append(
                f"{label}: head {given:g} m ignored; the measured "
                f"characteristic gives N(G) directly"
            )
            return
        curve = point.curve_head_m
        if opts.head_source == "curve":
            return
        if curve is not None and abs(given - curve) > opts.head_mismatch_fraction * curve:
            self.warnings.append(
                f"{label}: given head {given:g} m differs from the pump curves' {curve:.1f} m "
                f"by more than {opts.head_mismatch_fraction:.0%}; check the head or the curves"
            )


def _head(given: float | None, opts: MethodOptions) -> float | None:
    """The head [m] for the power formula: the given one (``head_source`` input) or None."""
    return given if opts.head_source == "input" else None


def _revision_warnings(inp: NormsInput, year: int | None) -> list[str]:
    """Warnings for measured characteristics older than five years in ``year`` (cl. 1.2)."""
    out: list[str] = []
    if year is None:
        return out
    for name, spec in inp.stations.items():
        if (
            spec.tested_year is not None
            and spec.measured_characteristic is not None
            and (year - spec.tested_year > 5)
        ):
            out.append(
                f"station {name}: the measured characteristic dates from "
                f"{spec.tested_year}; it is due for revision (every five years, cl. 1.2)"
            )
    return out


def _season_hours(season_hours: float | None, default: float | None, label: str) -> float:
    """Operating hours of a season [h]: the station's, else the section's."""
    hours = season_hours if season_hours is not None else default
    if hours is None:
        msg = f"{label}: no operating hours; give hours_h for this season"
        raise InputError(msg)
    return hours


@dataclass(frozen=True)
class _Auxiliaries:
    """A station's auxiliaries: the factor Kсн and the energy Эсн [kWh]."""

    factor: float
    energy_kwh: float


def _auxiliaries(
    factor: float | None, energy_kwh: float | None, default_factor: float
) -> _Auxiliaries:
    """The station's own Kсн, else Kсн = 1 when it gives Эсн, else the section's Kсн."""
    aux_energy = energy_kwh or 0.0
    aux_factor = factor if factor is not None else 1.0 if energy_kwh is not None else default_factor
    return _Auxiliaries(aux_factor, aux_energy)
