"""The ingest pipeline on a real embedded store: checks, rejects, back-pressure, retries."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridtwin.errors import InputError, StoreError
from gridtwin.ingest import Pipeline, PipelineConfig, RawBatch, run_sources
from gridtwin.store import MeasurementPoint, RejectBatch, open_store
from gridtwin.store._duckdb import DuckDBStore

POINTS = [
    MeasurementPoint("feeder.p", "p", "kW", element="line:0", scale=0.1),  # raw in 0.1 kW
    MeasurementPoint("bus.vm", "vm", "pu", element="bus:1"),
    MeasurementPoint("tap", "tap", "step", max_value=9.0),
]
T0 = np.datetime64("2026-03-01T00:00", "us")
MIN = np.timedelta64(1, "m")


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(tmp_path / "st", create=True)
    s.add_points(POINTS)
    yield s
    s.close()


def raw(ids: list[str], minutes: list[int], values: list[float], **kw: Any) -> RawBatch:
    return RawBatch.build(ids, T0 + np.array(minutes) * MIN, values, **kw)


def test_bad_values_are_rejected_with_reasons_and_neighbours_stored(store: Any) -> None:
    decode = RejectBatch()
    decode.add("malformed", "not JSON", source="mqtt:x", raw="{{")
    future = np.datetime64("now", "us") + np.timedelta64(1, "h")
    batch = RawBatch.build(
        ["feeder.p", "ghost", "bus.vm", "bus.vm", "bus.vm", "tap", "tap", "bus.vm"],
        np.array(
            [T0, T0, T0, T0 + MIN, future, T0, T0 + MIN, np.datetime64("NaT")], "datetime64[us]"
        ),
        [123.0, 1.0, np.nan, np.inf, 1.0, 10.0, 5.0, 1.0],
        source="test",
        rejects=decode,
    )
    with Pipeline(store) as pipe:
        pipe.submit(batch)
        counters = pipe.flush()
    assert counters.received == 9
    assert counters.stored == 2
    assert counters.rejected == 7
    assert counters.rejected_by_reason == {
        "malformed": 1,
        "unknown_point": 1,
        "not_finite": 2,
        "future_timestamp": 1,
        "out_of_range": 1,
        "bad_timestamp": 1,
    }
    latest = store.latest().set_index("point_id")["value"]
    assert latest.to_dict() == {"feeder.p": pytest.approx(12.3), "tap": 5.0}
    rejects = store.rejects()
    assert len(rejects) == 7
    out = rejects[rejects.reason == "out_of_range"].iloc[0]
    assert "tap" in out["detail"]
    assert "[-100, 9] step" in out["detail"]


def test_per_quantity_ranges_from_the_configuration(store: Any) -> None:
    config = PipelineConfig(ranges={"vm": (0.8, 1.2)})
    with Pipeline(store, config) as pipe:
        pipe.submit(raw(["bus.vm", "bus.vm"], [0, 1], [1.05, 1.3]))
        counters = pipe.flush()
    assert (counters.stored, counters.rejected_by_reason) == (1, {"out_of_range": 1})
    with pytest.raises(InputError, match="volts"):
        Pipeline(store, PipelineConfig(ranges={"volts": (0, 1)}))


def test_duplicates_and_revisions_are_counted(store: Any) -> None:
    with Pipeline(store) as pipe:
        pipe.submit(raw(["bus.vm"] * 2, [0, 1], [1.0, 1.01]))
        pipe.flush()
        pipe.submit(raw(["bus.vm"] * 2, [0, 1], [1.0, 1.02]))
        counters = pipe.flush()
    assert (counters.stored, counters.duplicates, counters.revisions) == (3, 1, 1)


def test_on_durable_runs_after_the_commit(store: Any) -> None:
    seen: list[list[str]] = []

    def check() -> None:  # the writer thread: the value must already be readable
        seen.append(store.latest()["point_id"].tolist())

    with Pipeline(store) as pipe:
        pipe.submit(raw(["bus.vm"], [0], [1.0]), on_durable=check)
        pipe.flush()
    assert seen == [["bus.vm"]]


class SlowStore(DuckDBStore):
    """The real store, made slow: each write waits until the test lets it go."""

    gate: threading.Event

    def write(self, batch: Any, rejects: Any = None) -> Any:
        self.gate.wait(10)
        return super().write(batch, rejects)


def test_a_full_queue_blocks_the_source_and_loses_nothing(tmp_path: Path) -> None:
    open_store(tmp_path / "st", create=True).close()
    store = SlowStore.open(tmp_path / "st")
    store.gate = threading.Event()
    store.add_points(POINTS)
    # rows being written count as queued until they are durable
    config = PipelineConfig(queue_max_rows=20, flush_rows=10, flush_s=0.0)
    pipe = Pipeline(store, config)
    for k in range(2):  # the writer holds the first, the second fills the queue
        pipe.submit(raw(["bus.vm"] * 10, list(range(10 * k, 10 * k + 10)), [1.0] * 10))
    with pytest.raises(StoreError, match="queue stayed full"):
        pipe.submit(raw(["bus.vm"] * 10, list(range(20, 30)), [1.0] * 10), timeout_s=0.2)
    done = threading.Event()

    def blocked_submit() -> None:
        pipe.submit(raw(["bus.vm"] * 10, list(range(20, 30)), [1.0] * 10))
        done.set()

    t = threading.Thread(target=blocked_submit)
    t.start()
    assert not done.wait(0.3)  # still blocked: back-pressure
    store.gate.set()
    t.join(10)
    counters = pipe.close()
    assert counters.stored == 30
    assert counters.max_lag_s > 0
    assert store.info().measurements == 30
    store.close()


class FlakyStore(DuckDBStore):
    """The real store whose first writes fail like a full disk."""

    failures: int

    def write(self, batch: Any, rejects: Any = None) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise StoreError("disk full (test)")
        return super().write(batch, rejects)


def test_a_failed_write_is_retried_and_counted(tmp_path: Path) -> None:
    open_store(tmp_path / "st", create=True).close()
    store = FlakyStore.open(tmp_path / "st")
    store.failures = 2
    store.add_points(POINTS)
    acked: list[int] = []
    with Pipeline(store, PipelineConfig(retry_s=0.01)) as pipe:
        pipe.submit(raw(["bus.vm"], [0], [1.0]), on_durable=lambda: acked.append(1))
        counters = pipe.flush(timeout_s=10)
    assert (counters.stored, counters.write_errors) == (1, 2)
    assert "disk full" in counters.last_error
    assert acked == [1]
    store.close()


def test_closed_pipeline_refuses_new_batches(store: Any) -> None:
    pipe = Pipeline(store)
    pipe.close()
    pipe.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        pipe.submit(raw(["bus.vm"], [0], [1.0]))


def test_points_added_later_are_known_after_refresh(store: Any) -> None:
    with Pipeline(store) as pipe:
        pipe.submit(raw(["new.p"], [0], [1.0]))
        assert pipe.flush().rejected_by_reason == {"unknown_point": 1}
        store.add_points([MeasurementPoint("new.p", "p", "kW")])
        pipe.refresh_points()
        pipe.submit(raw(["new.p"], [0], [1.0]))
        assert pipe.flush().stored == 1


class ListSource:
    def __init__(self, name: str, batches: list[RawBatch], fail: bool = False) -> None:
        self.name = name
        self.batches = batches
        self.fail = fail

    def run(self, sink: Any, stop: threading.Event) -> None:
        for b in self.batches:
            sink.submit(b)
        if self.fail:
            raise InputError(f"{self.name}: the device went away")


def test_run_sources_runs_all_and_raises_the_first_error(store: Any) -> None:
    ticks: list[int] = []
    with Pipeline(store) as pipe:
        a = ListSource("a", [raw(["bus.vm"], [0], [1.0])])
        b = ListSource("b", [raw(["tap"], [0], [3.0])], fail=True)
        with pytest.raises(InputError, match="went away"):
            run_sources(pipe, [a, b], threading.Event(), on_tick=lambda c: ticks.append(c.stored))
    assert ticks and ticks[-1] == 2  # both sources' values were written before the error
    assert store.info().measurements == 2


def test_lag_is_reported_while_rows_wait(tmp_path: Path) -> None:
    open_store(tmp_path / "st", create=True).close()
    store = SlowStore.open(tmp_path / "st")
    store.gate = threading.Event()
    store.add_points(POINTS)
    pipe = Pipeline(store, PipelineConfig(flush_s=0.0))
    pipe.submit(raw(["bus.vm"], [0], [1.0]))
    time.sleep(0.05)
    assert pipe.counters().lag_s > 0
    store.gate.set()
    assert pipe.close().lag_s == 0.0
    store.close()
