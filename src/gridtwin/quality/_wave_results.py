"""Results of the waveform processing: :class:`CycleValues` (the 10/12-cycle values) and
:class:`AggregatedMeasurements` (everything IEC 61000-4-30 aggregates of one record, ready
for :func:`gridtwin.quality.evaluate`). Public through :mod:`gridtwin.quality.waveform`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._event_log import EventLog
from gridtwin.quality._limits import LimitSet, VoltageLevel, get_limit_set
from gridtwin.quality._measured import evaluate
from gridtwin.quality._under_over import UnderOverDeviation
from gridtwin.quality._verdict import IndicatorEvaluation
from gridtwin.quality._wave_record import BoolArray, ComplexArray, FloatArray, IntArray

__all__ = ["AggregatedMeasurements", "CycleValues"]


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
            return self._harmonic_10min(indicator), t10, f10, per_channel
        if indicator.startswith("unbalance_"):
            return self._unbalance_10min(indicator), t10, f10, one
        msg = f"{indicator}: not available from waveform processing"
        raise InputError(msg)

    def _harmonic_10min(self, indicator: str) -> FloatArray:
        """10-min values of ``'harmonic_<n>'`` [% of G_sg,1], shape (T, n_channels)."""
        order = int(indicator.removeprefix("harmonic_"))
        if not 2 <= order <= self.max_harmonic_order:
            msg = (
                f"{indicator}: order {order} was not measured (orders 2.."
                f"{self.max_harmonic_order}); process with a higher max_harmonic_order"
            )
            raise InputError(msg)
        return self.harmonics_10min_percent[:, :, order]

    def _unbalance_10min(self, indicator: str) -> FloatArray:
        """10-min u2 or u0 [%] of a three-phase record, shape (T, 1)."""
        if len(self.channel_names) != 3:
            msg = f"{indicator} needs three phases; the record has one channel"
            raise InputError(msg)
        arr = (
            self.unbalance_negative_10min_percent
            if indicator.endswith("negative_sequence")
            else self.unbalance_zero_10min_percent
        )
        return arr[:, np.newaxis]

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
