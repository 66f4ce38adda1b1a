"""Evaluators of tariff components and taxes, one per kind, in a registry.

Each evaluator turns one component of one segment into bill lines: a static
:class:`~gridtwin.billing._result.LineSpec` with a (m,) quantity and a (m,) amount per
line, vectorised over all meters of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gridtwin.billing._aggregate import Aggregates
from gridtwin.billing._plan import BillingPlan, Customers, Segment, Slice
from gridtwin.billing._result import LineSpec
from gridtwin.tariffs._schema import (
    DemandCharge,
    DiscountCharge,
    EnergyCharge,
    ExciseTax,
    FixedCharge,
    IndexedEnergyCharge,
    InstalmentCharge,
    MinimumCharge,
    PercentTax,
    PowerCharge,
    energy_unit_factor,
)

__all__ = ["EVALUATORS", "EvalContext", "LineOut"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class LineOut:
    """One evaluated line: its spec and per-meter quantity and amount."""

    spec: LineSpec
    quantity: FloatArray
    amount: FloatArray


@dataclass
class EvalContext:
    """What evaluators read: the plan, aggregates, customers, and earlier lines."""

    plan: BillingPlan
    agg: Aggregates
    customers: Customers
    doc_id: str = ""
    lines: list[LineOut] = field(default_factory=list)

    @property
    def currency(self) -> str:
        """Currency of the tariff."""
        return self.plan.tariff.currency

    def segment_line_ids(self, seg: Segment) -> list[int]:
        """Indices of the lines already evaluated for a segment."""
        return [
            i
            for i, ln in enumerate(self.lines)
            if ln.spec.period == seg.period and ln.spec.segment_start == seg.start
        ]

    def spec(self, seg: Segment, comp: Any, **kw: Any) -> LineSpec:
        """A line spec with the segment and component fields filled in."""
        base = {
            "period": seg.period,
            "segment_start": seg.start,
            "segment_end": seg.end,
            "doc_id": self.doc_id,
            "component_id": comp.id,
            "kind": comp.kind,
            "section": comp.section,
            "label": comp.label,
            "explanation": comp.explanation or "",
        }
        base.update(kw)
        return LineSpec(**base)


Evaluator = Callable[[EvalContext, Segment, Any], list[LineOut]]
EVALUATORS: dict[str, Evaluator] = {}


def register(kind: str) -> Callable[[Evaluator], Evaluator]:
    """Register an evaluator for a component kind."""

    def deco(fn: Evaluator) -> Evaluator:
        EVALUATORS[kind] = fn
        return fn

    return deco


def _slices(ctx: EvalContext, seg: Segment) -> list[Slice]:
    return [ctx.plan.slices[i] for i in seg.slices]


def _period_fraction(sl: Slice, per: str, proration: str) -> float:
    """Share of one ``per`` (day/month/year) amount due for a slice."""
    if per == "day":
        return float(sl.days)
    if proration == "year_days":
        months = 12.0 if per == "month" else 1.0
        return months * sl.days / sl.days_in_year
    per_month = 1.0 if per == "month" else 1.0 / 12.0
    return per_month * sl.days / sl.days_in_month


def _days(ctx: EvalContext, seg: Segment) -> float:
    return float(sum(s.days for s in _slices(ctx, seg)))


@register("fixed")
def _fixed(ctx: EvalContext, seg: Segment, comp: FixedCharge) -> list[LineOut]:
    share = sum(_period_fraction(s, comp.per, comp.proration) for s in _slices(ctx, seg))
    days = _days(ctx, seg)
    mask = ctx.customers.matches(comp.applies_if)
    amount = np.where(mask, comp.amount * share, 0.0)
    spec = ctx.spec(
        seg,
        comp,
        quantity_unit="day",
        price_unit=f"{ctx.currency}/day",
        unit_price=comp.amount * share / days,
    )
    return [LineOut(spec, np.where(mask, days, 0.0), amount)]


@register("power")
def _power(ctx: EvalContext, seg: Segment, comp: PowerCharge) -> list[LineOut]:
    share = sum(_period_fraction(s, comp.per, comp.proration) for s in _slices(ctx, seg))
    kw = ctx.customers.numeric(comp.power_property)
    if comp.basis == "available":
        kw = kw * comp.available_factor
    mask = ctx.customers.matches(comp.applies_if)
    price = comp.rate * share
    spec = ctx.spec(
        seg,
        comp,
        quantity_unit="kW",
        price_unit=f"{ctx.currency}/kW for {_days(ctx, seg):g} days",
        unit_price=price,
    )
    return [LineOut(spec, np.where(mask, kw, 0.0), np.where(mask, kw * price, 0.0))]


def _tier_split(q: FloatArray, limits: list[float | None]) -> list[FloatArray]:
    """Split quantities into consecutive blocks with the given upper limits."""
    out, lo = [], 0.0
    for up in limits:
        hi = np.inf if up is None else up
        out.append(np.clip(q - lo, 0.0, hi - lo))
        lo = hi
    return out


@register("energy")
def _energy(ctx: EvalContext, seg: Segment, comp: EnergyCharge) -> list[LineOut]:
    factor = energy_unit_factor(comp.unit, ctx.currency)
    mask = ctx.customers.matches(comp.applies_if)
    if comp.tiers is not None:
        return _energy_tiers(ctx, seg, comp, factor, mask)
    key = comp.schedule_key
    q = ctx.agg.segment_energy(seg.index, key)
    out = []
    for b, band in enumerate(ctx.agg.bands(key)):
        price = comp.rate_for(band) * factor
        spec = ctx.spec(
            seg,
            comp,
            quantity_unit="kWh",
            price_unit=f"{ctx.currency}/kWh",
            unit_price=price,
            band=band if comp.schedule else None,
        )
        qb = np.where(mask, q[:, b], 0.0)
        out.append(LineOut(spec, qb, qb * price))
    return out


def _energy_tiers(
    ctx: EvalContext, seg: Segment, comp: EnergyCharge, factor: float, mask: npt.NDArray[np.bool_]
) -> list[LineOut]:
    tiers = comp.tiers or ()
    totals = [np.zeros(ctx.agg.n_meters) for _ in tiers]
    if comp.tier_period == "month":
        groups = [
            (ctx.agg.slice_energy(i, None)[:, 0], s.days / s.days_in_month)
            for i, s in zip(seg.slices, _slices(ctx, seg), strict=True)
        ]
    else:
        q = ctx.agg.segment_energy(seg.index, None)[:, 0]
        days = _days(ctx, seg)
        if comp.tier_period == "day":
            scale = days
        else:
            p_start, p_end = ctx.plan.periods[seg.period]
            scale = days / (p_end - p_start).days
        groups = [(q, scale)]
    for q, scale in groups:
        limits = [None if t.up_to_kwh is None else t.up_to_kwh * scale for t in tiers]
        for k, part in enumerate(_tier_split(q, limits)):
            totals[k] += part
    out = []
    for k, tier in enumerate(tiers):
        price = tier.rate * factor
        spec = ctx.spec(
            seg,
            comp,
            quantity_unit="kWh",
            price_unit=f"{ctx.currency}/kWh",
            unit_price=price,
            band=f"tier {k + 1}",
        )
        qk = np.where(mask, totals[k], 0.0)
        out.append(LineOut(spec, qk, qk * price))
    return out


@register("indexed_energy")
def _indexed(ctx: EvalContext, seg: Segment, comp: IndexedEnergyCharge) -> list[LineOut]:
    mask = ctx.customers.matches(comp.applies_if)
    kwh = ctx.agg.segment_energy(seg.index, None)[:, 0]
    amount = np.where(mask, ctx.agg.indexed_amount(comp.id, seg.index), 0.0)
    spec = ctx.spec(
        seg, comp, quantity_unit="kWh", price_unit=f"{ctx.currency}/kWh", unit_price=None
    )
    return [LineOut(spec, np.where(mask, kwh, 0.0), amount)]


@register("demand")
def _demand(ctx: EvalContext, seg: Segment, comp: DemandCharge) -> list[LineOut]:
    mask = ctx.customers.matches(comp.applies_if)
    amount = np.zeros(ctx.agg.n_meters)
    peak = np.zeros(ctx.agg.n_meters)
    for i, sl in zip(seg.slices, _slices(ctx, seg), strict=True):
        kw = ctx.agg.slice_max_kw(i, comp.schedule, comp.bands)
        amount += kw * comp.rate * sl.days / sl.days_in_month
        peak = np.maximum(peak, kw)
    spec = ctx.spec(
        seg, comp, quantity_unit="kW", price_unit=f"{ctx.currency}/kW/month", unit_price=None
    )
    return [LineOut(spec, np.where(mask, peak, 0.0), np.where(mask, amount, 0.0))]


@register("instalment")
def _instalment(ctx: EvalContext, seg: Segment, comp: InstalmentCharge) -> list[LineOut]:
    count = sum(1 for s in _slices(ctx, seg) if s.start.day == 1 and s.start.month in comp.months)
    mask = ctx.customers.matches(comp.applies_if)
    spec = ctx.spec(
        seg,
        comp,
        quantity_unit="instalment",
        price_unit=f"{ctx.currency}/instalment",
        unit_price=comp.amount,
    )
    q = np.where(mask, float(count), 0.0)
    return [LineOut(spec, q, q * comp.amount)]


@register("minimum")
def _minimum(ctx: EvalContext, seg: Segment, comp: MinimumCharge) -> list[LineOut]:
    ids = [i for i in ctx.segment_line_ids(seg) if ctx.lines[i].spec.section in comp.of_sections]
    so_far = sum((ctx.lines[i].amount for i in ids), np.zeros(ctx.agg.n_meters))
    minimum = comp.amount * sum(s.days / s.days_in_month for s in _slices(ctx, seg))
    mask = ctx.customers.matches(comp.applies_if)
    top_up = np.where(mask, np.maximum(0.0, minimum - so_far), 0.0)
    spec = ctx.spec(seg, comp, quantity_unit="", price_unit=ctx.currency, unit_price=None)
    return [LineOut(spec, (top_up > 0).astype(float), top_up)]


@register("discount")
def _discount(ctx: EvalContext, seg: Segment, comp: DiscountCharge) -> list[LineOut]:
    mask = ctx.customers.matches(comp.applies_if)
    if comp.percent is not None:
        ids = [
            i
            for i in ctx.segment_line_ids(seg)
            if ctx.lines[i].spec.component_id in comp.of_components
        ]
        base = sum((ctx.lines[i].amount for i in ids), np.zeros(ctx.agg.n_meters))
        spec = ctx.spec(
            seg, comp, quantity_unit=ctx.currency, price_unit="%", unit_price=-comp.percent
        )
        return [
            LineOut(
                spec, np.where(mask, base, 0.0), np.where(mask, -base * comp.percent / 100.0, 0.0)
            )
        ]
    months = sum(s.days / s.days_in_month for s in _slices(ctx, seg))
    value = -(comp.amount_per_month or 0.0)
    spec = ctx.spec(
        seg, comp, quantity_unit="month", price_unit=f"{ctx.currency}/month", unit_price=value
    )
    return [LineOut(spec, np.where(mask, months, 0.0), np.where(mask, value * months, 0.0))]


def _excise_taxable(c: FloatArray, exempt: float, clawback: FloatArray | float) -> FloatArray:
    """Taxable kWh of a month under the Italian relief (thresholds already pro-rated)."""
    effective_exempt = np.where(c <= clawback, exempt, np.maximum(0.0, exempt - (c - clawback)))
    return np.asarray(np.maximum(0.0, c - effective_exempt), dtype=np.float64)


@register("excise")
def _excise(ctx: EvalContext, seg: Segment, comp: ExciseTax) -> list[LineOut]:
    price = comp.rate * energy_unit_factor(comp.unit, ctx.currency)
    mask = ctx.customers.matches(comp.applies_if)
    ex = comp.exemption
    if ex is None:
        taxable = ctx.agg.segment_energy(seg.index, None)[:, 0]
    else:
        relief = ctx.customers.matches(ex.applies_if)
        clawback_kwh = np.full(ctx.agg.n_meters, ex.clawback_from_kwh_per_month)
        if ex.clawback_from_kwh_per_month_low_power is not None and ex.low_power_kw:
            low = ctx.customers.numeric(ex.power_property) <= ex.low_power_kw
            clawback_kwh = np.where(low, ex.clawback_from_kwh_per_month_low_power, clawback_kwh)
        taxable = np.zeros(ctx.agg.n_meters)
        for i, sl in zip(seg.slices, _slices(ctx, seg), strict=True):
            c = ctx.agg.slice_energy(i, None)[:, 0]
            share = sl.days / sl.days_in_month
            relieved = _excise_taxable(c, ex.exempt_kwh_per_month * share, clawback_kwh * share)
            taxable += np.where(relief, relieved, c)
    spec = ctx.spec(
        seg,
        comp,
        quantity_unit="kWh",
        price_unit=f"{ctx.currency}/kWh",
        unit_price=price,
        is_tax=True,
    )
    q = np.where(mask, taxable, 0.0)
    return [LineOut(spec, q, q * price)]


@register("percent")
def _percent(ctx: EvalContext, seg: Segment, comp: PercentTax) -> list[LineOut]:
    ids = [
        i
        for i in ctx.segment_line_ids(seg)
        if ctx.lines[i].spec.section in comp.base_sections
        or ctx.lines[i].spec.component_id in comp.base_components
    ]
    base = sum((ctx.lines[i].amount for i in ids), np.zeros(ctx.agg.n_meters))
    mask = ctx.customers.matches(comp.applies_if)
    rate = comp.rate_percent / 100.0
    spec = ctx.spec(
        seg,
        comp,
        quantity_unit=ctx.currency,
        price_unit="%",
        unit_price=comp.rate_percent,
        is_tax=True,
        tax_rate=rate,
        base_lines=tuple(ids),
    )
    return [LineOut(spec, np.where(mask, base, 0.0), np.where(mask, base * rate, 0.0))]
