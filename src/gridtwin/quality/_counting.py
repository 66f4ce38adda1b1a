"""The counting rule on one block of rows (one period): N, N1, N2, extremes, percentiles.

A value is counted beyond a band when it lies beyond a limit by more than a relative
1e-9 (see :mod:`gridtwin.quality._evaluation`); percentiles are type 7 (numpy
``'linear'``). The worst value is the one farthest beyond (or closest to) the widest
band, relative to the band edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gridtwin.quality._limits import Indicator, Limit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_REL_TOL = 1e-9


@dataclass(frozen=True)
class _Block:
    """Statistics of one block of rows (one period), one entry per point."""

    n_valid: IntArray
    n_flagged: IntArray
    n1: IntArray
    n2: IntArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_row: IntArray


def _beyond(lo_m: FloatArray, hi_m: FloatArray, lim: Limit | None) -> IntArray:
    """Valid intervals beyond a limit per point (N1 or N2), with the 1e-9 tolerance."""
    n = hi_m.shape[1]
    if lim is None:
        return np.zeros(n, dtype=np.int64)
    mask: BoolArray | None = None
    if lim.upper is not None:
        mask = hi_m > lim.upper + _REL_TOL * max(1.0, abs(lim.upper))
    if lim.lower is not None:
        low = lo_m < lim.lower - _REL_TOL * max(1.0, abs(lim.lower))
        mask = low if mask is None else mask | low
    if mask is None:  # pragma: no cover - the schema requires lower or upper
        return np.zeros(n, dtype=np.int64)
    return np.asarray(mask.sum(axis=0), dtype=np.int64)


def _quantiles(
    x: FloatArray, valid: BoolArray, n_valid: IntArray, qs: tuple[float, ...]
) -> list[FloatArray]:
    """Type-7 quantiles of the valid entries of each column (numpy 'linear')."""
    s = np.where(valid, x, np.nan).T.copy()
    s.sort(axis=1)  # NaN last: the valid values of column j are s[j, :n_valid[j]]
    cols = np.arange(s.shape[0])
    out = []
    for q in qs:
        h = np.maximum(n_valid - 1, 0) * q
        i_lo = np.floor(h).astype(np.int64)
        i_hi = np.minimum(i_lo + 1, np.maximum(n_valid - 1, 0))
        a, b = s[cols, i_lo], s[cols, i_hi]
        val = a + (h - i_lo) * (b - a)
        out.append(np.where(n_valid > 0, val, np.nan))
    return out


@dataclass(frozen=True)
class _Extremes:
    """Counts and extremes of the valid entries of a block of rows, one entry per point.

    ``max_m`` / ``min_m`` are ``-inf`` / ``+inf`` and the rows -1 where a point has no
    valid row; ties go to the first row (numpy ``argmax``/``argmin``).
    """

    n_valid: IntArray
    n1: IntArray
    n2: IntArray
    max_m: FloatArray
    max_row: IntArray
    min_m: FloatArray
    min_row: IntArray


def _extremes(lo: FloatArray, hi: FloatArray, valid: BoolArray, ind: Indicator) -> _Extremes:
    """N, N1, N2 and the largest / smallest valid value with their rows (the limits rule)."""
    n_rows, n = hi.shape
    n_valid = np.asarray(valid.sum(axis=0), dtype=np.int64)
    if n_rows == 0:
        none = np.full(n, -1, dtype=np.int64)
        zeros = np.zeros(n, dtype=np.int64)
        return _Extremes(n_valid, zeros, zeros, np.full(n, -np.inf), none, np.full(n, np.inf), none)
    hi_m = np.where(valid, hi, -np.inf)
    lo_m = np.where(valid, lo, np.inf)
    cols = np.arange(n)
    i_hi = hi_m.argmax(axis=0).astype(np.int64)
    i_lo = lo_m.argmin(axis=0).astype(np.int64)
    has = n_valid > 0
    return _Extremes(
        n_valid=n_valid,
        n1=_beyond(lo_m, hi_m, ind.share_limit),
        n2=_beyond(lo_m, hi_m, ind.max_limit),
        max_m=hi_m[i_hi, cols],
        max_row=np.where(has, i_hi, -1),
        min_m=lo_m[i_lo, cols],
        min_row=np.where(has, i_lo, -1),
    )


def _worst_is_min(max_v: FloatArray, min_v: FloatArray, ind: Indicator) -> BoolArray:
    """Whether the smallest value (else the largest) is the worst one: the one farther
    beyond (or closer to) the widest band, relative to the band edge. NaN picks the max."""
    wide = ind.widest_limit
    with np.errstate(invalid="ignore"):
        u_hi = max_v / wide.upper if wide.upper is not None else np.full(max_v.shape, -np.inf)
        u_lo = min_v / wide.lower if wide.lower is not None else np.full(min_v.shape, -np.inf)
        return np.asarray(u_lo > u_hi, dtype=np.bool_)


def _severity(values: FloatArray, ind: Indicator) -> FloatArray:
    """How close ``values`` come to the widest band, relative to its edges (as in
    :func:`_worst_is_min`): 1 at an edge, above 1 beyond it; ``-inf`` for NaN."""
    wide = ind.widest_limit
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        for edge in (wide.upper, wide.lower):
            if edge is not None and edge != 0:
                out = np.fmax(out, v / edge)
    return np.where(np.isfinite(v), out, -np.inf)


def _block_stats(
    lo: FloatArray, hi: FloatArray, flagged: BoolArray | None, ind: Indicator, same: bool
) -> _Block:
    """Counts, extremes, percentiles and the worst value of one block of rows."""
    n_rows, n = hi.shape
    valid = np.isfinite(hi) if same else np.isfinite(hi) & np.isfinite(lo)
    n_flagged = np.zeros(n, dtype=np.int64)
    if flagged is not None:
        valid &= ~flagged
        n_flagged = np.asarray(flagged.sum(axis=0), dtype=np.int64)
    ext = _extremes(lo, hi, valid, ind)
    n_valid = ext.n_valid
    nan = np.full(n, np.nan)
    if n_rows == 0:
        zeros = np.zeros(n, dtype=np.int64)
        return _Block(n_valid, n_flagged, zeros, zeros, nan, nan, nan, nan, nan, zeros - 1)
    has = n_valid > 0
    max_v = np.where(has, ext.max_m, np.nan)
    min_v = np.where(has, ext.min_m, np.nan)
    if same:
        p95, p05 = _quantiles(hi, valid, n_valid, (0.95, 0.05))
    else:
        (p95,) = _quantiles(hi, valid, n_valid, (0.95,))
        (p05,) = _quantiles(lo, valid, n_valid, (0.05,))
    pick_lo = _worst_is_min(max_v, min_v, ind)
    return _Block(
        n_valid=n_valid,
        n_flagged=n_flagged,
        n1=ext.n1,
        n2=ext.n2,
        max_value=max_v,
        min_value=min_v,
        p95_value=p95,
        p05_value=p05,
        worst_value=np.where(pick_lo, min_v, max_v),
        worst_row=np.where(pick_lo, ext.min_row, ext.max_row).astype(np.int64),
    )
