"""URDB energy charges: time-of-use periods, tiers (blocks of kWh) and fuel adjustments.

Owns the conversion of ``energyratestructure`` (with its weekday/weekend schedules) into
energy components: one (tiered) component for a single used period, else a time-of-use
component with the first-tier prices plus a flat tiered component of the tier price steps
(exact when every used period has the same block limits and steps). Also owns the monthly
``fueladjustmentsmonthly`` component.
"""

from __future__ import annotations

from typing import Any

from gridtwin.tariffs._urdb_record import _Draft, _number, _present, _structure, _Tier
from gridtwin.tariffs._urdb_schedules import MONTHS, _month_schedule, _schedule_spec, _schedules

_TIER_UNITS = {"kwh": "month", "kwh daily": "day"}
_PRICE_TOL = 1e-12  # USD/kWh: tier price steps equal across periods


def _energy(d: _Draft) -> None:
    """Add the energy components of ``energyratestructure`` and its schedules."""
    key = "energyratestructure"
    if not _present(d.record, key):
        for k in ("energyweekdayschedule", "energyweekendschedule"):
            if _present(d.record, k):
                d.issues.fail(k, f"a schedule without `{key}`")
        d.issues.notes.append("no energyratestructure: no energy charge")
        return
    struct = _structure(d.record, key, d.issues)
    _refuse_sell_prices(d, struct, key)
    weekday, weekend = _schedules(d.record, "energy", len(struct), d.issues)
    used = sorted({p for mat in (weekday, weekend) for row in mat for p in row})
    tiers_of = _expressible_tiers(d, struct, used)
    if len(used) == 1:
        p = used[0]
        _energy_component(
            d,
            struct[p] if tiers_of is not None else struct[p][:1],
            tiers_of,
            "energy",
            "Energy",
            "kWh times the price (in blocks of monthly kWh if tiered)",
        )
        return
    bands = [f"P{p + 1}" for p in range(len(struct))]
    d.schedules["energy"] = _schedule_spec(
        weekday, weekend, bands, "URDB energy periods (P1 = URDB period 0)"
    )
    _tou_energy(d, struct, bands, used, tiers_of)


def _refuse_sell_prices(d: _Draft, struct: list[list[_Tier]], key: str) -> None:
    """Refuse (or list) every tier with a sell (export) price."""
    for p, tiers in enumerate(struct):
        for t, tier in enumerate(tiers):
            if tier.sell:
                d.issues.unsupported(
                    f"{key}[{p}][{t}].sell",
                    f"a sell (export) price of {tier.sell:g} USD/kWh: gridtwin bills "
                    "consumption only",
                )


def _tou_energy(
    d: _Draft,
    struct: list[list[_Tier]],
    bands: list[str],
    used: list[int],
    tiers_of: str | None,
) -> None:
    """Add the time-of-use component of several used periods, then the tier steps."""
    d.components.append(
        {
            "id": "energy",
            "kind": "energy",
            "section": "energy",
            "label": "Energy",
            "explanation": "kWh in each URDB time-of-use period times the period's "
            "(first-tier) price",
            "unit": "USD/kWh",
            "schedule": "energy",
            "rates": {bands[p]: struct[p][0].price for p in range(len(struct))},
        }
    )
    if tiers_of is not None:
        ref = struct[used[0]]
        steps = [_Tier(t.price - ref[0].price, t.max, t.unit, t.sell) for t in ref]
        _energy_component(
            d,
            steps,
            tiers_of,
            "energy_tiers",
            "Energy block adders",
            "price step of each block of the month's total kWh (the same in every period)",
        )


def _expressible_tiers(d: _Draft, struct: list[list[_Tier]], used: list[int]) -> str | None:
    """``month``/``day`` if the used periods' tiers can be billed exactly, else None."""
    key = "energyratestructure"
    if all(len(struct[p]) == 1 for p in used):
        return None
    fallback = "every kWh is billed at its period's first-tier price"
    units = {struct[p][t].unit.lower() for p in used for t in range(len(struct[p]) - 1)}
    bad = sorted(u for u in units if u not in _TIER_UNITS)
    if bad:
        d.issues.unsupported(
            f"{key}.unit",
            f"tiers in {bad[0]!r} (blocks sized by demand or by kVA/hp; "
            "gridtwin knows 'kWh' and 'kWh daily')",
            fallback,
        )
        return None
    if len(units) > 1:
        d.issues.unsupported(f"{key}.unit", "tiers mixing 'kWh' and 'kWh daily'", fallback)
        return None
    ref = struct[used[0]]
    for p in used[1:]:
        tiers = struct[p]
        same = (
            len(tiers) == len(ref)
            and all(a.max == b.max for a, b in zip(tiers[:-1], ref[:-1], strict=True))
            and all(
                abs((a.price - tiers[0].price) - (b.price - ref[0].price)) <= _PRICE_TOL
                for a, b in zip(tiers, ref, strict=True)
            )
        )
        if not same:
            d.issues.unsupported(
                key,
                f"periods {used[0]} and {p} have different tier limits or tier price "
                "steps (blocks restricted to a time-of-use period need engine support "
                "for tiered energy per band)",
                fallback,
            )
            return None
    return _TIER_UNITS[units.pop()] if units else None


def _energy_component(
    d: _Draft,
    tiers: list[_Tier],
    tier_period: str | None,
    cid: str,
    label: str,
    explanation: str,
) -> None:
    """Add one energy component: a flat price, or blocks of ``tier_period`` kWh."""
    comp: dict[str, Any] = {
        "id": cid,
        "kind": "energy",
        "section": "energy",
        "label": label,
        "explanation": explanation,
        "unit": "USD/kWh",
    }
    if tier_period is None or len(tiers) == 1:
        comp["rates"] = tiers[0].price
    else:
        comp["tiers"] = [
            {"up_to_kwh": t.max if k < len(tiers) - 1 else None, "rate": t.price}
            for k, t in enumerate(tiers)
        ]
        comp["tier_period"] = tier_period
        if tier_period == "day":
            comp["explanation"] += "; daily limits times the days of the billing period"
    d.components.append(comp)


def _fuel(d: _Draft) -> None:
    """Add the monthly fuel adjustments (``fueladjustmentsmonthly``), if any is non-zero."""
    key = "fueladjustmentsmonthly"
    if not _present(d.record, key):
        return
    raw = d.record[key]
    if not isinstance(raw, list) or len(raw) != 12:
        d.issues.fail(key, "expected 12 monthly prices [USD/kWh]")
    prices = [_number(v, f"{key}[{m}]", d.issues) for m, v in enumerate(raw)]
    if not any(prices):
        return
    d.schedules["months"] = _month_schedule(MONTHS, MONTHS, "calendar months")
    d.components.append(
        {
            "id": "fuel_adjustment",
            "kind": "energy",
            "section": "energy",
            "label": "Fuel adjustment",
            "unit": "USD/kWh",
            "schedule": "months",
            "explanation": "kWh of each month times the month's fuel adjustment (URDB "
            "fueladjustmentsmonthly; SAM ignores it)",
            "rates": dict(zip(MONTHS, prices, strict=True)),
        }
    )
