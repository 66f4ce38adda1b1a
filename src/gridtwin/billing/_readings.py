"""Bill from register readings: consumption per band between two meter readings.

Without interval data, consumption of a band is spread over the months of the period in
proportion to days (the usual convention when a reading period spans months or a tariff
change). Band registers map onto the tariff's schedule when it is the same set of bands or
a merge of them (F1/F2/F3 readings billed on F1/F23 prices); anything finer — seasonal
prices inside a band, indexed prices, demand charges — needs interval data and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.billing._aggregate import FLAT, Aggregates
from gridtwin.billing._components import EvalContext
from gridtwin.billing._engine import _evaluate, _main_schedule, provisional_notes
from gridtwin.billing._not_included import not_included_notes
from gridtwin.billing._plan import (
    BillingPlan,
    PropValue,
    Segment,
    resolve_customers,
    segment_periods,
)
from gridtwin.billing._result import BillingResult
from gridtwin.calendar._model import DerivedSchedule
from gridtwin.errors import InputError
from gridtwin.tariffs._loader import Tariff
from gridtwin.tariffs._schema import DemandCharge, IndexedEnergyCharge

__all__ = ["bill_band_totals"]

FloatArray = npt.NDArray[np.float64]


class _ReadingAggregates(Aggregates):
    """Quantities from per-band totals, spread over slices by days."""

    def __init__(
        self, plan: BillingPlan, tariff: Tariff, energy_kwh_by_band: Mapping[str, float]
    ) -> None:
        self.plan = plan
        self._tariff = tariff
        self._totals = dict(energy_kwh_by_band)
        total_days = sum(s.days for s in plan.slices)
        self._share = np.array([s.days / total_days for s in plan.slices])

    @property
    def n_meters(self) -> int:
        """One meter (one point of delivery)."""
        return 1

    def bands(self, schedule: str | None) -> tuple[str, ...]:
        """Bands of a schedule as billed from readings."""
        if schedule is None or schedule == FLAT:
            return ("all",)
        cal = self._tariff.calendar
        if cal is None or "@" in schedule:
            msg = (
                f"schedule {schedule!r} (seasonal prices) cannot be billed from register "
                "readings; supply interval data"
            )
            raise InputError(msg)
        return cal.bands(schedule)

    def _band_totals(self, schedule: str | None) -> FloatArray:
        names = self.bands(schedule)
        if names == ("all",):
            return np.array([sum(self._totals.values())])
        if set(names) == set(self._totals):
            return np.array([self._totals[b] for b in names])
        cal = self._tariff.calendar
        spec = cal.spec.schedules[schedule] if cal and schedule else None
        if isinstance(spec, DerivedSchedule) and set(spec.band_map) == set(self._totals):
            out = dict.fromkeys(names, 0.0)
            for reg, kwh in self._totals.items():
                out[spec.band_map[reg]] += kwh
            return np.array([out[b] for b in names])
        msg = (
            f"readings of registers {sorted(self._totals)} do not match the bands "
            f"{list(names)} of schedule {schedule!r}; give readings per band"
        )
        raise InputError(msg)

    def segment_energy(self, segment: int, schedule: str | None) -> FloatArray:
        """kWh per band of a segment (days-proportional share), shape (1, n_bands)."""
        share = sum(self._share[i] for i in self.plan.segments[segment].slices)
        return np.asarray(self._band_totals(schedule)[np.newaxis, :] * share, dtype=np.float64)

    def slice_energy(self, slice_id: int, schedule: str | None) -> FloatArray:
        """kWh per band of a slice (days-proportional share), shape (1, n_bands)."""
        totals = self._band_totals(schedule)[np.newaxis, :]
        return np.asarray(totals * self._share[slice_id], dtype=np.float64)


def bill_band_totals(
    tariff: Tariff,
    energy_kwh_by_band: Mapping[str, float],
    period: tuple[dt.date, dt.date],
    *,
    pod: str = "POD",
    customers: Mapping[str, PropValue | Sequence[PropValue]] | None = None,
    estimated: bool = False,
) -> BillingResult:
    """Bill one point of delivery from its consumption per register over ``period``.

    Parameters
    ----------
    energy_kwh_by_band : mapping
        kWh per register (``{"F1": 120, "F2": 90, "F3": 200}``, or ``{"total": 410}``).
    period : (date, date)
        Local dates ``[start, end)`` between the two readings.
    estimated : bool
        True if a reading is estimated; the bill says so.
    """
    _check_register_kwh(energy_kwh_by_band)
    segments, slices = segment_periods(tariff, [period])
    _refuse_interval_components(segments)
    plan = BillingPlan(
        tariff,
        (period,),
        tuple(segments),
        tuple(slices),
        np.zeros(0, dtype=np.int64),
        step=pd.Timedelta(days=1),
    )
    agg = _ReadingAggregates(plan, tariff, energy_kwh_by_band)
    cust = resolve_customers(tariff, 1, customers or {})
    lines = _evaluate(plan, agg, EvalContext(plan, agg, cust))
    main = _main_schedule(tariff, set())
    bands = agg.bands(main)
    try:
        by_band = agg._band_totals(main)
    except InputError:
        bands, by_band = ("all",), np.array([sum(energy_kwh_by_band.values())])
    result = BillingResult(
        tariff=tariff,
        meter_ids=(pod,),
        periods=plan.periods,
        lines=[ln.spec for ln in lines],
        quantity=np.stack([ln.quantity for ln in lines], axis=1),
        amount=np.stack([ln.amount for ln in lines], axis=1),
        applies=np.stack([(ln.quantity != 0) | (ln.amount != 0) for ln in lines], axis=1),
        energy_by_band_kwh=by_band[np.newaxis, np.newaxis, :],
        bands=bands,
        max_power_source=lambda: np.full((1, 1), np.nan),
        missing_intervals=np.zeros((1, 1), dtype=np.int64),
    )
    result.notes.append("Billed from register readings: consumption spread over months by days.")
    if estimated:
        result.notes.append("ESTIMATED: at least one reading is an estimate (lettura stimata).")
    result.notes.extend(provisional_notes(tariff))
    result.notes.extend(not_included_notes(result))
    return result


def _check_register_kwh(energy_kwh_by_band: Mapping[str, float]) -> None:
    """Refuse register consumption that is not finite or negative [kWh]."""
    bad = {k: v for k, v in energy_kwh_by_band.items() if not np.isfinite(v) or v < 0}
    if bad:
        msg = f"register consumption must be finite and >= 0 kWh; got {bad}"
        raise InputError(msg)


def _refuse_interval_components(segments: Sequence[Segment]) -> None:
    """Refuse components that need interval data (indexed energy, demand)."""
    for seg in segments:
        for version in seg.versions:
            for c in version.components:
                if isinstance(c, IndexedEnergyCharge | DemandCharge):
                    msg = (
                        f"component {c.id} ({c.kind}) needs interval data; it cannot be "
                        "billed from register readings"
                    )
                    raise InputError(msg)
