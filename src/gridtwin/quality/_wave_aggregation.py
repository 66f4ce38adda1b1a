"""Aggregation of 10/12-cycle values over 3 s, 10 s and 10 min (IEC 61000-4-30 4.5, 5.1).

150/180-cycle values from 15 consecutive windows inside a 10-min interval
(:func:`_three_second`), the 10-s frequency from the whole measured cycles inside each 10-s
UTC interval (:func:`_ten_second`), and the 10-min values of the intervals covered enough by
the record (:func:`_ten_minute`): r.m.s. of the values, δU(−)/δU(+) against U_din, and the
flags of intervals that overlap an event (4.7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridtwin.quality._under_over import UnderOverDeviation, under_over_deviation
from gridtwin.quality._wave_cycles import _Windows
from gridtwin.quality._wave_record import (
    _NS,
    _TEN_MIN_NS,
    _TEN_S_NS,
    BoolArray,
    FloatArray,
    IntArray,
    _dt_index,
    _Record,
)
from gridtwin.quality._wave_results import CycleValues
from gridtwin.quality._wave_sync import _Sync
from gridtwin.quality.events import _overlap_ns

_WINDOWS_PER_3S = 15


def _group_rms(values: FloatArray, starts: IntArray, ends: IntArray) -> FloatArray:
    """r.m.s. over consecutive rows ``[starts[k], ends[k])`` ignoring NaN (NaN if none)."""
    flat = values.reshape(values.shape[0], -1)
    finite = np.isfinite(flat)
    sq = np.where(finite, flat, 0.0) ** 2
    cs = np.vstack((np.zeros((1, flat.shape[1])), np.cumsum(sq, axis=0)))
    cn = np.vstack(
        (np.zeros((1, flat.shape[1]), dtype=np.int64), np.cumsum(finite, axis=0, dtype=np.int64))
    )
    num = cs[ends] - cs[starts]
    cnt = cn[ends] - cn[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cnt > 0, np.sqrt(np.maximum(num, 0.0) / cnt), np.nan)
    return np.asarray(out.reshape((starts.size, *values.shape[1:])), dtype=np.float64)


def _any_in(flags: BoolArray, starts: IntArray, ends: IntArray) -> BoolArray:
    """Whether any flag is set in each row range ``[starts, ends)``."""
    cs = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    return np.asarray(cs[ends] - cs[starts] > 0, dtype=bool)


@dataclass(frozen=True)
class _ThreeSecond:
    """150/180-cycle values (IEC 61000-4-30 4.5.2)."""

    time_utc: pd.DatetimeIndex
    u_rms: FloatArray
    thd: FloatArray
    u2: FloatArray
    u0: FloatArray
    flags: BoolArray


def _three_second(c: CycleValues, win: _Windows) -> _ThreeSecond:
    """150/180-cycle values: groups of 15 windows inside each 10-min interval (4.5.2)."""
    g_count = win.m // _WINDOWS_PER_3S
    g_blk = np.repeat(np.arange(g_count.size), g_count)
    g_first = np.cumsum(g_count) - g_count
    g0 = win.first[g_blk] + _WINDOWS_PER_3S * (np.arange(int(g_count.sum())) - g_first[g_blk])
    g1 = g0 + _WINDOWS_PER_3S
    return _ThreeSecond(
        time_utc=c.start_utc[g0],
        u_rms=_group_rms(c.u_rms_v, g0, g1),
        thd=_group_rms(c.thd_percent, g0, g1),
        u2=_group_rms(c.unbalance_negative_percent, g0, g1),
        u0=_group_rms(c.unbalance_zero_percent, g0, g1),
        flags=_any_in(c.flagged, g0, g1),
    )


@dataclass(frozen=True)
class _TenSecond:
    """10-s frequency values (IEC 61000-4-30 5.1)."""

    time_utc: pd.DatetimeIndex
    frequency: FloatArray
    flags: BoolArray


def _ten_second(rec: _Record, sync: _Sync, spans: tuple[IntArray, IntArray]) -> _TenSecond:
    """10-s frequencies and their flags (intervals overlapping an event span)."""
    t10, f10 = _ten_second_frequency(rec, sync)
    return _TenSecond(_dt_index(t10), f10, _overlap_ns(*spans, t10, t10 + _TEN_S_NS))


def _ten_second_frequency(rec: _Record, sync: _Sync) -> tuple[IntArray, FloatArray]:
    """10-s UTC intervals inside the record and their frequency (IEC 61000-4-30 5.1)."""
    c_ts, c_te = rec.t_of(sync.starts_f[:-1]), rec.t_of(sync.starts_f[1:])
    k_first = -((-rec.t0_ns) // _TEN_S_NS)
    n10 = max(0, int(rec.end_ns // _TEN_S_NS - k_first))
    ks = c_ts // _TEN_S_NS - k_first
    ke = -((-c_te) // _TEN_S_NS) - 1 - k_first
    use = sync.measured & (ks == ke) & (ks >= 0) & (ks < n10)
    cnt = np.bincount(ks[use], minlength=n10)[:n10]
    dur = np.bincount(ks[use], weights=(c_te - c_ts)[use] / _NS, minlength=n10)[:n10]
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = np.where(cnt > 0, cnt / dur, np.nan)
    return (k_first + np.arange(n10, dtype=np.int64)) * _TEN_S_NS, freq.astype(np.float64)


@dataclass(frozen=True)
class _TenMinute:
    """10-min values (IEC 61000-4-30 4.5); NaN where coverage is short."""

    cover: FloatArray
    flags: BoolArray
    u_rms: FloatArray
    under_over: UnderOverDeviation
    thd: FloatArray
    harmonics: FloatArray
    u2: FloatArray
    u0: FloatArray


def _ten_minute(
    rec: _Record,
    win: _Windows,
    c: CycleValues,
    u_din_v: float,
    min_coverage_percent: float,
    f_nom: float,
    spans: tuple[IntArray, IntArray],
) -> _TenMinute:
    """10-min aggregation (IEC 61000-4-30 4.5) of complete-enough intervals; NaN otherwise."""
    ticks, b0, b1 = win.ticks, win.first, win.first + win.m
    cover = (
        (np.minimum(ticks[1:], rec.end_ns) - np.maximum(ticks[:-1], rec.t0_ns))
        / _TEN_MIN_NS
        * 100.0
    )
    tol_cycle = 100.0 / f_nom / 600.0  # one cycle in % of 10 min: a record may end mid-cycle
    valid = (cover >= min_coverage_percent - tol_cycle) & (win.m > 0)

    def agg(v: FloatArray) -> FloatArray:
        out = _group_rms(v, b0, b1)
        out[~valid] = np.nan
        return out

    n_ch = c.u_rms_v.shape[1]
    pad = np.full((ticks.size - 1, int(win.m.max()), n_ch), np.nan)
    pad[win.blk, win.offs] = c.u_rms_v
    uo = under_over_deviation(pad, u_din_v, axis=1)
    keep = valid[:, np.newaxis]
    with np.errstate(invalid="ignore", divide="ignore"):
        harm_pct = c.harmonics_v / c.harmonics_v[:, :, 1:2] * 100.0
    harm = agg(harm_pct)
    harm[:, :, 0] = np.nan
    return _TenMinute(
        cover=cover,
        flags=_any_in(c.flagged, b0, b1) | _overlap_ns(*spans, ticks[:-1], ticks[1:]),
        u_rms=agg(c.u_rms_v),
        under_over=UnderOverDeviation(
            np.where(keep, uo.under_percent, np.nan), np.where(keep, uo.over_percent, np.nan)
        ),
        thd=agg(c.thd_percent),
        harmonics=harm,
        u2=agg(c.unbalance_negative_percent),
        u0=agg(c.unbalance_zero_percent),
    )
