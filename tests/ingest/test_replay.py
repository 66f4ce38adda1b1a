"""Replay of a time × points frame as live telemetry: schedule, stamps, loop, stop."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline, RawBatch
from gridtwin.ingest._replay import ReplaySource, frame_from_profiles, frame_from_store
from gridtwin.store import MeasurementPoint, open_store

T0 = pd.Timestamp("2026-01-05T00:00:00Z")


def frame(steps: int = 4, freq: str = "15min") -> pd.DataFrame:
    idx = pd.date_range(T0, periods=steps, freq=freq)
    data = {"load:1:p": np.arange(steps, dtype=float), "load:2:p": -np.arange(steps, dtype=float)}
    out = pd.DataFrame(data, index=idx)
    out.iloc[1, 1] = np.nan  # a gap: not delivered
    return out


class ListSink:
    def __init__(self, stop_after: int | None = None, stop: threading.Event | None = None):
        self.batches: list[RawBatch] = []
        self.times: list[float] = []
        self.stop_after = stop_after
        self.stop = stop

    def submit(self, batch: RawBatch, on_durable: Any = None, timeout_s: Any = None) -> None:
        self.batches.append(batch)
        self.times.append(time.monotonic())
        if self.stop is not None and len(self.batches) == self.stop_after:
            self.stop.set()


def test_infinite_speed_delivers_every_step_in_order_with_original_stamps() -> None:
    sink = ListSink()
    ReplaySource(frame(), speed=math.inf).run(sink, threading.Event())
    assert [len(b) for b in sink.batches] == [2, 1, 2, 2]
    first = sink.batches[0]
    assert first.point_id.tolist() == ["load:1:p", "load:2:p"]
    assert [pd.Timestamp(b.ts_utc[0], tz="UTC") for b in sink.batches] == list(frame().index)
    assert sink.batches[3].raw_value.tolist() == [3.0, -3.0]
    assert first.source == "replay:replay"


def test_schedule_is_data_time_over_speed() -> None:
    src = ReplaySource(frame(5), speed=900)  # 15 min per second
    np.testing.assert_allclose(src.schedule_s(), [0.0, 1.0, 2.0, 3.0, 4.0])
    chunked = ReplaySource(frame(5), speed=900, chunk_steps=2)  # due at the last step
    np.testing.assert_allclose(chunked.schedule_s(), [1.0, 3.0, 4.0])
    assert [len(b) for _, b in chunked.batches()] == [3, 4, 2]
    np.testing.assert_array_equal(ReplaySource(frame(), speed=math.inf).schedule_s(), 0.0)


def test_finite_speed_paces_the_steps_loosely() -> None:
    """4 steps of 1 minute at speed 600 = 0.1 s apart: at least ~0.3 s in all."""
    sink = ListSink()
    start = time.monotonic()
    ReplaySource(frame(4, "1min"), speed=600).run(sink, threading.Event())
    gaps = np.diff([start, *sink.times])
    assert len(sink.batches) == 4
    assert sink.times[-1] - start >= 0.25
    assert sink.times[-1] - start < 10.0  # generous: a busy machine
    assert all(g >= 0.05 for g in gaps[1:])


def test_start_at_delays_the_first_step() -> None:
    sink = ListSink()
    begin = time.monotonic()
    at = pd.Timestamp.now(tz="UTC") + pd.Timedelta("300ms")
    ReplaySource(frame(2), speed=math.inf, start_at=at).run(sink, threading.Event())
    assert sink.times[0] - begin >= 0.2
    with pytest.raises(InputError, match="no time zone"):
        ReplaySource(frame(2), speed=1, start_at="2026-01-01 00:00")


def test_shift_to_now_stamps_the_first_step_now() -> None:
    src = ReplaySource(frame(), speed=math.inf, shift_to_now=True)
    now = pd.Timestamp("2030-06-01T12:34:56.789Z")
    stamps = [pd.Timestamp(b.ts_utc[0], tz="UTC") for _, b in src.batches(now)]
    assert stamps[0] == pd.Timestamp("2030-06-01T12:34:56Z")
    assert np.diff(pd.DatetimeIndex(stamps).asi8).tolist() == [15 * 60 * 10**9] * 3


def test_loop_moves_on_by_the_frame_length_until_stop() -> None:
    stop = threading.Event()
    sink = ListSink(stop_after=10, stop=stop)
    ReplaySource(frame(), speed=math.inf, loop=True).run(sink, stop)
    assert len(sink.batches) == 10
    stamps = [pd.Timestamp(b.ts_utc[0], tz="UTC") for b in sink.batches]
    assert stamps == list(pd.date_range(T0, periods=10, freq="15min"))  # no repeated keys


def test_stop_ends_a_waiting_replay_promptly() -> None:
    stop = threading.Event()
    sink = ListSink(stop_after=1, stop=stop)
    begin = time.monotonic()
    ReplaySource(frame(), speed=1.0).run(sink, stop)  # next step due in 15 minutes
    assert len(sink.batches) == 1
    assert time.monotonic() - begin < 5.0


def test_bad_frames_and_options() -> None:
    good = frame()
    with pytest.raises(InputError, match="speed must be a number > 0"):
        ReplaySource(good, speed=0)
    with pytest.raises(InputError, match="chunk_steps"):
        ReplaySource(good, speed=1, chunk_steps=0)
    with pytest.raises(InputError, match="tz-aware"):
        ReplaySource(good.tz_localize(None), speed=1)
    with pytest.raises(InputError, match="strictly increasing; check step 2"):
        ReplaySource(good.iloc[[0, 2, 1, 3]], speed=1)
    dup = good.copy()
    dup.columns = ["a", "a"]
    with pytest.raises(InputError, match="appear twice"):
        ReplaySource(dup, speed=1)
    with pytest.raises(InputError, match="empty"):
        ReplaySource(good.iloc[:0], speed=1)
    text = good.astype(object)
    text.iloc[0, 0] = "high"
    with pytest.raises(InputError, match="must be numbers"):
        ReplaySource(text, speed=1)


# ---------------------------------------------------------------------- frames


def test_frame_from_profiles_ids_units_and_consumer_sign() -> None:
    idx = pd.date_range(T0, periods=3, freq="15min")
    frames = {
        "load_p_mw": pd.DataFrame({0: [0.1, 0.2, 0.3], 12: [1.0, 1.0, 1.0]}, index=idx),
        "sgen_p_mw": pd.DataFrame({4: [0.05, 0.0, 0.02]}, index=idx),
        "load_q_mvar": pd.DataFrame({0: [0.01, 0.02, 0.03]}, index=idx),
        "storage_p_mw": pd.DataFrame(index=idx),  # no elements: left out
    }
    got, points = frame_from_profiles(frames, unit="kW")
    assert list(got.columns) == ["load:0:p", "load:12:p", "sgen:4:p", "load:0:q"]
    assert got["load:0:p"].tolist() == [100.0, 200.0, 300.0]
    assert got["sgen:4:p"].tolist() == [-50.0, -0.0, -20.0]  # generator frame → consumer
    by_id = {p.point_id: p for p in points}
    assert (by_id["load:12:p"].quantity, by_id["load:12:p"].unit) == ("p", "kW")
    assert by_id["load:12:p"].element == "load:12"
    assert (by_id["load:0:q"].quantity, by_id["load:0:q"].unit) == ("q", "kvar")
    mw, _ = frame_from_profiles(frames, unit="MW")
    assert mw["load:0:p"].iloc[0] == 0.1
    with pytest.raises(InputError, match="load_p_kw"):
        frame_from_profiles({"load_p_kw": frames["load_p_mw"]})
    bare = {"load_p_mw": frames["load_p_mw"].reset_index(drop=True)}
    assert frame_from_profiles(bare, idx)[0].index.equals(idx)


def test_replay_from_a_store_into_another_store(tmp_path: Path) -> None:
    points = [MeasurementPoint(c, "p", "kW", element=c.rsplit(":", 1)[0]) for c in frame().columns]
    first = open_store(tmp_path / "a", create=True)
    second = open_store(tmp_path / "b", create=True)
    try:
        for s in (first, second):
            s.add_points(points)
        with Pipeline(first) as pipe:
            ReplaySource(frame(), speed=math.inf).run(pipe, threading.Event())
            assert pipe.flush().stored == 7
        played = frame_from_store(first, None, T0, T0 + pd.Timedelta("1h"))
        pd.testing.assert_frame_equal(
            played, frame(), check_freq=False, check_names=False, check_index_type=False
        )
        on_step = frame_from_store(first, ["load:1:p"], T0, T0 + pd.Timedelta("1h"), step="30min")
        assert on_step["load:1:p"].tolist() == [0.5, 2.5]
        with Pipeline(second) as pipe:
            ReplaySource(played, speed=math.inf, chunk_steps=3).run(pipe, threading.Event())
            counters = pipe.flush()
        assert counters.stored == 7
        assert counters.rejected == 0
        a = first.window(None, T0, T0 + pd.Timedelta("1h"))
        b = second.window(None, T0, T0 + pd.Timedelta("1h"))
        assert a[["point_id", "ts_utc", "value"]].equals(b[["point_id", "ts_utc", "value"]])
        with pytest.raises(InputError, match="no values"):
            frame_from_store(first, None, T0 - pd.Timedelta("1D"), T0)
    finally:
        first.close()
        second.close()
