"""The early warning of a running twin: the next local day, computed on demand and kept.

The history is what the twin replays: its model's profiles (times the replay's
``load_scale``), read at the same positions the live twin reads its pseudo-measurements
from (so a replay stamped with other years, or looping, forecasts in step). The store's
own measured history is not read yet.

The report of a day is computed once (the first request after the twin's newest interval
moved into a new local day), kept, and its findings become potential alarms of the twin's
alarm system (:attr:`~gridtwin.workflows.live_alarms.LiveAlarms.early`) with their lead
time counted from the newest interval.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.network import Profiles
    from gridtwin.service.twin import TwinRuntime
    from gridtwin.warning import WarningReport, WarningSpec
    from gridtwin.workflows.live import LiveTwin

__all__ = ["EarlyWarner", "history_profiles"]


def history_profiles(live: LiveTwin, start_utc: pd.Timestamp, end_utc: pd.Timestamp) -> Profiles:
    """The twin's profiles from ``start_utc`` to ``end_utc`` (exclusive), stamped with
    those times and read at the live twin's positions (wrapping around the profiles)."""
    step = live.step
    times = pd.date_range(start_utc, end_utc, freq=step, inclusive="left", name="time_utc")
    idx = live.profiles.time_utc
    first = int(idx.get_indexer(pd.DatetimeIndex([times[0]]))[0])
    if first >= 0 and first + len(times) <= len(idx):
        pos = np.arange(first, first + len(times))
    else:
        pos = np.array([live._profile_position(t) for t in times], dtype=np.int64)
    frames = {
        name: pd.DataFrame(frame.to_numpy()[pos], index=times, columns=frame.columns)
        for name, frame in live.profiles.frames().items()
    }
    return type(live.profiles)(time_utc=times, source="twin profiles (history)", **frames)


class EarlyWarner:
    """The early warning of one running twin (module docstring)."""

    def __init__(self, runtime: TwinRuntime, spec: WarningSpec) -> None:
        self.runtime = runtime
        self.spec = spec
        self.latest: WarningReport | None = None
        self.computed = 0
        self._lock = threading.Lock()

    def target_day(self, now_utc: pd.Timestamp) -> dt.date:
        """The local day after ``now_utc``'s local day (the twin's timezone)."""
        local = now_utc.tz_convert(self.spec.tz)
        return (local + pd.Timedelta(days=1)).date()

    def report(self) -> WarningReport:
        """The report for the day after the newest interval (computed once per day)."""
        from gridtwin.warning import early_warning

        state = self.runtime.latest()
        if state is None:
            msg = "the twin has no interval yet: the early warning starts after the first one"
            raise InputError(msg)
        now = pd.Timestamp(state.time_utc)
        day = self.target_day(now)
        with self._lock:
            last = self.latest
            if last is not None and last.day == day:
                return last
            live = self.runtime.live
            issue = pd.Timestamp(
                dt.datetime.combine(day - dt.timedelta(days=1), self.spec.issue_time_local)
            )
            issue = issue.tz_localize(
                self.spec.tz, nonexistent="shift_forward", ambiguous=True
            ).tz_convert("UTC")
            start = issue.floor("D") - pd.Timedelta(days=self.spec.history_days + 1)
            end = issue.floor("D") + pd.Timedelta(days=3)
            prof = history_profiles(live, start, end)
            report = early_warning(
                live.twin.model,
                day,
                self.spec,
                profiles=prof,
                options=live.twin.options,
                reference_utc=now,
            )
            self.latest = report
            self.computed += 1
            self.runtime.alarms.set_early(report.potential_alarms())
            return report
