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
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import signal

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._evaluation import (
    IndicatorEvaluation,
    UnderOverDeviation,
    evaluate,
    infer_voltage_unit,
    under_over_deviation,
)
from gridtwin.quality._limits import LimitSet, VoltageLevel, get_limit_set
from gridtwin.quality.events import (
    EventLog,
    EventThresholds,
    _detect_ns,
    _merged_spans,
    _overlap_ns,
)

__all__ = [
    "AggregatedMeasurements",
    "CycleValues",
    "Waveform",
    "min_sample_rate_hz",
    "process_waveform",
    "read_comtrade",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ComplexArray = npt.NDArray[np.complex128]

_NS = 1_000_000_000
_TEN_MIN_NS = 600 * _NS
_TEN_S_NS = 10 * _NS
_SQRT2 = float(np.sqrt(2.0))
_A = complex(np.exp(2j * np.pi / 3))
_WINDOWS_PER_3S = 15
_FFT_BATCH = 256
_ZERO_CROSSING_HYSTERESIS = 0.05  # of the declared peak voltage sqrt(2) * U_din
_FREQ_RANGE = (0.85, 1.15)  # measured periods: 42.5-57.5 Hz at 50 Hz, 51-69 Hz at 60 Hz
_EDGE_CYCLES = 12  # cycles at each record end not used for the frequency (filter start-up)
_STEADY_RATIO = (0.9, 1.05)  # filtered / raw r.m.s. of a cycle whose period is measured


def _cycles_per_window(nominal_frequency_hz: float) -> int:
    if nominal_frequency_hz == 50.0:
        return 10
    if nominal_frequency_hz == 60.0:
        return 12
    msg = (
        f"nominal_frequency_hz must be 50 or 60 (IEC 61000-4-30 10/12-cycle windows), got "
        f"{nominal_frequency_hz}"
    )
    raise InputError(msg)


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
    """

    samples_v: FloatArray
    sample_rate_hz: float
    start_utc: pd.Timestamp
    channel_names: tuple[str, ...] = ()
    source: str = "<array>"
    notes: tuple[str, ...] = ()

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
        start = pd.Timestamp(start_utc)
        if start.tzinfo is None:
            msg = f"{source}: start_utc {start} must be tz-aware"
            raise InputError(msg)
        start = start + pd.Timedelta(round(float(t[0]) * _NS), "ns")
        return cls(np.asarray(samples_v, dtype=np.float64), fs, start, tuple(channel_names), source)


def _pick_channels(
    names: list[str], units: list[str], wanted: Sequence[str] | None, where: str
) -> list[int]:
    listing = ", ".join(f"{n!r} [{u}]" for n, u in zip(names, units, strict=True)) or "none"
    if wanted is None:
        volts = [i for i, u in enumerate(units) if u.strip().lower() in ("v", "kv")]
        if len(volts) in (1, 3):
            return volts
        msg = (
            f"{where}: found {len(volts)} voltage channels (unit V or kV) among the analog "
            f"channels {listing}; pass channels=('UA', 'UB', 'UC') with the 1 or 3 channel "
            "names to use"
        )
        raise InputError(msg)
    if len(wanted) not in (1, 3):
        msg = f"{where}: pass 1 or 3 channel names, got {len(wanted)}: {tuple(wanted)}"
        raise InputError(msg)
    lower = [n.strip().lower() for n in names]
    out = []
    for w in wanted:
        key = w.strip().lower()
        if key not in lower:
            msg = (
                f"{where}: channel {w!r} is missing; analog channels in the file: "
                f"{listing}. Pass channels= with names from this list"
            )
            raise InputError(msg)
        if lower.count(key) > 1:
            msg = f"{where}: channel name {w!r} occurs more than once; rename it in the CFG"
            raise InputError(msg)
        out.append(lower.index(key))
    return out


def read_comtrade(
    cfg_path: str | Path,
    *,
    channels: Sequence[str] | None = None,
    start_timezone: str = "UTC",
    values: Literal["primary", "secondary", "as_recorded"] = "primary",
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

    Returns
    -------
    Waveform
        Voltages [V] (kV channels are converted); reader warnings are in ``notes``.

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
    try:
        import comtrade  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - comtrade is a dependency
        msg = "reading COMTRADE needs the `comtrade` package: pip install comtrade==0.2.0"
        raise InputError(msg) from exc
    if not path.is_file():
        msg = f"{where}: COMTRADE file not found"
        raise InputError(msg)
    if path.suffix.lower() not in (".cfg", ".cff"):
        msg = f"{where}: expected a .cfg or .cff file, got {path.suffix!r}"
        raise InputError(msg)
    rec = comtrade.Comtrade(use_numpy_arrays=True, use_double_precision=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rec.load(str(path))
        except (
            OSError,
            ValueError,
            IndexError,
            KeyError,
            TypeError,
            UnicodeDecodeError,
            comtrade.ComtradeError,
        ) as exc:
            msg = (
                f"{where}: cannot read the COMTRADE record ({type(exc).__name__}: {exc}); "
                "check that the CFG is valid and its DAT file is next to it"
            )
            raise InputError(msg) from exc
    notes = tuple(f"{where}: comtrade reader: {w.message}" for w in caught)
    cfg: Any = rec.cfg
    rates = [(float(s), int(e)) for s, e in cfg.sample_rates]
    if len(rates) > 1:
        msg = (
            f"{where}: the record has {len(rates)} sample rates {rates}; only records with "
            "one constant sample rate are supported: resample or split it"
        )
        raise InputError(msg)
    analog: list[Any] = list(cfg.analog_channels)
    names = [str(c.name) for c in analog]
    units = [str(c.uu) for c in analog]
    idx = _pick_channels(names, units, channels, where)
    if rec.total_samples < 2:
        msg = f"{where}: the record holds {rec.total_samples} sample(s); at least 2 needed"
        raise InputError(msg)
    cols = []
    for i in idx:
        ch = analog[i]
        x = np.asarray(rec.analog[i], dtype=np.float64)
        unit = str(ch.uu).strip().lower()
        if unit == "kv":
            x = x * 1000.0
        elif unit != "v":
            msg = (
                f"{where}: channel {ch.name!r} has unit {ch.uu!r}; voltage channels in V "
                "or kV expected"
            )
            raise InputError(msg)
        pors = str(ch.pors).strip().upper() or "P"
        ratio = float(ch.primary) / float(ch.secondary) if float(ch.secondary) else 1.0
        if values == "primary" and pors == "S":
            x = x * ratio
        elif values == "secondary" and pors == "P":
            x = x / ratio
        cols.append(x)
    try:
        start = pd.Timestamp(cfg.start_timestamp).tz_localize(start_timezone)
    except (ValueError, TypeError, KeyError) as exc:
        msg = (
            f"{where}: cannot read the start timestamp {cfg.start_timestamp!r} in zone "
            f"{start_timezone!r} ({exc}); pass start_timezone= an IANA zone"
        )
        raise InputError(msg) from exc
    time_s = np.asarray(rec.time, dtype=np.float64)
    wf = Waveform.from_time_samples(
        time_s,
        np.column_stack(cols),
        start_utc=start,
        channel_names=[names[i] for i in idx],
        source=where,
    )
    return Waveform(wf.samples_v, wf.sample_rate_hz, wf.start_utc, wf.channel_names, where, notes)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CycleValues:
    """The 10/12-cycle values (IEC 61000-4-30 basic measurement interval).

    Attributes
    ----------
    start_utc, end_utc : pandas.DatetimeIndex, shape (W,)
        Window start and end (end exclusive).
    n_samples : numpy.ndarray of int, shape (W,)
        Samples in each window.
    interval : numpy.ndarray of int, shape (W,)
        Index into ``AggregatedMeasurements.time_10min_utc`` of the 10-min interval.
    synchronised : numpy.ndarray of bool, shape (W,)
        All cycles of the window were measured (not laid at the nominal period).
    flagged : numpy.ndarray of bool, shape (W,)
        The window overlaps a dip, swell or interruption.
    u_rms_v : numpy.ndarray, shape (W, n_channels)
        r.m.s. voltage [V].
    harmonics_v : numpy.ndarray, shape (W, n_channels, max_order + 1)
        Harmonic subgroup voltages G_sg,n [V r.m.s.] indexed by order n (index 0 unused, NaN).
    thd_percent : numpy.ndarray, shape (W, n_channels)
        THD of the subgroups of orders 2..max_order [% of G_sg,1].
    u1_phasor_v : numpy.ndarray of complex, shape (W, n_channels)
        Fundamental phasors (r.m.s. magnitude) [V].
    unbalance_negative_percent, unbalance_zero_percent : numpy.ndarray, shape (W,)
        u2, u0 [% of the positive sequence]; NaN for a single channel.
    """

    start_utc: pd.DatetimeIndex
    end_utc: pd.DatetimeIndex
    n_samples: IntArray
    interval: IntArray
    synchronised: BoolArray
    flagged: BoolArray
    u_rms_v: FloatArray
    harmonics_v: FloatArray
    thd_percent: FloatArray
    u1_phasor_v: ComplexArray
    unbalance_negative_percent: FloatArray
    unbalance_zero_percent: FloatArray


_FLICKER = ("pst", "plt")


@dataclass(frozen=True)
class AggregatedMeasurements:
    """IEC 61000-4-30 aggregated values of one waveform record, ready for evaluation.

    Interval times are starts (UTC). Arrays with a channel axis follow ``channel_names``.

    Attributes
    ----------
    channel_names : tuple of str
    u_din_v : float
        Declared input voltage U_din = U0 [V] used for events and δU(−), δU(+).
    nominal_frequency_hz : float
    cycles_per_window : int
        10 (50 Hz) or 12 (60 Hz).
    max_harmonic_order : int
    source : str
    record_start_utc, record_end_utc : pandas.Timestamp
    cycles : CycleValues
        The 10/12-cycle values.
    u_rms_half_start_utc : pandas.DatetimeIndex, shape (H,)
        Start of each U_rms(1/2) window.
    u_rms_half_v : numpy.ndarray, shape (H, n_channels)
        U_rms(1/2) [V].
    time_3s_utc : pandas.DatetimeIndex, shape (T3,)
        Start of each 150/180-cycle interval (not on a clock grid).
    u_rms_3s_v, thd_3s_percent : numpy.ndarray, shape (T3, n_channels)
    unbalance_negative_3s_percent, unbalance_zero_3s_percent : numpy.ndarray, shape (T3,)
    flags_3s : numpy.ndarray of bool, shape (T3,)
    time_10s_utc : pandas.DatetimeIndex, shape (T10,)
        10-s UTC intervals lying wholly inside the record.
    frequency_10s_hz : numpy.ndarray, shape (T10,)
        NaN where no whole measured cycle lies in the interval.
    flags_10s : numpy.ndarray of bool, shape (T10,)
    time_10min_utc : pandas.DatetimeIndex, shape (T,)
        10-min UTC intervals overlapping the record.
    coverage_10min_percent : numpy.ndarray, shape (T,)
        Share of each interval covered by the record [%].
    flags_10min : numpy.ndarray of bool, shape (T,)
    u_rms_10min_v : numpy.ndarray, shape (T, n_channels)
    under_over_10min : UnderOverDeviation
        δU(−), δU(+) [% of U_din], shape (T, n_channels).
    thd_10min_percent : numpy.ndarray, shape (T, n_channels)
    harmonics_10min_percent : numpy.ndarray, shape (T, n_channels, max_order + 1)
        Harmonic subgroups [% of G_sg,1] indexed by order (index 0 NaN, index 1 = 100).
    unbalance_negative_10min_percent, unbalance_zero_10min_percent : numpy.ndarray, shape (T,)
    events : EventLog
    notes : tuple of str
    """

    channel_names: tuple[str, ...]
    u_din_v: float
    nominal_frequency_hz: float
    cycles_per_window: int
    max_harmonic_order: int
    source: str
    record_start_utc: pd.Timestamp
    record_end_utc: pd.Timestamp
    cycles: CycleValues
    u_rms_half_start_utc: pd.DatetimeIndex
    u_rms_half_v: FloatArray
    time_3s_utc: pd.DatetimeIndex
    u_rms_3s_v: FloatArray
    thd_3s_percent: FloatArray
    unbalance_negative_3s_percent: FloatArray
    unbalance_zero_3s_percent: FloatArray
    flags_3s: BoolArray
    time_10s_utc: pd.DatetimeIndex
    frequency_10s_hz: FloatArray
    flags_10s: BoolArray
    time_10min_utc: pd.DatetimeIndex
    coverage_10min_percent: FloatArray
    flags_10min: BoolArray
    u_rms_10min_v: FloatArray
    under_over_10min: UnderOverDeviation
    thd_10min_percent: FloatArray
    harmonics_10min_percent: FloatArray
    unbalance_negative_10min_percent: FloatArray
    unbalance_zero_10min_percent: FloatArray
    events: EventLog
    notes: tuple[str, ...] = field(default=())

    def indicator_values(
        self,
        indicator: str,
        limit_set: LimitSet | str,
        voltage_level: VoltageLevel = "LV",
    ) -> tuple[FloatArray | UnderOverDeviation, pd.DatetimeIndex, BoolArray, tuple[str, ...]]:
        """Values, interval starts, flags and point ids of one indicator for ``evaluate``.

        Parameters
        ----------
        indicator : str
            ``'voltage_deviation'``, ``'frequency_deviation'``,
            ``'frequency_deviation_isolated'``, ``'thd'``, ``'harmonic_<n>'``,
            ``'unbalance_negative_sequence'``, ``'unbalance_zero_sequence'``.
        limit_set : LimitSet or str
            Decides whether voltage deviation is δU(−)/δU(+) (GOST 32144) or the 10-min
            r.m.s. (EN 50160).
        voltage_level : {'LV', 'MV'}

        Returns
        -------
        values, time_utc, flags, point_ids
            Channels are the points (``'<source>:<channel>'``); unbalance and frequency have
            one point (``'<source>'``).
        """
        ls = get_limit_set(limit_set) if isinstance(limit_set, str) else limit_set
        ind = ls.indicator(voltage_level, indicator)
        per_channel = tuple(f"{self.source}:{c}" for c in self.channel_names)
        one = (self.source,)
        t10, f10 = self.time_10min_utc, self.flags_10min
        if indicator in _FLICKER:
            msg = (
                f"{indicator}: flicker (IEC 61000-4-15) is not computed from waveforms; "
                "evaluate Pst/Plt values from an instrument with gridtwin.quality.evaluate"
            )
            raise InputError(msg)
        if ind.kind == "voltage_under_over_deviation":
            return self.under_over_10min, t10, f10, per_channel
        if ind.kind == "voltage_rms_deviation":
            return self.u_rms_10min_v, t10, f10, per_channel
        if ind.kind == "frequency_deviation":
            return self.frequency_10s_hz[:, np.newaxis], self.time_10s_utc, self.flags_10s, one
        if indicator == "thd":
            return self.thd_10min_percent, t10, f10, per_channel
        if indicator.startswith("harmonic_"):
            order = int(indicator.removeprefix("harmonic_"))
            if not 2 <= order <= self.max_harmonic_order:
                msg = (
                    f"{indicator}: order {order} was not measured (orders 2.."
                    f"{self.max_harmonic_order}); process with a higher max_harmonic_order"
                )
                raise InputError(msg)
            return self.harmonics_10min_percent[:, :, order], t10, f10, per_channel
        if indicator.startswith("unbalance_"):
            if len(self.channel_names) != 3:
                msg = f"{indicator} needs three phases; the record has one channel"
                raise InputError(msg)
            arr = (
                self.unbalance_negative_10min_percent
                if indicator.endswith("negative_sequence")
                else self.unbalance_zero_10min_percent
            )
            return arr[:, np.newaxis], t10, f10, one
        msg = f"{indicator}: not available from waveform processing"
        raise InputError(msg)

    def evaluate(
        self,
        indicator: str,
        limit_set: LimitSet | str,
        *,
        timezone: str,
        voltage_level: VoltageLevel = "LV",
        **kwargs: Any,
    ) -> IndicatorEvaluation:
        """Evaluate one indicator with :func:`gridtwin.quality.evaluate`.

        ``nominal_v`` defaults to ``u_din_v``; flags come from the detected events; further
        keyword arguments (``week_start``, ``min_availability_percent``, ...) are passed on.
        """
        values, t, flags, ids = self.indicator_values(indicator, limit_set, voltage_level)
        kwargs.setdefault("nominal_v", self.u_din_v)
        return evaluate(
            values,
            t,
            indicator,
            limit_set,
            timezone=timezone,
            voltage_level=voltage_level,
            flags=flags,
            point_ids=ids,
            **kwargs,
        )

    def evaluate_all(
        self,
        limit_set: LimitSet | str,
        *,
        timezone: str,
        voltage_level: VoltageLevel = "LV",
        **kwargs: Any,
    ) -> dict[str, IndicatorEvaluation]:
        """Evaluate every indicator of the limit set that the waveform provides.

        Flicker (not computed), isolated-system frequency (a different system type than the
        synchronised rule), unbalance of a single channel and harmonic orders above
        ``max_harmonic_order`` are skipped.
        """
        ls = get_limit_set(limit_set) if isinstance(limit_set, str) else limit_set
        out: dict[str, IndicatorEvaluation] = {}
        for name in ls.indicator_names(voltage_level):
            if name in _FLICKER or name == "frequency_deviation_isolated":
                continue
            if name.startswith("unbalance_") and len(self.channel_names) != 3:
                continue
            if (
                name.startswith("harmonic_")
                and int(name.removeprefix("harmonic_")) > self.max_harmonic_order
            ):
                continue
            out[name] = self.evaluate(
                name, ls, timezone=timezone, voltage_level=voltage_level, **kwargs
            )
        return out


# --------------------------------------------------------------------------- processing


def _reference(x: FloatArray) -> FloatArray:
    """Clarke α component of three phases (phase of L1, no zero sequence), or channel 1."""
    if x.shape[1] == 3:
        return np.asarray((2.0 * x[:, 0] - x[:, 1] - x[:, 2]) / 3.0, dtype=np.float64)
    return x[:, 0].copy()


def _local_period(part: FloatArray, sos: Any, period: float) -> float:
    """Median in-range period [samples] of a stretch of the reference (nominal if none)."""
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


def _cumsq(x: FloatArray) -> FloatArray:
    cs = np.empty((x.shape[0] + 1, x.shape[1]), dtype=np.float64)
    cs[0] = 0.0
    np.cumsum(x * x, axis=0, out=cs[1:])
    return cs


def _rms(cs: FloatArray, a: IntArray, b: IntArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        ms = (cs[b] - cs[a]) / (b - a)[:, np.newaxis]
    return np.asarray(np.sqrt(np.maximum(ms, 0.0)), dtype=np.float64)


@dataclass(frozen=True)
class _Spectra:
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
    cs = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    return np.asarray(cs[ends] - cs[starts] > 0, dtype=bool)


def _dt_index(t_ns: IntArray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(t_ns, dtype=np.int64).astype("datetime64[ns]")).tz_localize(
        "UTC"
    )


def _check_scale(u_rms: FloatArray, u_din_v: float, where: str) -> None:
    unit = infer_voltage_unit(u_rms, u_din_v)
    if unit in ("V", "unknown"):
        return
    med = float(np.median(u_rms))
    msg = (
        f"{where}: the 10/12-cycle r.m.s. voltages (median {med:g}) do not fit "
        f"u_din_v = {u_din_v:g} V (they look like {unit!r}): pass u_din_v in the same kind "
        "of voltage as the channels (phase-to-neutral or phase-to-phase, in V), or "
        "check_units=False"
    )
    raise InputError(msg)


@dataclass(frozen=True)
class _Record:
    """Samples and the time base of one record."""

    x: FloatArray
    fs: float
    t0_ns: int
    end_ns: int
    where: str

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def t_of(self, pos: FloatArray | IntArray) -> IntArray:
        """UTC ns of (fractional) sample positions."""
        return np.asarray(
            self.t0_ns + np.rint(np.asarray(pos, dtype=np.float64) / self.fs * _NS), dtype=np.int64
        )


@dataclass(frozen=True)
class _Sync:
    starts_f: FloatArray  # cycle starts [fractional samples]
    bnd: IntArray  # cycle starts [samples]
    synced: BoolArray  # per cycle: between two accepted zero crossings
    measured: BoolArray  # per cycle: usable for the frequency


@dataclass(frozen=True)
class _Windows:
    ticks: IntArray  # 10-min ticks [UTC ns], n_blk + 1
    m: IntArray  # windows per 10-min interval
    first: IntArray  # index of the first window of each interval
    blk: IntArray  # interval of each window
    offs: IntArray  # position of each window in its interval
    kidx: IntArray  # index of each window's first cycle
    ws: IntArray  # window start [samples]
    we: IntArray  # window end (exclusive) [samples]


def _check_args(
    waveform: Waveform,
    u_din_v: float,
    f_nom: float,
    max_harmonic_order: int,
    min_coverage_percent: float,
) -> None:
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


def _synchronise(
    rec: _Record, f_nom: float, n_cyc: int, u_din_v: float, duration_s: float
) -> _Sync:
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


def _cycle_values(
    rec: _Record,
    cs: FloatArray,
    sync: _Sync,
    win: _Windows,
    n_cyc: int,
    h_max: int,
    flagged: BoolArray,
) -> CycleValues:
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
        flagged=flagged,
        u_rms_v=_rms(cs, ws, we),
        harmonics_v=harm,
        thd_percent=thd,
        u1_phasor_v=sp.phasor_v,
        unbalance_negative_percent=u2,
        unbalance_zero_percent=u0,
    )


def _check_phase_order(c: CycleValues, names: tuple[str, ...], where: str) -> None:
    u2 = c.unbalance_negative_percent
    med = float(np.nanmedian(u2)) if np.isfinite(u2).any() else 0.0
    if med > 50.0:
        msg = (
            f"{where}: the negative sequence is larger than the positive one (median "
            f"u2 = {med:.0f} %): the phases are not in the order L1, L2, L3; pass the "
            f"channels {names} in positive-sequence order"
        )
        raise InputError(msg)


@dataclass(frozen=True)
class _TenMinute:
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
    t0 = int(waveform.start_utc.value)
    rec = _Record(
        waveform.samples_v,
        waveform.sample_rate_hz,
        t0,
        t0 + round(waveform.n_samples / waveform.sample_rate_hz * _NS),
        waveform.source,
    )
    sync = _synchronise(rec, f_nom, n_cyc, u_din, waveform.duration_s)
    cs = _cumsq(rec.x)
    urms_half, t_half = _half_cycle_rms(rec, cs, sync)
    events = _detect_ns(urms_half, t_half, rec.end_ns, u_din, th, waveform.channel_names)
    spans = _merged_spans(events)
    win = _windows(rec, sync, n_cyc)
    flagged = _overlap_ns(*spans, rec.t_of(win.ws), rec.t_of(win.we))
    c = _cycle_values(rec, cs, sync, win, n_cyc, max_harmonic_order, flagged)
    if check_units:
        _check_scale(c.u_rms_v, u_din, rec.where)
    if waveform.samples_v.shape[1] == 3:
        _check_phase_order(c, waveform.channel_names, rec.where)
    notes: list[str] = list(waveform.notes)
    if not c.synchronised.all():
        notes.append(
            f"{int((~c.synchronised).sum())} of {c.synchronised.size} {n_cyc}-cycle "
            "windows contain cycles laid at the nominal period (no valid zero "
            "crossing, e.g. during an interruption)"
        )
    # 150/180-cycle values: groups of 15 windows inside each 10-min interval (4.5.2)
    g_count = win.m // _WINDOWS_PER_3S
    g_blk = np.repeat(np.arange(g_count.size), g_count)
    g_first = np.cumsum(g_count) - g_count
    g0 = win.first[g_blk] + _WINDOWS_PER_3S * (np.arange(int(g_count.sum())) - g_first[g_blk])
    g1 = g0 + _WINDOWS_PER_3S
    ten = _ten_minute(rec, win, c, u_din, min_coverage_percent, f_nom, spans)
    t10, f10 = _ten_second_frequency(rec, sync)
    return AggregatedMeasurements(
        channel_names=waveform.channel_names,
        u_din_v=u_din,
        nominal_frequency_hz=f_nom,
        cycles_per_window=n_cyc,
        max_harmonic_order=max_harmonic_order,
        source=rec.where,
        record_start_utc=waveform.start_utc,
        record_end_utc=pd.Timestamp(rec.end_ns, tz="UTC"),
        cycles=c,
        u_rms_half_start_utc=_dt_index(t_half),
        u_rms_half_v=urms_half,
        time_3s_utc=c.start_utc[g0],
        u_rms_3s_v=_group_rms(c.u_rms_v, g0, g1),
        thd_3s_percent=_group_rms(c.thd_percent, g0, g1),
        unbalance_negative_3s_percent=_group_rms(c.unbalance_negative_percent, g0, g1),
        unbalance_zero_3s_percent=_group_rms(c.unbalance_zero_percent, g0, g1),
        flags_3s=_any_in(c.flagged, g0, g1),
        time_10s_utc=_dt_index(t10),
        frequency_10s_hz=f10,
        flags_10s=_overlap_ns(*spans, t10, t10 + _TEN_S_NS),
        time_10min_utc=_dt_index(win.ticks[:-1]),
        coverage_10min_percent=ten.cover,
        flags_10min=ten.flags,
        u_rms_10min_v=ten.u_rms,
        under_over_10min=ten.under_over,
        thd_10min_percent=ten.thd,
        harmonics_10min_percent=ten.harmonics,
        unbalance_negative_10min_percent=ten.u2,
        unbalance_zero_10min_percent=ten.u0,
        events=EventLog(
            events=events,
            u_din_v=u_din,
            thresholds=th,
            channel_names=waveform.channel_names,
            record_start_utc=waveform.start_utc,
            record_end_utc=pd.Timestamp(rec.end_ns, tz="UTC"),
        ),
        notes=tuple(notes),
    )
