"""URDB demand charges: flat (by month) and time-of-use demand as ``demand`` components.

Owns ``flatdemandstructure`` + ``flatdemandmonths`` and ``demandratestructure`` + its
weekday/weekend schedules: each becomes demand components billing the maximum average
power of any data interval in the month (in the months/hours of the period) [kW]. Demand
measured in other units and demand tiers (blocks of kW) are refused or listed.
"""

from __future__ import annotations

from typing import Any

from gridtwin.tariffs._urdb_record import _Draft, _present, _structure, _Tier
from gridtwin.tariffs._urdb_schedules import _month_schedule, _schedule_spec, _schedules


def _demand_unit(d: _Draft, key: str) -> bool:
    """Whether the demand unit field ``key`` is kW (or absent); else refuse or list it."""
    unit = d.record.get(key)
    if unit is None or str(unit).strip().lower() == "kw":
        return True
    d.issues.unsupported(key, f"demand measured in {unit!r} (gridtwin bills kW)")
    return False


def _demand_price(d: _Draft, tiers: list[_Tier], field: str) -> float:
    """The first tier's price [USD/kW]; further tiers are refused or listed."""
    if len(tiers) > 1:
        d.issues.unsupported(
            field,
            "demand charges in tiers (blocks of kW)",
            "all kW are billed at the first tier's price",
        )
    return tiers[0].price


def _flat_demand(d: _Draft) -> None:
    """Add the flat demand components (one per flat period used in some month)."""
    key = "flatdemandstructure"
    if not _present(d.record, key):
        if _present(d.record, "flatdemandmonths"):
            d.issues.fail("flatdemandmonths", f"given without `{key}`")
        return
    if not _demand_unit(d, "flatdemandunit"):
        return
    struct = _structure(d.record, key, d.issues)
    months = _flat_demand_months(d, len(struct), key)
    prices = {p: _demand_price(d, struct[p], f"{key}[{p}]") for p in sorted(set(months))}
    bands = [f"F{p + 1}" for p in range(len(struct))]
    if len(prices) > 1:
        d.schedules["flat_demand"] = _month_schedule(
            [bands[p] for p in months], bands, "URDB flat demand periods by month"
        )
    for p, price in prices.items():
        if price == 0:
            continue
        comp: dict[str, Any] = {
            "id": f"demand_flat_{p + 1}" if len(prices) > 1 else "demand_flat",
            "kind": "demand",
            "section": "network",
            "rate": price,
            "label": "Demand" + (f" (months of flat period {p + 1})" if len(prices) > 1 else ""),
            "explanation": "highest average kW of any interval in the month times the price per kW",
        }
        if len(prices) > 1:
            comp["schedule"] = "flat_demand"
            comp["bands"] = [bands[p]]
        d.components.append(comp)


def _flat_demand_months(d: _Draft, n_periods: int, key: str) -> list[int]:
    """The flat demand period (0-based) of each month, from ``flatdemandmonths``."""
    months_raw = d.record.get("flatdemandmonths")
    if months_raw is None:
        if n_periods > 1:
            d.issues.fail(
                "flatdemandmonths",
                f"{n_periods} flat demand periods need the 12 month -> period indices",
            )
        d.issues.notes.append("no flatdemandmonths: the flat demand applies all year")
        return [0] * 12
    if not isinstance(months_raw, list) or len(months_raw) != 12:
        d.issues.fail("flatdemandmonths", "expected 12 period indices")
    months: list[int] = []
    for m, v in enumerate(months_raw):
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or int(v) != v
            or not 0 <= int(v) < n_periods
        ):
            d.issues.fail(f"flatdemandmonths[{m}]", f"{v!r} is not a period of {key}")
        months.append(int(v))
    return months


def _tou_demand(d: _Draft) -> None:
    """Add a demand component per used period of ``demandratestructure``."""
    key = "demandratestructure"
    if not _present(d.record, key):
        for k in ("demandweekdayschedule", "demandweekendschedule"):
            if _present(d.record, k):
                d.issues.fail(k, f"a schedule without `{key}`")
        return
    if not _demand_unit(d, "demandrateunit"):
        return
    struct = _structure(d.record, key, d.issues)
    weekday, weekend = _schedules(d.record, "demand", len(struct), d.issues)
    used = sorted({p for mat in (weekday, weekend) for row in mat for p in row})
    bands = [f"D{p + 1}" for p in range(len(struct))]
    d.schedules["demand"] = _schedule_spec(
        weekday, weekend, bands, "URDB demand periods (D1 = URDB period 0)"
    )
    for p in used:
        price = _demand_price(d, struct[p], f"{key}[{p}]")
        if price == 0:
            continue
        d.components.append(
            {
                "id": f"demand_{bands[p].lower()}",
                "kind": "demand",
                "section": "network",
                "label": f"Demand, period {bands[p]}",
                "rate": price,
                "schedule": "demand",
                "bands": [bands[p]],
                "explanation": f"highest average kW of any interval of period {bands[p]} in "
                "the month times the price per kW",
            }
        )
