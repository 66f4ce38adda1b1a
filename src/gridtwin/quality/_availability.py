"""Data availability of measured series: present, missing and flagged intervals, gaps."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.quality._limits import AGGREGATION_S
from gridtwin.quality._series import IndicatorSeries
from gridtwin.timeseries import utc_ns

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS = 1_000_000_000


def availability_frame(
    point_ids: tuple[str, ...], series: Iterable[IndicatorSeries]
) -> pd.DataFrame:
    """Availability per point, quantity and phase (see :meth:`MeasurementSet.availability`)."""
    frames = []
    for ser in series:
        t = utc_ns(ser.time_utc)
        step_ns = AGGREGATION_S[ser.quantity.aggregation] * _NS
        present = np.isfinite(ser.values)
        n_exp = int((t[-1] - t[0]) // step_ns + 1) if len(t) else 0
        first = np.where(present.any(axis=0), present.argmax(axis=0), -1)
        last = np.where(present.any(axis=0), len(t) - 1 - present[::-1].argmax(axis=0), -1)
        gaps = _longest_gaps(t, present, step_ns)
        n_present = present.sum(axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "point_id": np.asarray(point_ids, dtype=object)[ser.point_index],
                    "indicator": ser.name,
                    "phase": list(ser.phases),
                    "aggregation": ser.quantity.aggregation,
                    "first_utc": _times_at(ser.time_utc, first),
                    "last_utc": _times_at(ser.time_utc, last),
                    "n_expected": n_exp,
                    "n_present": n_present,
                    "n_missing": n_exp - n_present,
                    "n_flagged": (ser.flagged & present).sum(axis=0),
                    "availability_percent": 100.0 * n_present / max(n_exp, 1),
                    "longest_gap_s": gaps,
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["point_id", "indicator", "phase"])
    )


def _times_at(idx: pd.DatetimeIndex, pos: IntArray) -> pd.DatetimeIndex:
    """Times at positions of an index; ``NaT`` where the position is -1."""
    out = pd.DatetimeIndex(
        np.where(pos >= 0, utc_ns(idx)[np.maximum(pos, 0)], np.iinfo(np.int64).min).astype(
            "datetime64[ns]"
        )
    )
    return out.tz_localize("UTC")


def _longest_gaps(t: IntArray, present: BoolArray, step_ns: int) -> FloatArray:
    """Longest run of missing grid intervals between the first and last value [s].

    One sweep over the rows (time), vectorised over the columns.
    """
    n_cols = present.shape[1]
    best = np.zeros(n_cols, dtype=np.int64)
    if present.all():
        best[:] = np.max(np.diff(t), initial=step_ns) - step_ns
        return best / _NS
    last = np.full(n_cols, np.iinfo(np.int64).min, dtype=np.int64)
    seen = np.zeros(n_cols, dtype=bool)
    for i in range(present.shape[0]):
        row = present[i]
        upd = row & seen
        if upd.any():
            np.maximum(best, np.where(upd, t[i] - last - step_ns, 0), out=best)
        last[row] = t[i]
        seen |= row
    return best / _NS
