"""Billing: interval data or register readings + tariff -> itemised bills, comparisons."""

from gridtwin.billing._bill import Bill, BillLine, bill_for, lines_frame
from gridtwin.billing._compare import Comparison, compare
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
    "LineSpec",
    "bill",
    "bill_band_totals",
    "bill_for",
    "compare",
    "default_periods",
    "lines_frame",
    "month_periods",
    "round_half_up",
]
