"""GOST 32144 / IEC 61000-4-30 5.12 under- and over-deviation δU(−), δU(+) of voltages.

Owns :class:`UnderOverDeviation` (the 10-min δU(−), δU(+) an evaluation takes as values)
and :func:`under_over_deviation`, which computes them from 10/12-cycle r.m.s. values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

__all__ = ["UnderOverDeviation", "under_over_deviation"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class UnderOverDeviation:
    """GOST 32144 δU(−) and δU(+): 10-min under- and over-deviation [% of U0].

    Attributes
    ----------
    under_percent : numpy.ndarray, shape (T, n_points)
        δU(−) >= 0 [% of U0]; ``NaN`` marks a missing interval.
    over_percent : numpy.ndarray, shape (T, n_points)
        δU(+) >= 0 [% of U0]; ``NaN`` marks a missing interval.
    """

    under_percent: FloatArray
    over_percent: FloatArray


def under_over_deviation(
    u_rms_v: npt.ArrayLike, u0_v: float | npt.ArrayLike, *, axis: int = 1
) -> UnderOverDeviation:
    """Under- and over-deviation of 10/12-cycle r.m.s. values (IEC 61000-4-30 5.12).

    Parameters
    ----------
    u_rms_v : array_like
        10/12-cycle r.m.s. voltages [V], e.g. shape (T, m, n_points) with the ``m`` values of
        each 10-min interval along ``axis``. ``NaN`` values are left out; an interval with no
        finite value gives ``NaN``.
    u0_v : float or array_like
        Reference voltage U0 [V] (U_nom at LV, the agreed U_c at MV), broadcastable to the
        result (e.g. one per point).
    axis : int
        Axis of the values inside one aggregation interval.

    Returns
    -------
    UnderOverDeviation
        ``under_percent`` = δU(−) and ``over_percent`` = δU(+), with ``axis`` removed.

    Notes
    -----
    With Um(−) the r.m.s. of the values each capped at U0 from above and Um(+) the r.m.s.
    of the values each raised to U0 from below (GOST 32144-2013 4.2.2, IEC 61000-4-30
    5.12)::

        δU(−) = (U0 − Um(−)) / U0 · 100,   δU(+) = (Um(+) − U0) / U0 · 100
    """
    u = np.asarray(u_rms_v, dtype=np.float64)
    if not -u.ndim <= axis < u.ndim:
        msg = f"under_over_deviation: axis {axis} out of range for an array of {u.ndim} dims"
        raise InputError(msg)
    axis %= u.ndim
    u0_given = np.asarray(u0_v, dtype=np.float64)
    if np.any(~np.isfinite(u0_given)) or np.any(u0_given <= 0):
        msg = "under_over_deviation: u0_v must be positive and finite [V]"
        raise InputError(msg)
    try:
        u0 = np.broadcast_to(u0_given, u.shape[:axis] + u.shape[axis + 1 :])
    except ValueError as exc:
        msg = (
            f"under_over_deviation: u0_v of shape {u0_given.shape} does not broadcast to "
            f"the result shape {u.shape[:axis] + u.shape[axis + 1 :]}"
        )
        raise InputError(msg) from exc
    u0_full = np.expand_dims(u0, axis)
    finite = np.isfinite(u)
    count = finite.sum(axis=axis)
    low = np.where(finite, np.minimum(u, u0_full), 0.0)
    high = np.where(finite, np.maximum(u, u0_full), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        um_minus = np.sqrt((low * low).sum(axis=axis) / count)
        um_plus = np.sqrt((high * high).sum(axis=axis) / count)
    return UnderOverDeviation(
        under_percent=(u0 - um_minus) / u0 * 100.0, over_percent=(um_plus - u0) / u0 * 100.0
    )
