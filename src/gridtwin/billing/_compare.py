"""Offer comparison: rank tariffs for one consumption profile over the same periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from gridtwin.billing._engine import bill, default_periods
from gridtwin.billing._plan import PropValue
from gridtwin.errors import InputError
from gridtwin.tariffs._loader import Tariff
from gridtwin.timeseries import IntervalData

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Offers ranked by total, cheapest first.

    ``table`` has one row per tariff: ``tariff_id``, ``name``, ``total`` (sum of presented
    lines over all periods), ``saving_vs_worst`` and ``extra_vs_best`` [currency].
    """

    currency: str
    periods: tuple[tuple[dt.date, dt.date], ...]
    table: pd.DataFrame
    notes: tuple[str, ...]


def compare(
    tariffs: Sequence[Tariff],
    data: IntervalData,
    *,
    meter: int = 0,
    periods: Sequence[tuple[dt.date, dt.date]] | None = None,
    customers: Mapping[str, PropValue] | None = None,
    series: Mapping[str, pd.Series] | None = None,
    allow_gaps: bool = False,
) -> Comparison:
    """Bill one meter under every tariff and rank them (same currency required).

    Customer properties a tariff does not read are ignored for that tariff. With
    ``allow_gaps`` missing intervals are not billed under any offer (the notes say so).
    """
    if not tariffs:
        msg = "compare needs at least one tariff"
        raise InputError(msg)
    currencies = {t.currency for t in tariffs}
    if len(currencies) != 1:
        msg = f"cannot compare tariffs in different currencies: {sorted(currencies)}"
        raise InputError(msg)
    one = data.select([data.meter_ids[meter]])
    by_default = periods is None
    periods = list(periods) if periods is not None else default_periods(tariffs[0], one)
    rows, notes = [], []
    for t in tariffs:
        props = {k: v for k, v in (customers or {}).items() if k in t.doc.properties}
        result = bill(
            t,
            one,
            periods=periods,
            customers=props,
            series=series,
            allow_gaps=allow_gaps,
            note_unbilled=by_default,
        )
        rows.append(
            {
                "tariff_id": t.id,
                "name": t.doc.name,
                "total": float(result.presented_totals()[0].sum()),
            }
        )
        notes += [f"{t.id}: {n}" for n in result.notes]
        if (
            result.unbilled_intervals is not None
            and result.unbilled_kwh is not None
            and not any(n.startswith("NOT BILLED") for n in notes)
        ):
            notes.append(
                f"NOT BILLED: {int(result.unbilled_intervals.sum())} interval(s) of the data "
                f"({float(result.unbilled_kwh.sum()):.3f} kWh) lie outside the compared "
                f"periods: {result.unbilled_reason}."
            )
    table = pd.DataFrame(rows).sort_values("total", kind="stable").reset_index(drop=True)
    table["extra_vs_best"] = table["total"] - table["total"].iloc[0]
    table["saving_vs_worst"] = table["total"].iloc[-1] - table["total"]
    return Comparison(
        currency=tariffs[0].currency, periods=tuple(periods), table=table, notes=tuple(notes)
    )
