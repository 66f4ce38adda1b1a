"""Checks and weekly supply-voltage compliance on the live twin's state.

:func:`interval_checks` judges one interval's state: customer voltages against the
supply-voltage band of the twin's standard (the limit sets of :mod:`gridtwin.quality`:
GOST 32144-2013 4.2.2 or EN 50160:2010 4.2.2 / 5.2.2, U0 per customer bus from
:func:`gridtwin.network.checks.customer_reference`), line loading against the rating and
the 90 % warning of the network checks, transformer loading above 100 % and the
IEC 60076-7 hot spot (the network checks' 98 °C reference and the 120 °C limit of normal
cyclic loading).

:class:`WeeklyCompliance` keeps, per customer bus, the voltage of every interval of the
current and the previous local observation week (the limit set's week start, Monday
00:00, in the twin's time zone) and judges them with
:func:`gridtwin.quality.evaluate_voltage_pu`, the evaluation of the network checks and the
power-quality assessment: the verdict rule, the availability threshold and the clause
come from the limit-set data files. The twin's intervals are simulation steps of 15 min,
not the standards' 10-min aggregates; every report says so. The memory is two weeks of
``(intervals, customer buses)`` floats; the counters are rebuilt at start from the twin's
stored state history (points ``twin:bus:<i>:vm``).

Running verdict of the current week: ``insufficient data`` while fewer than
``min_intervals`` intervals are counted or fewer than the limit set's availability of
the intervals elapsed; ``violated`` when the standard's rule fails on the intervals so far
(and either ``min_intervals`` are counted or the failure is final: an interval beyond the
100 % band, or more intervals beyond the share band than the whole week allows);
``compliant so far`` otherwise. A complete week: ``compliant``, ``violated`` or
``insufficient data`` by the standard's rule over the week.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.network import NetworkModel
    from gridtwin.store import MeasurementStore
    from gridtwin.workflows.live import LiveState

__all__ = [
    "BASIS_NOTE",
    "CheckViolation",
    "ComplianceReport",
    "IntervalChecks",
    "WeeklyCompliance",
    "interval_checks",
]

#: Line loading warning ratio and transformer hot-spot reference of the network checks.
LINE_WARN_PERCENT = 90.0
HOT_SPOT_REFERENCE_C = 98.0
HOT_SPOT_LIMIT_C = 120.0
BASIS_NOTE = (
    "the twin's intervals are 15-min simulation steps (power flow or state estimation), "
    "not the IEC 61000-4-30 10-min aggregates the standards count: counts and shares are "
    "over twin intervals"
)
FIVE_PERCENT_NOTE = (
    "the +/-5 % share is information: it is not a limit of GOST 32144-2013 (it comes from "
    "the withdrawn GOST 13109-97) nor of EN 50160:2010"
)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RunningVerdict = Literal[
    "compliant so far", "compliant", "violated", "insufficient data", "no data"
]


# ---------------------------------------------------------------------- interval checks


@dataclass(frozen=True)
class CheckViolation:
    """One value beyond a limit in one interval.

    Attributes
    ----------
    element : str
        ``bus:12``, ``line:3``, ``trafo:0``.
    quantity : str
        ``vm_pu``, ``loading_percent``, ``hot_spot_c``.
    value, limit : float
    severity : {"violation", "warning"}
        ``warning``: a band the standard allows for part of the week (the share band) or
        an early-warning level.
    rule : str
        What is checked, with the standard's clause or the source of the limit.
    """

    element: str
    quantity: str
    value: float
    limit: float
    severity: Literal["violation", "warning"]
    rule: str


@dataclass(frozen=True)
class IntervalChecks:
    """The checks of one interval's state."""

    time_utc: pd.Timestamp
    standard: str
    violations: tuple[CheckViolation, ...]
    checked: dict[str, int]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Customer:
    """The customer buses and how the standard judges them."""

    bus: np.ndarray
    level: np.ndarray
    u0_pu: np.ndarray
    feeder: np.ndarray
    n_customers: np.ndarray


def _customers(model: NetworkModel, standard: str) -> _Customer:
    from gridtwin.network.checks import customer_reference

    ref = customer_reference(model, standard)
    net = model.net
    bus = ref["bus"].to_numpy(dtype=np.int64)
    load = net.load[net.load["in_service"].astype(bool)]
    counts = load.groupby("bus").size()
    feeder = (
        net.bus.loc[bus, "subnet"].astype(str).to_numpy()
        if "subnet" in net.bus.columns
        else np.full(len(bus), "grid", dtype=object)
    )
    return _Customer(
        bus=bus,
        level=ref["level"].astype(str).to_numpy(),
        u0_pu=ref["u0_pu"].to_numpy(dtype=np.float64),
        feeder=np.asarray(feeder, dtype=object),
        n_customers=counts.reindex(bus).fillna(0).to_numpy(dtype=np.int64),
    )


def _band(standard: str, level: str) -> tuple[Any, Any, str]:
    """(share limit, 100 % limit, citation) of the standard's voltage_deviation."""
    from gridtwin.quality import get_limit_set

    ind = get_limit_set(standard).indicator(level, "voltage_deviation")
    return ind.share_limit, ind.max_limit, ind.citation


def interval_checks(state: LiveState, model: NetworkModel, standard: str) -> IntervalChecks:
    """The checks of one interval (see the module docstring).

    Customer voltage beyond the band the standard allows for 100 % of the week is a
    violation; beyond the share band (e.g. EN 50160's 95 % band) a warning, since the
    standard allows it for part of the week (the week's share is in the compliance).
    """
    cust = _customers(model, standard)
    out: list[CheckViolation] = []
    vm = state.vm_pu.reindex(cust.bus).to_numpy(dtype=np.float64)
    for level in sorted(set(cust.level.tolist())):
        share, full, cite = _band(standard, level)
        rows = np.flatnonzero(cust.level == level)
        for lim, severity, what in (
            (full, "violation", "100 %"),
            (share, "warning", f"{share.share_percent:g} %" if share is not None else ""),
        ):
            if lim is None:
                continue
            for r in rows:
                v, u0 = float(vm[r]), float(cust.u0_pu[r])
                if not np.isfinite(v):
                    continue
                if lim.upper is not None and v > u0 * (1 + lim.upper / 100):
                    edge = u0 * (1 + lim.upper / 100)
                elif lim.lower is not None and v < u0 * (1 + lim.lower / 100):
                    edge = u0 * (1 + lim.lower / 100)
                else:
                    continue
                if severity == "warning" and any(c.element == f"bus:{cust.bus[r]}" for c in out):
                    continue  # already beyond the 100 % band
                out.append(
                    CheckViolation(
                        f"bus:{cust.bus[r]}",
                        "vm_pu",
                        v,
                        edge,
                        severity,  # type: ignore[arg-type]
                        f"customer voltage outside the band for {what} of the week "
                        f"({lim.band_text('percent')} of U0 = {u0:.3f} pu) [{cite}]",
                    )
                )
    for i, v in state.line_loading_percent.dropna().items():
        if v > 100.0:
            out.append(
                CheckViolation(
                    f"line:{i}",
                    "loading_percent",
                    float(v),
                    100.0,
                    "violation",
                    "line loading above the cable's rating (gridtwin.network.checks)",
                )
            )
        elif v > LINE_WARN_PERCENT:
            out.append(
                CheckViolation(
                    f"line:{i}",
                    "loading_percent",
                    float(v),
                    LINE_WARN_PERCENT,
                    "warning",
                    "line loading above 90 % of the rating (warn_ratio of the network checks)",
                )
            )
    for i, v in state.trafo_loading_percent.dropna().items():
        if v > 100.0:
            out.append(
                CheckViolation(
                    f"trafo:{i}",
                    "loading_percent",
                    float(v),
                    100.0,
                    "warning",
                    "transformer loading above the rated power (allowed by IEC 60076-7 cyclic "
                    "loading while the hot spot stays below its limit)",
                )
            )
    hot = state.trafo_hot_spot_c
    if hot is not None:
        for i, v in hot.dropna().items():
            if v > HOT_SPOT_REFERENCE_C:
                over = v > HOT_SPOT_LIMIT_C
                out.append(
                    CheckViolation(
                        f"trafo:{i}",
                        "hot_spot_c",
                        float(v),
                        HOT_SPOT_LIMIT_C if over else HOT_SPOT_REFERENCE_C,
                        "violation" if over else "warning",
                        "transformer hot spot above 120 °C, IEC 60076-7:2018 normal cyclic loading"
                        if over
                        else "transformer hot spot above 98 °C, the IEC 60076-7 reference "
                        "(relative ageing rate 1)",
                    )
                )
    checked = {
        "customer_buses": len(cust.bus),
        "lines": int(state.line_loading_percent.notna().sum()),
        "trafos": int(state.trafo_loading_percent.notna().sum()),
    }
    notes = [BASIS_NOTE]
    if hot is None and len(state.trafo_loading_percent):
        notes.append("no transformer hot spot for this interval (no thermal model)")
    return IntervalChecks(state.time_utc, standard, tuple(out), checked, tuple(notes))


# ---------------------------------------------------------------------- weekly compliance


@dataclass
class _Week:
    """The customer voltages of one observation week, interval by interval."""

    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    time_utc: pd.DatetimeIndex
    vm_pu: np.ndarray  # (T, n customers), NaN = not counted
    newest: int = -1  # position of the newest interval counted

    @property
    def intervals(self) -> int:
        """Intervals with a state."""
        return int(np.isfinite(self.vm_pu).any(axis=1).sum())


@dataclass(frozen=True)
class CustomerCompliance:
    """One customer bus in one week."""

    bus: int
    feeder: str
    voltage_level: str
    n_customers: int
    u0_pu: float
    intervals: int
    share_within_5_percent: float | None
    share_within_10_percent: float | None
    n1: int
    n2: int
    worst_vm_pu: float | None
    verdict: RunningVerdict
    rule: str


@dataclass(frozen=True)
class FeederCompliance:
    """One feeder in one week: its customer buses together."""

    feeder: str
    customer_buses: int
    customers: int
    share_within_5_percent: float | None
    share_within_10_percent: float | None
    buses_violated: int
    buses_insufficient: int
    verdict: RunningVerdict


@dataclass(frozen=True)
class ComplianceReport:
    """The compliance counters of one week.

    Attributes
    ----------
    week : {"current", "previous"}
    complete : bool
        Whether the week is over (the previous week, or a current week whose newest
        interval is its last).
    start_utc, end_utc : Timestamp or None
        The week (local Monday 00:00 in the twin's zone, in UTC, end exclusive).
    intervals : int
        Intervals with a state in the week.
    intervals_elapsed, intervals_expected : int
        Intervals from the week's start to the newest counted one, and in the whole week.
    customers, feeders : list
    rules : dict of str to str
        The standard's rule per voltage level, with the clause.
    notes : tuple of str
    """

    week: Literal["current", "previous"]
    standard: str
    timezone: str
    complete: bool
    start_utc: pd.Timestamp | None
    end_utc: pd.Timestamp | None
    intervals: int
    intervals_elapsed: int
    intervals_expected: int
    min_intervals: int
    customers: tuple[CustomerCompliance, ...]
    feeders: tuple[FeederCompliance, ...]
    rules: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class WeeklyCompliance:
    """Weekly customer-voltage compliance of a live twin (see the module docstring).

    Parameters
    ----------
    model : NetworkModel
    standard : str
        ``GOST 32144-2013`` or ``EN 50160:2010``.
    timezone : str
        IANA zone of the observation weeks.
    step : Timedelta
        The twin's interval.
    min_intervals : int
        Intervals a week needs before a running verdict other than ``insufficient data``
        (unless the failure is already final).
    """

    def __init__(
        self,
        model: NetworkModel,
        standard: str,
        timezone: str,
        step: pd.Timedelta,
        *,
        min_intervals: int = 96,
    ) -> None:
        from gridtwin.quality import get_limit_set

        if int(min_intervals) < 1:
            msg = f"compliance.min_intervals must be at least 1, got {min_intervals!r}"
            raise InputError(msg)
        self.standard = standard
        self.timezone = timezone
        self.step = pd.Timedelta(step)
        self.min_intervals = int(min_intervals)
        self.limit_set = get_limit_set(standard)
        self.week_start = self.limit_set.default_week_start
        self.customers = _customers(model, standard)
        self.current: _Week | None = None
        self.previous: _Week | None = None
        self.states_seen = 0
        self.skipped = 0
        self._lock = threading.Lock()
        self._col = {int(b): k for k, b in enumerate(self.customers.bus)}

    # ------------------------------------------------------------------ weeks

    def week_of(self, t_utc: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The observation week (UTC start, end exclusive) containing ``t_utc``."""
        weekday_name, hhmm = self.week_start.split()
        weekday = _WEEKDAYS.index(weekday_name)
        hh, mm = (int(x) for x in hhmm.split(":"))
        offset = pd.Timedelta(hours=hh, minutes=mm)
        local = t_utc.tz_convert(self.timezone).tz_localize(None)
        day = (local - offset).normalize()
        start = day - pd.Timedelta(days=(day.weekday() - weekday) % 7) + offset
        bounds = pd.DatetimeIndex([start, start + pd.Timedelta(days=7)]).tz_localize(
            self.timezone, ambiguous=np.ones(2, dtype=bool), nonexistent="shift_forward"
        )
        return bounds[0].tz_convert("UTC"), bounds[1].tz_convert("UTC")

    def _new_week(self, t_utc: pd.Timestamp) -> _Week:
        start, end = self.week_of(t_utc)
        times = pd.date_range(start, end, freq=self.step, inclusive="left", name="time_utc")
        vm = np.full((len(times), len(self.customers.bus)), np.nan)
        return _Week(start, end, times, vm)

    def _week_for(self, t_utc: pd.Timestamp) -> _Week | None:
        cur = self.current
        if cur is None:
            self.current = self._new_week(t_utc)
            return self.current
        if cur.start_utc <= t_utc < cur.end_utc:
            return cur
        if t_utc >= cur.end_utc:
            new = self._new_week(t_utc)
            self.previous = cur if new.start_utc == cur.end_utc else None
            self.current = new
            return new
        prev = self.previous
        if prev is not None and prev.start_utc <= t_utc < prev.end_utc:
            return prev
        return None

    # ------------------------------------------------------------------ counting

    def add(self, state: LiveState) -> None:
        """Count one interval's state (a revision of a counted interval replaces it;
        an interval older than the previous week is skipped)."""
        self.add_values(state.time_utc, state.vm_pu)

    def add_values(self, t_utc: pd.Timestamp, vm_pu: pd.Series) -> None:
        """Count the bus voltages ``vm_pu`` [pu] (by bus index) of the interval ``t_utc``."""
        values = vm_pu.reindex(self.customers.bus).to_numpy(dtype=np.float64)
        with self._lock:
            self.states_seen += 1
            week = self._week_for(t_utc)
            if week is None:
                self.skipped += 1
                return
            pos = int(week.time_utc.get_indexer(pd.DatetimeIndex([t_utc]))[0])
            if pos < 0:
                self.skipped += 1  # off the twin's interval grid
                return
            week.vm_pu[pos] = values
            week.newest = max(week.newest, pos)

    def rebuild(self, store: MeasurementStore) -> int:
        """Fill the current and previous week from the twin's stored state history
        (``twin:bus:<i>:vm``, the newest stored interval's week and the one before); the
        number of intervals read."""
        ids = [f"twin:bus:{b}:vm" for b in self.customers.bus]
        known = {p.point_id for p in store.points()}
        ids = [i for i in ids if i in known]
        if not ids:
            return 0
        latest = store.latest(ids)
        if latest.empty:
            return 0
        newest = pd.Timestamp(latest["ts_utc"].max())
        newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest
        start, _ = self.week_of(newest)
        prev_start, _ = self.week_of(start - self.step)
        got = store.window(ids, prev_start, newest + self.step)
        if got.empty:
            return 0
        bus = got["point_id"].str.split(":").str[2].astype(np.int64)
        wide = (
            got.assign(bus=bus.to_numpy())
            .pivot_table(index="ts_utc", columns="bus", values="value", aggfunc="last")
            .sort_index()
        )
        n = 0
        for ts, row in wide.iterrows():
            t = pd.Timestamp(str(ts))
            t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
            self.add_values(t, row)
            n += 1
        with self._lock:
            self.states_seen -= n  # rebuilt, not seen by this run
        return n

    # ------------------------------------------------------------------ report

    def report(self, week: Literal["current", "previous"] = "current") -> ComplianceReport:
        """The counters and verdicts of the current or the previous week."""
        with self._lock:
            w = self.current if week == "current" else self.previous
            snapshot = (
                None
                if w is None
                else _Week(w.start_utc, w.end_utc, w.time_utc, w.vm_pu.copy(), w.newest)
            )
        notes = (BASIS_NOTE, FIVE_PERCENT_NOTE)
        if snapshot is None or snapshot.newest < 0:
            return ComplianceReport(
                week, self.standard, self.timezone, False, None, None, 0, 0, 0,
                self.min_intervals, (), (), self._rules(), notes,
            )  # fmt: skip
        complete = week == "previous" or snapshot.newest == len(snapshot.time_utc) - 1
        customers = self._judge(snapshot, complete)
        return ComplianceReport(
            week=week,
            standard=self.standard,
            timezone=self.timezone,
            complete=complete,
            start_utc=snapshot.start_utc,
            end_utc=snapshot.end_utc,
            intervals=snapshot.intervals,
            intervals_elapsed=snapshot.newest + 1,
            intervals_expected=len(snapshot.time_utc),
            min_intervals=self.min_intervals,
            customers=customers,
            feeders=_feeder_rows(customers, snapshot, self.customers),
            rules=self._rules(),
            notes=(*notes, *self._evaluation_notes()),
        )

    def _rules(self) -> dict[str, str]:
        out = {}
        for level in sorted(set(self.customers.level.tolist())):
            ind = self.limit_set.indicator(level, "voltage_deviation")
            out[level] = f"{ind.limits_text()} of U0 over the week [{ind.citation}]"
        return out

    def _evaluation_notes(self) -> tuple[str, ...]:
        out = [
            f"observation weeks start {self.week_start} local time ({self.timezone}); "
            f"a week needs {self.limit_set.min_availability_percent:g} % of its intervals "
            f"({self.limit_set.spec.min_availability_note or 'limit set'})"
        ]
        for level in sorted(set(self.customers.level.tolist())):
            ind = self.limit_set.indicator(level, "voltage_deviation")
            out += list(ind.verification_notes())
        return tuple(dict.fromkeys(out))

    def _judge(self, w: _Week, complete: bool) -> tuple[CustomerCompliance, ...]:
        from gridtwin.quality import evaluate_voltage_pu

        cust = self.customers
        elapsed = len(w.time_utc) if complete else w.newest + 1
        vm = w.vm_pu[:elapsed]
        ls = self.limit_set
        min_av = ls.min_availability_percent * elapsed / len(w.time_utc)
        verdict = np.full(len(cust.bus), "insufficient data", dtype=object)
        rule = np.full(len(cust.bus), "", dtype=object)
        n1 = np.zeros(len(cust.bus), dtype=np.int64)
        n2 = np.zeros(len(cust.bus), dtype=np.int64)
        for level, u0 in sorted(set(zip(cust.level.tolist(), cust.u0_pu.tolist(), strict=True))):
            cols = np.flatnonzero((cust.level == level) & (cust.u0_pu == u0))
            ev = evaluate_voltage_pu(
                vm[:, cols],
                w.time_utc[:elapsed],
                self.standard,
                level,
                timezone=self.timezone,
                point_ids=[str(b) for b in cust.bus[cols]],
                step=self.step,
                u0_pu=u0,
                week_start=self.week_start,
                min_availability_percent=max(min_av, 1e-9),
                check_units=False,
            )
            weekly = ev.weekly
            n1[cols], n2[cols] = weekly.n1[0], weekly.n2[0]
            ind = ls.indicator(level, "voltage_deviation")
            counted = weekly.n_valid[0]
            for j, col in enumerate(cols.tolist()):
                verdict[col], rule[col] = self._verdict(
                    str(weekly.verdict[0, j]), str(weekly.rule[0, j]), ind, int(counted[j]),
                    int(n1[col]), int(n2[col]), len(w.time_utc), complete,
                )  # fmt: skip
        d = np.abs(vm / cust.u0_pu - 1.0)
        valid = np.isfinite(d)
        n_valid = valid.sum(axis=0)
        within5 = ((d <= 0.05) & valid).sum(axis=0)
        within10 = ((d <= 0.10) & valid).sum(axis=0)
        worst = np.where(valid, d, -np.inf).argmax(axis=0)
        out = []
        for c, bus in enumerate(cust.bus.tolist()):
            n_c = int(n_valid[c])
            out.append(
                CustomerCompliance(
                    bus=int(bus),
                    feeder=str(cust.feeder[c]),
                    voltage_level=str(cust.level[c]),
                    n_customers=int(cust.n_customers[c]),
                    u0_pu=float(cust.u0_pu[c]),
                    intervals=n_c,
                    share_within_5_percent=float(100.0 * within5[c] / n_c) if n_c else None,
                    share_within_10_percent=float(100.0 * within10[c] / n_c) if n_c else None,
                    n1=int(n1[c]),
                    n2=int(n2[c]),
                    worst_vm_pu=float(vm[worst[c], c]) if n_c else None,
                    verdict="no data" if n_c == 0 else verdict[c],
                    rule=str(rule[c]),
                )
            )
        return tuple(out)

    def _verdict(
        self,
        standard_verdict: str,
        rule: str,
        ind: Any,
        n_valid: int,
        n1: int,
        n2: int,
        n_week: int,
        complete: bool,
    ) -> tuple[RunningVerdict, str]:
        """The running (or final) verdict from the standard's verdict on the intervals so
        far."""
        beyond_max = ind.max_limit is not None and n2 > 0
        beyond_share = (
            ind.share_limit is not None
            and n1 * 10_000 > (10_000 - ind.share_limit.share_basis_points) * n_week
        )
        if standard_verdict != "fail" and (beyond_max or beyond_share):
            # final whatever the missing intervals: the standard's evaluation says
            # "insufficient data" first, but no data still to come can undo this
            what = (
                f"{n2} interval(s) beyond the 100 % limit"
                if beyond_max
                else f"{n1} interval(s) beyond the share limit, more than the week's "
                f"{n_week} intervals allow"
            )
            return "violated", f"{ind.clause} {ind.name}: {what} (final, whatever data is missing)"
        if complete:
            word: RunningVerdict = {"pass": "compliant", "fail": "violated"}.get(
                standard_verdict, "insufficient data"
            )  # type: ignore[assignment]
            return word, rule
        if standard_verdict == "fail" and (
            beyond_max or beyond_share or n_valid >= self.min_intervals
        ):
            return "violated", rule
        if n_valid < self.min_intervals:
            return "insufficient data", (
                f"insufficient data: {n_valid} of the {self.min_intervals} intervals a "
                "running verdict needs"
            )
        if standard_verdict == "insufficient data":
            return "insufficient data", rule
        return "compliant so far", rule


def _feeder_rows(
    customers: tuple[CustomerCompliance, ...], w: _Week, cust: _Customer
) -> tuple[FeederCompliance, ...]:
    out = []
    for feeder in sorted({c.feeder for c in customers}):
        rows = [c for c in customers if c.feeder == feeder]
        n = sum(c.intervals for c in rows)
        within5 = sum((c.share_within_5_percent or 0.0) * c.intervals / 100.0 for c in rows)
        within10 = sum((c.share_within_10_percent or 0.0) * c.intervals / 100.0 for c in rows)
        verdicts = [c.verdict for c in rows]
        word: RunningVerdict
        if "violated" in verdicts:
            word = "violated"
        elif all(v == "compliant" for v in verdicts):
            word = "compliant"
        elif all(v == "compliant so far" for v in verdicts):
            word = "compliant so far"
        elif all(v == "no data" for v in verdicts):
            word = "no data"
        else:
            word = "insufficient data"
        out.append(
            FeederCompliance(
                feeder=feeder,
                customer_buses=len(rows),
                customers=sum(c.n_customers for c in rows),
                share_within_5_percent=float(100.0 * within5 / n) if n else None,
                share_within_10_percent=float(100.0 * within10 / n) if n else None,
                buses_violated=sum(v == "violated" for v in verdicts),
                buses_insufficient=sum(v == "insufficient data" for v in verdicts),
                verdict=word,
            )
        )
    return tuple(out)
