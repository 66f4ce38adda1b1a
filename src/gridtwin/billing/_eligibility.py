"""Eligibility for Slovak regulated supply rates (ÚRSO decisions such as 0210/2017/E).

A bill does not apply these rules; a supplier applies them when a customer chooses or
changes a rate. They are plain functions that raise
:class:`~gridtwin.errors.EligibilityError` with the rule, the figures and what the customer
can do. The numbers (the 30,000 kWh limit, the 12 months, the required distribution
rates) are data in each tariff file's ``eligibility:`` mapping, read with
:func:`eligibility_rules`::

    eligibility:
      customer_class: small_business          # the class the rate is for
      small_business:                         # ÚRSO 0210/2017/E B.1-B.3
        annual_consumption_limit_kwh: 30000   # over all points of delivery, year t-2
        reference_year_offset: 2
      distribution_rate:                      # the DSO rate the supply rate needs
        required: [C2]
        voltage_levels: [LV]                  # only on these voltage levels (absent: all)
      rate_change:                            # ÚRSO 0210/2017/E I.11
        min_months_between_changes: 12
        not_a_change_of_conditions: [seasonal_appliance_use]

References
----------
.. [1] ÚRSO, rozhodnutie č. 0210/2017/E zo dňa 28. 02. 2017 (BTS), parts I.10-I.14
   (choice and change of rate), II.1 (DD2), III.1 (DMP2), B.1-B.3 (small business).
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridtwin.errors import EligibilityError, InputError, TariffSchemaError
from gridtwin.tariffs._loader import Tariff
from gridtwin.tariffs._schema import TariffDocument

__all__ = [
    "DistributionRateRule",
    "EligibilityRules",
    "GroupOfftakeRule",
    "RateChangeCheck",
    "RateChangeRule",
    "SmallBusinessRule",
    "check_distribution_rate",
    "check_eligibility",
    "check_rate_change",
    "eligibility_rules",
    "is_small_business",
]

VoltageLevel = Literal["LV", "MV", "HV", "EHV"]
VOLTAGE_LEVELS: tuple[str, ...] = ("LV", "MV", "HV", "EHV")
SEASONAL_APPLIANCE_USE = "seasonal_appliance_use"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmallBusinessRule(_Strict):
    """Who is a small business (ÚRSO 0210/2017/E B.1-B.3)."""

    annual_consumption_limit_kwh: float = Field(
        gt=0, description="largest yearly consumption over all points of delivery [kWh]"
    )
    reference_year_offset: int = Field(
        default=2, ge=1, description="consumption of year t - offset decides for year t"
    )
    source: str | None = None


class DistributionRateRule(_Strict):
    """The distribution rate(s) a supply rate needs, optionally only on some voltages."""

    required: tuple[str, ...] = Field(min_length=1)
    recommended: str | None = None
    voltage_levels: tuple[VoltageLevel, ...] | None = Field(
        default=None, description="the requirement holds on these levels only (None: all)"
    )
    source: str | None = None


class RateChangeRule(_Strict):
    """How often a customer may change rate (ÚRSO 0210/2017/E I.11)."""

    min_months_between_changes: int = Field(default=12, ge=0)
    not_a_change_of_conditions: tuple[str, ...] = (SEASONAL_APPLIANCE_USE,)
    source: str | None = None


class GroupOfftakeRule(_Strict):
    """Rates a group offtake may take (ÚRSO 0210/2017/E part I.a: DD1 or DD2 only)."""

    allowed_rates: tuple[str, ...] = Field(min_length=1)
    source: str | None = None


class EligibilityRules(_Strict):
    """The ``eligibility:`` mapping of a Slovak tariff file, validated."""

    rate: str | None = Field(default=None, description="the rate's code, e.g. DD2")
    group_offtake: GroupOfftakeRule | None = None
    customer_class: str | None = None
    small_business: SmallBusinessRule | None = None
    distribution_rate: DistributionRateRule | None = None
    rate_change: RateChangeRule = Field(default_factory=RateChangeRule)


def _doc_and_where(tariff: Tariff | TariffDocument) -> tuple[TariffDocument, str]:
    if isinstance(tariff, Tariff):
        return tariff.doc, tariff.path
    return tariff, f"tariff {tariff.id}"


def eligibility_rules(tariff: Tariff | TariffDocument) -> EligibilityRules:
    """Read and validate the ``eligibility:`` mapping of a tariff.

    Parameters
    ----------
    tariff : Tariff or TariffDocument
        A loaded tariff, e.g. ``get_tariff("sk-urso-0210-2017-dmp2")``.

    Returns
    -------
    EligibilityRules
        The rules; an absent mapping gives no class, no small-business test, no required
        distribution rate and the default 12-month rate-change rule.

    Raises
    ------
    TariffSchemaError
        The mapping has unknown keys or bad values (named as ``file: eligibility.key``).
    """
    doc, where = _doc_and_where(tariff)
    try:
        return EligibilityRules.model_validate(doc.eligibility)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in ("eligibility", *err["loc"]))
            reason = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                reason = (
                    "unknown key (known: rate, group_offtake, customer_class, "
                    "small_business, distribution_rate, rate_change and their fields)"
                )
            lines.append(f"{where}: {loc}: {reason}")
        raise TariffSchemaError("\n".join(lines)) from exc


def _as_rules(tariff: Tariff | TariffDocument | EligibilityRules) -> tuple[EligibilityRules, str]:
    if isinstance(tariff, EligibilityRules):
        return tariff, "the given rules"
    doc, _ = _doc_and_where(tariff)
    return eligibility_rules(tariff), f"tariff {doc.id}"


# ---------------------------------------------------------------------- small business
def is_small_business(
    consumption_kwh_by_pod_year_t_minus_2: Mapping[str, float | None],
    limit_kwh: float = 30000.0,
    *,
    year: int | None = None,
) -> bool:
    """Whether a non-household customer is a small business for year t.

    Parameters
    ----------
    consumption_kwh_by_pod_year_t_minus_2 : mapping of str -> float or None
        Consumption [kWh] in year t-2 of **every** point of delivery (POD) of the
        customer, by POD id. ``None`` marks a POD whose t-2 consumption the supplier does
        not know (e.g. it did not supply it all that year).
    limit_kwh : float
        Largest yearly consumption of a small business [kWh] (30,000 in ÚRSO 0210/2017/E
        B.1; read it from a tariff with :func:`eligibility_rules`).
    year : int, optional
        The year t being decided; only used in messages.

    Returns
    -------
    bool
        True if the sum over all PODs is at most ``limit_kwh`` (the limit is inclusive).

    Raises
    ------
    EligibilityError
        Some or all t-2 consumption is unknown: the customer must prove it (B.3).
    InputError
        A consumption is negative or not a number, or ``limit_kwh`` is not positive.

    Examples
    --------
    >>> is_small_business({"SK-POD-1": 18000.0, "SK-POD-2": 12000.0})
    True
    >>> is_small_business({"SK-POD-1": 18000.0, "SK-POD-2": 12001.0})
    False
    """
    if not (isinstance(limit_kwh, int | float) and math.isfinite(limit_kwh) and limit_kwh > 0):
        msg = f"limit_kwh={limit_kwh!r} must be a positive number of kWh"
        raise InputError(msg)
    t2 = f"year {year - 2}" if year is not None else "year t-2"
    if not consumption_kwh_by_pod_year_t_minus_2:
        msg = (
            f"no consumption known for any point of delivery in {t2}: the customer must "
            f"prove to the supplier that it is a small business, listing all its points "
            f"of delivery with their {t2} consumption and the invoices that show it "
            "(ÚRSO 0210/2017/E B.3); until then it is not treated as a small business"
        )
        raise EligibilityError(msg)
    unknown = [pod for pod, kwh in consumption_kwh_by_pod_year_t_minus_2.items() if kwh is None]
    if unknown:
        msg = (
            f"consumption in {t2} is unknown for point(s) of delivery {unknown}: the "
            f"customer must prove it to the supplier (all its points of delivery, their "
            f"{t2} consumption and period, with invoices; ÚRSO 0210/2017/E B.3) before it "
            "can be treated as a small business"
        )
        raise EligibilityError(msg)
    return _total_kwh(consumption_kwh_by_pod_year_t_minus_2, t2) <= limit_kwh


def _total_kwh(consumption_kwh_by_pod: Mapping[str, float | None], t2: str) -> float:
    """Sum of the known consumption of every POD [kWh]; refuses a value that is not one."""
    total = 0.0
    for pod, kwh in consumption_kwh_by_pod.items():
        if (
            isinstance(kwh, bool)
            or not isinstance(kwh, numbers.Real)
            or not math.isfinite(kwh)
            or kwh < 0
        ):
            msg = (
                f"consumption of point of delivery {pod!r} in {t2} is {kwh!r}; give a "
                "number of kWh >= 0, or None if it is unknown"
            )
            raise InputError(msg)
        total += float(kwh)
    return total


# -------------------------------------------------------------------------- rate change
@dataclass(frozen=True)
class RateChangeCheck:
    """Outcome of an admissible rate-change request.

    Attributes
    ----------
    effective_date : datetime.date
        Date from which the new rate applies.
    last_change : datetime.date or None
        Latest earlier rate change (or assignment) at the point of delivery.
    earliest_regular_date : datetime.date or None
        First date a change is allowed without a change of consumption conditions.
    needs_approval : bool
        The change comes early because consumption conditions changed: the supplier and
        the DSO assess and approve it (ÚRSO 0210/2017/E I.11).
    """

    effective_date: dt.date
    last_change: dt.date | None
    earliest_regular_date: dt.date | None
    needs_approval: bool


def _add_months(day: dt.date, months: int) -> dt.date:
    """Same day number ``months`` later; the month's last day if it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, pycal.monthrange(year, month)[1]))


def _as_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    msg = f"{what} must be a date, not {type(value).__name__} ({value!r})"
    raise InputError(msg)


def check_rate_change(
    history: Iterable[dt.date],
    requested_date: dt.date,
    *,
    consumption_conditions_changed: bool = False,
    reason: str | None = None,
    request_date: dt.date | None = None,
    rules: RateChangeRule | None = None,
) -> RateChangeCheck:
    """Check a request to change the supply rate of one point of delivery.

    Rules (ÚRSO 0210/2017/E I.11): a rate is kept for at least 12 months; a change may take
    effect no earlier than 12 months after the last change, unless the customer's
    consumption conditions changed (then the supplier and the DSO assess the request;
    seasonal use of appliances is not such a change); a rate is never changed
    retroactively.

    Parameters
    ----------
    history : iterable of datetime.date
        Dates from which earlier rates applied at this point of delivery for this customer
        (assignments and changes; any order). Empty: no earlier rate.
    requested_date : datetime.date
        Date from which the new rate should apply.
    consumption_conditions_changed : bool
        The customer's consumption conditions changed (allows a change within 12 months,
        subject to approval).
    reason : str, optional
        What changed, e.g. ``"seasonal_appliance_use"``; reasons listed in the rule's
        ``not_a_change_of_conditions`` do not count as a change of conditions.
    request_date : datetime.date, optional
        Date of the request (default: today). The new rate cannot apply before it.
    rules : RateChangeRule, optional
        From :func:`eligibility_rules` (``.rate_change``); default 12 months and seasonal
        appliance use not counting.

    Returns
    -------
    RateChangeCheck
        The admissible change, with ``needs_approval`` for an early change.

    Raises
    ------
    EligibilityError
        Retroactive change, or a change within the minimum period without (a valid)
        change of consumption conditions.
    InputError
        Dates that are not dates, or an earlier change after the requested date.

    Notes
    -----
    "12 months after" is the same day number 12 months later (the month's last day when
    it has no such day): a rate applied from 2020-03-15 can be changed from 2021-03-15,
    one applied from 2020-02-29 from 2021-02-28.
    """
    rule = rules or RateChangeRule()
    wanted = _as_date(requested_date, "requested_date")
    asked = _as_date(request_date, "request_date") if request_date is not None else dt.date.today()
    past = [_as_date(d, f"history[{i}]") for i, d in enumerate(history)]
    _check_request_dates(wanted, asked, past)
    if not past:
        return RateChangeCheck(wanted, None, None, needs_approval=False)
    last = max(past)
    earliest = _add_months(last, rule.min_months_between_changes)
    if wanted >= earliest:
        return RateChangeCheck(wanted, last, earliest, needs_approval=False)
    _check_early_change(
        rule,
        last,
        earliest,
        wanted,
        consumption_conditions_changed=consumption_conditions_changed,
        reason=reason,
    )
    return RateChangeCheck(wanted, last, earliest, needs_approval=True)


def _check_request_dates(wanted: dt.date, asked: dt.date, past: list[dt.date]) -> None:
    """Refuse a retroactive change, and earlier changes dated after the requested date."""
    if wanted < asked:
        msg = (
            f"the new rate cannot apply from {wanted}, before the request of {asked}: a "
            "rate is not changed retroactively (ÚRSO 0210/2017/E I.11); request it from "
            f"{asked} or later"
        )
        raise EligibilityError(msg)
    later = [d for d in past if d > wanted]
    if later:
        msg = (
            f"history has a rate change on {max(later)}, after the requested date {wanted}; "
            "give the rate changes that happened before the requested date"
        )
        raise InputError(msg)


def _check_early_change(
    rule: RateChangeRule,
    last: dt.date,
    earliest: dt.date,
    wanted: dt.date,
    *,
    consumption_conditions_changed: bool,
    reason: str | None,
) -> None:
    """Refuse a change within the minimum period without a valid change of conditions."""
    months = rule.min_months_between_changes
    if not consumption_conditions_changed:
        msg = (
            f"the rate last changed on {last}; a new change may apply from {earliest} "
            f"({months} months later, ÚRSO 0210/2017/E I.11), not from {wanted}. An "
            "earlier change needs a change of the customer's consumption conditions "
            "(gridtwin eligibility: --conditions-changed and --reason; in Python "
            "consumption_conditions_changed=True and reason=), which the supplier and "
            "the DSO must approve"
        )
        raise EligibilityError(msg)
    if reason is not None and reason in rule.not_a_change_of_conditions:
        msg = (
            f"{reason!r} is not a change of consumption conditions (ÚRSO 0210/2017/E "
            f"I.11: seasonal use of appliances does not count), so the rate changed on "
            f"{last} stays until {earliest}; request the change from {earliest} or later"
        )
        raise EligibilityError(msg)


# --------------------------------------------------------------- distribution rate, class
def _voltage(value: str | None) -> str | None:
    if value is None:
        return None
    level = str(value).strip().upper()
    if level not in VOLTAGE_LEVELS:
        msg = f"voltage_level={value!r} must be one of {list(VOLTAGE_LEVELS)}"
        raise InputError(msg)
    return level


def check_distribution_rate(
    tariff: Tariff | TariffDocument | EligibilityRules,
    distribution_rate: str,
    *,
    voltage_level: str | None = None,
) -> None:
    """Check that the customer's distribution rate allows the supply rate.

    Parameters
    ----------
    tariff : Tariff, TariffDocument or EligibilityRules
        The supply tariff (its ``eligibility.distribution_rate``).
    distribution_rate : str
        The DSO's rate assigned to the point of delivery, e.g. ``"D2"`` or ``"C2"``
        (case and surrounding spaces do not matter).
    voltage_level : {'LV', 'MV', 'HV', 'EHV'}, optional
        Voltage level of the point of delivery (LV = up to 1 kV); needed when the
        requirement holds on some levels only (DMP2: C2 on LV).

    Raises
    ------
    EligibilityError
        The distribution rate is not one the supply rate needs.
    InputError
        Empty distribution rate, unknown voltage level, or a voltage level needed and not
        given.
    """
    rules, name = _as_rules(tariff)
    rate = str(distribution_rate).strip().upper()
    if not rate:
        msg = "distribution_rate is empty; give the DSO's rate of the point of delivery (e.g. D2)"
        raise InputError(msg)
    level = _voltage(voltage_level)
    req = rules.distribution_rate
    if req is None:
        return
    if req.voltage_levels is not None:
        if level is None:
            msg = (
                f"{name} needs distribution rate {list(req.required)} on voltage level(s) "
                f"{list(req.voltage_levels)}; give the point of delivery's voltage level "
                "(gridtwin eligibility --voltage-level; in Python voltage_level=; LV = up "
                "to 1 kV)"
            )
            raise InputError(msg)
        if level not in req.voltage_levels:
            return
    allowed = [r.upper() for r in req.required]
    if rate not in allowed:
        on = f" on {level}" if req.voltage_levels is not None else ""
        hint = f"; {req.recommended} is recommended" if req.recommended else ""
        src = f" ({req.source})" if req.source else ""
        msg = (
            f"{name} requires distribution rate {' or '.join(req.required)}{on}, the point "
            f"of delivery has {rate}{src}: ask the DSO to change the distribution rate "
            f"first or choose another supply rate{hint}"
        )
        raise EligibilityError(msg)


def check_eligibility(
    tariff: Tariff | TariffDocument,
    *,
    customer_class: str,
    distribution_rate: str,
    voltage_level: str | None = None,
    consumption_kwh_by_pod_year_t_minus_2: Mapping[str, float | None] | None = None,
    year: int | None = None,
) -> None:
    """Check that a customer may take a supply rate: class, small-business test, DSO rate.

    Parameters
    ----------
    tariff : Tariff or TariffDocument
        The supply tariff with its ``eligibility:`` mapping.
    customer_class : str
        ``household``, ``small_business`` or ``non_household``.
    distribution_rate : str
        The DSO's rate of the point of delivery (e.g. ``"D2"``).
    voltage_level : {'LV', 'MV', 'HV', 'EHV'}, optional
        Voltage level of the point of delivery.
    consumption_kwh_by_pod_year_t_minus_2 : mapping of str -> float or None, optional
        Needed for a small-business rate: consumption [kWh] of every point of delivery of
        the customer in year t-2 (see :func:`is_small_business`).
    year : int, optional
        The year t, for messages.

    Raises
    ------
    EligibilityError
        The customer is of another class, is not (or not proven to be) a small business,
        or has a distribution rate the supply rate does not allow.
    InputError
        Missing or invalid inputs.
    """
    rules, name = _as_rules(tariff)
    if rules.customer_class is not None and customer_class != rules.customer_class:
        msg = (
            f"{name} is for {rules.customer_class} customers, not {customer_class}; "
            "choose a rate for the customer's class"
        )
        raise EligibilityError(msg)
    if rules.small_business is not None:
        _check_small_business(
            rules.small_business, name, consumption_kwh_by_pod_year_t_minus_2, year
        )
    check_distribution_rate(tariff, distribution_rate, voltage_level=voltage_level)


def _check_small_business(
    sb: SmallBusinessRule,
    name: str,
    consumption_kwh_by_pod_year_t_minus_2: Mapping[str, float | None] | None,
    year: int | None,
) -> None:
    """Refuse a customer that is not (or not proven to be) a small business."""
    if consumption_kwh_by_pod_year_t_minus_2 is None:
        msg = (
            f"{name} is for small businesses: give the kWh of every point of delivery "
            f"in year t-{sb.reference_year_offset} (gridtwin eligibility --pod-kwh "
            "POD=KWH, repeatable; in Python consumption_kwh_by_pod_year_t_minus_2=)"
        )
        raise InputError(msg)
    if not is_small_business(
        consumption_kwh_by_pod_year_t_minus_2, sb.annual_consumption_limit_kwh, year=year
    ):
        total = sum(float(v or 0.0) for v in consumption_kwh_by_pod_year_t_minus_2.values())
        msg = (
            f"{name} is for small businesses, with at most "
            f"{sb.annual_consumption_limit_kwh:,.0f} kWh a year over all points of "
            f"delivery in year t-{sb.reference_year_offset}; this customer used "
            f"{total:,.0f} kWh, so it is not a small business and cannot take this "
            "rate; choose a rate for other non-household customers"
        )
        raise EligibilityError(msg)
