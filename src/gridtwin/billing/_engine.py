"""The billing run: interval data + tariff + customers -> itemised bills for every meter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.billing._aggregate import Aggregates, build_layout
from gridtwin.billing._components import EVALUATORS, EvalContext, LineOut
from gridtwin.billing._not_included import not_included_notes
from gridtwin.billing._plan import (
    BillingPlan,
    PropValue,
    build_plan,
    month_periods,
    resolve_customers,
)
from gridtwin.billing._result import BillingResult
from gridtwin.calendar import BandAssignment
from gridtwin.errors import DataQualityError, InputError
from gridtwin.tariffs._loader import Tariff
from gridtwin.tariffs._schema import (
    DemandCharge,
    EnergyCharge,
    ExciseTax,
    IndexedEnergyCharge,
)
from gridtwin.timeseries import IntervalData

__all__ = ["bill", "default_periods"]

FloatArray = npt.NDArray[np.float64]

#: The largest energy of one interval that is billed (a terawatt hour: far above any
#: supply point; a larger or infinite value is a unit or file error).
MAX_INTERVAL_KWH = 1e9


def default_periods(
    tariff: Tariff, data: IntervalData, freq: str = "month"
) -> list[tuple[dt.date, dt.date]]:
    """Billing periods covering the whole local days of the data.

    ``freq`` is ``"month"`` (calendar months, partial at the ends) or ``"whole"`` (one
    period for all the data).
    """
    tz = tariff.timezone
    first = data.start_utc[0].tz_convert(tz)
    last_end = data.end_utc.tz_convert(tz)
    start = first.date() if first == first.normalize() else first.date() + dt.timedelta(days=1)
    end = last_end.date()
    if end <= start:
        msg = f"{data.source}: the data do not cover one whole local day in {tz}"
        raise InputError(msg)
    if freq == "whole":
        return [(start, end)]
    if freq == "month":
        return month_periods(start, end)
    msg = f"unknown billing frequency {freq!r}; use 'month' or 'whole'"
    raise InputError(msg)


def _check_values(data: IntervalData, allow_gaps: bool) -> bool:
    """Refuse negative values (and gaps unless allowed); return True if there are gaps."""
    energy = data.energy_kwh
    lowest = float(energy.min()) if energy.size else 0.0  # one pass; NaN propagates
    highest = float(energy.max()) if energy.size else 0.0
    has_gaps = bool(np.isnan(lowest))
    if has_gaps:
        highest = float(np.nanmax(energy)) if not np.isnan(energy).all() else 0.0
    if not np.isfinite(highest) or highest > MAX_INTERVAL_KWH:
        r, c = (
            int(x[0]) for x in np.nonzero(~(np.abs(energy) <= MAX_INTERVAL_KWH) & ~np.isnan(energy))
        )
        msg = (
            f"{data.source}: {energy[r, c]} kWh for meter {data.meter_ids[r]} at "
            f"{data.start_utc[c].isoformat()} is not a consumption this engine can bill "
            f"(more than {MAX_INTERVAL_KWH:g} kWh in one interval); check the file's units "
            "and that value"
        )
        raise DataQualityError(msg)
    if has_gaps:
        if not allow_gaps:
            data.check_complete()
        lowest = float(np.nanmin(energy))
    if lowest < 0:
        negative = energy < 0
        r, c = (int(x[0]) for x in np.nonzero(negative))
        msg = (
            f"{data.source}: negative consumption {energy[r, c]} kWh for meter "
            f"{data.meter_ids[r]} at {data.start_utc[c].isoformat()}; this engine bills "
            "consumption (import). Net export before billing or bill import and export "
            "separately."
        )
        raise DataQualityError(msg)
    return has_gaps


def _needs(plan: BillingPlan) -> tuple[set[str], bool, list[tuple[IndexedEnergyCharge, int]]]:
    """Schedules used, whether month-slice quantities are needed, indexed components."""
    schedules: set[str] = set()
    by_slice = False
    indexed: list[tuple[IndexedEnergyCharge, int]] = []
    for seg in plan.segments:
        for version in seg.versions:
            for item in (*version.components, *version.taxes):
                if isinstance(item, EnergyCharge) and item.schedule_key:
                    schedules.add(item.schedule_key)
                if isinstance(item, DemandCharge) and item.schedule:
                    schedules.add(item.schedule)
                if isinstance(item, EnergyCharge) and item.tiers and item.tier_period == "month":
                    by_slice = True
                if isinstance(item, ExciseTax) and item.exemption is not None:
                    by_slice = True
                if isinstance(item, IndexedEnergyCharge):
                    indexed.append((item, seg.index))
    return schedules, by_slice, indexed


def _main_schedule(tariff: Tariff, used: set[str]) -> str | None:
    for version in tariff.doc.versions:
        for c in version.components:
            if isinstance(c, EnergyCharge) and c.schedule_key:
                return c.schedule_key
    if tariff.calendar is not None and tariff.calendar.schedule_names():
        return tariff.calendar.schedule_names()[0]
    return sorted(used)[0] if used else None


def _evaluate(plan: BillingPlan, agg: Aggregates, ctx: EvalContext) -> list[LineOut]:
    for seg in plan.segments:
        docs = plan.tariff.documents()
        for doc, version in zip(docs, seg.versions, strict=True):
            ctx.doc_id = doc.id
            for comp in version.components:
                ctx.lines.extend(EVALUATORS[comp.kind](ctx, seg, comp))
        for doc, version in zip(docs, seg.versions, strict=True):
            ctx.doc_id = doc.id
            for tax in version.taxes:
                ctx.lines.extend(EVALUATORS[tax.kind](ctx, seg, tax))
    return ctx.lines


def bill(
    tariff: Tariff,
    data: IntervalData,
    *,
    periods: Sequence[tuple[dt.date, dt.date]] | None = None,
    customers: Mapping[str, PropValue | Sequence[PropValue]] | None = None,
    series: Mapping[str, pd.Series] | None = None,
    allow_gaps: bool = False,
    note_unbilled: bool | None = None,
) -> BillingResult:
    """Bill every meter of ``data`` under ``tariff``.

    Parameters
    ----------
    tariff : Tariff
        A loaded tariff (:func:`gridtwin.tariffs.get_tariff`).
    data : IntervalData
        Interval energy [kWh] of one or many meters, UTC period-start index.
    periods : list of (date, date), optional
        Billing periods ``[start, end)`` in the tariff's local dates; default: calendar
        months of the data.
    customers : mapping, optional
        Customer properties the tariff reads (one value, or one per meter).
    series : mapping of name -> pandas.Series, optional
        Price series for indexed components (tz-aware period-start index).
    allow_gaps : bool
        Bill despite missing intervals; the bills then say how many are missing (the
        missing energy is not invented).
    note_unbilled : bool, optional
        Record the data outside the periods at both ends (``unbilled_intervals``, and a
        note on the bills at the ends): what default periods leave out of data that
        start or end in the middle of a local day. Default: when ``periods`` is None.

    Returns
    -------
    BillingResult
        Lines, per-meter quantities and amounts, consumption by band, maximum power.

    Raises
    ------
    InputError, DataQualityError, TariffValidityError
        Bad data, missing customer properties, periods outside the data or the tariff.
    """
    has_gaps = _check_values(data, allow_gaps)
    if note_unbilled is None:
        note_unbilled = periods is None
    if periods is None:
        periods = default_periods(tariff, data)
    plan = build_plan(tariff, data.start_utc, data.step, list(periods))
    cust = resolve_customers(tariff, data.n_meters, customers or {})
    schedules, by_slice, indexed = _needs(plan)
    main = _main_schedule(tariff, schedules)
    if main is not None:
        schedules.add(main)
    assignments = _band_assignments(tariff, data, schedules)
    layout = build_layout(plan, assignments, by_slice, indexed, series or {}, data.start_utc)
    energy = data.energy_kwh
    missing = np.isnan(energy) if has_gaps else None
    if missing is not None:
        energy = np.where(missing, 0.0, energy)
    agg = Aggregates(plan, layout, energy)
    lines = _evaluate(plan, agg, EvalContext(plan, agg, cust))
    bands = agg.bands(main)
    by_band = _energy_by_band(plan, agg, main, data.n_meters, len(bands))
    missing_count = _missing_counts(plan, missing, data.n_meters)
    quantity, amount, applies = _line_arrays(lines, data.n_meters)
    _check_finite(lines, amount, data)
    result = BillingResult(
        tariff=tariff,
        meter_ids=data.meter_ids,
        periods=plan.periods,
        lines=[ln.spec for ln in lines],
        quantity=quantity,
        amount=amount,
        applies=applies,
        energy_by_band_kwh=by_band,
        bands=bands,
        max_power_source=agg.period_max_kw,
        missing_intervals=missing_count,
    )
    result.notes.extend(provisional_notes(tariff))
    result.notes.extend(not_included_notes(result))
    if note_unbilled:
        _mark_unbilled(result, plan, data)
    return result


def _mark_unbilled(result: BillingResult, plan: BillingPlan, data: IntervalData) -> None:
    """Record the data the default periods leave out: the partial local days at the ends
    (data that start or end in the middle of a local day). Nothing is left out silently:
    each bill at an end says how much and why (:func:`~gridtwin.billing.bill_for`)."""
    outside = plan.step_slice < 0
    if not outside.any():
        return
    inside = np.flatnonzero(~outside)
    before = np.zeros(len(outside), dtype=bool)
    before[: inside[0]] = True
    after = outside & ~before
    energy = data.energy_kwh
    counts = np.zeros((data.n_meters, 2), dtype=np.int64)
    kwh = np.zeros((data.n_meters, 2))
    for j, mask in enumerate((before, after)):
        part = energy[:, mask]
        counts[:, j] = (~np.isnan(part)).sum(axis=1)
        kwh[:, j] = np.nansum(part, axis=1)
    if not counts.any():
        return
    tz = plan.tariff.timezone
    first = data.start_utc[0].tz_convert(tz)
    last_end = data.end_utc.tz_convert(tz)
    result.unbilled_intervals = counts
    result.unbilled_kwh = kwh
    result.unbilled_reason = (
        f"the default billing periods cover whole local days ({tz}), and the data run "
        f"from {first:%Y-%m-%d %H:%M} to {last_end:%Y-%m-%d %H:%M} local time; give data "
        "that start and end at local midnight to bill those days"
    )


def _check_finite(lines: list[LineOut], amount: FloatArray, data: IntervalData) -> None:
    """Every amount is a number: an overflow (a huge rate times a huge quantity) is an
    error naming the line, never an infinite bill."""
    bad = ~np.isfinite(amount)
    if bad.any():
        m, k = (int(x[0]) for x in np.nonzero(bad))
        msg = (
            f"{data.source}: the amount of {lines[k].spec.label!r} for meter "
            f"{data.meter_ids[m]} is {amount[m, k]}: a price or quantity too large to bill; "
            "check the tariff's rates and the data's units"
        )
        raise DataQualityError(msg)


def _band_assignments(
    tariff: Tariff, data: IntervalData, schedules: set[str]
) -> dict[str, BandAssignment]:
    """The band of every interval of ``data`` in each schedule the run reads."""
    cal = tariff.calendar
    assignments: dict[str, BandAssignment] = {}
    if schedules and cal is not None:
        assignments = {s: cal.assign_key(data.start_utc, data.step, s) for s in schedules}
    return assignments


def _energy_by_band(
    plan: BillingPlan, agg: Aggregates, main: str | None, n_meters: int, n_bands: int
) -> FloatArray:
    """Energy of each meter, period and band of the main schedule [kWh]."""
    by_band = np.zeros((n_meters, len(plan.periods), n_bands))
    for seg in plan.segments:
        by_band[:, seg.period, :] += agg.segment_energy(seg.index, main)
    return by_band


def _missing_counts(
    plan: BillingPlan, missing: npt.NDArray[np.bool_] | None, n_meters: int
) -> npt.NDArray[np.int64]:
    """Missing intervals of each meter and period (zeros without gaps)."""
    missing_count = np.zeros((n_meters, len(plan.periods)), dtype=np.int64)
    if missing is not None:
        for k, sl in enumerate(plan.slices):
            missing_count[:, sl.period] += missing[:, plan.step_slice == k].sum(axis=1)
    return missing_count


def _line_arrays(
    lines: list[LineOut], n_meters: int
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Quantity, amount and applies (meter x line) of the evaluated lines."""
    if not lines:
        return (
            np.zeros((n_meters, 0)),
            np.zeros((n_meters, 0)),
            np.zeros((n_meters, 0), dtype=bool),
        )
    return (
        np.stack([ln.quantity for ln in lines], axis=1),
        np.stack([ln.amount for ln in lines], axis=1),
        np.stack([(ln.quantity != 0) | (ln.amount != 0) for ln in lines], axis=1),
    )


def provisional_notes(tariff: Tariff) -> list[str]:
    """The provisional notes of a tariff and of the component sets it includes."""
    return [
        f"Provisional tariff data ({d.id}): {d.provisional}"
        for d in tariff.documents()
        if d.provisional
    ]
