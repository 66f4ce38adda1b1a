"""The 10/12-cycle values of a waveform record (IEC 61000-4-30 4.4, 5.2, 5.4.1, 5.7, 5.8).

Windows of 10 (50 Hz) or 12 (60 Hz) fundamental cycles, back to back and restarted at every
10-min UTC tick (:func:`_windows`); per window and channel the r.m.s. voltage, the harmonic
subgroups of IEC 61000-4-7 with the fundamental's leakage subtracted (:func:`_spectra`), the
THD and, for three phases, the unbalance u2 and u0 (:func:`_cycle_values`); and the
U_rms(1/2) values that feed the event detection (:func:`_half_cycle_rms`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridtwin.errors import InputError
from gridtwin.quality._wave_record import (
    _NS,
    _SQRT2,
    _TEN_MIN_NS,
    ComplexArray,
    FloatArray,
    IntArray,
    _dt_index,
    _Record,
    _rms,
)
from gridtwin.quality._wave_results import CycleValues
from gridtwin.quality._wave_sync import _Sync
from gridtwin.quality.events import _overlap_ns

_A = complex(np.exp(2j * np.pi / 3))
_FFT_BATCH = 256


@dataclass(frozen=True)
class _Windows:
    """The 10/12-cycle windows of a record and their 10-min intervals."""

    ticks: IntArray  # 10-min ticks [UTC ns], n_blk + 1
    m: IntArray  # windows per 10-min interval
    first: IntArray  # index of the first window of each interval
    blk: IntArray  # interval of each window
    offs: IntArray  # position of each window in its interval
    kidx: IntArray  # index of each window's first cycle
    ws: IntArray  # window start [samples]
    we: IntArray  # window end (exclusive) [samples]


def _windows(rec: _Record, sync: _Sync, n_cyc: int) -> _Windows:
    """10/12-cycle windows, restarted at the first cycle start after each 10-min tick."""
    bnd, nb = sync.bnd, sync.bnd.size
    j0, j1 = rec.t0_ns // _TEN_MIN_NS, -((-rec.end_ns) // _TEN_MIN_NS)
    ticks = np.arange(j0, j1 + 1, dtype=np.int64) * _TEN_MIN_NS
    s_blk = np.clip(np.ceil((ticks - rec.t0_ns) / _NS * rec.fs - 1e-6), 0, rec.n)
    s_blk = s_blk.astype(np.int64)
    p = np.searchsorted(bnd, s_blk[:-1], side="left")
    q = np.searchsorted(bnd, s_blk[1:], side="left")
    m = np.minimum(np.maximum(0, -((p - q) // n_cyc)), np.maximum(0, (nb - 1 - p) // n_cyc))
    blk = np.repeat(np.arange(ticks.size - 1), m)
    first = np.cumsum(m) - m
    offs = np.arange(int(m.sum())) - first[blk]
    kidx = p[blk] + n_cyc * offs
    if kidx.size == 0:
        msg = f"{rec.where}: no whole {n_cyc}-cycle window in the record; pass a longer record"
        raise InputError(msg)
    return _Windows(
        ticks,
        m.astype(np.int64),
        first.astype(np.int64),
        blk.astype(np.int64),
        offs.astype(np.int64),
        kidx,
        bnd[kidx],
        bnd[kidx + n_cyc],
    )


def _half_cycle_rms(rec: _Record, cs: FloatArray, sync: _Sync) -> tuple[FloatArray, IntArray]:
    """U_rms(1/2): one-cycle windows starting at every cycle start and cycle midpoint."""
    sf = sync.starts_f
    half = np.empty(2 * sf.size - 1)
    half[0::2] = sf
    half[1::2] = (sf[:-1] + sf[1:]) / 2.0
    hb = np.clip(np.rint(half).astype(np.int64), 0, rec.n)
    urms = _rms(cs, hb[:-2], hb[2:])
    t = rec.t_of(hb[:-2])
    keep = np.concatenate(([True], np.diff(t) > 0))
    return urms[keep], t[keep]


@dataclass(frozen=True)
class _Spectra:
    """Harmonic subgroups and fundamental phasors per window and channel."""

    harmonics_v: FloatArray  # (W, ch, H+1)
    phasor_v: ComplexArray  # (W, ch)


def _dirichlet(x: FloatArray, length: int) -> ComplexArray:
    """``D(x) = Σ_{n<L} exp(-2πi x n / L)``: DFT of a unit complex tone ``x`` bins off."""
    den = np.sin(np.pi * x / length)
    small = np.abs(den) < 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        mag = np.where(small, float(length), np.sin(np.pi * x) / np.where(small, 1.0, den))
    return np.asarray(mag * np.exp(-1j * np.pi * x * (length - 1) / length), dtype=np.complex128)


def _spectra(
    xt: FloatArray, ws: IntArray, we: IntArray, nu: FloatArray, n_cyc: int, h_max: int
) -> _Spectra:
    """Harmonic subgroups and fundamental phasors of each window (grouped by length).

    A window of whole samples holds ``nu`` fundamental cycles, within ±1 sample of
    ``n_cyc`` (a sampled record has no phase-locked sampling clock). The fundamental tone at
    ``nu`` bins is fitted to the DFT bin ``n_cyc`` (tone and its negative-frequency image,
    Dirichlet kernel) and its leakage is subtracted from every bin, so that it does not bias
    the harmonic subgroups (e.g. 0.08 % of U1 at order 2 for a 1-sample error); this stands in
    for the synchronised sampling of IEC 61000-4-7.
    """
    n_ch, n_w = xt.shape[0], ws.size
    harm = np.full((n_w, n_ch, h_max + 1), np.nan)
    phasor = np.full((n_w, n_ch), np.nan + 0j, dtype=np.complex128)
    lengths = we - ws
    orders = np.arange(1, h_max + 1)
    centre = n_cyc * orders
    top = n_cyc * h_max + 1
    bins = np.arange(top + 1, dtype=np.float64)
    for length in np.unique(lengths):
        big_l = int(length)
        if big_l // 2 < top + 1:
            continue  # too short for the highest subgroup: leave NaN
        sel = np.flatnonzero(lengths == length)
        offs = np.arange(big_l)
        for b0 in range(0, sel.size, _FFT_BATCH):
            rows = sel[b0 : b0 + _FFT_BATCH]
            seg = xt[:, ws[rows][:, np.newaxis] + offs]  # (ch, b, L)
            spec = np.fft.rfft(seg, axis=-1)[..., : top + 1]  # (ch, b, bins)
            v = nu[rows][:, np.newaxis]  # (b, 1)
            k1 = _dirichlet(bins - v, big_l)  # (b, bins)
            k2 = _dirichlet(bins + v, big_l)
            d1, d2 = k1[:, n_cyc], k2[:, n_cyc]  # (b,)
            # X_N = a D1 + conj(a) D2 with a = p + iq: solve the real 2x2 system
            c1, c2 = d1 + d2, 1j * (d1 - d2)
            det = c1.real * c2.imag - c2.real * c1.imag
            xn = spec[..., n_cyc]  # (ch, b)
            pr = (xn.real * c2.imag - c2.real * xn.imag) / det
            qi = (c1.real * xn.imag - xn.real * c1.imag) / det
            amp = pr + 1j * qi  # (ch, b)
            spec = spec - (amp[..., np.newaxis] * k1 + np.conj(amp)[..., np.newaxis] * k2)
            amp2 = (np.abs(spec) * (_SQRT2 / big_l)) ** 2
            fund2 = (_SQRT2 * np.abs(amp)) ** 2  # tone r.m.s.², (ch, b)
            amp2[..., n_cyc] += fund2
            g = np.sqrt(amp2[..., centre - 1] + amp2[..., centre] + amp2[..., centre + 1])
            harm[rows, :, 1:] = np.transpose(g, (1, 0, 2))
            phasor[rows] = (_SQRT2 * amp).T
    return _Spectra(harm, phasor)


def _sequence_percent(ph: ComplexArray) -> tuple[FloatArray, FloatArray]:
    """u2 and u0 [% of |U1|] from fundamental phasors (W, 3) (IEC 61000-4-30 5.7.1)."""
    a, a2 = _A, _A * _A
    v1 = (ph[:, 0] + a * ph[:, 1] + a2 * ph[:, 2]) / 3.0
    v2 = (ph[:, 0] + a2 * ph[:, 1] + a * ph[:, 2]) / 3.0
    v0 = (ph[:, 0] + ph[:, 1] + ph[:, 2]) / 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return (
            np.asarray(np.abs(v2) / np.abs(v1) * 100.0, dtype=np.float64),
            np.asarray(np.abs(v0) / np.abs(v1) * 100.0, dtype=np.float64),
        )


def _cycle_values(
    rec: _Record,
    cs: FloatArray,
    sync: _Sync,
    win: _Windows,
    n_cyc: int,
    h_max: int,
    spans: tuple[IntArray, IntArray],
) -> CycleValues:
    """Per window: r.m.s., harmonic subgroups, THD, unbalance, and the event flag.

    ``spans`` are the merged event spans [UTC ns]: a window overlapping one is flagged.
    """
    ws, we, kidx = win.ws, win.we, win.kidx
    not_synced = np.concatenate(([0], np.cumsum(~sync.synced, dtype=np.int64)))
    nu = n_cyc * (we - ws) / (sync.starts_f[kidx + n_cyc] - sync.starts_f[kidx])
    sp = _spectra(np.ascontiguousarray(rec.x.T), ws, we, nu, n_cyc, h_max)
    harm = sp.harmonics_v
    with np.errstate(invalid="ignore", divide="ignore"):
        thd = np.sqrt(np.sum(harm[:, :, 2:] ** 2, axis=2)) / harm[:, :, 1] * 100.0
    if rec.x.shape[1] == 3:
        u2, u0 = _sequence_percent(sp.phasor_v)
    else:
        u2 = u0 = np.full(ws.size, np.nan)
    return CycleValues(
        start_utc=_dt_index(rec.t_of(ws)),
        end_utc=_dt_index(rec.t_of(we)),
        n_samples=(we - ws).astype(np.int64),
        interval=win.blk,
        synchronised=(not_synced[kidx + n_cyc] - not_synced[kidx]) == 0,
        flagged=_overlap_ns(*spans, rec.t_of(ws), rec.t_of(we)),
        u_rms_v=_rms(cs, ws, we),
        harmonics_v=harm,
        thd_percent=thd,
        u1_phasor_v=sp.phasor_v,
        unbalance_negative_percent=u2,
        unbalance_zero_percent=u0,
    )
