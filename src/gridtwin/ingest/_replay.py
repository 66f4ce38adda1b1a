"""Replay: a time × points frame played as live telemetry at a chosen speed.

Step ``k`` of the frame (timestamp ``ts_k``) is delivered when the wall clock reaches
``t0 + (ts_k - ts_0) / speed``: ``speed`` 900 plays 15 minutes of data per second,
``speed=inf`` as fast as the sink takes it. The schedule is absolute, so a sink that
blocks (back-pressure) delays the next steps but does not make the replay drift: it
catches up without sleeping. The values are stamped with their own timestamps, or, with
``shift_to_now``, moved so that the first step is "now" (the demo's live twin).

Frames come from a store (:func:`frame_from_store`) or from a grid's profiles
(:func:`frame_from_profiles`): the ingest package does not import the network model, so
the caller passes the profiles' frames, e.g. in the CLI::

    net, profiles = gridtwin.network.load_simbench(code)
    frame, points = frame_from_profiles(profiles.frames(), unit="kW")
    store.add_points(points)
    source = ReplaySource(frame, speed=900, shift_to_now=True)
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import MeasurementPoint
from gridtwin.store._protocol import MeasurementStore

__all__ = ["ReplaySource", "frame_from_profiles", "frame_from_store"]

_PROFILE_NAME: Final = re.compile(r"^(?P<table>[a-z_]+?)_(?P<q>p|q)_(?P<unit>mw|mvar)$")
#: Profile tables in the generator frame (their power is negated: consumer frame).
_GENERATOR_TABLES: Final = frozenset({"sgen", "gen"})


class ReplaySource:
    """A time × points frame delivered step by step on a wall-clock schedule.

    Parameters
    ----------
    frame : pandas.DataFrame
        Index: tz-aware timestamps (UTC period starts), strictly increasing; columns:
        point ids; values: the raw values (before the points' scale). NaN cells are gaps
        and are not delivered.
    speed : float
        Data time per wall time (900: 15 min of data per second); ``math.inf``: no
        waiting.
    start_at : pandas.Timestamp or datetime, optional
        Wall-clock time (tz-aware) at which the first step is delivered; default: when
        :meth:`run` starts.
    chunk_steps : int
        Steps per batch; a batch is delivered when the clock reaches its last step.
    loop : bool
        Start again after the last step, the timestamps moved on by the frame's length
        (one step more than last minus first), until ``stop`` is set.
    shift_to_now : bool
        Stamp the values so that the first step is the start of the replay (floored to
        the second), the others following at their original distances.
    name : str
        The source's name for counters.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        speed: float,
        start_at: Any = None,
        chunk_steps: int = 1,
        loop: bool = False,
        shift_to_now: bool = False,
        name: str = "replay",
    ) -> None:
        self.frame = _check_frame(frame)
        if not (isinstance(speed, int | float) and speed > 0):
            msg = f"replay: speed must be a number > 0 (900 = 15 min per second), got {speed!r}"
            raise InputError(msg)
        if int(chunk_steps) < 1:
            msg = f"replay: chunk_steps must be at least 1, got {chunk_steps!r}"
            raise InputError(msg)
        self.speed = float(speed)
        self.start_at = None if start_at is None else _utc(start_at, "start_at")
        self.chunk_steps = int(chunk_steps)
        self.loop = loop
        self.shift_to_now = shift_to_now
        self.name = name
        ts = _us(pd.DatetimeIndex(self.frame.index))
        self._ts_us = ts
        step = int(np.median(np.diff(ts))) if len(ts) > 1 else 0
        self.period_us = int(ts[-1] - ts[0]) + step
        self._points = np.asarray([str(c) for c in self.frame.columns], dtype=object)
        self._values = self.frame.to_numpy(dtype=np.float64)
        self.steps_delivered = 0

    # ------------------------------------------------------------------ schedule

    def schedule_s(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Seconds after the start at which each batch of one pass is due."""
        last = np.minimum(
            np.arange(
                self.chunk_steps - 1, len(self._ts_us) + self.chunk_steps - 1, self.chunk_steps
            ),
            len(self._ts_us) - 1,
        )
        data_s = (self._ts_us[last] - self._ts_us[0]) / 1e6
        if math.isinf(self.speed):
            return np.zeros(len(last))
        return np.asarray(data_s / self.speed, dtype=np.float64)

    def batches(self, now_utc: pd.Timestamp | None = None) -> Iterator[tuple[float, RawBatch]]:
        """(due time [s after the start], batch) in order; endless with ``loop``."""
        shift = 0
        if self.shift_to_now:
            now = (now_utc or pd.Timestamp.now(tz="UTC")).floor("s")
            shift = int(_us(pd.DatetimeIndex([now]))[0] - self._ts_us[0])
        due = self.schedule_s()
        one_pass_s = self.period_us / 1e6 / self.speed if not math.isinf(self.speed) else 0.0
        n_pass = 0
        while True:
            offset = shift + n_pass * self.period_us
            for b, lo in enumerate(range(0, len(self._ts_us), self.chunk_steps)):
                hi = min(lo + self.chunk_steps, len(self._ts_us))
                yield float(due[b] + n_pass * one_pass_s), self._batch(lo, hi, offset)
            n_pass += 1
            if not self.loop:
                return

    def _batch(self, lo: int, hi: int, offset_us: int) -> RawBatch:
        vals = self._values[lo:hi]
        rows, cols = np.nonzero(~np.isnan(vals))
        ts = self._ts_us[lo:hi][rows] + offset_us
        return RawBatch.build(
            self._points[cols], ts, vals[rows, cols], source=f"replay:{self.name}"
        )

    # ------------------------------------------------------------------ protocol

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Deliver the steps on schedule until the end (or forever with ``loop``) or
        until ``stop`` is set. ``submit`` blocking is the back-pressure."""
        clock: Callable[[], float] = time.monotonic
        t0 = clock()
        if self.start_at is not None:
            t0 += (self.start_at - pd.Timestamp.now(tz="UTC")).total_seconds()
        now_utc = self.start_at if self.start_at is not None else None
        for due_s, batch in self.batches(now_utc):
            wait = t0 + due_s - clock()
            if (wait > 0 and stop.wait(wait)) or stop.is_set():
                return
            sink.submit(batch)
            self.steps_delivered += 1


# ---------------------------------------------------------------------- frames


def _utc(value: Any, what: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tz is None:
        msg = f"replay: {what} {value!r} has no time zone; give it with an offset or 'Z'"
        raise InputError(msg)
    return ts.tz_convert("UTC")


def _us(index: pd.DatetimeIndex) -> np.ndarray[Any, np.dtype[np.int64]]:
    idx = index.tz_convert("UTC").tz_localize(None).as_unit("us")
    return np.asarray(idx.values.view(np.int64), dtype=np.int64)


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        msg = "replay: the frame must be a pandas DataFrame (time × points)"
        raise InputError(msg)
    idx = frame.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        msg = "replay: the frame's index must be tz-aware timestamps (UTC period starts)"
        raise InputError(msg)
    if len(idx) == 0 or frame.shape[1] == 0:
        msg = f"replay: the frame is empty ({frame.shape[0]} steps × {frame.shape[1]} points)"
        raise InputError(msg)
    if len(idx) > 1 and np.any(np.diff(_us(idx)) <= 0):
        bad = int(np.argmax(np.diff(_us(idx)) <= 0)) + 1
        msg = f"replay: the timestamps must be strictly increasing; check step {bad} ({idx[bad]})"
        raise InputError(msg)
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()].tolist()[:5]
        msg = f"replay: point ids {dup} appear twice among the columns"
        raise InputError(msg)
    try:
        frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"replay: the frame's values must be numbers ({exc})"
        raise InputError(msg) from exc
    out = frame.copy()
    out.index = idx.tz_convert("UTC")
    return out


def frame_from_store(
    store: MeasurementStore,
    point_ids: Sequence[str] | None,
    start: Any,
    end: Any,
    *,
    step: Any = None,
) -> pd.DataFrame:
    """What the store holds for ``start <= ts < end`` as a time × points frame.

    With ``step`` (e.g. ``"15min"``) the values are averaged per interval on that step
    (``store.resample``); without, every stored timestamp is a step (latest revision).
    The values are in the points' units: replay them into points of scale 1.
    """
    start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
    if step is not None:
        if not point_ids:
            point_ids = [p.point_id for p in store.points()]
        frame = store.resample(point_ids, start_utc, end_utc, pd.Timedelta(step), "mean")
        return frame.dropna(how="all")
    long = store.window(point_ids, start_utc, end_utc)
    if long.empty:
        what = point_ids or "any point"
        msg = f"replay: the store has no values of {what} in [{start_utc}, {end_utc})"
        raise InputError(msg)
    frame = long.pivot_table(index="ts_utc", columns="point_id", values="value", aggfunc="last")
    frame.index = pd.DatetimeIndex(frame.index)
    if frame.index.tz is None:
        frame.index = frame.index.tz_localize("UTC")
    frame.columns = [str(c) for c in frame.columns]
    return frame.sort_index()


def frame_from_profiles(
    frames: Mapping[str, pd.DataFrame],
    time_utc: pd.DatetimeIndex | None = None,
    *,
    unit: Literal["kW", "MW"] = "kW",
    source: str = "replay",
) -> tuple[pd.DataFrame, list[MeasurementPoint]]:
    """A replay frame and its points from a grid's profiles (consumer frame).

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Named like ``load_p_mw``, ``sgen_q_mvar`` (:meth:`gridtwin.network.Profiles.frames`):
        columns are element indices, values [MW] / [Mvar]; index the time axis (or give
        ``time_utc``).
    time_utc : DatetimeIndex, optional
        tz-aware period starts, if the frames are not indexed by time.
    unit : {"kW", "MW"}
        Unit of the points (kvar / Mvar for reactive power).
    source : str
        The points' ``source``.

    Returns
    -------
    frame : DataFrame
        Columns ``<table>:<index>:<p|q>`` (``load:12:p``), values in ``unit``; generator
        tables (``sgen``, ``gen``) negated into the consumer frame.
    points : list of MeasurementPoint
        Quantity ``p`` or ``q``, element ``<table>:<index>``.
    """
    factor = 1000.0 if unit == "kW" else 1.0 if unit == "MW" else None
    if factor is None:
        msg = f"replay: unit must be 'kW' or 'MW', got {unit!r}"
        raise InputError(msg)
    parts: list[pd.DataFrame] = []
    points: list[MeasurementPoint] = []
    for name, df in frames.items():
        m = _PROFILE_NAME.match(name)
        if m is None:
            msg = f"replay: profile {name!r} is not named <table>_<p|q>_<mw|mvar> (e.g. load_p_mw)"
            raise InputError(msg)
        if df.shape[1] == 0:
            continue
        table, qty = m["table"], m["q"]
        sign = -1.0 if table in _GENERATOR_TABLES else 1.0
        p_unit = unit if qty == "p" else ("kvar" if unit == "kW" else "Mvar")
        ids = [f"{table}:{int(c)}:{qty}" for c in df.columns]
        part = pd.DataFrame(df.to_numpy(dtype=np.float64) * (sign * factor), columns=ids)
        part.index = time_utc if time_utc is not None else df.index
        parts.append(part)
        for c, pid in zip(df.columns, ids, strict=True):
            points.append(
                MeasurementPoint(
                    pid,
                    qty,
                    p_unit,
                    element=f"{table}:{int(c)}",
                    source=source,
                    description=f"replayed profile {name} (consumer frame)",
                )
            )
    if not parts:
        msg = "replay: the profiles have no element columns to replay"
        raise InputError(msg)
    return _check_frame(pd.concat(parts, axis=1)), points
