"""Cycle synchronisation of a waveform record (IEC 61000-4-30 5.1.2, 4.4).

Positive-going fundamental zero crossings of a reference signal (Clarke α component of
three phases, or the single channel), band-pass filtered with zero phase, detected with a
hysteresis and interpolated linearly; from them the cycle starts covering the record, and
per cycle whether it is synchronised (between two accepted crossings) and whether its
period may be used for the frequency (:class:`_Sync`). scipy is imported where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridtwin.errors import InputError
from gridtwin.quality._wave_record import (
    _SQRT2,
    BoolArray,
    FloatArray,
    IntArray,
    _cumsq,
    _Record,
    _rms,
)

_ZERO_CROSSING_HYSTERESIS = 0.05  # of the declared peak voltage sqrt(2) * U_din
_FREQ_RANGE = (0.85, 1.15)  # measured periods: 42.5-57.5 Hz at 50 Hz, 51-69 Hz at 60 Hz
_EDGE_CYCLES = 12  # cycles at each record end not used for the frequency (filter start-up)
_STEADY_RATIO = (0.9, 1.05)  # filtered / raw r.m.s. of a cycle whose period is measured


@dataclass(frozen=True)
class _Sync:
    """Cycle starts of a record and what each cycle may be used for."""

    starts_f: FloatArray  # cycle starts [fractional samples]
    bnd: IntArray  # cycle starts [samples]
    synced: BoolArray  # per cycle: between two accepted zero crossings
    measured: BoolArray  # per cycle: usable for the frequency


def _reference(x: FloatArray) -> FloatArray:
    """Clarke α component of three phases (phase of L1, no zero sequence), or channel 1."""
    if x.shape[1] == 3:
        return np.asarray((2.0 * x[:, 0] - x[:, 1] - x[:, 2]) / 3.0, dtype=np.float64)
    return x[:, 0].copy()


def _local_period(part: FloatArray, sos: Any, period: float) -> float:
    """Median in-range period [samples] of a stretch of the reference (nominal if none)."""
    from scipy import signal

    y = np.asarray(signal.sosfiltfilt(sos, part), dtype=np.float64)
    c = _rising_crossings(y, _ZERO_CROSSING_HYSTERESIS * float(np.max(np.abs(y), initial=0.0)))
    edge = min(_EDGE_CYCLES * period, part.size / 4)
    c = c[(c >= edge) & (c <= part.size - edge)]
    p = np.diff(c)
    lo, hi = _FREQ_RANGE
    p = p[(p >= period / hi) & (p <= period / lo)]
    return float(np.median(p)) if p.size else period


def _bandpass(y: FloatArray, fs: float, f_nom: float) -> FloatArray:
    """Zero-phase Butterworth band-pass around the fundamental (attenuates harmonics).

    The record is extended at each end by continuing it periodically with the local
    fundamental period (up to 12 cycles, linear interpolation), so the filter's start-up
    transient does not shift the zero crossings near the ends (an odd extension shifts them
    by up to a few percent of a period over the first ~10 cycles).
    """
    from scipy import signal

    sos = signal.butter(2, [0.7 * f_nom, 1.4 * f_nom], btype="bandpass", fs=fs, output="sos")
    n = y.size
    period = fs / f_nom
    seg = min(n, int(4 * _EDGE_CYCLES * period))
    p_left = _local_period(y[:seg], sos, period)
    p_right = _local_period(y[n - seg :], sos, period)
    k = min(_EDGE_CYCLES, int((n - 1) // max(p_left, p_right)))
    if k < 1:
        return np.asarray(signal.sosfiltfilt(sos, y, padtype="odd", padlen=n - 1), dtype=np.float64)
    padlen = int(k * min(p_left, p_right))
    grid = np.arange(n, dtype=np.float64)
    left = np.interp(np.arange(-padlen, 0) + k * p_left, grid, y)
    right = np.interp(np.arange(n, n + padlen) - k * p_right, grid, y)
    full = signal.sosfiltfilt(sos, np.concatenate((left, y, right)), padtype=None)
    return np.asarray(full[padlen : padlen + n], dtype=np.float64)


def _rising_crossings(y: FloatArray, hysteresis: float) -> FloatArray:
    """Positive-going zero crossings [fractional sample index] with hysteresis.

    A crossing counts only where the signal goes from below ``-hysteresis`` to above
    ``+hysteresis``; its position is the last sign change before, interpolated linearly.
    """
    out_idx = np.flatnonzero(np.abs(y) > hysteresis)
    if out_idx.size < 2:
        return np.zeros(0)
    pos_side = y[out_idx] > 0
    r = np.flatnonzero(~pos_side[:-1] & pos_side[1:])
    b = out_idx[r + 1]
    simple = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    j = simple[np.searchsorted(simple, b, side="left") - 1]
    y0, y1 = y[j], y[j + 1]
    return np.asarray(j + (-y0) / (y1 - y0), dtype=np.float64)


def _cycle_starts(
    cross: FloatArray, n: int, fs: float, f_nom: float
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Cycle starts [fractional samples] covering the record.

    Returns the starts, whether each cycle lies between two accepted zero crossings
    (``synced``), and whether its period may be used for the frequency (``measured``: synced
    and not within ``_EDGE_CYCLES`` nominal cycles of either end of the record, where the
    zero-phase filter's start-up transient shifts the crossings). Periods outside the
    measuring range (e.g. during an interruption) are split into nominal-length cycles; the
    record ends before the first / after the last crossing are filled the same way.
    """
    period = fs / f_nom
    c = cross
    if c.size < 2:
        starts = np.arange(0.0, n + 1e-9, period)
        none = np.zeros(max(starts.size - 1, 0), dtype=bool)
        return starts, none, none
    p = np.diff(c)
    lo, hi = _FREQ_RANGE
    ok = (p >= period / hi) & (p <= period / lo)
    counts = np.where(ok, 1, np.maximum(1, np.rint(p / period).astype(np.int64)))
    first = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(int(counts.sum())) - first
    seg = np.repeat(np.arange(p.size), counts)
    inner = c[seg] + k * (p[seg] / counts[seg])
    head = c[0] - period * np.arange(int(c[0] // period), 0, -1)
    tail = c[-1] + period * np.arange(1, int((n - c[-1]) // period) + 1)
    starts = np.concatenate((head, inner, [c[-1]], tail))
    synced = np.concatenate(
        (np.zeros(head.size, dtype=bool), np.repeat(ok, counts), np.zeros(tail.size, dtype=bool))
    )
    edge = _EDGE_CYCLES * period
    measured = synced & (starts[:-1] >= edge) & (starts[1:] <= n - edge)
    return starts, synced, measured


def _synchronise(
    rec: _Record, f_nom: float, n_cyc: int, u_din_v: float, duration_s: float
) -> _Sync:
    """Cycle starts from the filtered reference; unsteady cycles not measured."""
    ref = _reference(rec.x)
    y = _bandpass(ref, rec.fs, f_nom)
    cross = _rising_crossings(y, _ZERO_CROSSING_HYSTERESIS * _SQRT2 * u_din_v)
    starts_f, synced, measured = _cycle_starts(cross, rec.n, rec.fs, f_nom)
    bnd = np.clip(np.rint(starts_f).astype(np.int64), 0, rec.n)
    if bnd.size < n_cyc + 1:
        msg = (
            f"{rec.where}: the record ({duration_s:.3g} s) is shorter than one "
            f"{n_cyc}-cycle window ({n_cyc / f_nom:g} s); pass a longer record"
        )
        raise InputError(msg)
    # a cycle whose filtered r.m.s. departs from the raw one is in the filter's transient
    # after a sudden change (dip, interruption, phase jump): its period is not measured
    rms = _rms(_cumsq(np.column_stack((ref, y))), bnd[:-1], bnd[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = rms[:, 1] / rms[:, 0]
    lo, hi = _STEADY_RATIO
    measured = measured & (ratio >= lo) & (ratio <= hi)
    return _Sync(starts_f, bnd, synced, measured)
