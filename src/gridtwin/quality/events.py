"""Voltage dips, swells and interruptions from U_rms(1/2), and their classification.

Detection follows IEC 61000-4-30 (= GOST 30804.4.30-2013), class A:

- the input is U_rms(1/2), the r.m.s. voltage over one fundamental cycle refreshed every half
  cycle (IEC 61000-4-30 5.4.1), per channel (phase-to-neutral voltages in 4-wire systems,
  phase-to-phase voltages in 3-wire systems);
- thresholds are percentages of the declared input voltage U_din (U_nom at LV, the agreed
  supply voltage U_c at MV; GOST 32144-2013 names it U0);
- **dip** (5.4.2): starts when U_rms(1/2) of *any* channel falls below the dip threshold
  (default 90 %), ends when U_rms(1/2) of *all* channels is equal to or above the threshold plus
  the hysteresis (default 2 %, so 92 %). Residual voltage = the lowest U_rms(1/2) of any
  channel during the dip;
- **swell** (5.4.3): starts when any channel rises above the swell threshold (default 110 %),
  ends when all channels are equal to or below the threshold minus the hysteresis (108 %).
  Its magnitude is the highest U_rms(1/2) of any channel;
- **interruption** (5.5.2): starts when U_rms(1/2) of *all* channels is below the interruption
  threshold (default 5 %), ends when any channel is equal to or above the threshold plus the
  hysteresis (7 %).

Polyphase aggregation makes one equivalent event of the channels' overlapping events. An
interruption also satisfies the dip rule, so it is also reported as a dip (residual below 5 %:
the ``5 > u`` row of the dip tables); :attr:`VoltageEvent.contains_interruption` marks such
dips.

Times. Every U_rms(1/2) value is labelled by the **start** of its one-cycle window (the
gridtwin convention: an interval is labelled by its start). An event therefore starts at the
start of the first window below the threshold and ends at the start of the first window that
meets the end condition; its duration is their difference. The window in which the voltage
first drops starts no later than the drop and the first recovered window starts no earlier
than the recovery, so ``[start_utc, end_utc)`` covers the disturbance; measured durations are
within one cycle of the true duration (the IEC 61000-4-30 class A duration uncertainty: half a
cycle at each end).

Flags (IEC 61000-4-30 4.7, flagging concept): any aggregation interval that overlaps an event
is flagged (:func:`event_flags`); :func:`gridtwin.quality.evaluate` excludes flagged intervals.

Classification tables (EN 50160:2010, GOST 32144-2013) are data in
``quality/data/events/event_tables.yaml``; see :class:`EventTable` for the boundary convention.
Neither standard limits the counts; they are reported per observation week
(:func:`count_per_week`), aligned like the weekly evaluation (local Monday 00:00 by default).

IEC 61000-4-30 clause numbers are those of the 2008/2015 editions as recalled; they were not
checked against the text.

This module owns the detection and the flags; the event types live in
:mod:`gridtwin.quality._event_log`, the classification tables and weekly counts in
:mod:`gridtwin.quality._event_tables` (all public here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._event_log import (
    _KINDS,
    _REL_TOL,
    EventKind,
    EventLog,
    EventThresholds,
    VoltageEvent,
    _ts_ns,
)
from gridtwin.quality._event_tables import (
    EventCounts,
    EventTable,
    EventTableBand,
    EventTablesSpec,
    builtin_event_table_ids,
    count_per_week,
    get_event_table,
    load_event_tables,
)
from gridtwin.quality._event_tables import EventTableSpec as EventTableSpec
from gridtwin.timeseries import utc_ns

__all__ = [
    "EventCounts",
    "EventKind",
    "EventLog",
    "EventTable",
    "EventTableBand",
    "EventTablesSpec",
    "EventThresholds",
    "VoltageEvent",
    "builtin_event_table_ids",
    "count_per_week",
    "detect_events",
    "event_flags",
    "get_event_table",
    "load_event_tables",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS = 1_000_000_000


# --------------------------------------------------------------------------- detection


def _time_ns(time_utc: pd.DatetimeIndex | npt.ArrayLike, what: str) -> IntArray:
    """UTC nanoseconds of tz-aware, strictly increasing times (else an error)."""
    idx = (
        time_utc
        if isinstance(time_utc, pd.DatetimeIndex)
        else pd.DatetimeIndex(np.asarray(time_utc))
    )
    if idx.tz is None:
        msg = (
            f"{what} must be tz-aware (UTC window starts); localize it, e.g. "
            "index.tz_localize('UTC')"
        )
        raise InputError(msg)
    t_ns = utc_ns(idx)
    bad = np.flatnonzero(np.diff(t_ns) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        msg = (
            f"{what}[{i}] = {_iso(t_ns[i])} is not after {what}[{i - 1}] = "
            f"{_iso(t_ns[i - 1])}: times must be strictly increasing (non-monotonic or "
            "duplicated time); sort the record and remove duplicates"
        )
        raise DataQualityError(msg)
    return t_ns


def _iso(t_ns: int | np.int64) -> str:
    """ISO 8601 text of UTC nanoseconds, for messages."""
    return pd.Timestamp(int(t_ns), tz="UTC").isoformat()


def _hysteresis_state(enter: BoolArray, leave: BoolArray) -> BoolArray:
    """In-event state: set by ``enter``, kept until ``leave`` (vectorised latch).

    ``enter`` wins where both hold (they cannot both hold for consistent thresholds).
    """
    code = np.where(enter, 1, np.where(leave, -1, 0)).astype(np.int8)
    n = code.size
    last = np.where(code != 0, np.arange(n), -1)
    np.maximum.accumulate(last, out=last)
    state: BoolArray = np.zeros(n, dtype=bool)
    has = last >= 0
    state[has] = code[last[has]] == 1
    return state


def _runs(state: BoolArray) -> tuple[IntArray, IntArray]:
    """Start indices and end indices (exclusive) of the True runs of ``state``."""
    padded = np.concatenate(([False], state, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2].astype(np.int64), edges[1::2].astype(np.int64)


@dataclass(frozen=True)
class _EventRuns:
    """The runs of one event kind in a record and what each run holds."""

    kind: EventKind
    starts: IntArray  # first U_rms(1/2) value of each run
    ends: IntArray  # first value after each run
    extreme: FloatArray  # per run and channel: lowest (swell: highest) value [% of U_din]
    crossed: BoolArray  # per run and channel: the channel crossed the start threshold
    worst: IntArray  # per run: the channel of the extreme
    has_interruption: BoolArray  # per run: an interruption lies within it (dips only)


def _rules(
    pct: FloatArray, th: EventThresholds
) -> dict[EventKind, tuple[BoolArray, BoolArray, bool]]:
    """Per kind: start condition, end condition, whether the extreme is a minimum."""
    lo, hi = pct.min(axis=1), pct.max(axis=1)
    tol = _REL_TOL * 100.0
    h = th.hysteresis_percent
    return {
        "dip": (lo < th.dip_percent - tol, lo >= th.dip_percent + h - tol, True),
        "swell": (hi > th.swell_percent + tol, hi <= th.swell_percent - h + tol, False),
        "interruption": (
            hi < th.interruption_percent - tol,
            hi >= th.interruption_percent + h - tol,
            True,
        ),
    }


def _beyond_start(kind: EventKind, pct: FloatArray, th: EventThresholds) -> BoolArray:
    """Per value and channel: beyond the start threshold of ``kind``."""
    if kind == "dip":
        return np.asarray(pct < th.dip_percent, dtype=bool)
    if kind == "swell":
        return np.asarray(pct > th.swell_percent, dtype=bool)
    return np.asarray(pct < th.interruption_percent, dtype=bool)


def _interruption_within(starts: IntArray, ends: IntArray, intr_state: BoolArray) -> BoolArray:
    """Per run ``[start, end)``: whether an in-interruption value lies within it."""
    has_intr = np.zeros(starts.size, dtype=bool)
    intr_idx = np.flatnonzero(intr_state)
    if intr_idx.size:
        k = np.searchsorted(intr_idx, starts, side="left")
        k_ok = k < intr_idx.size
        has_intr[k_ok] = intr_idx[k[k_ok]] < ends[k_ok]
    return has_intr


def _runs_of(
    kind: EventKind,
    span: tuple[IntArray, IntArray],
    pct: FloatArray,
    is_min: bool,
    th: EventThresholds,
    intr_state: BoolArray,
) -> _EventRuns:
    """Extremes, crossing channels and interruptions of the (non-empty) runs ``span``."""
    starts, ends = span
    bounds = np.column_stack((starts, ends)).ravel()
    padded = np.vstack((pct, pct[-1:]))  # reduceat needs indices < len
    ext = (
        np.minimum.reduceat(padded, bounds, axis=0)
        if is_min
        else np.maximum.reduceat(padded, bounds, axis=0)
    )[0::2]
    below = _beyond_start(kind, pct, th)
    crossed = np.logical_or.reduceat(
        np.vstack((below, np.zeros((1, pct.shape[1]), dtype=bool))), bounds, axis=0
    )[0::2]
    worst = ext.argmin(axis=1) if is_min else ext.argmax(axis=1)
    has_intr = (
        _interruption_within(starts, ends, intr_state)
        if kind == "dip"
        else np.zeros(starts.size, dtype=bool)
    )
    return _EventRuns(kind, starts, ends, ext, crossed, worst, has_intr)


def _events_of(
    runs: _EventRuns, t_ext: IntArray, u_din_v: float, names: tuple[str, ...]
) -> list[VoltageEvent]:
    """One :class:`VoltageEvent` per run; ``t_ext`` holds the value times and the end."""
    n = t_ext.size - 1
    out: list[VoltageEvent] = []
    for i in range(runs.starts.size):
        s, e = int(runs.starts[i]), int(runs.ends[i])
        w = int(runs.worst[i])
        value_pct = float(runs.extreme[i, w])
        chans = tuple(names[c] for c in np.flatnonzero(runs.crossed[i])) or (names[w],)
        out.append(
            VoltageEvent(
                kind=runs.kind,
                start_utc=pd.Timestamp(int(t_ext[s]), tz="UTC"),
                end_utc=pd.Timestamp(int(t_ext[e]), tz="UTC"),
                duration_s=float(t_ext[e] - t_ext[s]) / _NS,
                extreme_v=value_pct * u_din_v / 100.0,
                extreme_percent=value_pct,
                worst_channel=names[w],
                channels=chans,
                complete=bool(s > 0 and e < n),
                contains_interruption=bool(runs.has_interruption[i]),
            )
        )
    return out


def _detect_ns(
    u: FloatArray,
    t_ns: IntArray,
    end_ns: int,
    u_din_v: float,
    th: EventThresholds,
    names: tuple[str, ...],
) -> tuple[VoltageEvent, ...]:
    """Events from U_rms(1/2) ``u`` (n, ch) [V] labelled by window starts ``t_ns``."""
    n = u.shape[0]
    if n == 0:
        return ()
    pct = u / u_din_v * 100.0
    rules = _rules(pct, th)
    t_ext = np.append(t_ns, end_ns)
    out: list[VoltageEvent] = []
    intr_state = _hysteresis_state(*rules["interruption"][:2])
    for kind, (enter, leave, is_min) in rules.items():
        state = intr_state if kind == "interruption" else _hysteresis_state(enter, leave)
        starts, ends = _runs(state)
        if starts.size == 0:
            continue
        runs = _runs_of(kind, (starts, ends), pct, is_min, th, intr_state)
        out += _events_of(runs, t_ext, u_din_v, names)
    order = {k: i for i, k in enumerate(_KINDS)}
    out.sort(key=lambda ev: (ev.start_utc, order[ev.kind]))
    return tuple(out)


def detect_events(
    urms_half_v: npt.ArrayLike,
    time_utc: pd.DatetimeIndex | npt.ArrayLike,
    *,
    u_din_v: float,
    thresholds: EventThresholds | None = None,
    channel_names: Sequence[str] | None = None,
    record_end_utc: pd.Timestamp | None = None,
) -> EventLog:
    """Detect dips, swells and interruptions from U_rms(1/2) (IEC 61000-4-30 5.4, 5.5).

    Parameters
    ----------
    urms_half_v : array_like, shape (T,) or (T, n_channels)
        U_rms(1/2) values [V]: one-cycle r.m.s. refreshed every half cycle, per channel.
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware start of each value's one-cycle window, strictly increasing.
    u_din_v : float
        Declared input voltage U_din [V] (U_nom at LV, the agreed U_c at MV), in the same
        kind of voltage as the channels (phase-to-neutral or phase-to-phase).
    thresholds : EventThresholds, optional
        Default: dip 90 %, swell 110 %, interruption 5 %, hysteresis 2 %.
    channel_names : sequence of str, optional
        Default ``'L1'``, ``'L2'``, ``'L3'`` (or ``'ch<i>'``).
    record_end_utc : pandas.Timestamp, optional
        End of the record, used as the end of an event still running at the last value.
        Default: the last time plus the median refresh interval (half a cycle).

    Returns
    -------
    EventLog

    Raises
    ------
    InputError
        Wrong shapes, naive times, bad thresholds or U_din.
    DataQualityError
        Non-monotonic or duplicated times, NaN, infinite or negative voltages.

    Examples
    --------
    >>> t = pd.date_range("2025-06-02", periods=8, freq="10ms", tz="UTC")
    >>> log = detect_events([230, 230, 150, 150, 230, 230, 230, 230], t, u_din_v=230.0)
    >>> [(e.kind, e.duration_s, round(e.extreme_percent, 1)) for e in log.events]
    [('dip', 0.02, 65.2)]
    """
    th = thresholds if thresholds is not None else EventThresholds()
    th = thresholds if thresholds is not None else EventThresholds()
    if not (np.isfinite(u_din_v) and u_din_v > 0):
        msg = f"detect_events: u_din_v must be a positive voltage [V], got {u_din_v}"
        raise InputError(msg)
    u = _urms_array(urms_half_v)
    t_ns = _time_ns(time_utc, "time_utc")
    _check_urms(u, t_ns)
    names = _channel_names(channel_names, u.shape[1])
    end_ns = _record_end_ns(t_ns, record_end_utc)
    events = _detect_ns(u, t_ns, end_ns, float(u_din_v), th, names)
    return EventLog(
        events=events,
        u_din_v=float(u_din_v),
        thresholds=th,
        channel_names=names,
        record_start_utc=pd.Timestamp(int(t_ns[0]), tz="UTC"),
        record_end_utc=pd.Timestamp(end_ns, tz="UTC"),
    )


def _urms_array(urms_half_v: npt.ArrayLike) -> FloatArray:
    """U_rms(1/2) values as a (T, n_channels) float array [V]."""
    u = np.asarray(urms_half_v, dtype=np.float64)
    if u.ndim == 1:
        u = u[:, np.newaxis]
    if u.ndim != 2:
        msg = f"detect_events: urms_half_v has shape {u.shape}; pass (T,) or (T, n_channels)"
        raise InputError(msg)
    return u


def _check_urms(u: FloatArray, t_ns: IntArray) -> None:
    """One time per row, a non-empty record, finite non-negative voltages."""
    if len(t_ns) != u.shape[0]:
        msg = (
            f"detect_events: urms_half_v has {u.shape[0]} rows but time_utc has "
            f"{len(t_ns)} timestamps; pass one time per row"
        )
        raise InputError(msg)
    if len(t_ns) == 0:
        msg = "detect_events: the U_rms(1/2) record is empty"
        raise InputError(msg)
    bad = ~np.isfinite(u) | (u < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        msg = (
            f"detect_events: urms_half_v[{r}, {c}] = {u[r, c]} at {_iso(t_ns[r])} is not "
            "a finite non-negative voltage; U_rms(1/2) gaps are not interpolated: split "
            "the record at the gap"
        )
        raise DataQualityError(msg)


def _record_end_ns(t_ns: IntArray, record_end_utc: pd.Timestamp | None) -> int:
    """End of the record [UTC ns]: given, or the last time plus the median step."""
    if record_end_utc is None:
        step = int(np.median(np.diff(t_ns))) if len(t_ns) > 1 else 0
        return int(t_ns[-1]) + step
    end_ns = _ts_ns(pd.Timestamp(record_end_utc))
    if end_ns <= t_ns[-1]:
        msg = (
            f"detect_events: record_end_utc {_iso(end_ns)} must be after the last "
            f"time {_iso(t_ns[-1])}"
        )
        raise InputError(msg)
    return end_ns


def _channel_names(channel_names: Sequence[str] | None, n: int) -> tuple[str, ...]:
    """Channel names: given (unique, one per channel) or L1, L2, L3 / ch<i>."""
    if channel_names is None:
        return ("L1", "L2", "L3")[:n] if n <= 3 else tuple(f"ch{i}" for i in range(n))
    names = tuple(str(c) for c in channel_names)
    if len(names) != n or len(set(names)) != n:
        msg = f"channel_names {names} must be {n} unique names, one per channel"
        raise InputError(msg)
    return names


# --------------------------------------------------------------------------- flags


def _merged_spans(events: Iterable[VoltageEvent]) -> tuple[IntArray, IntArray]:
    """Union of the events' ``[start, end)`` spans as sorted disjoint intervals [ns]."""
    spans = sorted((_ts_ns(e.start_utc), _ts_ns(e.end_utc)) for e in events)
    starts: list[int] = []
    ends: list[int] = []
    for s, e in spans:
        if starts and s <= ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _overlap_ns(
    span_starts: IntArray, span_ends: IntArray, a_ns: IntArray, b_ns: IntArray
) -> BoolArray:
    """True where ``[a, b)`` overlaps any of the sorted disjoint spans ``[s, e)``."""
    if span_starts.size == 0:
        return np.zeros(a_ns.shape, dtype=bool)
    k = np.searchsorted(span_starts, b_ns, side="left") - 1
    ok = k >= 0
    out = np.zeros(a_ns.shape, dtype=bool)
    out[ok] = span_ends[k[ok]] > a_ns[ok]
    return out


def event_flags(
    events: EventLog | Iterable[VoltageEvent],
    time_utc: pd.DatetimeIndex | npt.ArrayLike,
    step: str | pd.Timedelta,
) -> BoolArray:
    """Flags of aggregation intervals touched by an event (IEC 61000-4-30 4.7).

    Parameters
    ----------
    events : EventLog or iterable of VoltageEvent
        Dips, swells and interruptions (only these set flags).
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware interval starts (e.g. 10-min or 10-s UTC grid).
    step : str or pandas.Timedelta
        Interval length, e.g. ``'10min'``, ``'10s'``.

    Returns
    -------
    numpy.ndarray of bool, shape (T,)
        True where ``[t, t + step)`` overlaps an event's ``[start_utc, end_utc)``: pass it
        as ``flags`` to :func:`gridtwin.quality.evaluate`.

    Notes
    -----
    An event starts at the start of the first one-cycle U_rms(1/2) window that meets the
    start condition, up to one cycle before the disturbance itself; an interval ending in
    that cycle is flagged too (conservative by at most one cycle).
    """
    evs = events.events if isinstance(events, EventLog) else tuple(events)
    step_ns = int(pd.Timedelta(step).value)
    if step_ns <= 0:
        msg = f"event_flags: step must be positive, got {step!r}"
        raise InputError(msg)
    t_ns = _time_ns(time_utc, "time_utc")
    s, e = _merged_spans(evs)
    return _overlap_ns(s, e, t_ns, t_ns + step_ns)
