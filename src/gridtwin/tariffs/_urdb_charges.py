"""URDB fixed and minimum charges as ``fixed`` and ``minimum`` components.

Owns ``fixedchargefirstmeter`` + ``fixedchargeunits`` (and the legacy
``fixedmonthlycharge``): ``$/month`` and ``$/year`` are monthly amounts pro-rated by the
days of the month, ``$/day`` is per calendar day (or 365/12 days per month with
``day_convention="sam"``). Also owns ``mincharge`` + ``minchargeunits`` (and the legacy
``minmonthlycharge``): a monthly top-up of energy, demand and fixed charges.
"""

from __future__ import annotations

from typing import Any

from gridtwin.tariffs._urdb_record import _Draft, _number, _present

_AVG_MONTH_DAYS = 365.0 / 12.0  # SAM's days per month for $/day charges


def _fixed(d: _Draft) -> None:
    """Add the fixed charge of the first meter, if it is not zero."""
    amount, units = _fixed_amount(d)
    rec = d.record
    if _present(rec, "fixedchargeeaaddl") and _number(
        rec["fixedchargeeaaddl"], "fixedchargeeaaddl", d.issues
    ):
        d.issues.unsupported("fixedchargeeaaddl", "a fixed charge per additional meter")
    if not amount:
        return
    if units is None:
        units = "$/month"
        d.issues.notes.append("no fixedchargeunits: the fixed charge is read as $/month")
    comp: dict[str, Any] = {
        "id": "fixed",
        "kind": "fixed",
        "section": "network",
        "label": "Fixed charge",
        "amount": amount,
    }
    comp.update(_fixed_terms(d, amount, units))
    d.components.append(comp)


def _fixed_amount(d: _Draft) -> tuple[float | None, Any]:
    """The fixed charge [USD per unit] and its URDB unit, reconciling the legacy field."""
    rec = d.record
    units = rec.get("fixedchargeunits")
    amount: float | None = None
    if _present(rec, "fixedchargefirstmeter"):
        amount = _number(rec["fixedchargefirstmeter"], "fixedchargefirstmeter", d.issues)
    if _present(rec, "fixedmonthlycharge"):  # legacy (API v3): always $/month
        legacy = _number(rec["fixedmonthlycharge"], "fixedmonthlycharge", d.issues)
        if amount is None and units not in (None, "$/month"):
            d.issues.fail(
                "fixedmonthlycharge",
                f"is per month, but fixedchargeunits is {units!r}; keep one of them",
            )
        if amount is None:
            amount, units = legacy, "$/month"
        elif units in (None, "$/month") and legacy != amount:
            d.issues.fail(
                "fixedmonthlycharge",
                f"{legacy} disagrees with fixedchargefirstmeter {amount}; keep one of them",
            )
    return amount, units


def _fixed_terms(d: _Draft, amount: float, units: Any) -> dict[str, Any]:
    """How the fixed component charges ``amount`` in ``units``: period, proration, text."""
    if units == "$/month":
        return {
            "per": "month",
            "proration": "month_days",
            "explanation": f"{amount:g} USD per month; a part month pays its share of days",
        }
    if units == "$/year":
        return {
            "per": "year",
            "proration": "month_days",
            "explanation": f"{amount:g} USD per year, one twelfth per month; a part "
            "month pays its share of days",
        }
    if units == "$/day" and d.day_convention == "actual":
        return {"per": "day", "explanation": f"{amount:g} USD per day of the period"}
    if units == "$/day":
        return {
            "amount": amount * 365.0,
            "per": "year",
            "proration": "month_days",
            "explanation": f"{amount:g} USD per day, as 365/12 days per month (SAM's convention)",
        }
    d.issues.fail(
        "fixedchargeunits",
        f"unknown unit {units!r}; URDB uses '$/month', '$/day' or '$/year'",
    )


def _minimum(d: _Draft) -> None:
    """Add the monthly minimum charge, if it is not zero."""
    rec = d.record
    if _present(rec, "annualmincharge") and _number(
        rec["annualmincharge"], "annualmincharge", d.issues
    ):
        d.issues.unsupported("annualmincharge", "an annual minimum charge")
    key = "mincharge" if _present(rec, "mincharge") else "minmonthlycharge"
    if not _present(rec, key):
        return
    amount = _number(rec[key], key, d.issues)
    if not amount:
        return
    units = rec.get("minchargeunits") if key == "mincharge" else "$/month"
    if units is None:
        units = "$/month"
        d.issues.notes.append("no minchargeunits: the minimum is read as $/month")
    if units == "$/year":
        d.issues.unsupported("minchargeunits", "an annual minimum charge ($/year)")
        return
    if units == "$/day":
        monthly = amount * _AVG_MONTH_DAYS
        d.issues.notes.append(
            f"minimum {amount:g} $/day applied as {monthly:.6g} USD per month "
            "(365/12 days, as SAM; the schema has no per-day minimum)"
        )
    elif units == "$/month":
        monthly = amount
    else:
        d.issues.fail(
            "minchargeunits",
            f"unknown unit {units!r}; URDB uses '$/month', '$/day' or '$/year'",
        )
    d.components.append(
        {
            "id": "minimum",
            "kind": "minimum",
            "section": "other",
            "label": "Minimum charge",
            "amount": monthly,
            "of_sections": ["energy", "network"],
            "explanation": f"tops the month's energy, demand and fixed charges up to "
            f"{monthly:.2f} USD (a part month: its share of days)",
        }
    )
