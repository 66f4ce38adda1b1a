"""Presented bills: one meter, one period, lines rounded to the currency's minor unit."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.billing._result import MINOR_UNITS, BillingResult, LineSpec, round_half_up
from gridtwin.errors import InputError
from gridtwin.tariffs._schema import SECTIONS

__all__ = ["Bill", "BillLine", "bill_for", "lines_frame"]

SECTION_TITLES = {
    "en": {
        "energy": "Energy",
        "network": "Network and metering",
        "system": "System charges",
        "taxes": "Taxes",
        "other": "Other items",
    },
    "it": {
        "energy": "Spesa per la materia energia",
        "network": "Spesa per il trasporto e la gestione del contatore",
        "system": "Spesa per oneri di sistema",
        "taxes": "Imposte",
        "other": "Altre partite",
    },
    "sk": {
        "energy": "Dodávka elektriny",
        "network": "Distribúcia",
        "system": "Systémové poplatky",
        "taxes": "Dane a odvody",
        "other": "Ostatné",
    },
    "he": {
        "energy": "אנרגיה",
        "network": "תשתית",
        "system": "ניהול מערכת",
        "taxes": "מסים",
        "other": "אחר",
    },
}


@dataclass(frozen=True)
class BillLine:
    """One printed line of a bill."""

    section: str
    component_id: str
    label: str
    band: str | None
    period_from: dt.date
    period_to: dt.date
    quantity: float
    quantity_unit: str
    unit_price: float | None
    price_unit: str
    amount: Decimal
    is_tax: bool
    explanation: str


@dataclass(frozen=True)
class Bill:
    """An itemised bill of one meter for one billing period."""

    tariff_id: str
    tariff_name: str
    meter_id: str
    period_from: dt.date
    period_to: dt.date
    currency: str
    lines: tuple[BillLine, ...]
    subtotals: dict[str, Decimal]
    tax_bases: dict[str, Decimal]
    total: Decimal
    total_unrounded: float
    energy_by_band_kwh: dict[str, float]
    energy_kwh: float
    #: Highest average power of an interval [kW]; None when the data cannot say
    #: (register readings): absent, never NaN.
    max_power_kw: float | None
    missing_intervals: int
    language: str
    notes: tuple[str, ...]
    #: Data of this meter outside every billing period next to this one (partial local
    #: days at the ends of the data, with default periods): not billed, said in a note.
    unbilled_intervals: int = 0
    unbilled_kwh: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (money as strings with the minor-unit digits)."""
        out = asdict(self)

        def fix(v: Any) -> Any:
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: fix(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [fix(x) for x in v]
            if isinstance(v, float) and not math.isfinite(v):
                return None  # strict JSON: no NaN/Infinity
            return v

        return {k: fix(v) for k, v in out.items()}

    def section_title(self, section: str) -> str:
        """Section heading in the tariff's language (English fallback)."""
        return SECTION_TITLES.get(self.language, SECTION_TITLES["en"])[section]


def bill_for(result: BillingResult, meter: int | str, period: int = 0) -> Bill:
    """The presented bill of one meter (index or id) for one period."""
    m = _meter_index(result, meter)
    if not 0 <= period < len(result.periods):
        msg = f"period {period} out of range (0..{len(result.periods) - 1})"
        raise InputError(msg)
    lines, subtotals, tax_bases = _printed_lines(result, m, period)
    p_from, p_to = result.periods[period]
    total = sum((ln.amount for ln in lines), Decimal("0.00"))
    notes = list(result.notes)
    if result.missing_intervals[m, period]:
        notes.append(
            f"INCOMPLETE: {int(result.missing_intervals[m, period])} interval(s) "
            "missing from the data; their energy is not billed."
        )
    unbilled_n, unbilled_kwh = 0, 0.0
    if result.unbilled_intervals is not None and result.unbilled_kwh is not None:
        ends = [(0, "before", p_from)] if period == 0 else []
        if period == len(result.periods) - 1:
            ends.append((1, "from", p_to))
        for j, word, day in ends:
            n = int(result.unbilled_intervals[m, j])
            if n:
                kwh = float(result.unbilled_kwh[m, j])
                unbilled_n += n
                unbilled_kwh += kwh
                notes.append(
                    f"NOT BILLED: {n} interval(s) of this meter's data ({kwh:.3f} kWh) "
                    f"{word} {day.isoformat()} lie outside the billing periods: "
                    f"{result.unbilled_reason}."
                )
    by_band = result.energy_by_band_kwh[m, period]
    return Bill(
        tariff_id=result.tariff.id,
        tariff_name=result.tariff.doc.name,
        meter_id=result.meter_ids[m],
        period_from=p_from,
        period_to=p_to,
        currency=result.currency,
        lines=tuple(lines),
        subtotals={k: v for k, v in subtotals.items() if v or k in {ln.section for ln in lines}},
        tax_bases=tax_bases,
        total=total,
        total_unrounded=float(result.totals()[m, period]),
        energy_by_band_kwh={b: float(x) for b, x in zip(result.bands, by_band, strict=True)},
        energy_kwh=float(by_band.sum()),
        max_power_kw=_finite_or_none(float(result.max_power_kw[m, period])),
        missing_intervals=int(result.missing_intervals[m, period]),
        language=result.tariff.doc.language,
        notes=tuple(notes),
        unbilled_intervals=unbilled_n,
        unbilled_kwh=unbilled_kwh,
    )


def _finite_or_none(x: float) -> float | None:
    """``x``, or None when it is NaN or infinite (a quantity the data cannot give)."""
    return x if math.isfinite(x) else None


def _meter_index(result: BillingResult, meter: int | str) -> int:
    """The row of ``meter`` (an index, or an id of the run) in the result's arrays."""
    if isinstance(meter, str):
        if meter not in result.meter_ids:
            msg = f"no meter {meter!r} in this billing run"
            raise InputError(msg)
        return result.meter_ids.index(meter)
    return meter


def _printed_lines(
    result: BillingResult, m: int, period: int
) -> tuple[list[BillLine], dict[str, Decimal], dict[str, Decimal]]:
    """The printed lines of meter row ``m`` in ``period``, section subtotals, tax bases."""
    presented = result.presented_amounts()[m]
    lines: list[BillLine] = []
    subtotals = dict.fromkeys(SECTIONS, Decimal("0.00"))
    tax_bases: dict[str, Decimal] = {}
    digits = MINOR_UNITS[result.currency]
    for li, spec in enumerate(result.lines):
        if spec.period != period or not result.applies[m, li]:
            continue
        amount = round_half_up(float(presented[li]), digits)
        qty = float(result.quantity[m, li])
        if spec.tax_rate is not None:  # the printed base: sum of the printed base lines
            qty = float(round_half_up(float(presented[list(spec.base_lines)].sum()), digits))
        price = spec.unit_price
        if price is None and qty:
            price = float(result.amount[m, li]) / qty
        lines.append(_bill_line(spec, qty, price, amount))
        subtotals[spec.section] += amount
        if spec.tax_rate is not None:
            key = _tax_base_key(result, spec, period, tax_bases)
            tax_bases[key] = round_half_up(qty, digits)
    return lines, subtotals, tax_bases


def _bill_line(spec: LineSpec, qty: float, price: float | None, amount: Decimal) -> BillLine:
    """The printed line of ``spec`` with its quantity, unit price and rounded amount."""
    return BillLine(
        spec.section,
        spec.component_id,
        spec.label,
        spec.band,
        spec.segment_start,
        spec.segment_end,
        qty,
        spec.quantity_unit,
        price,
        spec.price_unit,
        amount,
        spec.is_tax,
        spec.explanation,
    )


def _tax_base_key(
    result: BillingResult, spec: LineSpec, period: int, tax_bases: dict[str, Decimal]
) -> str:
    """The tax line's key in the bill's tax bases (with its segment if it has several)."""
    key = spec.component_id
    if key in tax_bases or any(
        o.component_id == key and o.segment_start != spec.segment_start
        for o in result.lines
        if o.period == period
    ):
        key = f"{key} {spec.segment_start}..{spec.segment_end}"
    return key


def lines_frame(result: BillingResult) -> pd.DataFrame:
    """All lines of all meters and periods as one long table (for CSV/Parquet)."""
    presented = result.presented_amounts()
    mi, li = np.nonzero(result.applies)
    specs = result.lines
    frame = pd.DataFrame(
        {
            "meter_id": np.asarray(result.meter_ids, dtype=object)[mi],
            "period_from": [result.periods[specs[j].period][0] for j in li],
            "period_to": [result.periods[specs[j].period][1] for j in li],
            "segment_from": [specs[j].segment_start for j in li],
            "segment_to": [specs[j].segment_end for j in li],
            "section": [specs[j].section for j in li],
            "component_id": [specs[j].component_id for j in li],
            "label": [specs[j].label for j in li],
            "band": [specs[j].band for j in li],
            "quantity": result.quantity[mi, li],
            "quantity_unit": [specs[j].quantity_unit for j in li],
            "unit_price": [specs[j].unit_price for j in li],
            "price_unit": [specs[j].price_unit for j in li],
            "amount": result.amount[mi, li],
            "amount_presented": presented[mi, li],
            "currency": result.currency,
        }
    )
    return frame
