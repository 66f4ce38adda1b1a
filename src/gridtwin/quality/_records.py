"""Place measurement records on one (time, column) matrix per quantity.

A record is (row, time, point, channel, value, flag); a column is one (point, phase) of a
quantity. Owns the check of the quantity's IEC 61000-4-30 UTC grid, one stated unit per
column, no duplicate value, the conversion of stated units and the sign check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
            "their interval: realign the data, or pass --label end (in Python "
            "label='end') if the timestamps mark interval ends"
        )
        raise DataQualityError(msg)


@dataclass(frozen=True)
class _Records:
    """Values read from a file or frame, one entry per value.

    Attributes
    ----------
    rows : numpy.ndarray of int
        Row of each value in its source (0-based; messages name them 1-based).
    t_ns : numpy.ndarray of int
        Timestamp of each value [ns UTC].
    pcodes : numpy.ndarray of int
        Index of each value's point into the point ids.
    chan : numpy.ndarray of int
        Index of each value's channel (quantity, phase, unit) into the channels.
    values : numpy.ndarray
        The values, in their stated units.
    flags : numpy.ndarray of bool
        IEC 61000-4-30 flag of each value's row.
    """

    rows: IntArray
    t_ns: IntArray
    pcodes: IntArray
    chan: IntArray
    values: FloatArray
    flags: BoolArray

    def select(self, sel: IntArray) -> _Records:
        """The records at positions ``sel``."""
        return _Records(
            self.rows[sel],
            self.t_ns[sel],
            self.pcodes[sel],
            self.chan[sel],
            self.values[sel],
            self.flags[sel],
        )


@dataclass(frozen=True)
class _Columns:
    """Columns of one quantity: a column is one (point, phase).

    ``ccodes`` maps each record to its column; ``cols`` holds each column's key
    ``point * len(phase_names) + phase``.
    """

    ccodes: IntArray
    cols: IntArray
    phase_names: list[str]
    point_ids: tuple[str, ...]

    def point_phase(self, k: int) -> tuple[str, str]:
        """Point id and phase label (``'-'`` for none) of column ``k``, for messages."""
        p, ph = divmod(int(self.cols[k]), len(self.phase_names))
        return self.point_ids[p], self.phase_names[ph] or "-"


def _build_series(
    where: _Where,
    q: Quantity,
    rec: _Records,
    point_ids: tuple[str, ...],
    channels: Sequence[tuple[str, str, str]],
) -> IndicatorSeries:
    """Place records on a (time, column) matrix; a column is one (point, phase)."""
    phase_names = sorted({c[1] for c in channels})
    unit_names = sorted({c[2] for c in channels})
    chan_phase = np.array([phase_names.index(c[1]) for c in channels], dtype=np.int64)
    chan_unit = np.array([unit_names.index(c[2]) for c in channels], dtype=np.int64)
    n_ph = len(phase_names)
    colkey = rec.pcodes * n_ph + chan_phase[rec.chan]
    ccodes, cols = _dense_codes(colkey, len(point_ids) * n_ph)
    columns = _Columns(ccodes, cols, phase_names, point_ids)
    n_cols = cols.size
    col_unit = _column_units(where, q, rec.rows, columns, chan_unit[rec.chan], unit_names)
    times = np.sort(np.asarray(pd.unique(rec.t_ns), dtype=np.int64))
    pos = np.searchsorted(times, rec.t_ns)
    _refuse_duplicates(where, q, rec.rows, columns, times, pos)
    mat = np.full((len(times), n_cols), np.nan)
    mat[pos, ccodes] = rec.values
    fl = np.zeros(mat.shape, dtype=bool)
    fl[pos, ccodes] = rec.flags
    point_index = cols // n_ph
    phases = tuple(phase_names[int(c) % n_ph] for c in cols)
    units = tuple(unit_names[int(u)] for u in col_unit)
    return _finish_series(
        q, times, point_index, phases, mat, fl, units, where, rows_at=(pos, ccodes, rec.rows)
    )


def _column_units(
    where: _Where,
    q: Quantity,
    rows: IntArray,
    columns: _Columns,
    ucode: IntArray,
    unit_names: list[str],
) -> IntArray:
    """The stated unit of each column (index into ``unit_names``), one per whole column."""
    ccodes, n_cols, n_un = columns.ccodes, columns.cols.size, len(unit_names)
    pair = np.zeros(n_cols * n_un, dtype=bool)
    pair[ccodes * n_un + ucode] = True
    multi = np.flatnonzero(pair.reshape(n_cols, n_un).sum(axis=1) > 1)
    if multi.size:
        k = int(multi[0])
        sel = ccodes == k
        point, phase = columns.point_phase(k)
        msg = (
            f"{where.source}: {where.rows(rows[sel][:2])}: {q.name} of point "
            f"{point!r} phase {phase} is stated in more than one "
            f"unit {sorted({unit_names[u] for u in ucode[sel]})}; use one unit per column"
        )
        raise InputError(msg)
    col_unit = np.zeros(n_cols, dtype=np.int64)
    col_unit[ccodes] = ucode
    return col_unit


def _refuse_duplicates(
    where: _Where, q: Quantity, rows: IntArray, columns: _Columns, times: IntArray, pos: IntArray
) -> None:
    """Raise naming two rows that give a value for the same column and interval."""
    n_cols = columns.cols.size
    flat = pos * n_cols + columns.ccodes
    count = np.bincount(flat, minlength=len(times) * n_cols)
    if count.max(initial=0) > 1:
        cell = int(np.argmax(count > 1))
        a, b = rows[flat == cell][:2]
        point, phase = columns.point_phase(cell % n_cols)
        msg = (
            f"{where.source}: {where.rows([a, b])}: duplicate {q.name} value for point "
            f"{point!r} phase {phase} at "
            f"{_iso(times[cell // n_cols])}; keep one row per point, quantity, phase and "
            "interval"
        )
        raise DataQualityError(msg)


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
