"""Loading of cables: the ratio I_b / I_z and its check over a time series.

:func:`loading_ratio` divides currents by permissible currents (research note §5.4);
:func:`cable_loading_check` gives per cable the highest ratio, the hours above 1.0 and
above a warning level and the first time each was exceeded. :mod:`gridtwin.network.ratings`
re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.timeseries import utc_ns

__all__ = ["CableLoadingCheck", "cable_loading_check", "loading_ratio"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def loading_ratio(i_a: npt.ArrayLike, i_z_a: npt.ArrayLike) -> FloatArray:
    """Loading I_b / I_z, vectorised (research note §5.4).

    Parameters
    ----------
    i_a : array_like
        Current magnitudes [A], any shape; for a matrix the rows are cables, shape
        ``(n_cables, n_steps)``. ``NaN`` (a gap) is kept as ``NaN``.
    i_z_a : array_like
        Permissible currents [A]: a scalar, one per cable ``(n_cables,)`` for a matrix
        ``i_a``, or any shape that broadcasts against ``i_a``.

    Returns
    -------
    numpy.ndarray
        Loading ratio [dimensionless], the broadcast shape.

    Raises
    ------
    InputError
        A non-positive or non-finite I_z, or shapes that do not broadcast.
    DataQualityError
        A negative current.
    """
    i = np.asarray(i_a, dtype=np.float64)
    z = np.asarray(i_z_a, dtype=np.float64)
    if i.ndim == 2 and z.ndim == 1:
        if z.shape[0] != i.shape[0]:
            msg = (
                f"i_z_a has {z.shape[0]} values but i_a has {i.shape[0]} cables (rows); give "
                "one permissible current per cable"
            )
            raise InputError(msg)
        z = z[:, None]
    if not np.all(np.isfinite(z)) or np.any(z <= 0):
        bad = np.flatnonzero(~(np.isfinite(z) & (z > 0)).ravel())
        msg = f"i_z_a must be positive and finite [A]; bad at position(s) {bad[:10].tolist()}"
        raise InputError(msg)
    negative = np.argwhere(i < 0)
    if negative.size:
        msg = (
            f"i_a has negative current(s), first at index {tuple(negative[0].tolist())}; "
            "give current magnitudes [A]"
        )
        raise DataQualityError(msg)
    try:
        return np.asarray(i / z, dtype=np.float64)
    except ValueError as exc:
        msg = f"i_a shape {i.shape} and i_z_a shape {z.shape} do not broadcast"
        raise InputError(msg) from exc


@dataclass(frozen=True)
class CableLoadingCheck:
    """Loading of many cables over a time series.

    Attributes
    ----------
    max_ratio : numpy.ndarray, shape (n_cables,)
        Highest I/I_z [dimensionless]; ``NaN`` when a cable has no data.
    hours_above_limit : numpy.ndarray, shape (n_cables,)
        Time with I/I_z > 1.0 [h].
    hours_above_warn : numpy.ndarray, shape (n_cables,)
        Time with I/I_z > ``warn_ratio`` [h] (includes the time above 1.0).
    first_above_limit_step, first_above_warn_step : numpy.ndarray, shape (n_cables,)
        Index of the first interval above the limit / warning level, -1 if none.
    first_above_limit_utc, first_above_warn_utc : pandas.DatetimeIndex or None
        Start (UTC) of that interval, ``NaT`` if none; ``None`` without ``time_utc``.
    n_missing : numpy.ndarray, shape (n_cables,)
        Intervals without data (``NaN``); they count neither way.
    status : numpy.ndarray of str, shape (n_cables,)
        ``alarm`` (above 1.0 at least once), ``warning`` (above warn only) or ``ok``.
    warn_ratio : float
        The warning level used [dimensionless].
    step_h : float
        Interval length [h].
    """

    max_ratio: FloatArray
    hours_above_limit: FloatArray
    hours_above_warn: FloatArray
    first_above_limit_step: IntArray
    first_above_warn_step: IntArray
    first_above_limit_utc: pd.DatetimeIndex | None
    first_above_warn_utc: pd.DatetimeIndex | None
    n_missing: IntArray
    status: npt.NDArray[np.str_]
    warn_ratio: float
    step_h: float


def _step_hours(n_steps: int, time_utc: pd.DatetimeIndex | None, step_h: float | None) -> float:
    if time_utc is None:
        if step_h is None:
            msg = "give time_utc (interval starts) or step_h (interval length in hours)"
            raise InputError(msg)
        if not (math.isfinite(step_h) and step_h > 0):
            msg = f"step_h={step_h!r} must be a positive number of hours"
            raise InputError(msg)
        return float(step_h)
    idx = pd.DatetimeIndex(time_utc)
    if idx.tz is None:
        msg = "time_utc must be tz-aware (UTC interval starts)"
        raise InputError(msg)
    if len(idx) != n_steps:
        msg = f"time_utc has {len(idx)} timestamps for {n_steps} intervals (columns)"
        raise InputError(msg)
    if n_steps < 2:
        if step_h is None:
            msg = "a single timestamp does not define the interval length; also give step_h"
            raise InputError(msg)
        return _step_hours(n_steps, None, step_h)
    diffs = np.diff(utc_ns(idx))
    if np.any(diffs <= 0) or np.any(diffs != diffs[0]):
        bad = int(np.flatnonzero((diffs <= 0) | (diffs != diffs[0]))[0]) + 1
        msg = f"time_utc is not a regular increasing axis (first irregular step at {idx[bad]})"
        raise DataQualityError(msg)
    hours = float(diffs[0]) / 3.6e12
    if step_h is not None and not math.isclose(step_h, hours, rel_tol=1e-9):
        msg = f"step_h={step_h!r} disagrees with time_utc ({hours:g} h); give only one"
        raise InputError(msg)
    return hours


def _first_true(mask: npt.NDArray[np.bool_]) -> IntArray:
    has = mask.any(axis=1)
    return np.where(has, mask.argmax(axis=1), -1).astype(np.int64)


def cable_loading_check(
    i_a_matrix: npt.ArrayLike,
    i_z_a: npt.ArrayLike,
    warn_ratio: float = 0.9,
    *,
    time_utc: pd.DatetimeIndex | None = None,
    step_h: float | None = None,
) -> CableLoadingCheck:
    """Check many cables' currents against their permissible currents.

    Parameters
    ----------
    i_a_matrix : array_like, shape (n_cables, n_steps)
        Current per cable and interval [A] (measured or forecast, e.g. 10-min or hourly
        maxima); ``NaN`` marks a gap.
    i_z_a : array_like, shape (n_cables,) or scalar
        Permissible current per cable [A] (``CableRating.i_z_a``).
    warn_ratio : float
        Warning level of I/I_z, project policy (the research note suggests 0.8-0.9).
    time_utc : pandas.DatetimeIndex, optional
        tz-aware interval starts (regular); gives the interval length and the first times.
    step_h : float, optional
        Interval length [h] when ``time_utc`` is not given.

    Returns
    -------
    CableLoadingCheck
        Per cable: maximum ratio, hours above 1.0 and above ``warn_ratio``, first time.

    Raises
    ------
    InputError
        Bad shapes, warn level or time axis.
    DataQualityError
        Negative currents or an irregular time axis.
    """
    i = np.asarray(i_a_matrix, dtype=np.float64)
    if i.ndim != 2:
        msg = f"i_a_matrix must be 2-D (n_cables, n_steps), got shape {i.shape}"
        raise InputError(msg)
    if not (isinstance(warn_ratio, (int, float)) and 0 < warn_ratio <= 1):
        msg = f"warn_ratio={warn_ratio!r} must be in (0, 1]"
        raise InputError(msg)
    hours = _step_hours(i.shape[1], time_utc, step_h)
    z = np.asarray(i_z_a, dtype=np.float64)
    if z.ndim == 0:
        z = np.full(i.shape[0], float(z))
    ratio = loading_ratio(i, z)
    missing = np.isnan(ratio)
    filled = np.where(missing, -np.inf, ratio)
    max_ratio = filled.max(axis=1, initial=-np.inf)
    max_ratio = np.where(missing.all(axis=1), np.nan, max_ratio)
    above = np.where(missing, False, ratio > 1.0)
    warn = np.where(missing, False, ratio > warn_ratio)
    first_limit = _first_true(above)
    first_warn = _first_true(warn)
    limit_utc = warn_utc = None
    if time_utc is not None:
        idx = pd.DatetimeIndex(time_utc).tz_convert("UTC")
        nat = pd.NaT

        def at(steps: IntArray) -> pd.DatetimeIndex:
            return pd.DatetimeIndex([idx[s] if s >= 0 else nat for s in steps.tolist()], tz="UTC")

        limit_utc, warn_utc = at(first_limit), at(first_warn)
    status = np.where(above.any(axis=1), "alarm", np.where(warn.any(axis=1), "warning", "ok"))
    return CableLoadingCheck(
        max_ratio=max_ratio.astype(np.float64),
        hours_above_limit=above.sum(axis=1) * hours,
        hours_above_warn=warn.sum(axis=1) * hours,
        first_above_limit_step=first_limit,
        first_above_warn_step=first_warn,
        first_above_limit_utc=limit_utc,
        first_above_warn_utc=warn_utc,
        n_missing=missing.sum(axis=1).astype(np.int64),
        status=status.astype(np.str_),
        warn_ratio=float(warn_ratio),
        step_h=hours,
    )
