"""Slovak eligibility workflows behind ``gridtwin eligibility`` (ÚRSO 0210/2017/E).

* :func:`check_customer`: may this customer take this supply rate? (class, small business,
  distribution rate, group offtake, business metering, common parts of a block);
* :func:`rebill_wrong_rate`: the amount re-billed when a rate was wrongly assigned;
* :func:`disconnection_fee`: the monthly fee of a disconnected point of delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gridtwin.billing import bill, bill_band_totals, bill_for, check_eligibility
from gridtwin.billing._bill import Bill
from gridtwin.billing._sk_rules import (
    FeePeriod,
    check_business_metering,
    check_group_offtake,
    common_parts_class,
    disconnection_fee_period,
)
from gridtwin.errors import EligibilityError
from gridtwin.ingest import read_intervals
from gridtwin.tariffs import Tariff, get_tariff

__all__ = ["CustomerCase", "check_customer", "disconnection_fee", "rebill_wrong_rate"]


@dataclass(frozen=True)
class CustomerCase:
    """What the supplier knows of a point of delivery and its customer.

    Attributes
    ----------
    customer_class : str
        ``household``, ``small_business`` or ``non_household``.
    distribution_rate : str
        The DSO's rate of the point of delivery (e.g. ``D2``, ``C2``).
    voltage_level : str, optional
        ``LV`` (up to 1 kV), ``MV``, ``HV`` or ``EHV``.
    pod_kwh_t_minus_2 : mapping, optional
        kWh of every point of delivery of the customer in year t-2 (None: unknown).
    year : int, optional
        The year t.
    group_offtake : bool
        One point of delivery and one meter for several households (garages, cottages).
    business_use : bool
        Business is done at a household point of delivery.
    separately_metered : bool
        That business consumption has its own meter.
    common_parts : bool
        The point of delivery supplies the common parts of an apartment block.
    households_only_proven : bool
        The building's manager proved the common parts serve households only.
    """

    customer_class: str
    distribution_rate: str
    voltage_level: str | None = None
    pod_kwh_t_minus_2: Mapping[str, float | None] | None = None
    year: int | None = None
    group_offtake: bool = False
    business_use: bool = False
    separately_metered: bool = False
    common_parts: bool = False
    households_only_proven: bool = False


def check_customer(tariff: Tariff | str, case: CustomerCase) -> list[str]:
    """Every eligibility rule of the tariff for one customer; the ones that passed.

    Returns
    -------
    list of str
        One line per rule checked (what it found).

    Raises
    ------
    EligibilityError
        The first rule that fails, naming the tariff, the rule and what to do.
    InputError
        Missing or invalid inputs.
    """
    t = tariff if isinstance(tariff, Tariff) else get_tariff(tariff)
    try:
        return _check_customer(t, case)
    except EligibilityError as exc:
        if f"tariff {t.id}" in str(exc):
            raise
        msg = f"tariff {t.id}: {exc}"
        raise EligibilityError(msg) from exc


def _check_customer(t: Tariff, case: CustomerCase) -> list[str]:
    passed = []
    customer_class = case.customer_class
    if case.common_parts:
        customer_class = common_parts_class(households_only_proven=case.households_only_proven)
        passed.append(
            f"common parts of an apartment block: supplied as {customer_class} "
            "(vyhláška 18/2017 Z. z. § 45)"
        )
    check_eligibility(
        t,
        customer_class=customer_class,
        distribution_rate=case.distribution_rate,
        voltage_level=case.voltage_level,
        consumption_kwh_by_pod_year_t_minus_2=case.pod_kwh_t_minus_2,
        year=case.year,
    )
    passed.append(
        f"class {customer_class}, distribution rate {case.distribution_rate.upper()}"
        + (" and small-business test" if case.pod_kwh_t_minus_2 is not None else "")
        + ": allowed"
    )
    if case.group_offtake:
        check_group_offtake(t)
        passed.append("group offtake: the rate is one a group offtake may take")
    check_business_metering(
        t, business_use=case.business_use, separately_metered=case.separately_metered
    )
    if case.business_use:
        passed.append("business use: metered separately")
    return passed


def rebill_wrong_rate(
    billed: Tariff | str,
    correct: Tariff | str,
    data: str | Path,
    *,
    periods: list[tuple[dt.date, dt.date]] | None = None,
    billed_customer: Mapping[str, Any] | None = None,
    correct_customer: Mapping[str, Any] | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Bill the same consumption at the wrongly assigned and at the correct rate.

    ÚRSO 0210/2017/E I.13 (and B.3 for small businesses): when a rate was assigned without
    the customer meeting its conditions, the supplier may bill the consumption again in the
    rate whose conditions the customer meets. The difference is what is re-billed.

    Returns
    -------
    pandas.DataFrame
        One row per meter and period: ``meter_id``, ``period_from``, ``period_to``,
        ``billed_total``, ``correct_total``, ``rebilled_amount`` (correct - billed, in the
        tariffs' currency) and ``currency``.

    Raises
    ------
    InputError
        The two tariffs are in different currencies, or bad data.
    """
    from gridtwin.errors import InputError

    t_billed = billed if isinstance(billed, Tariff) else get_tariff(billed)
    t_correct = correct if isinstance(correct, Tariff) else get_tariff(correct)
    if t_billed.currency != t_correct.currency:
        msg = (
            f"tariffs {t_billed.id} ({t_billed.currency}) and {t_correct.id} "
            f"({t_correct.currency}) are in different currencies; re-bill within one"
        )
        raise InputError(msg)
    intervals = read_intervals(data, timezone=timezone)
    a = bill(t_billed, intervals, periods=periods, customers=billed_customer)
    b = bill(t_correct, intervals, periods=periods, customers=correct_customer)
    rows = []
    for m, meter in enumerate(a.meter_ids):
        for p, (start, end) in enumerate(a.periods):
            was, right = bill_for(a, m, p).total, bill_for(b, m, p).total
            rows.append(
                {
                    "meter_id": meter,
                    "period_from": str(start),
                    "period_to": str(end),
                    "billed_tariff": t_billed.id,
                    "billed_total": float(was),
                    "correct_tariff": t_correct.id,
                    "correct_total": float(right),
                    "rebilled_amount": float(right - was),
                    "currency": t_billed.currency,
                }
            )
    return pd.DataFrame(rows)


def _no_consumption(t: Tariff) -> dict[str, float]:
    """Zero kWh on every register of the tariff's energy schedule (``total`` if flat)."""
    from gridtwin.tariffs._schema import EnergyCharge

    schedules = {
        c.schedule
        for d in t.documents()
        for v in d.versions
        for c in v.components
        if isinstance(c, EnergyCharge) and c.schedule is not None
    }
    if len(schedules) != 1 or t.calendar is None:
        return {"total": 0.0}
    return dict.fromkeys(t.calendar.bands(schedules.pop()), 0.0)


def disconnection_fee(
    tariff: Tariff | str,
    period: tuple[dt.date, dt.date],
    disconnected_from: dt.date,
    contract_end: dt.date | None = None,
    customer: Mapping[str, Any] | None = None,
) -> tuple[FeePeriod, Bill]:
    """The bill of a point of delivery disconnected for non-payment (no consumption).

    Returns
    -------
    (FeePeriod, Bill)
        The days the monthly fee is due for, and the bill over them (the fee, pro-rated by
        started days, and the taxes on it).
    """
    t = tariff if isinstance(tariff, Tariff) else get_tariff(tariff)
    fee = disconnection_fee_period(period, disconnected_from, contract_end)
    result = bill_band_totals(t, _no_consumption(t), (fee.start, fee.end), customers=customer)
    return fee, bill_for(result, 0, 0)
