"""Place measurement records on one (time, column) matrix per quantity.

A record is (row, time, point, channel, value, flag); a column is one (point, phase) of a
quantity. Owns the check of the quantity's IEC 61000-4-30 UTC grid, one stated unit per
column, no duplicate value, the conversion of stated units and the sign check.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._channels import Quantity
from gridtwin.quality._inputs import _iso
from gridtwin.quality._limits import AGGREGATION_S
from gridtwin.quality._parsing import _Where
from gridtwin.quality._series import IndicatorSeries

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS = 1_000_000_000


def _dense_codes(key: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Codes ``0..k-1`` of the distinct keys (in key order) and the distinct keys.

    ``key`` holds non-negative integers below ``size``; O(n + size), no sort.
    """
    seen = np.zeros(size, dtype=bool)
    seen[key] = True
    uniq = np.flatnonzero(seen)
    remap = np.full(size, -1, dtype=np.int64)
    remap[uniq] = np.arange(uniq.size, dtype=np.int64)
    return remap[key], uniq


def _check_grid(where: _Where, t: IntArray, rows: IntArray, q: Quantity, origin: int) -> None:
    """Raise naming the first row whose timestamp is off the quantity's UTC grid."""
    step = AGGREGATION_S[q.aggregation] * _NS
    tick = min(step, 600 * _NS)
    off = np.flatnonzero(t % tick)
    what = f"{q.aggregation} UTC" if tick == step else "10-min UTC"
    if not off.size and tick != step:
        off = np.flatnonzero((t - origin) % step)
        what = f"{q.aggregation} steps from its first value ({_iso(origin)})"
    if off.size:
        i = int(off[0])
        msg = (
            f"{where.source}: {where.rows(rows[i])}: {q.name} timestamp {_iso(t[i])} (as "
            f"interval start) is off the {what} grid ({off.size} off-grid value(s) in "
            f"all). IEC 61000-4-30 {q.aggregation} values start on the clock ticks of "
            "their interval: realign the data, or pass label='end' if the timestamps "
            "mark interval ends"
        )
        raise DataQualityError(msg)


def _build_series(
    where: _Where,
    q: Quantity,
    rows: IntArray,
    t: IntArray,
    pcodes: IntArray,
    point_ids: tuple[str, ...],
    chan: IntArray,
    channels: Sequence[tuple[str, str, str]],
    values: FloatArray,
    flags: BoolArray,
) -> IndicatorSeries:
    """Place records on a (time, column) matrix; a column is one (point, phase)."""
    phase_names = sorted({c[1] for c in channels})
    unit_names = sorted({c[2] for c in channels})
    chan_phase = np.array([phase_names.index(c[1]) for c in channels], dtype=np.int64)
    chan_unit = np.array([unit_names.index(c[2]) for c in channels], dtype=np.int64)
    n_ph, n_un = len(phase_names), len(unit_names)
    colkey = pcodes * n_ph + chan_phase[chan]
    ccodes, cols = _dense_codes(colkey, len(point_ids) * n_ph)
    n_cols = cols.size
    # the stated unit must be the same in a whole column
    pair = np.zeros(n_cols * n_un, dtype=bool)
    ucode = chan_unit[chan]
    pair[ccodes * n_un + ucode] = True
    multi = np.flatnonzero(pair.reshape(n_cols, n_un).sum(axis=1) > 1)
    if multi.size:
        k = int(multi[0])
        sel = ccodes == k
        p, ph = divmod(int(cols[k]), n_ph)
        msg = (
            f"{where.source}: {where.rows(rows[sel][:2])}: {q.name} of point "
            f"{point_ids[p]!r} phase {phase_names[ph] or '-'} is stated in more than one "
            f"unit {sorted({unit_names[u] for u in ucode[sel]})}; use one unit per column"
        )
        raise InputError(msg)
    col_unit = np.zeros(n_cols, dtype=np.int64)
    col_unit[ccodes] = ucode
    times = np.sort(np.asarray(pd.unique(t), dtype=np.int64))
    pos = np.searchsorted(times, t)
    flat = pos * n_cols + ccodes
    count = np.bincount(flat, minlength=len(times) * n_cols)
    if count.max(initial=0) > 1:
        cell = int(np.argmax(count > 1))
        a, b = rows[flat == cell][:2]
        p, ph = divmod(int(cols[cell % n_cols]), n_ph)
        msg = (
            f"{where.source}: {where.rows([a, b])}: duplicate {q.name} value for point "
            f"{point_ids[p]!r} phase {phase_names[ph] or '-'} at "
            f"{_iso(times[cell // n_cols])}; keep one row per point, quantity, phase and "
            "interval"
        )
        raise DataQualityError(msg)
    mat = np.full((len(times), n_cols), np.nan)
    mat[pos, ccodes] = values
    fl = np.zeros(mat.shape, dtype=bool)
    fl[pos, ccodes] = flags
    point_index = cols // n_ph
    phases = tuple(phase_names[int(c) % n_ph] for c in cols)
    units = tuple(unit_names[int(u)] for u in col_unit)
    return _finish_series(
        q, times, point_index, phases, mat, fl, units, where, rows_at=(pos, ccodes, rows)
    )


def _finish_series(
    q: Quantity,
    times: IntArray,
    point_index: IntArray,
    phases: tuple[str, ...],
    mat: FloatArray,
    fl: BoolArray,
    stated: tuple[str, ...],
    where: _Where,
    rows_at: tuple[IntArray, IntArray, IntArray] | None = None,
) -> IndicatorSeries:
    """Convert stated units and check the sign; voltage waits for the reference voltage."""
    if q.unit != "V":
        allowed = {"", q.unit} | ({"pu"} if q.unit == "percent" else set())
        for k, u in enumerate(stated):
            if u not in allowed:
                msg = (
                    f"{where.source}: {q.name} is in {q.unit} but a column states {u!r}; "
                    f"fix the unit in the column name or the unit column (allowed: "
                    f"{sorted(allowed - {''})} or none)"
                )
                raise InputError(msg)
            if u == "pu":
                mat[:, k] *= 100.0
    neg = mat < 0
    if neg.any():
        r, c = np.argwhere(neg)[0]
        what = where.source
        if rows_at is not None:
            pos, ccodes, rows = rows_at
            what = f"{where.source}: {where.rows(rows[(pos == r) & (ccodes == c)][:1])}"
        msg = (
            f"{what}: {q.name} value {mat[r, c]:g} is negative; {q.name} is non-negative "
            f"(in {q.unit}): check the column and its unit"
        )
        raise DataQualityError(msg)
    unit = q.unit if q.unit != "V" else "unresolved"
    idx = pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC")
    return IndicatorSeries(q, idx, point_index, phases, mat, fl, unit, stated)


def _series_notes(ser: IndicatorSeries) -> list[str]:
    """Notes on unit conversions done while reading a series."""
    out = []
    if any(u == "pu" for u in ser.stated_units) and ser.quantity.unit == "percent":
        out.append(f"{ser.name}: values stated in p.u. were multiplied by 100 (percent)")
    return out
