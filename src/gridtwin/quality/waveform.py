"""Power quality from sampled voltage waveforms (IEC 61000-4-30 class A style processing).

From 1 or 3 sampled voltage channels (phase-to-neutral in 4-wire systems, phase-to-phase in
3-wire systems), :func:`process_waveform` computes, vectorised with numpy:

- **cycle synchronisation**: positive-going fundamental zero crossings of a reference signal
  (the Clarke α component ``(2 v1 - v2 - v3) / 3`` of three phases — it keeps the phase of
  L1, has no zero-sequence content and survives the loss of one phase — or the single
  channel), band-pass filtered with zero phase (Butterworth, forward-backward, the record
  continued periodically at both ends so the filter start-up does not shift the crossings)
  to attenuate harmonics and interharmonics (IEC 61000-4-30 5.1.2), detected with a
  hysteresis of 5 % of the declared peak and interpolated linearly between samples. Periods
  outside 42.5–57.5 Hz (50 Hz systems) or 51–69 Hz (60 Hz), e.g. during an interruption,
  are not measured; the cycles there are laid at the nominal period;
- **10/12-cycle values** (IEC 61000-4-30 4.4): windows of 10 fundamental cycles (50 Hz) or
  12 (60 Hz), back to back, resynchronised at every 10-min UTC tick (the first window of an
  interval starts at the first cycle start at or after the tick; the last window of the
  previous interval may overlap it, IEC 61000-4-30 4.5). Per window and channel:
  r.m.s. voltage (5.2), the rectangular-window DFT with 5-Hz (50 Hz) bins, harmonic
  subgroups ``G_sg,n = sqrt(C²_{Nn-1} + C²_{Nn} + C²_{Nn+1})`` for n = 1..40
  (IEC 61000-4-7 harmonic subgroup, used by IEC 61000-4-30 5.8 class A), THD from the
  subgroups ``sqrt(Σ_{n=2..40} G_n²) / G_1 · 100`` (GOST 32144 K_U), and, for three phases,
  the symmetrical components of the fundamental phasors: u2 = |U2|/|U1|·100 and
  u0 = |U0|/|U1|·100 (IEC 61000-4-30 5.7.1). A window of whole samples holds the 10/12
  cycles only to ±1 sample (there is no phase-locked sampling clock in a record), so the
  fundamental is fitted at its measured frequency and its spectral leakage subtracted from
  the other bins before grouping;
- **U_rms(1/2)** (5.4.1): one-cycle r.m.s. refreshed every half cycle (cycle starts and their
  midpoints), labelled by window start, fed to :func:`gridtwin.quality.events.detect_events`;
- **10-s frequency** (5.1): the number of whole measured cycles inside each 10-s UTC
  interval divided by their cumulative duration (cycles within 12 cycles of either end of the
  record, and cycles in the filter's transient after a sudden change — filtered and raw
  r.m.s. of the cycle differ by more than -10/+5 % — are not used);
- **aggregation** (4.5): 150/180-cycle (about 3 s) values from 15 consecutive 10/12-cycle
  values inside a 10-min interval (an incomplete last group before a tick is dropped), and
  10-min values from all 10/12-cycle values starting in the clock-aligned interval: r.m.s.
  of the values (voltage, THD, harmonics in % of U1, unbalance), and the under-/over-
  deviation δU(−), δU(+) against U_din (5.12, GOST 32144 4.2.2);
- **flags** (4.7): every value whose interval overlaps a dip, swell or interruption is
  flagged, and the flag propagates to 3-s, 10-s and 10-min values.

:class:`AggregatedMeasurements` feeds :func:`gridtwin.quality.evaluate` directly
(:meth:`AggregatedMeasurements.evaluate`, :meth:`AggregatedMeasurements.evaluate_all`).

Interval labels follow the gridtwin convention (start of the interval, UTC). A 10-min value
is computed only for an interval covered by the record for at least
``min_coverage_percent`` (default 100 %); others are NaN (missing, never extrapolated).

Not implemented: flicker (IEC 61000-4-15; Pst/Plt must come from an instrument),
interharmonics, mains-signalling voltage, rapid voltage changes, the sliding reference
voltage, an anti-aliasing check of the recorder. IEC 61000-4-30/-4-7 clause numbers are those
of the 2008/2015 and 2002+A1 editions as recalled, not checked against the texts.

This module owns the :class:`Waveform` input, the pipeline :func:`process_waveform` and its
checks; the steps live in private modules: COMTRADE reading (``_comtrade``), the record's
time base (``_wave_record``), cycle synchronisation (``_wave_sync``), 10/12-cycle values
(``_wave_cycles``), aggregation (``_wave_aggregation``) and the result types
(``_wave_results``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._comtrade import _read_voltage_channels
from gridtwin.quality._unit_inference import infer_voltage_unit
from gridtwin.quality._wave_aggregation import _ten_minute, _ten_second, _three_second
from gridtwin.quality._wave_cycles import _cycle_values, _half_cycle_rms, _windows
from gridtwin.quality._wave_record import _NS, _cumsq, _dt_index, _Record
from gridtwin.quality._wave_results import AggregatedMeasurements, CycleValues
from gridtwin.quality._wave_sync import _synchronise
from gridtwin.quality.events import (
    EventLog,
    EventThresholds,
    _detect_ns,
    _merged_spans,
)

__all__ = [
    "AggregatedMeasurements",
    "CycleValues",
    "Waveform",
    "max_harmonic_order_for",
    "min_sample_rate_hz",
    "process_waveform",
    "read_comtrade",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ComplexArray = npt.NDArray[np.complex128]


def _cycles_per_window(nominal_frequency_hz: float) -> int:
    """10 cycles per window at 50 Hz, 12 at 60 Hz (else an error)."""
    if nominal_frequency_hz == 50.0:
        return 10
    if nominal_frequency_hz == 60.0:
        return 12
    msg = (
        f"nominal_frequency_hz must be 50 or 60 (IEC 61000-4-30 10/12-cycle windows), got "
        f"{nominal_frequency_hz}"
    )
    raise InputError(msg)


def max_harmonic_order_for(
    sample_rate_hz: float, nominal_frequency_hz: float = 50.0, highest: int = 40
) -> int:
    """Highest harmonic order whose IEC 61000-4-7 subgroup a sample rate can resolve
    (``sample_rate_hz > min_sample_rate_hz(f, n)``), at most ``highest``; 1 if none.

    Examples
    --------
    >>> max_harmonic_order_for(6400.0), max_harmonic_order_for(1000.0)
    (40, 9)
    """
    n = _cycles_per_window(nominal_frequency_hz)
    k = int(np.floor(sample_rate_hz / (2.0 * nominal_frequency_hz) - 1.0 / n))
    while k >= 1 and sample_rate_hz <= min_sample_rate_hz(nominal_frequency_hz, k):
        k -= 1
    return max(1, min(highest, k))


def min_sample_rate_hz(nominal_frequency_hz: float = 50.0, max_harmonic_order: int = 40) -> float:
    """Lowest sample rate for harmonic subgroups up to ``max_harmonic_order`` [Hz].

    The subgroup of order n uses the DFT bins at ``n·f1`` and ``n·f1 ± f1/N`` (N = 10 or 12
    cycles per window, IEC 61000-4-7); the highest bin must lie below the Nyquist frequency:
    ``fs > 2·f1·(n + 1/N)``, i.e. 4010 Hz at 50 Hz and 4810 Hz at 60 Hz for order 40.
    """
    n = _cycles_per_window(nominal_frequency_hz)
    return 2.0 * nominal_frequency_hz * (max_harmonic_order + 1.0 / n)


# --------------------------------------------------------------------------- waveform


@dataclass(frozen=True)
class Waveform:
    """Uniformly sampled voltage channels.

    Attributes
    ----------
    samples_v : numpy.ndarray, shape (n_samples, n_channels)
        Instantaneous voltages [V]; 1 channel, or 3 phases in the order L1, L2, L3.
    sample_rate_hz : float
        Sample rate [Hz].
    start_utc : pandas.Timestamp
        tz-aware time of the first sample (converted to UTC).
    channel_names : tuple of str
        Default ``('L1', 'L2', 'L3')`` or ``('L1',)``.
    source : str
        Where the samples came from (file path), used in messages.
    notes : tuple of str
        Reader warnings and caveats.
    connection : {'phase', 'line'}
        Phase-to-neutral (default) or line-to-line channels (COMTRADE channels named
        U21, UAB ... or with phase field AB): U_din must be of the same kind.
    """

    samples_v: FloatArray
    sample_rate_hz: float
    start_utc: pd.Timestamp
    channel_names: tuple[str, ...] = ()
    source: str = "<array>"
    notes: tuple[str, ...] = ()
    connection: str = "phase"

    def __post_init__(self) -> None:
        x = np.asarray(self.samples_v, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, np.newaxis]
        where = self.source
        if x.ndim != 2 or x.shape[1] not in (1, 3):
            msg = (
                f"{where}: samples_v has shape {np.shape(self.samples_v)}; pass "
                "(n_samples, 1) or (n_samples, 3) voltages (phases L1, L2, L3)"
            )
            raise InputError(msg)
        bad = ~np.isfinite(x)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (
                f"{where}: sample {r} of channel {c} is {x[r, c]}; waveform gaps are not "
                "interpolated: split the record at the gap"
            )
            raise DataQualityError(msg)
        fs = float(self.sample_rate_hz)
        if not (np.isfinite(fs) and fs > 0):
            msg = f"{where}: sample_rate_hz must be positive [Hz], got {self.sample_rate_hz}"
            raise InputError(msg)
        start = pd.Timestamp(self.start_utc)
        if start.tzinfo is None:
            msg = (
                f"{where}: start_utc {start} must be tz-aware; e.g. "
                "pd.Timestamp('2025-06-02 00:00', tz='UTC')"
            )
            raise InputError(msg)
        names = tuple(self.channel_names) or (("L1", "L2", "L3") if x.shape[1] == 3 else ("L1",))
        if len(names) != x.shape[1] or len(set(names)) != len(names):
            msg = (
                f"{where}: channel_names {names} must be {x.shape[1]} unique names, one per channel"
            )
            raise InputError(msg)
        object.__setattr__(self, "samples_v", np.ascontiguousarray(x))
        object.__setattr__(self, "sample_rate_hz", fs)
        object.__setattr__(self, "start_utc", start.tz_convert("UTC").as_unit("ns"))
        object.__setattr__(self, "channel_names", names)

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.samples_v.shape[0])

    @property
    def duration_s(self) -> float:
        """Record length ``n_samples / sample_rate_hz`` [s]."""
        return self.n_samples / self.sample_rate_hz

    @property
    def end_utc(self) -> pd.Timestamp:
        """End of the record (exclusive): start + duration."""
        return self.start_utc + pd.Timedelta(round(self.duration_s * _NS), "ns")

    @classmethod
    def from_time_samples(
        cls,
        time_s: npt.ArrayLike,
        samples_v: npt.ArrayLike,
        *,
        start_utc: pd.Timestamp | str,
        channel_names: Sequence[str] = (),
        source: str = "<array>",
        rate_tolerance: float = 0.01,
    ) -> Waveform:
        """Build a waveform from sample times, checking they are increasing and uniform.

        Parameters
        ----------
        time_s : array_like, shape (n_samples,)
            Time of each sample since ``start_utc`` [s].
        samples_v : array_like, shape (n_samples, n_channels)
            Voltages [V].
        start_utc : pandas.Timestamp or str
            tz-aware time of ``time_s = 0``.
        channel_names : sequence of str
        source : str
            Name used in error messages (file path).
        rate_tolerance : float
            Largest allowed deviation of a sample interval from the median one, relative [1].

        Raises
        ------
        DataQualityError
            Non-monotonic, repeated or non-uniform sample times.
        """
        t = np.asarray(time_s, dtype=np.float64)
        fs = _uniform_rate(t, source, rate_tolerance)
        start = pd.Timestamp(start_utc)
        if start.tzinfo is None:
            msg = f"{source}: start_utc {start} must be tz-aware"
            raise InputError(msg)
        start = start + pd.Timedelta(round(float(t[0]) * _NS), "ns")
        return cls(np.asarray(samples_v, dtype=np.float64), fs, start, tuple(channel_names), source)


def _uniform_rate(t: FloatArray, source: str, rate_tolerance: float) -> float:
    """Sample rate [Hz] of increasing, uniform sample times ``t`` [s] (else an error)."""
    if t.ndim != 1 or t.size < 2:
        msg = f"{source}: time_s must be a 1-D array of at least 2 sample times [s]"
        raise InputError(msg)
    if not np.all(np.isfinite(t)):
        i = int(np.flatnonzero(~np.isfinite(t))[0])
        msg = f"{source}: sample time {i} is {t[i]}; every sample needs a finite time"
        raise DataQualityError(msg)
    dt = np.diff(t)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        msg = (
            f"{source}: sample time is not increasing at sample {i} "
            f"(t[{i - 1}] = {t[i - 1]:.9g} s, t[{i}] = {t[i]:.9g} s; {bad.size} such "
            "sample(s)): non-monotonic time. Sort the samples or fix the timestamps "
            "(a DAT file shorter than its CFG declares leaves zero times at the end)"
        )
        raise DataQualityError(msg)
    step = float(np.median(dt))
    off = np.flatnonzero(np.abs(dt - step) > rate_tolerance * step)
    if off.size:
        i = int(off[0]) + 1
        msg = (
            f"{source}: sampling is not uniform: interval before sample {i} is "
            f"{dt[i - 1]:.9g} s, median {step:.9g} s ({off.size} irregular "
            "interval(s)); resample to a constant rate first"
        )
        raise DataQualityError(msg)
    fs = (t.size - 1) / (t[-1] - t[0])
    return float(fs)


def read_comtrade(
    cfg_path: str | Path,
    *,
    channels: Sequence[str] | None = None,
    start_timezone: str = "UTC",
    values: Literal["primary", "secondary", "as_recorded"] = "primary",
    encoding: str | None = None,
    units: Mapping[str, str] | None = None,
) -> Waveform:
    """Read voltage channels of a COMTRADE record (CFG + DAT, or CFF) with ``comtrade``.

    Parameters
    ----------
    cfg_path : str or pathlib.Path
        The ``.cfg`` (with its ``.dat`` next to it) or ``.cff`` file.
    channels : sequence of str, optional
        1 or 3 analog channel ids (CFG ``ch_id``, case-insensitive), phases in the order L1,
        L2, L3. Default: the analog channels with unit V or kV, if there are 1 or 3.
    start_timezone : str
        Zone in which the CFG start timestamp is read (COMTRADE 1991/1999 timestamps carry
        no zone; the reader does not expose the 2013 ``time_code``). Default UTC.
    values : {'primary', 'secondary', 'as_recorded'}
        Scale channels to primary or secondary values with the CFG ``primary``,
        ``secondary`` and ``PS`` fields, or keep them as recorded.
    encoding : str, optional
        Text encoding of the CFG; default UTF-8, else detected among Windows-1251, GBK
        and Latin-1 (with a note).
    units : mapping of str to str, optional
        Unit per channel id (``{'UA': 'kV'}``) for channels whose CFG unit is empty or
        unusual; ``V``, ``volt``, ``kV`` and the Cyrillic ``В``, ``кВ`` are read as such.

    Returns
    -------
    Waveform
        Voltages [V] (kV channels are converted); reader warnings are in ``notes``;
        ``connection`` is ``'line'`` for line-to-line channels. Zero-sequence or
        residual channels (Vo, 3U0) are never taken as phases.

    Raises
    ------
    InputError
        The file cannot be read or parsed, a channel is missing, or several sample rates.
    DataQualityError
        Non-monotonic or non-uniform sample times.
    """
    path = Path(cfg_path)
    where = str(path)
    if values not in ("primary", "secondary", "as_recorded"):
        msg = f"values must be 'primary', 'secondary' or 'as_recorded', got {values!r}"
        raise InputError(msg)
    ch = _read_voltage_channels(path, channels, start_timezone, values, encoding, units)
    wf = Waveform.from_time_samples(
        ch.time_s,
        ch.samples_v,
        start_utc=ch.start,
        channel_names=ch.names,
        source=where,
    )
    return Waveform(
        wf.samples_v,
        wf.sample_rate_hz,
        wf.start_utc,
        wf.channel_names,
        where,
        ch.notes,
        ch.connection,
    )


# --------------------------------------------------------------------------- processing


def process_waveform(
    waveform: Waveform,
    *,
    u_din_v: float,
    nominal_frequency_hz: float = 50.0,
    thresholds: EventThresholds | None = None,
    max_harmonic_order: int = 40,
    min_coverage_percent: float = 100.0,
    check_units: bool = True,
) -> AggregatedMeasurements:
    """Compute IEC 61000-4-30 class A style aggregated values and events of a waveform.

    Parameters
    ----------
    waveform : Waveform
        1 channel, or 3 phases in the order L1, L2, L3 [V].
    u_din_v : float
        Declared input voltage U_din [V] (U_nom at LV, agreed U_c at MV), of the same kind
        as the channels (phase-to-neutral or phase-to-phase).
    nominal_frequency_hz : {50.0, 60.0}
        Nominal frequency [Hz]: 10-cycle windows at 50 Hz, 12-cycle windows at 60 Hz.
    thresholds : EventThresholds, optional
        Dip/swell/interruption thresholds and hysteresis [% of U_din]; default 90/110/5/2.
    max_harmonic_order : int
        Highest harmonic order (40 for GOST 32144 and EN 50160 THD).
    min_coverage_percent : float
        Minimum share of a 10-min interval covered by the record for a 10-min value [%].
    check_units : bool
        Refuse a record whose r.m.s. voltages do not fit ``u_din_v`` (kV against V, line
        against phase voltage).

    Returns
    -------
    AggregatedMeasurements

    Raises
    ------
    InputError
        Sample rate too low for ``max_harmonic_order``, record shorter than one 10/12-cycle
        window, bad parameters, reversed phase order, voltages that do not fit ``u_din_v``.

    Examples
    --------
    >>> fs = 6400.0
    >>> t = np.arange(int(12 * fs)) / fs
    >>> x = np.sqrt(2) * 230 * np.cos(2 * np.pi * 50.01 * t)
    >>> wf = Waveform(x, fs, pd.Timestamp("2025-06-02", tz="UTC"))
    >>> res = process_waveform(wf, u_din_v=230.0)
    >>> round(float(res.frequency_10s_hz[0]), 3), round(float(res.u_rms_3s_v[0, 0]), 2)
    (50.01, 230.0)
    """
    f_nom = float(nominal_frequency_hz)
    n_cyc = _cycles_per_window(f_nom)
    _check_args(waveform, u_din_v, f_nom, max_harmonic_order, min_coverage_percent)
    th = thresholds if thresholds is not None else EventThresholds()
    u_din = float(u_din_v)
    rec = _record_of(waveform)
    sync = _synchronise(rec, f_nom, n_cyc, u_din, waveform.duration_s)
    cs = _cumsq(rec.x)
    urms_half, t_half = _half_cycle_rms(rec, cs, sync)
    events = _detect_ns(urms_half, t_half, rec.end_ns, u_din, th, waveform.channel_names)
    spans = _merged_spans(events)
    win = _windows(rec, sync, n_cyc)
    c = _cycle_values(rec, cs, sync, win, n_cyc, max_harmonic_order, spans)
    _check_values(c, waveform, u_din, check_units)
    three = _three_second(c, win)
    ten_s = _ten_second(rec, sync, spans)
    ten = _ten_minute(rec, win, c, u_din, min_coverage_percent, f_nom, spans)
    return AggregatedMeasurements(
        channel_names=waveform.channel_names,
        u_din_v=u_din,
        nominal_frequency_hz=f_nom,
        cycles_per_window=n_cyc,
        max_harmonic_order=max_harmonic_order,
        source=rec.where,
        record_start_utc=waveform.start_utc,
        record_end_utc=rec.end_utc,
        cycles=c,
        u_rms_half_start_utc=_dt_index(t_half),
        u_rms_half_v=urms_half,
        time_3s_utc=three.time_utc,
        u_rms_3s_v=three.u_rms,
        thd_3s_percent=three.thd,
        unbalance_negative_3s_percent=three.u2,
        unbalance_zero_3s_percent=three.u0,
        flags_3s=three.flags,
        time_10s_utc=ten_s.time_utc,
        frequency_10s_hz=ten_s.frequency,
        flags_10s=ten_s.flags,
        time_10min_utc=_dt_index(win.ticks[:-1]),
        coverage_10min_percent=ten.cover,
        flags_10min=ten.flags,
        u_rms_10min_v=ten.u_rms,
        under_over_10min=ten.under_over,
        thd_10min_percent=ten.thd,
        harmonics_10min_percent=ten.harmonics,
        unbalance_negative_10min_percent=ten.u2,
        unbalance_zero_10min_percent=ten.u0,
        events=EventLog(events, u_din, th, waveform.channel_names, waveform.start_utc, rec.end_utc),
        notes=_notes(waveform, c, n_cyc, u_din),
    )


def _record_of(waveform: Waveform) -> _Record:
    """The samples of ``waveform`` with their time base (UTC ns)."""
    t0 = int(waveform.start_utc.value)
    return _Record(
        waveform.samples_v,
        waveform.sample_rate_hz,
        t0,
        t0 + round(waveform.n_samples / waveform.sample_rate_hz * _NS),
        waveform.source,
    )


def _notes(waveform: Waveform, c: CycleValues, n_cyc: int, u_din: float) -> tuple[str, ...]:
    """The reader's notes, a note on windows with unsynchronised cycles, and a question
    when the measured r.m.s. is far (> 15 %) from the declared voltage."""
    notes: list[str] = list(waveform.notes)
    med = float(np.nanmedian(c.u_rms_v)) if np.isfinite(c.u_rms_v).any() else float("nan")
    if np.isfinite(med) and abs(med / u_din - 1.0) > 0.15:
        notes.append(
            f"{waveform.source}: the median {n_cyc}-cycle r.m.s. voltage {med:.4g} V is "
            f"{100.0 * (med / u_din - 1.0):+.0f} % from the declared u_din_v = {u_din:g} V: "
            "check the declared voltage (phase-to-neutral or line-to-line, primary or "
            "secondary values) before trusting the verdicts"
        )
    if not c.synchronised.all():
        notes.append(
            f"{int((~c.synchronised).sum())} of {c.synchronised.size} {n_cyc}-cycle "
            "windows contain cycles laid at the nominal period (no valid zero "
            "crossing, e.g. during an interruption)"
        )
    return tuple(notes)


# --------------------------------------------------------------------------- checks


def _check_values(c: CycleValues, waveform: Waveform, u_din: float, check_units: bool) -> None:
    """Voltages that fit U_din (if ``check_units``) and three phases in positive sequence."""
    if check_units:
        _check_scale(c.u_rms_v, u_din, waveform.source)
    if waveform.samples_v.shape[1] == 3:
        _check_phase_order(c, waveform.channel_names, waveform.source, u_din)


def _check_args(
    waveform: Waveform,
    u_din_v: float,
    f_nom: float,
    max_harmonic_order: int,
    min_coverage_percent: float,
) -> None:
    """U_din, the harmonic order, the coverage and a sample rate high enough."""
    where = waveform.source
    if not (np.isfinite(u_din_v) and u_din_v > 0):
        msg = f"{where}: u_din_v must be a positive voltage [V], got {u_din_v}"
        raise InputError(msg)
    if not (isinstance(max_harmonic_order, int) and 2 <= max_harmonic_order <= 50):
        msg = f"max_harmonic_order must be an integer in 2..50, got {max_harmonic_order!r}"
        raise InputError(msg)
    if not 0 < min_coverage_percent <= 100:
        msg = f"min_coverage_percent must be in (0, 100], got {min_coverage_percent}"
        raise InputError(msg)
    window_s = _cycles_per_window(f_nom) / f_nom
    if waveform.duration_s < window_s:
        msg = (
            f"{where}: the record holds {waveform.n_samples} samples "
            f"({waveform.duration_s:.4g} s), shorter than one "
            f"{_cycles_per_window(f_nom)}-cycle window ({window_s:g} s at {f_nom:g} Hz) that "
            "IEC 61000-4-30 values are computed over: a fault record this short has no "
            "power-quality values; use a longer record"
        )
        raise InputError(msg)
    fs, fs_min = waveform.sample_rate_hz, min_sample_rate_hz(f_nom, max_harmonic_order)
    if fs <= fs_min:
        msg = (
            f"{where}: sample rate {fs:g} Hz is too low for harmonics up to order "
            f"{max_harmonic_order} at {f_nom:g} Hz: the IEC 61000-4-7 subgroup of that "
            f"order needs DFT bins up to {fs_min / 2:g} Hz, so the sample rate must exceed "
            f"{fs_min:g} Hz. Record at >= {np.ceil(fs_min / 100) * 100:g} Hz (6.4 kHz is "
            "usual) or pass a lower max_harmonic_order (then THD is not the standard's)"
        )
        raise InputError(msg)


def _check_scale(u_rms: FloatArray, u_din_v: float, where: str) -> None:
    """10/12-cycle r.m.s. voltages that fit U_din (not kV, not line for phase)."""
    unit = infer_voltage_unit(u_rms, u_din_v)
    if unit in ("V", "unknown"):
        return
    med = float(np.median(u_rms))
    msg = (
        f"{where}: the 10/12-cycle r.m.s. voltages (median {med:g}) do not fit "
        f"u_din_v = {u_din_v:g} V (they look like {unit!r}): pass u_din_v in the same kind "
        "of voltage as the channels (phase-to-neutral or phase-to-phase, in V; on the "
        "command line --nominal-v or --nominal-line-v, with --voltage-level MV for the "
        "agreed U_c), or check_units=False"
    )
    raise InputError(msg)


def _check_phase_order(c: CycleValues, names: tuple[str, ...], where: str, u_din: float) -> None:
    """Three phases in positive-sequence order (median u2 below 50 %), judged on the
    windows where every phase is above half of U_din (a switched-off line or a fault
    leaves noise whose sequence means nothing)."""
    healthy = np.all(np.asarray(c.u_rms_v) > 0.5 * u_din, axis=1)
    u2 = np.asarray(c.unbalance_negative_percent)[healthy]
    med = float(np.nanmedian(u2)) if np.isfinite(u2).any() else 0.0
    if med > 50.0:
        msg = (
            f"{where}: the negative sequence is larger than the positive one (median "
            f"u2 = {med:.0f} %): the phases are not in the order L1, L2, L3; pass the "
            f"channels {names} in positive-sequence order"
        )
        raise InputError(msg)
