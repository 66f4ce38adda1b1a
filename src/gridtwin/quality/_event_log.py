"""Detected voltage events and the thresholds that define them.

:class:`EventThresholds` (dip, swell and interruption thresholds with their hysteresis),
:class:`VoltageEvent` (one polyphase dip, swell or interruption) and :class:`EventLog` (the
events of one record). Detection is :func:`gridtwin.quality.events.detect_events`; the
classification tables and weekly counts are in :mod:`gridtwin.quality._event_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["EventKind", "EventLog", "EventThresholds", "VoltageEvent"]

EventKind = Literal["dip", "swell", "interruption"]
_KINDS: tuple[EventKind, ...] = ("dip", "swell", "interruption")
_REL_TOL = 1e-9  # relative tolerance at a threshold or a table edge


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


def _ts_ns(ts: pd.Timestamp) -> int:
    """UTC nanoseconds of a tz-aware timestamp."""
    return int(pd.Timestamp(ts).tz_convert("UTC").as_unit("ns").value)
