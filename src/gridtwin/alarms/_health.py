"""Alarm-system health from the event log (ANSI/ISA-18.2-2016 clause 16, EEMUA 191).

Every metric takes the events (as stored; any order) and a window ``[start, end)`` in UTC.
An *alarm* here is an annunciated event (:attr:`AlarmEvent.annunciated`): an activation
the operator sees, or an alarm presented again after a shelve, suppression or time out of
service. Chattering counts every activation of the condition, annunciated or not.

Targets quoted in ISA-18.2 Table 5 (recalled; the metrics are computed, the targets only
reported): about 1 alarm per 10 minutes per operator position is very likely acceptable,
2 the maximum manageable; under 1 % of the time in flood; no stale alarms (active for more
than 24 h); no chattering alarms; the top 10 alarms under 1 % to 5 % of all alarms;
priorities of about 80 % low, 15 % medium, 5 % high.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridtwin.alarms._model import (
    ACTIVE_STATES,
    PRIORITIES,
    AlarmConfig,
    AlarmEvent,
    check_utc,
)
from gridtwin.alarms._rules import PRIORITY_TARGET_PERCENT
from gridtwin.errors import InputError

__all__ = [
    "AlarmHealth",
    "AlarmRate",
    "BadActor",
    "ChatteringAlarm",
    "FloodPeriod",
    "FloodReport",
    "PriorityDistribution",
    "StaleAlarm",
    "alarm_health",
    "alarm_rate",
    "bad_actors",
    "chattering_alarms",
    "flood_report",
    "priority_distribution",
    "stale_alarms",
]

DEFAULT_POSITION = "main"


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    s, e = check_utc(start, "start"), check_utc(end, "end")
    if e <= s:
        msg = f"the window end {e.isoformat()} must be after its start {s.isoformat()}"
        raise InputError(msg)
    return s, e


def _position(ev: AlarmEvent, positions: Mapping[str, str] | None) -> str:
    return DEFAULT_POSITION if positions is None else positions.get(ev.element, DEFAULT_POSITION)


def _positions(positions: Mapping[str, str] | None) -> list[str]:
    """Every position: those named in the mapping and the default one."""
    return sorted({DEFAULT_POSITION, *(positions or {}).values()})


def _annunciated(events: Iterable[AlarmEvent], start: datetime, end: datetime) -> list[AlarmEvent]:
    return sorted(
        (e for e in events if e.annunciated and start <= e.time_utc < end),
        key=lambda e: e.time_utc,
    )


@dataclass(frozen=True)
class AlarmRate:
    """Annunciated alarms per fixed bin for one operator position.

    Attributes
    ----------
    position : str
    bin_s : float
        Bin length [s] (600: 10 minutes); bins start at the window's start, the last one may
        be shorter.
    bin_starts_utc : tuple of datetime
    counts : tuple of int
        Alarms per bin.
    total : int
    mean_per_10min : float
        Alarms per 10 minutes over the whole window.
    max_per_bin : int
    share_bins_over_percent : float
        Share of the bins with more than the flood threshold [%] (ISA-18.2: percentage of
        10-minute periods containing more than 10 alarms).
    """

    position: str
    bin_s: float
    bin_starts_utc: tuple[datetime, ...]
    counts: tuple[int, ...]
    total: int
    mean_per_10min: float
    max_per_bin: int
    share_bins_over_percent: float


def alarm_rate(
    events: Iterable[AlarmEvent],
    start: datetime,
    end: datetime,
    *,
    positions: Mapping[str, str] | None = None,
    bin_s: float = 600.0,
    flood_threshold: int = 10,
) -> dict[str, AlarmRate]:
    """Annunciated alarms per bin (default 10 min), per operator position.

    Parameters
    ----------
    positions : mapping, optional
        ``element -> position``; elements not listed (or all, without a mapping) belong to
        position ``'main'``.
    """
    s, e = _window(start, end)
    if not bin_s > 0:
        msg = f"bin_s={bin_s!r} must be positive [s]"
        raise InputError(msg)
    step = timedelta(seconds=bin_s)
    n_bins = -(-int((e - s).total_seconds() * 1e6) // int(bin_s * 1e6))
    starts = tuple(s + k * step for k in range(n_bins))
    counts = {pos: [0] * n_bins for pos in _positions(positions)}
    for ev in _annunciated(events, s, e):
        counts[_position(ev, positions)][int((ev.time_utc - s) / step)] += 1
    span_10min = (e - s).total_seconds() / 600.0
    return {
        pos: AlarmRate(
            pos,
            bin_s,
            starts,
            tuple(c),
            sum(c),
            sum(c) / span_10min,
            max(c),
            100.0 * sum(x > flood_threshold for x in c) / n_bins,
        )
        for pos, c in sorted(counts.items())
    }


@dataclass(frozen=True)
class FloodPeriod:
    """A time the trailing-window alarm count exceeded the threshold: ``[start, end)``,
    with the highest count reached."""

    start_utc: datetime
    end_utc: datetime
    peak_count: int

    @property
    def duration_s(self) -> float:
        """Length [s]."""
        return (self.end_utc - self.start_utc).total_seconds()


@dataclass(frozen=True)
class FloodReport:
    """Flood periods of one operator position within the window.

    At each instant t the alarms annunciated in ``(t - window, t]`` are counted; the
    position is in flood while the count exceeds the threshold (ISA-18.2: more than 10
    alarms in 10 minutes). Alarms before the window's start count toward its first minutes.
    """

    position: str
    threshold: int
    window_s: float
    periods: tuple[FloodPeriod, ...]
    time_in_flood_s: float
    share_of_time_percent: float


def _count_steps(times: Sequence[datetime], window: timedelta) -> list[tuple[datetime, int]]:
    """(time, count from then on) at each change of the trailing-window count."""
    delta: Counter[datetime] = Counter()
    for t in times:
        delta[t] += 1
        delta[t + window] -= 1
    out, count = [], 0
    for t in sorted(delta):
        count += delta[t]
        out.append((t, count))
    return out


def _flood_periods(
    steps: list[tuple[datetime, int]], s: datetime, e: datetime, threshold: int
) -> list[FloodPeriod]:
    """Merge the constant-count segments within ``[s, e)`` whose count exceeds the
    threshold into periods (the peak is the highest count inside the window)."""
    periods: list[FloodPeriod] = []
    open_at: datetime | None = None
    peak = 0
    ends = [t for t, _ in steps[1:]] + [max(e, steps[-1][0])] if steps else []
    for (t0, count), t1 in zip(steps, ends, strict=True):
        a, b = max(t0, s), min(t1, e)
        if a >= b:
            continue
        if count > threshold:
            open_at, peak = (a, count) if open_at is None else (open_at, max(peak, count))
        elif open_at is not None:
            periods.append(FloodPeriod(open_at, a, peak))
            open_at = None
    if open_at is not None:
        periods.append(FloodPeriod(open_at, e, peak))
    return periods


def flood_report(
    events: Iterable[AlarmEvent],
    start: datetime,
    end: datetime,
    *,
    positions: Mapping[str, str] | None = None,
    threshold: int = 10,
    window_s: float = 600.0,
) -> dict[str, FloodReport]:
    """Flood periods and the share of time in flood, per operator position."""
    s, e = _window(start, end)
    window = timedelta(seconds=window_s)
    by_pos: dict[str, list[datetime]] = {pos: [] for pos in _positions(positions)}
    for ev in _annunciated(events, s - window, e):
        by_pos[_position(ev, positions)].append(ev.time_utc)
    span = (e - s).total_seconds()
    out = {}
    for pos, times in sorted(by_pos.items()):
        periods = _flood_periods(_count_steps(times, window), s, e, threshold)
        in_flood = sum(p.duration_s for p in periods)
        out[pos] = FloodReport(
            pos, threshold, window_s, tuple(periods), in_flood, 100.0 * in_flood / span
        )
    return out


@dataclass(frozen=True)
class StaleAlarm:
    """An alarm continuously active (unacknowledged or acknowledged) for longer than the
    threshold at the evaluation time."""

    instance_id: str
    rule_id: str
    element: str
    priority: str
    active_since_utc: datetime
    active_s: float


def stale_alarms(
    events: Iterable[AlarmEvent], at_utc: datetime, *, threshold_s: float = 86400.0
) -> list[StaleAlarm]:
    """Alarms active at ``at_utc`` for more than ``threshold_s`` (default 24 h), longest
    first. Only events up to ``at_utc`` count."""
    at = check_utc(at_utc, "at_utc")
    since: dict[str, datetime | None] = {}
    last: dict[str, AlarmEvent] = {}
    for ev in sorted((e for e in events if e.time_utc <= at), key=lambda e: e.time_utc):
        was = ev.from_state in ACTIVE_STATES
        now = ev.to_state in ACTIVE_STATES
        if now and not was:
            since[ev.instance_id] = ev.time_utc
        elif not now:
            since[ev.instance_id] = None
        last[ev.instance_id] = ev
    out = []
    for iid, t in since.items():
        if t is not None and (at - t).total_seconds() > threshold_s:
            ev = last[iid]
            out.append(
                StaleAlarm(iid, ev.rule_id, ev.element, ev.priority, t, (at - t).total_seconds())
            )
    return sorted(out, key=lambda a: (-a.active_s, a.instance_id))


@dataclass(frozen=True)
class ChatteringAlarm:
    """An alarm instance that chattered within the window.

    Attributes
    ----------
    activations : int
        Activations in the window.
    max_in_window : int
        Most activations within one chattering window (``(t - window, t]``).
    episodes : int
        Times it started chattering (reached the count from below).
    """

    instance_id: str
    rule_id: str
    element: str
    priority: str
    activations: int
    max_in_window: int
    episodes: int


def chattering_alarms(
    events: Iterable[AlarmEvent],
    start: datetime,
    end: datetime,
    *,
    config: AlarmConfig | None = None,
) -> list[ChatteringAlarm]:
    """Instances that activated at least ``config.chattering_activations`` times within
    ``config.chattering_window_s`` (ISA-18.2 definition; default 3 in 60 s), most
    activations first."""
    s, e = _window(start, end)
    cfg = config or AlarmConfig()
    window = timedelta(seconds=cfg.chattering_window_s)
    times: dict[str, list[AlarmEvent]] = {}
    for ev in events:
        if ev.kind == "activated" and s <= ev.time_utc < e:
            times.setdefault(ev.instance_id, []).append(ev)
    out = []
    for iid, evs in times.items():
        ts = sorted(x.time_utc for x in evs)
        counts, first = [], 0
        for k, t in enumerate(ts):  # activations in (t - window, t], two pointers
            while ts[first] <= t - window:
                first += 1
            counts.append(k + 1 - first)
        hits = [c >= cfg.chattering_activations for c in counts]
        episodes = sum(h and (k == 0 or not hits[k - 1]) for k, h in enumerate(hits))
        if episodes:
            ev = evs[0]
            out.append(
                ChatteringAlarm(
                    iid, ev.rule_id, ev.element, ev.priority, len(ts), max(counts), episodes
                )
            )
    return sorted(out, key=lambda a: (-a.activations, a.instance_id))


@dataclass(frozen=True)
class PriorityDistribution:
    """Annunciated alarms by priority against the ISA-18.2 / EEMUA 191 target split."""

    counts: dict[str, int]
    percent: dict[str, float]
    target_percent: dict[str, float]
    total: int


def priority_distribution(
    events: Iterable[AlarmEvent], start: datetime, end: datetime
) -> PriorityDistribution:
    """Counts and shares of annunciated alarms per priority (all four listed)."""
    s, e = _window(start, end)
    counts: Counter[str] = Counter(ev.priority for ev in _annunciated(events, s, e))
    total = sum(counts.values())
    full = {p: counts[p] for p in PRIORITIES}
    pct = {p: (100.0 * c / total if total else 0.0) for p, c in full.items()}
    return PriorityDistribution(full, pct, dict(PRIORITY_TARGET_PERCENT), total)


@dataclass(frozen=True)
class BadActor:
    """One of the most frequent alarms: its count and share of all alarms [%]."""

    instance_id: str
    rule_id: str
    element: str
    priority: str
    count: int
    share_percent: float


def bad_actors(
    events: Iterable[AlarmEvent], start: datetime, end: datetime, *, top: int = 10
) -> list[BadActor]:
    """The ``top`` most frequently annunciated alarm instances (ties by id)."""
    s, e = _window(start, end)
    ann = _annunciated(events, s, e)
    counts = Counter(ev.instance_id for ev in ann)
    first = {ev.instance_id: ev for ev in reversed(ann)}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [
        BadActor(
            iid,
            first[iid].rule_id,
            first[iid].element,
            first[iid].priority,
            n,
            100.0 * n / len(ann),
        )
        for iid, n in ranked
    ]


@dataclass(frozen=True)
class AlarmHealth:
    """Every health metric of one window (see the functions of the same names)."""

    start_utc: datetime
    end_utc: datetime
    rate: dict[str, AlarmRate]
    flood: dict[str, FloodReport]
    stale: tuple[StaleAlarm, ...]
    chattering: tuple[ChatteringAlarm, ...]
    priorities: PriorityDistribution
    bad_actors: tuple[BadActor, ...]


def alarm_health(
    events: Sequence[AlarmEvent],
    start: datetime,
    end: datetime,
    *,
    positions: Mapping[str, str] | None = None,
    config: AlarmConfig | None = None,
    flood_threshold: int = 10,
    stale_s: float = 86400.0,
) -> AlarmHealth:
    """All metrics for ``[start, end)``; stale alarms are those at ``end``."""
    s, e = _window(start, end)
    return AlarmHealth(
        s,
        e,
        alarm_rate(events, s, e, positions=positions, flood_threshold=flood_threshold),
        flood_report(events, s, e, positions=positions, threshold=flood_threshold),
        tuple(stale_alarms(events, e, threshold_s=stale_s)),
        tuple(chattering_alarms(events, s, e, config=config)),
        priority_distribution(events, s, e),
        tuple(bad_actors(events, s, e)),
    )
