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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._evaluation import _check_timezone, _parse_week_start, _period_bounds
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

EventKind = Literal["dip", "swell", "interruption"]
_KINDS: tuple[EventKind, ...] = ("dip", "swell", "interruption")
_REL_TOL = 1e-9
_NS = 1_000_000_000


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class EventThresholds:
    """Event detection thresholds [% of U_din] (IEC 61000-4-30 5.4, 5.5).

    Attributes
    ----------
    dip_percent : float
        A dip starts below this U_rms(1/2) [% of U_din]; default 90 (EN 50160:2010,
        GOST 32144-2013, IEC 61000-4-30 typical value).
    swell_percent : float
        A swell starts above this [% of U_din]; default 110.
    interruption_percent : float
        An interruption starts when all channels are below this [% of U_din]; default 5
        (EN 50160 practice; the GOST value is recalled).
    hysteresis_percent : float
        Hysteresis [% of U_din], default 2: a dip ends at ``dip_percent + hysteresis``, a
        swell at ``swell_percent - hysteresis``, an interruption at
        ``interruption_percent + hysteresis``. 0 disables it (events may chatter).
    """

    dip_percent: float = 90.0
    swell_percent: float = 110.0
    interruption_percent: float = 5.0
    hysteresis_percent: float = 2.0

    def __post_init__(self) -> None:
        values = (
            self.interruption_percent,
            self.dip_percent,
            self.swell_percent,
            self.hysteresis_percent,
        )
        if not all(np.isfinite(v) for v in values):
            msg = f"EventThresholds: all thresholds must be finite numbers [%], got {self}"
            raise InputError(msg)
        if not 0 < self.interruption_percent < self.dip_percent < 100 < self.swell_percent:
            msg = (
                "EventThresholds: need 0 < interruption_percent < dip_percent < 100 < "
                f"swell_percent [% of U_din], got {self.interruption_percent:g}, "
                f"{self.dip_percent:g}, {self.swell_percent:g} (defaults 5, 90, 110)"
            )
            raise InputError(msg)
        h = self.hysteresis_percent
        if (
            not 0
            <= h
            < min(
                self.dip_percent - self.interruption_percent,
                self.swell_percent - 100,
                100 - self.dip_percent,
            )
        ):
            msg = (
                f"EventThresholds: hysteresis_percent {h:g} must be >= 0 and smaller than "
                "the gaps between the thresholds and 100 % (typical value 2)"
            )
            raise InputError(msg)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class VoltageEvent:
    """One polyphase (equivalent) dip, swell or interruption.

    Attributes
    ----------
    kind : {'dip', 'swell', 'interruption'}
    start_utc : pandas.Timestamp
        Start of the first U_rms(1/2) window meeting the start condition (UTC).
    end_utc : pandas.Timestamp
        Start of the first window meeting the end condition (UTC); the end of the record for
        an event still running there (``complete`` is False).
    duration_s : float
        ``end_utc - start_utc`` [s].
    extreme_v : float
        Residual voltage (dip, interruption: lowest U_rms(1/2) of any channel during the
        event) or maximum voltage (swell: highest U_rms(1/2) of any channel) [V].
    extreme_percent : float
        ``extreme_v`` in % of U_din — the ``u`` of the classification tables.
    worst_channel : str
        Channel where ``extreme_v`` occurred.
    channels : tuple of str
        Channels that crossed the start threshold during the event.
    complete : bool
        False if the record started or ended during the event (duration is a lower bound).
    contains_interruption : bool
        For a dip: an interruption lies within it (residual below the interruption
        threshold on all channels). False for other kinds.
    """

    kind: EventKind
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    duration_s: float
    extreme_v: float
    extreme_percent: float
    worst_channel: str
    channels: tuple[str, ...]
    complete: bool
    contains_interruption: bool = False


@dataclass(frozen=True)
class EventLog:
    """Events detected in one record, with what is needed to interpret them.

    Attributes
    ----------
    events : tuple of VoltageEvent
        Sorted by start, then kind.
    u_din_v : float
        Declared input voltage U_din (U0) [V].
    thresholds : EventThresholds
    channel_names : tuple of str
    record_start_utc, record_end_utc : pandas.Timestamp
        Span of the U_rms(1/2) record (end exclusive).
    """

    events: tuple[VoltageEvent, ...]
    u_din_v: float
    thresholds: EventThresholds
    channel_names: tuple[str, ...]
    record_start_utc: pd.Timestamp
    record_end_utc: pd.Timestamp

    def of_kind(self, kind: EventKind) -> tuple[VoltageEvent, ...]:
        """The events of one kind."""
        if kind not in _KINDS:
            msg = f"unknown event kind {kind!r}; use one of {_KINDS}"
            raise InputError(msg)
        return tuple(e for e in self.events if e.kind == kind)

    @property
    def dips(self) -> tuple[VoltageEvent, ...]:
        """Dips (including those containing an interruption)."""
        return self.of_kind("dip")

    @property
    def swells(self) -> tuple[VoltageEvent, ...]:
        """Swells."""
        return self.of_kind("swell")

    @property
    def interruptions(self) -> tuple[VoltageEvent, ...]:
        """Interruptions."""
        return self.of_kind("interruption")

    def to_frame(self) -> pd.DataFrame:
        """One row per event, columns with units in their names."""
        return pd.DataFrame(
            {
                "kind": [e.kind for e in self.events],
                "start_utc": pd.DatetimeIndex([e.start_utc for e in self.events], tz="UTC"),
                "end_utc": pd.DatetimeIndex([e.end_utc for e in self.events], tz="UTC"),
                "duration_s": [e.duration_s for e in self.events],
                "extreme_v": [e.extreme_v for e in self.events],
                "extreme_percent": [e.extreme_percent for e in self.events],
                "worst_channel": [e.worst_channel for e in self.events],
                "channels": [",".join(e.channels) for e in self.events],
                "complete": [e.complete for e in self.events],
                "contains_interruption": [e.contains_interruption for e in self.events],
            }
        )


def _time_ns(time_utc: pd.DatetimeIndex | npt.ArrayLike, what: str) -> IntArray:
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


def _ts_ns(ts: pd.Timestamp) -> int:
    """UTC nanoseconds of a tz-aware timestamp."""
    return int(pd.Timestamp(ts).tz_convert("UTC").as_unit("ns").value)


def _iso(t_ns: int | np.int64) -> str:
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
    lo, hi = pct.min(axis=1), pct.max(axis=1)
    tol = _REL_TOL * 100.0
    h = th.hysteresis_percent
    rules: dict[EventKind, tuple[BoolArray, BoolArray, FloatArray, bool]] = {
        # kind: (enter, leave, aggregated signal, extreme is a minimum)
        "dip": (lo < th.dip_percent - tol, lo >= th.dip_percent + h - tol, lo, True),
        "swell": (hi > th.swell_percent + tol, hi <= th.swell_percent - h + tol, hi, False),
        "interruption": (
            hi < th.interruption_percent - tol,
            hi >= th.interruption_percent + h - tol,
            hi,
            True,
        ),
    }
    t_ext = np.append(t_ns, end_ns)
    out: list[VoltageEvent] = []
    intr_state = _hysteresis_state(*rules["interruption"][:2])
    for kind, (enter, leave, _sig, is_min) in rules.items():
        state = intr_state if kind == "interruption" else _hysteresis_state(enter, leave)
        starts, ends = _runs(state)
        if starts.size == 0:
            continue
        bounds = np.column_stack((starts, ends)).ravel()
        padded = np.vstack((pct, pct[-1:]))  # reduceat needs indices < len
        ext = (
            np.minimum.reduceat(padded, bounds, axis=0)
            if is_min
            else np.maximum.reduceat(padded, bounds, axis=0)
        )[0::2]
        below = {
            "dip": pct < th.dip_percent,
            "swell": pct > th.swell_percent,
            "interruption": pct < th.interruption_percent,
        }[kind]
        crossed = np.logical_or.reduceat(
            np.vstack((below, np.zeros((1, pct.shape[1]), dtype=bool))), bounds, axis=0
        )[0::2]
        worst = ext.argmin(axis=1) if is_min else ext.argmax(axis=1)
        has_intr = np.zeros(starts.size, dtype=bool)
        if kind == "dip":
            intr_idx = np.flatnonzero(intr_state)
            if intr_idx.size:
                k = np.searchsorted(intr_idx, starts, side="left")
                k_ok = k < intr_idx.size
                has_intr[k_ok] = intr_idx[k[k_ok]] < ends[k_ok]
        for i in range(starts.size):
            s, e = int(starts[i]), int(ends[i])
            w = int(worst[i])
            value_pct = float(ext[i, w])
            chans = tuple(names[c] for c in np.flatnonzero(crossed[i])) or (names[w],)
            out.append(
                VoltageEvent(
                    kind=kind,
                    start_utc=pd.Timestamp(int(t_ext[s]), tz="UTC"),
                    end_utc=pd.Timestamp(int(t_ext[e]), tz="UTC"),
                    duration_s=float(t_ext[e] - t_ext[s]) / _NS,
                    extreme_v=value_pct * u_din_v / 100.0,
                    extreme_percent=value_pct,
                    worst_channel=names[w],
                    channels=chans,
                    complete=bool(s > 0 and e < n),
                    contains_interruption=bool(has_intr[i]),
                )
            )
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
    if not (np.isfinite(u_din_v) and u_din_v > 0):
        msg = f"detect_events: u_din_v must be a positive voltage [V], got {u_din_v}"
        raise InputError(msg)
    u = np.asarray(urms_half_v, dtype=np.float64)
    if u.ndim == 1:
        u = u[:, np.newaxis]
    if u.ndim != 2:
        msg = f"detect_events: urms_half_v has shape {u.shape}; pass (T,) or (T, n_channels)"
        raise InputError(msg)
    t_ns = _time_ns(time_utc, "time_utc")
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
    names = _channel_names(channel_names, u.shape[1])
    if record_end_utc is None:
        step = int(np.median(np.diff(t_ns))) if len(t_ns) > 1 else 0
        end_ns = int(t_ns[-1]) + step
    else:
        end_ns = _ts_ns(pd.Timestamp(record_end_utc))
        if end_ns <= t_ns[-1]:
            msg = (
                f"detect_events: record_end_utc {_iso(end_ns)} must be after the last "
                f"time {_iso(t_ns[-1])}"
            )
            raise InputError(msg)
    events = _detect_ns(u, t_ns, end_ns, float(u_din_v), th, names)
    return EventLog(
        events=events,
        u_din_v=float(u_din_v),
        thresholds=th,
        channel_names=names,
        record_start_utc=pd.Timestamp(int(t_ns[0]), tz="UTC"),
        record_end_utc=pd.Timestamp(end_ns, tz="UTC"),
    )


def _channel_names(channel_names: Sequence[str] | None, n: int) -> tuple[str, ...]:
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


# --------------------------------------------------------------------------- tables


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTableBand(_Strict):
    """A row (voltage band, % of U_din) or column (duration band, s) of a table.

    ``lower .. upper`` with explicit inclusivity; ``upper: null`` is unbounded. A value within
    a relative 1e-9 of an edge counts as on the edge, so round-off never picks the cell.
    """

    label: str = Field(min_length=1)
    lower: float = Field(ge=0)
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool

    @model_validator(mode="after")
    def _check(self) -> EventTableBand:
        if self.upper is not None and self.upper <= self.lower:
            msg = f"band {self.label!r}: upper {self.upper} must be above lower {self.lower}"
            raise ValueError(msg)
        if self.upper is None and self.upper_inclusive:
            msg = f"band {self.label!r}: an unbounded band (upper: null) cannot include it"
            raise ValueError(msg)
        return self

    def contains(self, x: FloatArray) -> BoolArray:
        """Whether each value lies in the band."""
        t_lo = _REL_TOL * max(1.0, abs(self.lower))
        above = x >= self.lower - t_lo if self.lower_inclusive else x > self.lower + t_lo
        if self.upper is None:
            return np.asarray(above, dtype=bool)
        t_hi = _REL_TOL * max(1.0, abs(self.upper))
        below = x <= self.upper + t_hi if self.upper_inclusive else x < self.upper - t_hi
        return np.asarray(above & below, dtype=bool)


def _check_disjoint(bands: list[EventTableBand], what: str) -> None:
    ordered = sorted(bands, key=lambda b: b.lower)
    for a, b in pairwise(ordered):
        if (
            a.upper is None
            or a.upper > b.lower
            or (a.upper == b.lower and a.upper_inclusive and b.lower_inclusive)
        ):
            msg = f"{what}: bands {a.label!r} and {b.label!r} overlap"
            raise ValueError(msg)


class EventTableSpec(_Strict):
    """Schema of one classification table."""

    id: str = Field(min_length=1)
    standard: str = Field(min_length=1)
    event: EventKind
    clause: str = Field(min_length=1)
    clause_verification: Literal["corpus", "memory"] = "memory"
    source: str = Field(min_length=1)
    verification: Literal["corpus", "memory"]
    verification_note: str = ""
    row_quantity: str = Field(min_length=1)
    column_quantity: str = Field(min_length=1)
    rows: list[EventTableBand] = Field(min_length=1)
    columns: list[EventTableBand] = Field(min_length=1)
    cells: list[list[str]] | None = None

    @model_validator(mode="after")
    def _check(self) -> EventTableSpec:
        _check_disjoint(self.rows, "rows")
        _check_disjoint(self.columns, "columns")
        if self.cells is not None and (
            len(self.cells) != len(self.rows)
            or any(len(r) != len(self.columns) for r in self.cells)
        ):
            msg = (
                f"cells must be {len(self.rows)} rows of {len(self.columns)} labels, one "
                "per row and column"
            )
            raise ValueError(msg)
        return self


class EventTablesSpec(_Strict):
    """Schema of an event-table file: ``schema_version: 1`` and a list of ``tables``."""

    schema_version: Literal[1]
    tables: list[EventTableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> EventTablesSpec:
        ids = [t.id for t in self.tables]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            msg = f"table ids must be unique; repeated: {dup}"
            raise ValueError(msg)
        return self


@dataclass(frozen=True)
class EventTable:
    """A residual-voltage (or swell-voltage) × duration classification table.

    Boundary convention (EN 50160:2010 tables as printed, e.g. ``90 > u >= 80`` and
    ``0.2 < t <= 0.5``; GOST 32144-2013 as recalled): a voltage row includes its lower edge,
    a duration column its upper edge; the first EN 50160 column also includes 10 ms. So a
    dip with u = 80 % lies in ``90 > u >= 80``, one of 200 ms in ``0.01 <= t <= 0.2``, one of
    60 s in ``5 < t <= 60``; a dip longer than 60 s lies outside the table.

    Attributes
    ----------
    spec : EventTableSpec
        The validated table (rows, columns, cell labels, clause, source, verification).
    path : str
        The file it came from.
    """

    spec: EventTableSpec
    path: str

    @property
    def id(self) -> str:
        """Table id, e.g. ``'EN 50160:2010 dips'``."""
        return self.spec.id

    @property
    def event(self) -> EventKind:
        """Event kind the table classifies."""
        return self.spec.event

    @property
    def row_labels(self) -> tuple[str, ...]:
        """Row labels (voltage bands)."""
        return tuple(r.label for r in self.spec.rows)

    @property
    def column_labels(self) -> tuple[str, ...]:
        """Column labels (duration bands)."""
        return tuple(c.label for c in self.spec.columns)

    def cell_label(self, row: int, column: int) -> str:
        """Label of a cell (e.g. ``'B1'``), or ``'<row> | <column>'`` if the table has none."""
        if self.spec.cells is not None:
            return self.spec.cells[row][column]
        return f"{self.row_labels[row]} | {self.column_labels[column]}"

    def notes(self) -> tuple[str, ...]:
        """Verification notes to print with every count that uses the table."""
        out = []
        if self.spec.verification == "memory":
            out.append(
                f"{self.id}: table edges not verified against the official text "
                f"(verification: memory). {self.spec.verification_note}".strip()
            )
        if self.spec.clause_verification == "memory":
            out.append(
                f"{self.id}: clause {self.spec.clause!r} not verified against the official text"
            )
        return tuple(out)

    def locate(
        self, value_percent: npt.ArrayLike, duration_s: npt.ArrayLike
    ) -> tuple[IntArray, IntArray]:
        """Row and column index of each (voltage, duration); -1 where outside the table.

        Parameters
        ----------
        value_percent : array_like
            Residual voltage (dips, interruptions) or maximum voltage (swells) [% of U_din].
        duration_s : array_like
            Event durations [s].
        """
        u = np.atleast_1d(np.asarray(value_percent, dtype=np.float64))
        d = np.atleast_1d(np.asarray(duration_s, dtype=np.float64))
        if u.shape != d.shape:
            msg = (
                f"{self.id}: value_percent {u.shape} and duration_s {d.shape} must have "
                "the same shape"
            )
            raise InputError(msg)
        row = np.full(u.shape, -1, dtype=np.int64)
        col = np.full(d.shape, -1, dtype=np.int64)
        for i, band in enumerate(self.spec.rows):
            row[band.contains(u)] = i
        for j, band in enumerate(self.spec.columns):
            col[band.contains(d)] = j
        outside = (row < 0) | (col < 0)
        row[outside] = -1
        col[outside] = -1
        return row, col

    def cell_of(self, event: VoltageEvent) -> str | None:
        """Cell label of one event, or None if it lies outside the table."""
        if event.kind != self.event:
            msg = f"{self.id} classifies {self.event}s, not a {event.kind}"
            raise InputError(msg)
        r, c = self.locate([event.extreme_percent], [event.duration_s])
        return None if r[0] < 0 else self.cell_label(int(r[0]), int(c[0]))


def _tables_from_file(path: Path) -> dict[str, EventTable]:
    data = read_data_file(path, InputError)
    try:
        spec = EventTablesSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_message(str(path), exc)) from exc
    return {t.id: EventTable(t, str(path)) for t in spec.tables}


def load_event_tables(path: str | Path) -> dict[str, EventTable]:
    """Load classification tables from a YAML/TOML file (schema :class:`EventTablesSpec`).

    Raises
    ------
    InputError
        If the file cannot be read or does not validate (file and field named).
    """
    return _tables_from_file(Path(path))


@cache
def _builtin() -> dict[str, EventTable]:
    root = resources.files("gridtwin.quality") / "data" / "events" / "event_tables.yaml"
    return _tables_from_file(Path(str(root)))


def builtin_event_table_ids() -> tuple[str, ...]:
    """Ids of the built-in tables, e.g. ``'EN 50160:2010 dips'``."""
    return tuple(sorted(_builtin()))


def get_event_table(standard: str, event: EventKind) -> EventTable:
    """Return a built-in classification table.

    Parameters
    ----------
    standard : str
        ``'EN 50160:2010'`` or ``'GOST 32144-2013'``.
    event : {'dip', 'swell', 'interruption'}
    """
    for table in _builtin().values():
        if table.spec.standard == standard and table.event == event:
            return table
    have = sorted({(t.spec.standard, t.event) for t in _builtin().values()})
    msg = (
        f"no built-in {event} table for {standard!r}; built-in (standard, event): {have}. "
        "Load your own with load_event_tables(path)."
    )
    raise InputError(msg)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class EventCounts:
    """Events per cell of a classification table, per observation week.

    Attributes
    ----------
    table : EventTable
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Local observation weeks in UTC, end exclusive. An event belongs to the week in which
        it starts.
    counts : numpy.ndarray of int, shape (K, n_rows, n_columns)
    n_outside : numpy.ndarray of int, shape (K,)
        Events of the table's kind outside every cell (e.g. longer than 60 s).
    n_incomplete : numpy.ndarray of int, shape (K,)
        Counted events cut by the start or end of the record (duration is a lower bound).
    notes : tuple of str
    """

    table: EventTable
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    counts: IntArray
    n_outside: IntArray
    n_incomplete: IntArray
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per (week, row, column) with the cell label and the count."""
        k, nr, nc = self.counts.shape
        rows = np.tile(np.repeat(np.arange(nr), nc), k)
        cols = np.tile(np.arange(nc), k * nr)
        return pd.DataFrame(
            {
                "table": self.table.id,
                "period_start_utc": self.period_start_utc.repeat(nr * nc),
                "period_end_utc": self.period_end_utc.repeat(nr * nc),
                "row": [self.table.row_labels[r] for r in rows],
                "column": [self.table.column_labels[c] for c in cols],
                "cell": [
                    self.table.cell_label(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
                ],
                "count": self.counts.ravel(),
            }
        )


def count_per_week(
    log: EventLog, table: EventTable, *, timezone: str, week_start: str | pd.Timestamp = "mon 00:00"
) -> EventCounts:
    """Count the events of a record per table cell and observation week.

    Parameters
    ----------
    log : EventLog
    table : EventTable
        E.g. ``get_event_table('GOST 32144-2013', 'dip')``.
    timezone : str
        IANA zone in which weeks are aligned (as in :func:`gridtwin.quality.evaluate`).
    week_start : str or pandas.Timestamp
        ``'mon 00:00'``-style local start of a week (project default; the standards fix no
        weekday).

    Returns
    -------
    EventCounts
        Weeks spanning the record (``log.record_start_utc`` .. ``log.record_end_utc``).
    """
    _check_timezone(timezone)
    wd, minute = _parse_week_start(week_start, timezone)
    t0 = _ts_ns(log.record_start_utc)
    t1 = _ts_ns(log.record_end_utc) - 1
    bounds = _period_bounds(t0, max(t0, t1), "week", timezone, wd, minute)
    evs = log.of_kind(table.event)
    k = len(bounds) - 1
    nr, nc = len(table.row_labels), len(table.column_labels)
    counts = np.zeros((k, nr, nc), dtype=np.int64)
    outside = np.zeros(k, dtype=np.int64)
    incomplete = np.zeros(k, dtype=np.int64)
    if evs:
        starts = np.array([_ts_ns(e.start_utc) for e in evs], dtype=np.int64)
        week = np.searchsorted(bounds, starts, side="right") - 1
        r, c = table.locate([e.extreme_percent for e in evs], [e.duration_s for e in evs])
        inside = r >= 0
        np.add.at(counts, (week[inside], r[inside], c[inside]), 1)
        np.add.at(outside, week[~inside], 1)
        inc = np.array([not e.complete for e in evs], dtype=bool) & inside
        np.add.at(incomplete, week[inc], 1)
    th = log.thresholds
    notes = (
        *table.notes(),
        f"observation weeks start {week_start} local time ({timezone}); an event "
        "belongs to the week in which it starts",
        f"thresholds [% of U_din]: dip {th.dip_percent:g}, swell {th.swell_percent:g}, "
        f"interruption {th.interruption_percent:g}, hysteresis {th.hysteresis_percent:g}",
    )
    return EventCounts(
        table=table,
        period_start_utc=pd.DatetimeIndex(bounds[:-1].astype("datetime64[ns]")).tz_localize("UTC"),
        period_end_utc=pd.DatetimeIndex(bounds[1:].astype("datetime64[ns]")).tz_localize("UTC"),
        counts=counts,
        n_outside=outside,
        n_incomplete=incomplete,
        notes=notes,
    )
