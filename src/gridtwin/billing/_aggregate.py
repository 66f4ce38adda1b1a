"""Aggregate interval energy into the quantities bills need, in one matrix product.

Every bill quantity that is linear in the interval energy (kWh per band per segment or
month slice; indexed-price amounts) is a column of a (n_steps x n_columns) weight matrix
``W``; all meters are aggregated at once by ``energy @ W``. Maxima (demand, the period's
maximum power) use ``maximum.reduceat`` over slice boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.billing._plan import BillingPlan
from gridtwin.calendar import BandAssignment
from gridtwin.errors import InputError
from gridtwin.tariffs._schema import IndexedEnergyCharge, energy_unit_factor
from gridtwin.timeseries import utc_ns

__all__ = ["FLAT", "Aggregates", "Layout", "build_layout"]

FLAT = "__flat__"
FloatArray = npt.NDArray[np.float64]


@dataclass
class Layout:
    """Where each quantity comes from (built once per run).

    Every billed interval belongs to exactly one *unit* (a segment, or a month slice when
    monthly quantities are needed), and units are contiguous runs of intervals. The
    weight matrix is therefore block-diagonal in time; it is stored as its narrow local
    part ``weights`` (intervals x local columns) plus the interval range of each unit.
    """

    by_slice: bool
    n_units: int
    band_codes: dict[str, npt.NDArray[np.int64]]
    bands: dict[str, tuple[str, ...]]
    local_cols: dict[str, int]  # schedule -> first local column (one per band)
    indexed_cols: dict[str, int]  # indexed component id -> local column (price weights)
    weights: FloatArray  # (n_steps, n_local)
    unit_bounds: npt.NDArray[np.int64]  # (n_units, 2): [first, last + 1) interval
    unit_segment: npt.NDArray[np.int64]  # (n_units,)


def _series_end(index: pd.DatetimeIndex, tz: str) -> pd.Timestamp:
    """End of the last value of a price series: its step after the last timestamp.

    A series of month starts (steps of 28 to 31 days) ends one calendar month after its
    last timestamp, counted in the tariff's local time zone ``tz``; a single value holds
    from its timestamp on.
    """
    last = pd.Timestamp(index[-1]).tz_convert(tz)
    if len(index) < 2:  # one value: a constant price from its timestamp on
        return pd.Timestamp.max.tz_localize("UTC")
    steps_days = np.diff(utc_ns(index)) / 86_400e9
    if steps_days.min() >= 27.9 and steps_days.max() <= 31.1:
        return last + pd.DateOffset(months=1)
    return last + pd.Timedelta(int(np.median(np.diff(utc_ns(index)))))


def _series_prices(
    comp: IndexedEnergyCharge,
    series: Mapping[str, pd.Series],
    start_utc: pd.DatetimeIndex,
    billed: npt.NDArray[np.bool_],
    currency: str,
    tz: str,
) -> FloatArray:
    """Price per kWh [currency/kWh] of each interval for an indexed component.

    Each value holds from its timestamp to the next one; only billed intervals must be
    covered. Unbilled intervals get price 0 (their weight column is zero anyway).
    """
    if comp.series not in series:
        msg = (
            f"component {comp.id} needs the price series {comp.series!r}; supply it "
            f"(e.g. --series {comp.series}=prices.csv); given: {sorted(series)}"
        )
        raise InputError(msg)
    s = series[comp.series]
    if not isinstance(s.index, pd.DatetimeIndex) or s.index.tz is None:
        msg = f"price series {comp.series!r} needs a tz-aware DatetimeIndex of period starts"
        raise InputError(msg)
    s = s.sort_index()
    values = s.to_numpy(dtype=float)
    s_ns = utc_ns(pd.DatetimeIndex(s.index))
    t_ns = utc_ns(start_utc)
    pos = np.searchsorted(s_ns, t_ns, side="right") - 1
    end_ns = utc_ns(pd.DatetimeIndex([_series_end(pd.DatetimeIndex(s.index), tz)]))[0]
    uncovered = billed & ((pos < 0) | (t_ns >= end_ns))
    if uncovered.any():
        first = start_utc[int(np.argmax(uncovered))]
        msg = (
            f"price series {comp.series!r} does not cover every billed interval (first "
            f"uncovered: {first.isoformat()}; series from {s.index[0].isoformat()} to "
            f"{_series_end(pd.DatetimeIndex(s.index), tz).isoformat()})"
        )
        raise InputError(msg)
    raw = np.where(billed, values[np.clip(pos, 0, len(values) - 1)], 0.0)
    if np.isnan(raw).any():
        first = start_utc[int(np.argmax(np.isnan(raw)))]
        msg = f"price series {comp.series!r} has no value (NaN) for {first.isoformat()}"
        raise InputError(msg)
    series_f = energy_unit_factor(comp.series_unit, currency)
    spread_f = energy_unit_factor(comp.spread_unit, currency)
    return np.asarray(
        (raw * series_f * comp.multiplier + comp.spread * spread_f) * comp.losses_factor,
        dtype=np.float64,
    )


def build_layout(
    plan: BillingPlan,
    assignments: Mapping[str, BandAssignment],
    by_slice: bool,
    indexed: list[tuple[IndexedEnergyCharge, int]],
    series: Mapping[str, pd.Series],
    start_utc: pd.DatetimeIndex,
) -> Layout:
    """Build the local weight matrix and the unit ranges for a plan."""
    n_steps = len(plan.step_slice)
    valid = plan.step_slice >= 0
    slice_bounds = plan.slice_bounds()
    if by_slice:
        bounds = slice_bounds
        unit_segment = np.array([s.segment for s in plan.slices], dtype=np.int64)
    else:
        bounds = np.array(
            [
                [
                    slice_bounds[list(seg.slices)][:, 0].min(),
                    slice_bounds[list(seg.slices)][:, 1].max(),
                ]
                for seg in plan.segments
            ],
            dtype=np.int64,
        )
        unit_segment = np.arange(len(plan.segments), dtype=np.int64)
    codes: dict[str, npt.NDArray[np.int64]] = {}
    bands: dict[str, tuple[str, ...]] = {}
    for name, a in assignments.items():
        codes[name], bands[name] = a.codes, a.bands
    if not codes:  # otherwise the flat total is the sum of a schedule's band columns
        codes[FLAT], bands[FLAT] = np.zeros(n_steps, dtype=np.int64), ("all",)
    indexed_ids = list(dict.fromkeys(comp.id for comp, _ in indexed))
    n_local = sum(len(b) for b in bands.values()) + len(indexed_ids)
    weights = np.zeros((n_steps, n_local))
    rows = np.nonzero(valid)[0]
    local_cols: dict[str, int] = {}
    col = 0
    for name in codes:
        local_cols[name] = col
        weights[rows, col + codes[name][rows]] = 1.0
        col += len(bands[name])
    indexed_cols: dict[str, int] = {}
    for comp, _ in indexed:
        if comp.id in indexed_cols:
            continue
        weights[:, col] = _series_prices(
            comp, series, start_utc, valid, plan.tariff.currency, plan.tariff.timezone
        )
        indexed_cols[comp.id] = col
        col += 1
    return Layout(
        by_slice, len(bounds), codes, bands, local_cols, indexed_cols, weights, bounds, unit_segment
    )


def _unit_products(energy: FloatArray, layout: Layout) -> FloatArray:
    """Per-unit products ``energy[:, a:b] @ weights[a:b]``, shape (m, n_units, n_local).

    The block-diagonal structure saves a factor n_units of work, and blocks of a few
    meters keep the data in cache while the narrow weights are reused (measured: 35,040
    quarter hours x 1,000 meters in 0.03 s on one core, against 0.09 s for the dense
    product).
    """
    m, n = energy.shape
    n_local = layout.weights.shape[1]
    out = np.zeros((m, layout.n_units, n_local))
    rows = max(4, min(64, (1 << 22) // max(1, n * 8)))
    spans = [
        (u, a, min(a + _SPAN, int(last)))
        for u, (first, last) in enumerate(layout.unit_bounds)
        for a in range(int(first), int(last), _SPAN)
    ]
    for r in range(0, m, rows):
        block = energy[r : r + rows]
        for u, a, b in spans:
            out[r : r + rows, u, :] += block[:, a:b] @ layout.weights[a:b]
    return out


_SPAN = 4096  # intervals per product: keeps the weights' rows in the L2 cache


class Aggregates:
    """Aggregated quantities of all meters of a run."""

    def __init__(self, plan: BillingPlan, layout: Layout, energy_kwh: FloatArray) -> None:
        self.plan = plan
        self.layout = layout
        self._energy = energy_kwh
        self.units = _unit_products(energy_kwh, layout)  # (m, n_units, n_local)
        self._seg_of_slice = np.array([s.segment for s in plan.slices], dtype=np.int64)
        self._bounds = plan.slice_bounds()

    @property
    def n_meters(self) -> int:
        """Number of meters."""
        return int(self._energy.shape[0])

    def _block(self, schedule: str) -> FloatArray:
        """kWh per unit and band, shape (m, n_units, n_bands)."""
        lay = self.layout
        if schedule == FLAT and FLAT not in lay.local_cols:
            first = next(iter(lay.local_cols))
            return np.asarray(self._block(first).sum(axis=2, keepdims=True), dtype=np.float64)
        start = lay.local_cols[schedule]
        return self.units[:, :, start : start + len(lay.bands[schedule])]

    def segment_energy(self, segment: int, schedule: str | None) -> FloatArray:
        """kWh per band of a segment, shape (m, n_bands)."""
        block = self._block(schedule or FLAT)
        if not self.layout.by_slice:
            return block[:, segment, :]
        ids = [i for i, s in enumerate(self.plan.slices) if s.segment == segment]
        return np.asarray(block[:, ids, :].sum(axis=1), dtype=np.float64)

    def slice_energy(self, slice_id: int, schedule: str | None) -> FloatArray:
        """kWh per band of a month slice, shape (m, n_bands)."""
        if not self.layout.by_slice:
            msg = "internal: slice quantities were not aggregated for this plan"
            raise RuntimeError(msg)
        return self._block(schedule or FLAT)[:, slice_id, :]

    def bands(self, schedule: str | None) -> tuple[str, ...]:
        """Band names of a schedule (``("all",)`` for none)."""
        return self.layout.bands.get(schedule or FLAT, ("all",))

    def indexed_amount(self, component_id: str, segment: int) -> FloatArray:
        """Amount of an indexed-energy component in a segment [currency], shape (m,)."""
        col = self.layout.indexed_cols[component_id]
        units = self.layout.unit_segment == segment
        return np.asarray(self.units[:, units, col].sum(axis=1), dtype=np.float64)

    def slice_max_kw(
        self, slice_id: int, schedule: str | None = None, bands: tuple[str, ...] | None = None
    ) -> FloatArray:
        """Maximum average power [kW] of any interval of a slice (in ``bands``)."""
        first, last = self._bounds[slice_id]
        block = self._energy[:, first:last]
        if bands is not None and schedule is not None:
            names = self.layout.bands[schedule]
            wanted = [names.index(b) for b in bands]
            keep = np.isin(self.layout.band_codes[schedule][first:last], wanted)
            keep &= self.plan.step_slice[first:last] == slice_id
            if not keep.any():
                return np.zeros(self.n_meters)
            block = block[:, keep]
        hours = self.plan.step / pd.Timedelta(hours=1)
        return np.asarray(np.nanmax(block, axis=1) / hours, dtype=np.float64)

    def period_max_kw(self) -> FloatArray:
        """Maximum average interval power of each period [kW], shape (m, n_periods)."""
        out = np.zeros((self.n_meters, len(self.plan.periods)))
        for k, sl in enumerate(self.plan.slices):
            out[:, sl.period] = np.maximum(out[:, sl.period], self.slice_max_kw(k))
        return out
