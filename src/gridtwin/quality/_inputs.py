"""Checks of evaluation inputs: time axis, time grid, value arrays, flags, ids, time zone.

Every check raises :class:`~gridtwin.errors.InputError` or
:class:`~gridtwin.errors.DataQualityError` with a message that names the first bad entry
and says how to fix it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.timeseries import utc_ns

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _time_axis(time_utc: pd.DatetimeIndex | npt.ArrayLike) -> IntArray:
    """UTC ns of tz-aware, strictly increasing timestamps (else a clear error)."""
    idx = (
        time_utc
        if isinstance(time_utc, pd.DatetimeIndex)
        else pd.DatetimeIndex(np.asarray(time_utc))
    )
    if idx.tz is None:
        msg = (
            "time_utc must be tz-aware (UTC interval starts); localize it, e.g. "
            "index.tz_localize('UTC')"
        )
        raise InputError(msg)
    if len(idx) == 0:
        msg = "time_utc is empty: nothing to evaluate"
        raise InputError(msg)
    t_ns = utc_ns(idx)
    bad = np.flatnonzero(np.diff(t_ns) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        msg = (
            f"time_utc[{i}] = {_iso(t_ns[i])} is not after time_utc[{i - 1}] = "
            f"{_iso(t_ns[i - 1])}: timestamps must be strictly increasing without "
            "duplicates; sort and de-duplicate the data"
        )
        raise DataQualityError(msg)
    return t_ns


def _iso(t_ns: int | np.int64) -> str:
    """ISO 8601 text of a UTC ns time, for messages."""
    return pd.Timestamp(int(t_ns), tz="UTC").isoformat()


def _check_grid(t_ns: IntArray, step_ns: int, origin_ns: int, what: str, hint: str) -> None:
    """Raise naming the first timestamp off the grid ``origin + k * step``."""
    bad = np.flatnonzero((t_ns - origin_ns) % step_ns)
    if bad.size:
        i = int(bad[0])
        msg = (
            f"time_utc[{i}] = {_iso(t_ns[i])} is off the {what} grid "
            f"({bad.size} off-grid timestamp(s) in all); {hint}"
        )
        raise DataQualityError(msg)


def _as_2d(values: npt.ArrayLike, n_times: int, name: str) -> FloatArray:
    """Values as a float (T, n_points) array; inf is an error (NaN marks a gap)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[0] != n_times:
        msg = (
            f"{name} has shape {arr.shape} but time_utc has {n_times} timestamps: pass an "
            f"array of shape (T, n_points) with one row per timestamp"
        )
        raise InputError(msg)
    inf = np.isinf(arr)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        msg = f"{name}[{r}, {c}] is infinite: mark a missing interval as NaN, never as inf"
        raise DataQualityError(msg)
    return arr


def _flags(flags: npt.ArrayLike | None, shape: tuple[int, int]) -> BoolArray | None:
    """Boolean flags broadcast to the values' shape, or None."""
    if flags is None:
        return None
    arr = np.asarray(flags)
    if arr.dtype.kind not in "biu":
        msg = f"flags must be booleans (True = flagged interval), got dtype {arr.dtype}"
        raise InputError(msg)
    arr = arr.astype(bool)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    try:
        return np.broadcast_to(arr, shape)
    except ValueError as exc:
        msg = f"flags has shape {np.shape(flags)}; it must be (T,) or (T, n_points) = {shape}"
        raise InputError(msg) from exc


def _point_ids(point_ids: Sequence[str] | None, n: int) -> tuple[str, ...]:
    """One unique id per column; default ``'0'``, ``'1'``, ..."""
    if point_ids is None:
        return tuple(str(i) for i in range(n))
    ids = tuple(str(p) for p in point_ids)
    if len(ids) != n:
        msg = f"point_ids has {len(ids)} ids but the values have {n} columns (points)"
        raise InputError(msg)
    if len(set(ids)) != n:
        msg = "point_ids must be unique"
        raise InputError(msg)
    return ids


def _check_timezone(timezone: str) -> None:
    """Raise unless ``timezone`` is a known IANA zone."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"unknown time zone {timezone!r}: pass an IANA zone such as 'Europe/Moscow' "
            "or 'Europe/Berlin' (observation weeks are aligned in local time)"
        )
        raise InputError(msg) from exc
