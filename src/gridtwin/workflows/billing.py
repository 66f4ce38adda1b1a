"""Billing workflows: files or data in, itemised bills or a ranking of offers out.

* :class:`BillingRun`: interval data (a file or :class:`~gridtwin.timeseries.IntervalData`)
  billed under one tariff, meters in chunks with progress, periods by default the calendar
  months of the data (or one period for all of it);
* :class:`ReadingsBilling`: one point of delivery's register readings (actual, estimated,
  self-read) billed for one period;
* :class:`OfferComparison`: one meter's consumption billed under several offers and ranked.

Each is a frozen description of the job; ``run()`` performs it in order (read, load the
tariff, choose the periods, bill) and returns the billing domain's result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridtwin._datafile import read_csv_text
from gridtwin.billing import BillingResult, Comparison, bill, bill_band_totals, compare
from gridtwin.billing import default_periods as _default_periods
from gridtwin.errors import InputError
from gridtwin.ingest import consumption_by_register, read_intervals, read_register_readings
from gridtwin.tariffs import Tariff, get_tariff
from gridtwin.timeseries import IntervalData

__all__ = [
    "BillingRun",
    "OfferComparison",
    "Period",
    "ReadingsBilling",
    "read_price_series",
]

Period = tuple[dt.date, dt.date]
Progress = Callable[[int, int], None]
#: Meters billed at a time by :class:`BillingRun` (bounded memory, progress per chunk).
CHUNK_METERS = 2000


def _tariff(tariff: Tariff | str | Path) -> Tariff:
    return tariff if isinstance(tariff, Tariff) else get_tariff(str(tariff))


def _data(data: IntervalData | str | Path, timezone: str | None) -> IntervalData:
    return data if isinstance(data, IntervalData) else read_intervals(data, timezone=timezone)


#: Largest price a series may hold, in any unit (EUR/MWh, EUR/kWh): far beyond any traded
#: price (market caps are about 10^4 EUR/MWh); beyond it a bill's amounts lose their cents.
MAX_PRICE = 1e9


#: Column layouts read as a price series: (time column, value column). The second is
#: the monthly PUN table shipped in examples/it (one column per band as well).
PRICE_SERIES_LAYOUTS = (("timestamp", "value"), ("month_start", "pun_eur_per_mwh"))


def read_price_series(path: str | Path, column: str | None = None) -> pd.Series:
    """A price series from a CSV file, as a float Series on a UTC period-start index.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``timestamp, value`` (timestamps with an offset or ``Z``), or
        the monthly PUN layout ``month_start, pun_eur_per_mwh, pun_f1_eur_per_mwh, ...``
        of ``examples/it/pun_monthly_2024_2025.csv``. Lines starting with ``#`` are
        comments (the bundled ``tariffs/data/it/pun.csv`` has them).
    column : str, optional
        The value column to read (e.g. ``pun_f1_eur_per_mwh``); default ``value`` or
        ``pun_eur_per_mwh``.

    Raises
    ------
    InputError
        The file cannot be read, has other columns, or a bad row (row named).
    """
    frame = read_csv_text(path, "timestamp,value", comment="#")
    cols = [str(c).strip() for c in frame.columns]
    frame.columns = cols
    layout = next((lay for lay in PRICE_SERIES_LAYOUTS if lay[0] in cols and lay[1] in cols), None)
    if layout is None:
        msg = (
            f"{path}: expected columns timestamp,value (or month_start,pun_eur_per_mwh "
            f"as in examples/it); found {cols}"
        )
        raise InputError(msg)
    time_col, value_col = layout
    if column is not None:
        if column not in cols or column == time_col:
            msg = f"{path}: no value column {column!r}; columns: {cols}"
            raise InputError(msg)
        value_col = column
    frame = frame[[time_col, value_col]].rename(columns={time_col: "timestamp", value_col: "value"})
    if column is not None:  # a band column may be empty where the source had no value
        frame = frame[frame["value"].str.strip() != ""]
    if frame.empty:
        msg = f"{path}: the header is there, but no row of prices"
        raise InputError(msg)
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        msg = f"{path}: row {row + 2}: value {frame['value'].iloc[row]!r} is not a number"
        raise InputError(msg)
    huge = np.abs(values) > MAX_PRICE
    if huge.any():
        row = int(np.flatnonzero(huge)[0])
        msg = (
            f"{path}: row {row + 2}: value {frame['value'].iloc[row]!r} is beyond any price "
            f"(at most {MAX_PRICE:.0e} either way); check the column and its unit"
        )
        raise InputError(msg)
    stamps = frame["timestamp"].str.strip()
    has_zone = stamps.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if not has_zone.all():
        row = int(np.flatnonzero(~has_zone.to_numpy())[0])
        msg = (
            f"{path}: row {row + 2}: timestamp {stamps.iloc[row]!r} has no UTC offset; "
            "write it with Z or +hh:mm (e.g. 2025-01-01T00:00Z)"
        )
        raise InputError(msg)
    times = pd.to_datetime(stamps, utc=True, errors="coerce", format="ISO8601")
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        msg = f"{path}: row {row + 2}: timestamp {stamps.iloc[row]!r} is not an ISO 8601 time"
        raise InputError(msg)
    return pd.Series(values, index=pd.DatetimeIndex(times))


@dataclass(frozen=True)
class BillingRun:
    """Interval data billed under one tariff.

    Attributes
    ----------
    tariff : Tariff, str or Path
        A loaded tariff, a built-in tariff id or a tariff file.
    data : IntervalData, str or Path
        Interval energy [kWh] or a CSV/Parquet file of it.
    timezone : str, optional
        Zone of naive timestamps in the file.
    periods : sequence of (date, date), optional
        Billing periods ``[start, end)`` in the tariff's local dates; default by
        ``period_kind``.
    period_kind : {"month", "whole"}
        Default periods: calendar months of the data, or one period for all of it.
    customers : mapping
        Customer properties the tariff reads (one value, or one per meter).
    series : mapping of name -> Series
        Price series of indexed components.
    allow_gaps : bool
        Bill despite missing intervals (the bills say how many are missing).
    chunk_meters : int
        Meters billed at a time.
    """

    tariff: Tariff | str | Path
    data: IntervalData | str | Path
    timezone: str | None = None
    periods: Sequence[Period] | None = None
    period_kind: Literal["month", "whole"] = "month"
    customers: Mapping[str, Any] = field(default_factory=dict)
    series: Mapping[str, pd.Series] = field(default_factory=dict)
    allow_gaps: bool = False
    chunk_meters: int = CHUNK_METERS

    def run(self, progress: Progress | None = None) -> BillingResult:
        """Bill every meter; ``progress(meters_done, meters_total)`` after each chunk when
        there is more than one."""
        data = _data(self.data, self.timezone)
        tariff = _tariff(self.tariff)
        periods = list(self.periods or _default_periods(tariff, data, self.period_kind))
        kw: dict[str, Any] = {
            "periods": periods,
            "customers": dict(self.customers),
            "series": dict(self.series),
            "allow_gaps": self.allow_gaps,
            "note_unbilled": not self.periods,  # default periods: say what they leave out
        }
        if data.n_meters <= self.chunk_meters:
            return bill(tariff, data, **kw)
        parts = []
        for start in range(0, data.n_meters, self.chunk_meters):
            part = data.select(list(data.meter_ids[start : start + self.chunk_meters]))
            parts.append(bill(tariff, part, **kw))
            if progress is not None:
                progress(min(start + self.chunk_meters, data.n_meters), data.n_meters)
        return _concatenate(parts, data.meter_ids)


def _concatenate(parts: list[BillingResult], meter_ids: tuple[str, ...]) -> BillingResult:
    """One result of the chunks' results (same tariff, periods and lines)."""

    def cat(arrays: list[Any]) -> Any:
        return np.concatenate(arrays, axis=0)

    first = parts[0]
    return BillingResult(
        tariff=first.tariff,
        meter_ids=meter_ids,
        periods=first.periods,
        lines=first.lines,
        quantity=cat([p.quantity for p in parts]),
        amount=cat([p.amount for p in parts]),
        applies=cat([p.applies for p in parts]),
        energy_by_band_kwh=cat([p.energy_by_band_kwh for p in parts]),
        bands=first.bands,
        max_power_source=lambda: cat([p.max_power_kw for p in parts]),
        missing_intervals=cat([p.missing_intervals for p in parts]),
        notes=first.notes,
        unbilled_intervals=_cat_unbilled([p.unbilled_intervals for p in parts], parts, np.int64),
        unbilled_kwh=_cat_unbilled([p.unbilled_kwh for p in parts], parts, np.float64),
        unbilled_reason=next((p.unbilled_reason for p in parts if p.unbilled_reason), ""),
    )


def _meter_row(data: IntervalData, meter: str) -> int:
    """The row of a meter id in the data; an unknown id names the meters there are."""
    if meter not in data.meter_ids:
        shown = ", ".join(data.meter_ids[:10]) + (" ..." if len(data.meter_ids) > 10 else "")
        msg = (
            f"meter {meter!r} is not in {data.source} ({len(data.meter_ids)} meter(s): "
            f"{shown}); choose one of them (`--meter` on the command line)"
        )
        raise InputError(msg)
    return data.meter_ids.index(meter)


def _cat_unbilled(arrays: list[Any], parts: list[BillingResult], dtype: Any) -> Any:
    """The chunks' (meters, 2) arrays of unbilled data as one (None when none has any)."""
    if all(a is None for a in arrays):
        return None
    return np.concatenate(
        [
            np.zeros((len(p.meter_ids), 2), dtype) if a is None else a
            for a, p in zip(arrays, parts, strict=True)
        ]
    )


@dataclass(frozen=True)
class ReadingsBilling:
    """One point of delivery's register readings billed for one period.

    Attributes
    ----------
    tariff : Tariff, str or Path
        A loaded tariff, a built-in tariff id or a tariff file.
    readings : str or Path
        Register readings CSV (``pod, register, read_date, value_kwh, kind``).
    pod : str
        The point of delivery.
    period : (date, date)
        The billing period ``[start, end)``; readings must exist at both dates.
    customers : mapping
        Customer properties the tariff reads.
    """

    tariff: Tariff | str | Path
    readings: str | Path
    pod: str
    period: Period
    customers: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> BillingResult:
        """The consumption per register between the two readings, billed."""
        cons = consumption_by_register(
            read_register_readings(self.readings), *self.period, pod=self.pod
        )
        return bill_band_totals(
            _tariff(self.tariff),
            cons.energy_kwh_by_band,
            self.period,
            pod=self.pod,
            customers=dict(self.customers),
            estimated=cons.estimated,
        )


@dataclass(frozen=True)
class OfferComparison:
    """One meter's consumption billed under several offers and ranked, cheapest first.

    Attributes
    ----------
    tariffs : sequence of Tariff, str or Path
        The offers (same currency).
    data : IntervalData, str or Path
        Interval energy [kWh] or a file of it.
    meter : str, optional
        The meter to use (default the first).
    timezone, periods, customers, series
        As in :class:`BillingRun`.
    """

    tariffs: Sequence[Tariff | str | Path]
    data: IntervalData | str | Path
    meter: str | None = None
    timezone: str | None = None
    periods: Sequence[Period] | None = None
    customers: Mapping[str, Any] = field(default_factory=dict)
    series: Mapping[str, pd.Series] = field(default_factory=dict)

    def run(self) -> Comparison:
        """Bill and rank."""
        data = _data(self.data, self.timezone)
        return compare(
            [_tariff(t) for t in self.tariffs],
            data,
            meter=_meter_row(data, self.meter) if self.meter else 0,
            periods=list(self.periods) if self.periods else None,
            customers=dict(self.customers),
            series=dict(self.series),
        )
