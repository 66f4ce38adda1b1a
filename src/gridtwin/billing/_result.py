"""Results of a billing run: line metadata plus (meters x lines) quantity/amount arrays."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import DataQualityError
from gridtwin.tariffs._loader import Tariff

__all__ = ["BillingResult", "LineSpec", "round_half_up", "round_half_up_array"]

FloatArray = npt.NDArray[np.float64]
MINOR_UNITS = {"EUR": 2, "ILS": 2, "USD": 2}


def round_half_up(value: float, digits: int = 2) -> Decimal:
    """Round a float half away from zero to ``digits`` decimals (for presentation)."""
    quantum = Decimal(1).scaleb(-digits)
    number = float(value)
    if not math.isfinite(number) or abs(number) >= 1e24:
        msg = f"the amount {number} cannot be presented: it is not a finite amount of money"
        raise DataQualityError(msg)
    return Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)


def round_half_up_array(values: FloatArray, digits: int = 2) -> FloatArray:
    """Vectorised half-away-from-zero rounding, exact for values printed with <= 9 decimals.

    The tiny offset absorbs binary representation error (0.125 stored as 0.12499999...).
    """
    scale = 10.0**digits
    scaled = np.abs(values) * scale
    return np.asarray(
        np.sign(values) * np.floor(scaled + 0.5 + 1e-9 * np.maximum(1, scaled)) / scale,
        dtype=np.float64,
    )


@dataclass(frozen=True)
class LineSpec:
    """Static description of one bill line (the same for every meter of a run)."""

    period: int
    segment_start: dt.date
    segment_end: dt.date
    doc_id: str
    component_id: str
    kind: str
    section: str
    label: str
    explanation: str
    quantity_unit: str
    price_unit: str
    unit_price: float | None  # None: varies per meter (amount / quantity)
    band: str | None = None
    is_tax: bool = False
    tax_rate: float | None = None  # fraction, for percent taxes
    base_lines: tuple[int, ...] = ()  # lines whose amounts form a percent tax's base


@dataclass
class BillingResult:
    """All bills of a run: ``amount[m, l]`` is line ``l`` of meter ``m``.

    Amounts are unrounded floats in the tariff's currency; presentation rounds them.
    ``applies[m, l]`` is False where a line does not concern a meter (its condition).
    """

    tariff: Tariff
    meter_ids: tuple[str, ...]
    periods: tuple[tuple[dt.date, dt.date], ...]
    lines: list[LineSpec]
    quantity: FloatArray
    amount: FloatArray
    applies: npt.NDArray[np.bool_]
    energy_by_band_kwh: FloatArray  # (m, periods, bands) of the main schedule
    bands: tuple[str, ...]
    max_power_source: Callable[[], FloatArray]  # computes (m, periods) on first use
    missing_intervals: npt.NDArray[np.int64]  # (m, periods)
    notes: list[str] = field(default_factory=list)
    #: Data outside the default periods (partial local days at the ends), per meter:
    #: intervals with a value and their energy, ``[:, 0]`` before the first period and
    #: ``[:, 1]`` after the last; None when every interval is in a period.
    unbilled_intervals: npt.NDArray[np.int64] | None = None  # (m, 2)
    unbilled_kwh: FloatArray | None = None  # (m, 2)
    #: Why that data is outside, for the bills' notes.
    unbilled_reason: str = ""
    _max_power: FloatArray | None = field(default=None, repr=False)

    @property
    def max_power_kw(self) -> FloatArray:
        """Maximum average interval power of each meter and period [kW] (lazy)."""
        if self._max_power is None:
            self._max_power = self.max_power_source()
        return self._max_power

    @property
    def currency(self) -> str:
        """ISO currency code."""
        return self.tariff.currency

    def totals(self) -> FloatArray:
        """Unrounded total per meter and period, shape (n_meters, n_periods)."""
        out = np.zeros((len(self.meter_ids), len(self.periods)))
        for li, spec in enumerate(self.lines):
            out[:, spec.period] += self.amount[:, li]
        return out

    def presented_amounts(self) -> FloatArray:
        """Line amounts as printed: rounded half-up to the minor unit.

        Percent taxes (VAT) are recomputed on the sum of their presented base lines, as a
        printed bill does, then rounded.
        """
        digits = MINOR_UNITS[self.currency]
        out = round_half_up_array(self.amount, digits)
        for li, spec in enumerate(self.lines):
            if spec.tax_rate is not None:
                base = out[:, list(spec.base_lines)].sum(axis=1)
                out[:, li] = round_half_up_array(
                    np.asarray(base * spec.tax_rate * self.applies[:, li], dtype=np.float64), digits
                )
        return out

    def presented_totals(self) -> FloatArray:
        """Total per meter and period as the sum of presented lines."""
        pres = self.presented_amounts()
        out = np.zeros((len(self.meter_ids), len(self.periods)))
        for li, spec in enumerate(self.lines):
            out[:, spec.period] += pres[:, li]
        return round_half_up_array(out, MINOR_UNITS[self.currency])
