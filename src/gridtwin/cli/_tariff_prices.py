"""The prices of a tariff component as one line of text (``gridtwin tariffs show``).

Adapter code: it only formats what the tariff file states, in the file's own units.
"""

from __future__ import annotations

from typing import Any

__all__ = ["component_prices"]


def _rates_text(rates: Any, unit: str) -> str:
    """Flat, per band, or season -> band rates as ``band x, band y unit``."""
    if not isinstance(rates, dict):
        return f"{rates:g} {unit}"
    parts = []
    for key, value in rates.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{b} {v:g}" for b, v in value.items())
            parts.append(f"{key}: {inner}")
        else:
            parts.append(f"{key} {value:g}")
    return "; ".join(parts) + f" {unit}"


def component_prices(c: Any, currency: str) -> str:
    """The price(s) a component or tax charges, in the unit the file states them.

    Parameters
    ----------
    c : Component or Tax
        A validated component of a tariff version.
    currency : str
        The tariff's currency (for amounts that state no unit of their own).

    Returns
    -------
    str
        e.g. ``"winter: off_peak 38.02, shoulder 60.35, peak 100.52 agorot/kWh"``,
        ``"0.65 EUR per month"``, ``"20 % of energy, network, system"``.
    """
    kind = c.kind
    if kind == "energy":
        if c.tiers is not None:
            tiers = ", ".join(
                f"{'rest' if t.up_to_kwh is None else f'up to {t.up_to_kwh:g} kWh'}: {t.rate:g}"
                for t in c.tiers
            )
            return f"{tiers} {c.unit} (per {c.tier_period})"
        return _rates_text(c.rates, c.unit)
    if kind == "fixed":
        return f"{c.amount:g} {currency} per {c.per}"
    if kind == "power":
        return f"{c.rate:g} {currency} per kW ({c.basis}) per {c.per}"
    if kind == "indexed_energy":
        return f"{c.series} x {c.multiplier:g} ({c.series_unit}) + {c.spread:g} {c.spread_unit}"
    if kind == "demand":
        return f"{c.rate:g} {currency} per kW per month"
    if kind in ("instalment", "minimum"):
        return f"{c.amount:g} {currency} per month"
    if kind == "discount":
        if c.percent is not None:
            return f"-{c.percent:g} % of {', '.join(c.of_components)}"
        return f"-{c.amount_per_month:g} {currency} per month"
    if kind == "excise":
        return f"{c.rate:g} {c.unit}"
    if kind == "percent":
        base = [*c.base_sections, *c.base_components]
        return f"{c.rate_percent:g} % of {', '.join(base) or 'nothing'}"
    return ""
