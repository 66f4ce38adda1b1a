"""Italian bills from register readings over consecutive periods, with ricalcoli.

:class:`ReadingsBills` bills one point of delivery period after period, as a supplier
does: each bill uses the readings known at its end. A period that ends on an estimated
reading (lettura stimata) is billed on it; when a later actual reading (effettiva or
autolettura) arrives, the consumption since the last actual reading is known, the
estimated indexes in between are replaced by the indexes interpolated by days between
the two actual readings, every earlier period is billed again, and the difference appears
on the new bill as ricalcolo lines naming the periods they correct (the conguaglio).

It also gives each bill its readings table and the monthly consumption history (each
period's consumption spread over its months by days) for the Bolletta 2.0 layout of
:func:`gridtwin.billing.italian_bill`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gridtwin.billing import Bill, BillingResult, bill_band_totals, bill_for
from gridtwin.billing._it_bill import ReadingRow, Ricalcolo
from gridtwin.errors import DataQualityError, InputError
from gridtwin.ingest import RegisterReading, read_register_readings
from gridtwin.tariffs import Tariff, get_tariff

__all__ = ["PeriodBill", "ReadingsBills", "monthly_history", "reading_rows"]

_ACTUAL = ("actual", "self_read")


@dataclass(frozen=True)
class PeriodBill:
    """The bill of one period as issued, with its ricalcoli and history."""

    result: BillingResult
    bill: Bill
    readings: tuple[ReadingRow, ...]
    ricalcoli: tuple[Ricalcolo, ...]
    history: tuple[tuple[str, float], ...]
    #: Consumption billed per register as read (F1/F2/F3 even on a single-band offer).
    kwh_by_register: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadingsBills:
    """One POD's readings billed over consecutive periods (see the module docstring).

    Attributes
    ----------
    tariff : Tariff, str or Path
    readings : str, Path or sequence of RegisterReading
        Register readings (``pod, register, read_date, value_kwh, kind``).
    pod : str, optional
        The point of delivery (needed when the readings cover several).
    periods : sequence of (date, date), optional
        Consecutive periods whose bounds are reading dates; default: one period between
        each pair of consecutive reading dates.
    customers : mapping
        Customer properties of the tariff.
    """

    tariff: Tariff | str | Path
    readings: str | Path | Sequence[RegisterReading]
    pod: str | None = None
    periods: Sequence[tuple[dt.date, dt.date]] | None = None
    customers: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> list[PeriodBill]:
        """Bill every period in order; later bills carry the ricalcoli."""
        tariff = self.tariff if isinstance(self.tariff, Tariff) else get_tariff(str(self.tariff))
        raw = (
            read_register_readings(self.readings)
            if isinstance(self.readings, str | Path)
            else list(self.readings)
        )
        pod, by_date = _dates(raw, self.pod)
        dates = sorted(by_date)
        wanted = _periods(dates, self.periods, pod)
        # the periods before the first one asked for are billed too (not returned), so
        # that a ricalcolo on a later bill corrects what those bills charged
        lead = [(a, b) for a, b in itertools.pairwise(dates) if b <= wanted[0][0]]
        periods = [*lead, *wanted]
        used: dict[dt.date, dict[str, float]] = {}  # index each bill used at a date
        corrected_at: set[dt.date] = set()
        issued: dict[tuple[dt.date, dt.date], tuple[dict[str, float], Decimal]] = {}
        out: list[PeriodBill] = []
        for start, end in periods:
            used.setdefault(start, _index(by_date[start]))
            ricalcoli: list[Ricalcolo] = []
            first_shown = start
            if _kind(by_date[end]) in _ACTUAL:
                anchor = _last_actual(dates, by_date, start)
                first_shown = anchor
                corrected = _interpolated(dates, by_date, anchor, end)
                for (p0, p1), (kwh, total) in sorted(issued.items()):
                    if p0 < anchor or p1 > start:
                        continue
                    new_kwh = _diff(corrected[p1], corrected[p0], pod, p0, p1)
                    if all(abs(new_kwh[r] - kwh[r]) < 1e-9 for r in kwh):
                        continue
                    new_total = self._bill(tariff, new_kwh, (p0, p1), pod).total
                    ricalcoli.append(Ricalcolo(p0, p1, kwh, new_kwh, total, new_total))
                    issued[(p0, p1)] = (new_kwh, new_total)
                used.update({d: corrected[d] for d in corrected if anchor <= d <= start})
                corrected_at.update(d for d in corrected if anchor <= d <= start)
            kwh = _diff(_index(by_date[end]), used[start], pod, start, end)
            start_estimated = _kind(by_date[start]) == "estimated" and start not in corrected_at
            result = bill_band_totals(
                tariff,
                kwh,
                (start, end),
                pod=pod,
                customers=dict(self.customers),
                estimated=_kind(by_date[end]) == "estimated" or start_estimated,
            )
            bill = bill_for(result, 0, 0)
            issued[(start, end)] = (kwh, bill.total)
            used[end] = _index(by_date[end])
            shown = [d for d in dates if first_shown <= d <= end]
            out.append(
                PeriodBill(
                    result,
                    bill,
                    tuple(reading_rows(by_date, shown)),
                    tuple(ricalcoli),
                    tuple(monthly_history({p: v[0] for p, v in issued.items()})),
                    kwh,
                )
            )
        return out[len(lead) :]

    def _bill(
        self, tariff: Tariff, kwh: dict[str, float], period: tuple[dt.date, dt.date], pod: str
    ) -> Bill:
        result = bill_band_totals(tariff, kwh, period, pod=pod, customers=dict(self.customers))
        return bill_for(result, 0, 0)


def _dates(
    readings: Sequence[RegisterReading], pod: str | None
) -> tuple[str, dict[dt.date, dict[str, RegisterReading]]]:
    """The POD and its readings by date and register (every date with every register)."""
    pods = sorted({r.pod for r in readings})
    if pod is None:
        if len(pods) != 1:
            msg = f"the readings cover {len(pods)} POD(s) {pods[:5]}; choose one with --pod"
            raise InputError(msg)
        pod = pods[0]
    if pod not in pods:
        msg = f"--pod {pod!r}: no readings of it; PODs in the file: {pods[:5]}"
        raise InputError(msg)
    by_date: dict[dt.date, dict[str, RegisterReading]] = {}
    for r in readings:
        if r.pod == pod:
            by_date.setdefault(r.read_date, {})[r.register] = r
    registers = set().union(*(set(v) for v in by_date.values()))
    for day, regs in by_date.items():
        if set(regs) != registers:
            msg = (
                f"pod {pod!r}: the reading of {day} lacks register(s) "
                f"{sorted(registers - set(regs))}; every reading date needs all of "
                f"{sorted(registers)}"
            )
            raise InputError(msg)
    if len(by_date) < 2:
        msg = f"pod {pod!r}: a bill needs readings on at least two dates"
        raise InputError(msg)
    return pod, by_date


def _periods(
    dates: list[dt.date], given: Sequence[tuple[dt.date, dt.date]] | None, pod: str
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive reading dates as periods, or the given ones checked."""
    if not given:
        return list(itertools.pairwise(dates))
    periods = sorted(given)
    for (a, b), nxt in zip(periods, [*periods[1:], None], strict=True):
        for d in (a, b):
            if d not in dates:
                shown = ", ".join(x.isoformat() for x in dates[:12])
                msg = f"pod {pod!r}: no reading on {d} (a period bound); readings on {shown}"
                raise InputError(msg)
        if nxt is not None and nxt[0] != b:
            msg = f"--period: periods must follow each other; {b} is followed by {nxt[0]}"
            raise InputError(msg)
    return periods


def _index(regs: Mapping[str, RegisterReading]) -> dict[str, float]:
    return {k: r.value_kwh for k, r in regs.items()}


def _kind(regs: Mapping[str, RegisterReading]) -> str:
    """estimated if any register is, else self_read if any is, else actual."""
    kinds = {r.kind for r in regs.values()}
    return (
        "estimated" if "estimated" in kinds else "self_read" if "self_read" in kinds else "actual"
    )


def _last_actual(
    dates: list[dt.date], by_date: Mapping[dt.date, Mapping[str, RegisterReading]], before: dt.date
) -> dt.date:
    """The last actual reading date on or before ``before`` (else the first date)."""
    actual = [d for d in dates if d <= before and _kind(by_date[d]) in _ACTUAL]
    return actual[-1] if actual else dates[0]


def _interpolated(
    dates: list[dt.date],
    by_date: Mapping[dt.date, Mapping[str, RegisterReading]],
    anchor: dt.date,
    end: dt.date,
) -> dict[dt.date, dict[str, float]]:
    """Indexes at every reading date in [anchor, end], estimated ones replaced by the
    values interpolated by days between the actual readings at ``anchor`` and ``end``."""
    a, e = _index(by_date[anchor]), _index(by_date[end])
    span = (end - anchor).days
    out = {}
    for d in dates:
        if anchor <= d <= end:
            w = (d - anchor).days / span
            out[d] = {r: a[r] + (e[r] - a[r]) * w for r in a}
    out[anchor], out[end] = a, e
    return out


def _diff(
    hi: Mapping[str, float], lo: Mapping[str, float], pod: str, start: dt.date, end: dt.date
) -> dict[str, float]:
    """Consumption per register between two indexes; a decrease is refused."""
    kwh = {r: hi[r] - lo[r] for r in hi}
    bad = {r: v for r, v in kwh.items() if v < -1e-9}
    if bad:
        msg = (
            f"pod {pod!r}: the index decreases between {start} and {end} in {sorted(bad)} "
            f"({bad}): an estimate above the later actual reading cannot be corrected by "
            "interpolation; check the readings (meter replaced?)"
        )
        raise DataQualityError(msg)
    return {r: max(v, 0.0) for r, v in kwh.items()}


def reading_rows(
    by_date: Mapping[dt.date, Mapping[str, RegisterReading]], dates: Sequence[dt.date]
) -> list[ReadingRow]:
    """The readings table rows of the given dates."""
    return [ReadingRow(d, _index(by_date[d]), _kind(by_date[d])) for d in dates]


def monthly_history(
    periods: Mapping[tuple[dt.date, dt.date], Mapping[str, float]],
) -> list[tuple[str, float]]:
    """kWh per calendar month (``YYYY-MM``, oldest first), each period's consumption
    spread over its days."""
    months: dict[str, float] = {}
    for (p0, p1), kwh in periods.items():
        total, days = sum(kwh.values()), (p1 - p0).days
        d = p0
        while d < p1:
            key = f"{d.year:04d}-{d.month:02d}"
            months[key] = months.get(key, 0.0) + total / days
            d += dt.timedelta(days=1)
    return sorted(months.items())
