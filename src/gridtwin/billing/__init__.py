"""Billing: interval data or register readings + tariff -> itemised bills, comparisons."""

from gridtwin.billing._bill import Bill, BillLine, bill_for, lines_frame
from gridtwin.billing._compare import Comparison, compare
from gridtwin.billing._eligibility import (
    EligibilityRules,
    check_distribution_rate,
    check_eligibility,
    check_rate_change,
    eligibility_rules,
    is_small_business,
)
from gridtwin.billing._engine import bill, default_periods
from gridtwin.billing._plan import Customers, month_periods
from gridtwin.billing._readings import bill_band_totals
from gridtwin.billing._result import BillingResult, LineSpec, round_half_up

__all__ = [
    "Bill",
    "BillLine",
    "BillingResult",
    "Comparison",
    "Customers",
    "EligibilityRules",
    "LineSpec",
    "bill",
    "bill_band_totals",
    "bill_for",
    "check_distribution_rate",
    "check_eligibility",
    "check_rate_change",
    "compare",
    "default_periods",
    "eligibility_rules",
    "is_small_business",
    "lines_frame",
    "month_periods",
    "round_half_up",
]
