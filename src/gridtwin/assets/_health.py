"""Health index and maintenance ranking of the assets of a register.

The method is a **simplified, flagged** version of the DNO Common Network Asset Indices
Methodology (CNAIM, Ofgem / the GB distribution network operators, v2.1, 2021), the
published scheme for condition-based asset health in distribution:

1. **Expected life** = rated life / duty factor. The duty factor comes from the asset's
   utilisation (peak loading in the observed history): <= 50 % 0.9, <= 70 % 0.95,
   <= 100 % 1.0, above 1.4 (a CNAIM-style step table; the values are ours, chosen to
   follow CNAIM's shape, not copied from its tables). For a transformer whose IEC 60076-7
   equivalent ageing rate V over the history is above 1 (the insulation ages faster than
   at 98 °C), the duty factor is at least V (at most 2).
2. **Initial health score** (CNAIM's ageing curve): ``HS0 = 0.5 * exp(beta * age)``,
   ``beta = ln(5.5 / 0.5) / expected life``: 0.5 when new, 5.5 at the end of the expected
   life, held at 5.5 beyond it (CNAIM's cap).
3. **Modifiers** from the twin's condition indicators and the register (each >= 1,
   multiplied; our simplification of CNAIM's condition and reliability modifiers):
   intervals above 100 % loading (share of the history: > 0 → 1.1, > 1 % → 1.2,
   > 5 % → 1.3); transformer hot spot (above 98 °C → 1.1, above 120 °C → 1.3, IEC
   60076-7's ageing-rate-1 and cyclic-loading limits); failures in the last 10 years
   (1 → 1.2, 2 → 1.4, more → 1.6) and a **collar** of 5.5 when one happened in the last
   2 years; a calendar visit overdue (no recent inspection: 1.1).
4. **Health score** ``HS = min(10, HS0 * modifiers)`` and CNAIM's bands: HI1 < 4,
   HI2 < 5.5, HI3 < 6.5, HI4 < 8, HI5 >= 8.
5. **Risk** = relative probability of failure x criticality, with CNAIM's cubic form of
   the probability of failure ``PoF ~ 1 + C*HS + (C*HS)^2/2 + (C*HS)^3/6`` (C = 1.087),
   taken relative to a new asset (HS 0.5): no absolute failure rates are claimed.

The ranking orders by risk: "which asset to visit first", each with its reasons, beside
the calendar plan (the last visit + the interval) and what the condition says about it:
``bring forward`` (HI3 or worse, calendar visit more than a year away), ``defer`` (HI1
and the calendar visit due within a year), else ``as planned``.

This is not a calibrated CNAIM implementation: no material-specific curves, location
factors, observed/measured condition inputs from inspections or monetised consequences.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from gridtwin.assets._register import AssetRecord, AssetRegister

__all__ = [
    "HEALTH_METHOD",
    "Advice",
    "AssetHealth",
    "ConditionIndicators",
    "assess",
    "health_band",
    "rank_assets",
]

#: What every ranking prints: the method and that it is a simplification.
HEALTH_METHOD = (
    "simplified CNAIM-style health index (after Ofgem/DNO CNAIM v2.1, 2021: ageing curve "
    "0.5..5.5 over the expected life, condition and reliability modifiers, cubic PoF); "
    "our own modifier values, not a calibrated CNAIM implementation"
)
Advice = Literal["bring forward", "as planned", "defer"]

_BETA_END = math.log(5.5 / 0.5)
_POF_C = 1.087
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ConditionIndicators:
    """What the twin's history says about one element (None: not observed).

    Attributes
    ----------
    observed_days : float
        Length of the history the indicators come from [d] (0: none).
    peak_loading_percent, mean_loading_percent : float or None
        Loading against the rating over the history [%].
    overload_intervals : int
        Intervals above 100 % loading.
    overload_share_percent : float
        Their share of the intervals observed [%].
    max_hot_spot_c : float or None
        Highest IEC 60076-7 hot spot (transformers) [°C].
    equivalent_ageing_rate : float or None
        IEC 60076-7 mean relative ageing rate V over the history (1: nominal at 98 °C).
    loss_of_life_h : float or None
        IEC 60076-7 loss of life over the history [h].
    """

    observed_days: float = 0.0
    peak_loading_percent: float | None = None
    mean_loading_percent: float | None = None
    overload_intervals: int = 0
    overload_share_percent: float = 0.0
    max_hot_spot_c: float | None = None
    equivalent_ageing_rate: float | None = None
    loss_of_life_h: float | None = None


@dataclass(frozen=True)
class AssetHealth:
    """One asset's health, risk and place against the calendar plan.

    Attributes
    ----------
    element, type, name : str
    age_years, expected_life_years, duty_factor : float
    initial_health_score, health_score : float
        0.5 (new) .. 10; see the module docstring.
    health_index : str
        HI1 .. HI5.
    pof_relative : float
        Probability of failure relative to a new asset.
    risk : float
        ``pof_relative * criticality``: the ranking key.
    rank : int
        1: visit first.
    calendar_due : date
        The calendar plan's next visit (last visit, or installation, + interval).
    calendar_rank : int
        The place the calendar plan gives it (earliest due first).
    advice : str
        bring forward, as planned or defer.
    reasons : list of str
        Why, the largest contributions first.
    indicators : ConditionIndicators
    """

    element: str
    type: str
    name: str
    age_years: float
    expected_life_years: float
    duty_factor: float
    initial_health_score: float
    health_score: float
    health_index: str
    pof_relative: float
    risk: float
    criticality: float
    calendar_due: dt.date
    days_to_calendar_due: int
    advice: Advice
    reasons: list[str]
    indicators: ConditionIndicators
    rank: int = 0
    calendar_rank: int = 0
    notes: list[str] = field(default_factory=list)


def health_band(score: float) -> str:
    """CNAIM's health-index band of a health score (HI1 best .. HI5 worst)."""
    for limit, band in ((4.0, "HI1"), (5.5, "HI2"), (6.5, "HI3"), (8.0, "HI4")):
        if score < limit:
            return band
    return "HI5"


def _pof(score: float) -> float:
    x = _POF_C * score
    return 1.0 + x + x * x / 2.0 + x**3 / 6.0


def _duty(rec: AssetRecord, ind: ConditionIndicators) -> tuple[float, list[str]]:
    peak = ind.peak_loading_percent
    if peak is None:
        return 1.0, []
    duty = 0.9 if peak <= 50 else 0.95 if peak <= 70 else 1.0 if peak <= 100 else 1.4
    why = [f"peak loading {peak:.0f} % (duty factor {duty:g})"] if duty > 1 else []
    v = ind.equivalent_ageing_rate
    if rec.type == "transformer" and v is not None and v > duty:
        duty = min(v, 2.0)
        why = [f"IEC 60076-7 ageing rate {v:.2f} x nominal (duty factor {duty:.2f})"]
    return duty, why


def _years(a: dt.date, b: dt.date) -> float:
    return (b - a).days / _DAYS_PER_YEAR


def _add_years(d: dt.date, years: float) -> dt.date:
    return d + dt.timedelta(days=round(years * _DAYS_PER_YEAR))


def _modifiers(
    rec: AssetRecord, ind: ConditionIndicators, as_of: dt.date, due: dt.date
) -> tuple[float, float, list[tuple[float, str]]]:
    """The product of the modifiers, the collar, and (factor, reason) pairs."""
    out: list[tuple[float, str]] = []
    share = ind.overload_share_percent
    if ind.overload_intervals > 0:
        f = 1.3 if share > 5 else 1.2 if share > 1 else 1.1
        out.append(
            (
                f,
                f"{ind.overload_intervals} intervals above 100 % loading ({share:.1f} % of "
                f"{ind.observed_days:.1f} days)",
            )
        )
    hs = ind.max_hot_spot_c
    if hs is not None and hs > 98.0:
        f = 1.3 if hs > 120.0 else 1.1
        out.append(
            (f, f"hot spot up to {hs:.0f} °C (IEC 60076-7: {'>120' if f > 1.2 else '>98'} °C)")
        )
    recent = [e for e in rec.failures if 0.0 <= _years(e.date, as_of) <= 10.0]
    collar = 0.5
    if recent:
        f = 1.2 if len(recent) == 1 else 1.4 if len(recent) == 2 else 1.6
        last = max(e.date for e in recent)
        out.append((f, f"{len(recent)} failure(s) in the last 10 years (last {last.isoformat()})"))
        if _years(last, as_of) <= 2.0:
            collar = 5.5
    overdue_days = (as_of - due).days
    if overdue_days > 0:
        out.append(
            (1.1, f"calendar visit overdue by {overdue_days} days (condition not inspected)")
        )
    product = math.prod(f for f, _ in out)
    return product, collar, out


def assess(rec: AssetRecord, indicators: ConditionIndicators | None, as_of: dt.date) -> AssetHealth:
    """The health of one asset on ``as_of`` (see the module docstring)."""
    ind = indicators or ConditionIndicators()
    installed = dt.date(rec.year_installed, 7, 1)  # mid-year: the register gives the year
    age = max(_years(installed, as_of), 0.0)
    duty, duty_why = _duty(rec, ind)
    life = rec.rated_life_years / duty
    hs0 = min(5.5, 0.5 * math.exp(_BETA_END / life * age))
    last = rec.last_maintenance(as_of)
    base = last if last is not None else installed
    due = _add_years(base, rec.maintenance_interval_years)
    product, collar, mods = _modifiers(rec, ind, as_of, due)
    score = min(10.0, max(hs0 * product, collar))
    band = health_band(score)
    reasons = [f"age {age:.1f} of an expected {life:.1f} years (initial score {hs0:.2f})"]
    reasons += duty_why
    reasons += [why for _, why in sorted(mods, key=lambda m: -m[0])]
    if collar > hs0 * product:
        reasons.append("a failure in the last 2 years holds the score at 5.5 at least")
    notes = [] if ind.observed_days > 0 else ["no state history: indicators from the register only"]
    days_to_due = (due - as_of).days
    if score >= 5.5 and days_to_due > 365:
        advice: Advice = "bring forward"
    elif score < 4.0 and days_to_due <= 365:
        advice = "defer"
    else:
        advice = "as planned"
    pof = _pof(score) / _pof(0.5)
    return AssetHealth(
        element=rec.element,
        type=rec.type,
        name=rec.name,
        age_years=age,
        expected_life_years=life,
        duty_factor=duty,
        initial_health_score=hs0,
        health_score=score,
        health_index=band,
        pof_relative=pof,
        risk=pof * rec.criticality,
        criticality=rec.criticality,
        calendar_due=due,
        days_to_calendar_due=days_to_due,
        advice=advice,
        reasons=reasons,
        indicators=ind,
        notes=notes,
    )


def rank_assets(
    register: AssetRegister,
    indicators: Mapping[str, ConditionIndicators],
    as_of: dt.date,
) -> list[AssetHealth]:
    """Every asset's health, ranked: highest risk first (ties: higher health score, then
    the earlier calendar date, then the element id); ``calendar_rank`` is the calendar
    plan's order (earliest due first)."""
    from dataclasses import replace

    healths = [assess(rec, indicators.get(rec.element), as_of) for rec in register.assets]
    by_risk = sorted(healths, key=lambda h: (-h.risk, -h.health_score, h.calendar_due, h.element))
    by_due: Sequence[AssetHealth] = sorted(healths, key=lambda h: (h.calendar_due, h.element))
    cal = {h.element: i for i, h in enumerate(by_due, start=1)}
    return [
        replace(h, rank=i, calendar_rank=cal[h.element]) for i, h in enumerate(by_risk, start=1)
    ]
