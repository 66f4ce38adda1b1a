"""Interval energy data: many meters on one regular UTC time axis.

Conventions (see ``docs/conventions.md``): timestamps are tz-aware UTC and label the
**start** of each interval; energy is in kWh per interval in the consumer frame
(import positive, export negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError

__all__ = ["IntervalData", "regular_index", "utc_ns"]

FloatArray = npt.NDArray[np.float64]


def utc_ns(index: pd.DatetimeIndex | pd.Index) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch (UTC) of each timestamp of a tz-aware index."""
    values = pd.DatetimeIndex(index).tz_convert("UTC").tz_localize(None)
    return np.asarray(values.as_unit("ns").to_numpy().view(np.int64), dtype=np.int64)


def regular_index(
    start: str | pd.Timestamp, periods: int, step: str | pd.Timedelta, tz: str = "UTC"
) -> pd.DatetimeIndex:
    """Return a regular UTC index of interval starts.

    Parameters
    ----------
    start : str or Timestamp
        First interval start. A naive value is read in ``tz`` (local time, DST-aware).
    periods : int
        Number of intervals.
    step : str or Timedelta
        Interval length, e.g. ``"15min"``.
    tz : str
        Time zone in which a naive ``start`` is read.
    """
    ts = pd.Timestamp(start)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return pd.date_range(ts.tz_convert("UTC"), periods=periods, freq=pd.Timedelta(step))


@dataclass(frozen=True)
class IntervalData:
    """Energy of ``n_meters`` meters over ``n_steps`` regular intervals.

    Attributes
    ----------
    start_utc : pandas.DatetimeIndex
        tz-aware UTC start of each interval, strictly increasing with a constant step.
    energy_kwh : numpy.ndarray, shape (n_meters, n_steps)
        Energy per interval [kWh], consumer frame. ``NaN`` marks a missing interval
        (a gap); gaps are never zero-filled.
    meter_ids : tuple of str
        One id per row of ``energy_kwh``.
    source : str
        Where the data came from (file name), for messages.
    """

    start_utc: pd.DatetimeIndex
    energy_kwh: FloatArray
    meter_ids: tuple[str, ...]
    source: str = "<memory>"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        idx = self.start_utc
        if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
            msg = f"{self.source}: the time index must be a tz-aware DatetimeIndex (UTC)"
            raise InputError(msg)
        if str(idx.tz) != "UTC":
            object.__setattr__(self, "start_utc", idx.tz_convert("UTC"))
        energy = np.asarray(self.energy_kwh, dtype=np.float64)
        if energy.ndim == 1:
            energy = energy[np.newaxis, :]
        object.__setattr__(self, "energy_kwh", energy)
        if energy.shape != (len(self.meter_ids), len(idx)):
            msg = (
                f"{self.source}: energy has shape {energy.shape} but there are "
                f"{len(self.meter_ids)} meters and {len(idx)} timestamps"
            )
            raise InputError(msg)
        if len(idx) >= 2:
            diffs = np.diff(utc_ns(idx))
            if np.any(diffs <= 0):
                bad = int(np.argmax(diffs <= 0)) + 1
                msg = (
                    f"{self.source}: timestamps must be strictly increasing; "
                    f"position {bad} ({idx[bad]}) is not after {idx[bad - 1]}"
                )
                raise DataQualityError(msg)
            if np.any(diffs != diffs[0]):
                bad = int(np.argmax(diffs != diffs[0])) + 1
                msg = (
                    f"{self.source}: the interval step must be constant; the step before "
                    f"{idx[bad]} differs from {pd.Timedelta(int(diffs[0]))}. "
                    "Mark missing intervals as NaN instead of leaving them out."
                )
                raise DataQualityError(msg)
        if len(set(self.meter_ids)) != len(self.meter_ids):
            msg = f"{self.source}: meter ids must be unique"
            raise InputError(msg)

    @property
    def step(self) -> pd.Timedelta:
        """Interval length."""
        if len(self.start_utc) < 2:
            msg = f"{self.source}: at least two intervals are needed to know the step"
            raise InputError(msg)
        return pd.Timedelta(int(utc_ns(self.start_utc[:2])[1] - utc_ns(self.start_utc[:2])[0]))

    @property
    def end_utc(self) -> pd.Timestamp:
        """End (exclusive) of the last interval."""
        return pd.Timestamp(self.start_utc[-1]) + self.step

    @property
    def n_meters(self) -> int:
        """Number of meters."""
        return len(self.meter_ids)

    @property
    def n_steps(self) -> int:
        """Number of intervals."""
        return len(self.start_utc)

    def missing_mask(self) -> npt.NDArray[np.bool_]:
        """Boolean mask (n_meters, n_steps) of missing intervals (NaN)."""
        return np.isnan(self.energy_kwh)

    def check_complete(self) -> None:
        """Raise :class:`DataQualityError` naming the first gaps if any interval is missing."""
        missing = self.missing_mask()
        if not missing.any():
            return
        rows, cols = np.nonzero(missing)
        examples = ", ".join(
            f"{self.meter_ids[r]} @ {self.start_utc[c].isoformat()}"
            for r, c in zip(rows[:5], cols[:5], strict=True)
        )
        msg = (
            f"{self.source}: {int(missing.sum())} missing interval(s) in "
            f"{len(set(rows.tolist()))} meter(s), e.g. {examples}. Gaps are never "
            "zero-filled: supply the missing data or bill with --allow-gaps (in "
            "Python allow_gaps=True), which marks the bill incomplete."
        )
        raise DataQualityError(msg)

    def select(self, meter_ids: list[str]) -> IntervalData:
        """Return the rows of the given meters."""
        pos = {m: i for i, m in enumerate(self.meter_ids)}
        unknown = [m for m in meter_ids if m not in pos]
        if unknown:
            msg = f"{self.source}: unknown meter id(s) {unknown[:5]}"
            raise InputError(msg)
        rows = [pos[m] for m in meter_ids]
        return IntervalData(
            self.start_utc, self.energy_kwh[rows], tuple(meter_ids), self.source, self.notes
        )
