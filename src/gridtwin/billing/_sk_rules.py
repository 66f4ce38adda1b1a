"""The other rules of the Slovak supply decisions (ÚRSO 0210/2017/E) beyond rate choice.

* group offtake (skupinový odber: garages, cottages, gardens with one point of delivery and
  one meter for several households): DD1 or DD2 only (part I.a);
* business on a household point of delivery: its consumption must be metered separately
  (part I.a);
* common parts of an apartment block: supplied as a household when the building's manager
  proves they serve households only (part I.a, vyhláška 18/2017 Z. z. § 45);
* re-billing after a wrongly assigned rate: the supplier may bill the consumption again in
  the rate the customer qualifies for (I.13, B.3);
* the monthly fee during a disconnection for non-payment: billed throughout while the
  contract lasts, up to its end when it is terminated (I.15).

Each check raises :class:`~gridtwin.errors.EligibilityError` naming the tariff, the rule and
what the customer can do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gridtwin.billing._eligibility import _as_rules
from gridtwin.errors import EligibilityError, InputError
from gridtwin.tariffs._loader import Tariff
from gridtwin.tariffs._schema import TariffDocument

__all__ = [
    "FeePeriod",
    "check_business_metering",
    "check_group_offtake",
    "common_parts_class",
    "disconnection_fee_period",
]

_GROUP_RATES_DEFAULT = ("DD1", "DD2")


def check_group_offtake(tariff: Tariff | TariffDocument) -> None:
    """Refuse a rate other than DD1/DD2 for a group offtake (ÚRSO 0210/2017/E part I.a).

    A group offtake is one point of delivery metered by one meter for several households
    (garages, cottages, gardens), registered to one natural person; the free choice of
    rate (I.10) does not apply to it.

    Raises
    ------
    EligibilityError
        The tariff's rate is not one a group offtake may take.
    """
    rules, name = _as_rules(tariff)
    allowed = rules.group_offtake.allowed_rates if rules.group_offtake else _GROUP_RATES_DEFAULT
    rate = rules.rate or "(no rate code)"
    if rate not in allowed:
        msg = (
            f"{name} ({rate}) cannot be assigned to a group offtake (one point of delivery "
            f"and one meter for several households, e.g. garages, cottages, gardens): such "
            f"an offtake may take only {' or '.join(allowed)} (ÚRSO 0210/2017/E part I.a); "
            "choose one of those rates"
        )
        raise EligibilityError(msg)


def check_business_metering(
    tariff: Tariff | TariffDocument, *, business_use: bool, separately_metered: bool
) -> None:
    """Refuse a household rate for a point of delivery with unmetered business use.

    A household customer doing business at its point of delivery must split the
    installation so that the business consumption is metered on its own (part I.a).

    Raises
    ------
    EligibilityError
        ``business_use`` without ``separately_metered`` on a household rate.
    """
    rules, name = _as_rules(tariff)
    if rules.customer_class != "household" or not business_use or separately_metered:
        return
    msg = (
        f"{name} is a household rate; business at a household point of delivery must be "
        "metered separately (ÚRSO 0210/2017/E part I.a): split the installation so the "
        "business consumption has its own meter, then bill that meter at a business rate"
    )
    raise EligibilityError(msg)


def common_parts_class(*, households_only_proven: bool) -> str:
    """Customer class of the common parts of an apartment block (staircase lights, lifts).

    Parameters
    ----------
    households_only_proven : bool
        The building's manager (or the owners' association) proved to the supplier or the
        DSO that the common parts serve only households.

    Returns
    -------
    str
        ``"household"`` when proven (vyhláška 18/2017 Z. z. § 45, quoted in ÚRSO 0210/2017/E
        part I.a), else ``"non_household"``.
    """
    return "household" if households_only_proven else "non_household"


@dataclass(frozen=True)
class FeePeriod:
    """Days of a billing period on which the monthly fee is charged.

    Attributes
    ----------
    start, end : datetime.date
        Local dates ``[start, end)``; ``end`` is the contract's end when it falls inside.
    reason : str
        Why (the rule of ÚRSO 0210/2017/E I.15 that applies).
    """

    start: dt.date
    end: dt.date
    reason: str


def disconnection_fee_period(
    period: tuple[dt.date, dt.date],
    disconnected_from: dt.date,
    contract_end: dt.date | None = None,
) -> FeePeriod:
    """The days a disconnected point of delivery still pays the monthly fee for.

    Rules (ÚRSO 0210/2017/E I.15), for a supply interrupted for non-payment: while the
    contract lasts, the monthly fee is billed during the disconnection as well; when the
    contract is terminated, it is billed up to the termination date.

    Parameters
    ----------
    period : (date, date)
        Billing period, local dates ``[start, end)``.
    disconnected_from : date
        First day without supply.
    contract_end : date, optional
        Day the contract ends (exclusive end of the fee), if it was terminated.

    Raises
    ------
    InputError
        Dates in the wrong order.
    """
    start, end = period
    if end <= start:
        msg = f"--period {start}:{end}: the end must be after the start"
        raise InputError(msg)
    if contract_end is not None and contract_end < disconnected_from:
        msg = (
            f"--contract-end {contract_end} is before --disconnected-from "
            f"{disconnected_from}; give the day the contract ended"
        )
        raise InputError(msg)
    if contract_end is None or contract_end >= end:
        return FeePeriod(
            start,
            end,
            f"the contract continues, so the monthly fee is billed during the disconnection "
            f"from {disconnected_from} as well (ÚRSO 0210/2017/E I.15 a)",
        )
    if contract_end <= start:
        msg = (
            f"the contract ended on {contract_end}, before the billing period {start}:{end}; "
            "no monthly fee is due for it"
        )
        raise InputError(msg)
    return FeePeriod(
        start,
        contract_end,
        f"the contract ended on {contract_end}, so the monthly fee is billed up to that date "
        "(ÚRSO 0210/2017/E I.15 b)",
    )
