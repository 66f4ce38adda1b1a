"""IEC 60870-5-104 client against c104's own server (outstation) on 127.0.0.1.

Skipped as a whole where the optional package ``c104`` is not installed.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline
from gridtwin.ingest._iec104 import Iec104Map, Iec104Source, load_iec104_map, quality_from_qds
from gridtwin.store import MeasurementPoint, Quality, open_store

from .modbus_device import CollectingSink

c104 = pytest.importorskip("c104")

CA = 47


class Outstation:
    """c104's server with station CA 47: IOA 11 (M_ME_NC_1), 12 (M_ME_TF_1), 13 (not in
    the map), 14 (invalid), 15 (substituted and overflow)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or _free_port()
        self.server = c104.Server(ip="127.0.0.1", port=self.port, tick_rate_ms=50)
        station = self.server.add_station(common_address=CA)
        self.points = {
            ioa: station.add_point(io_address=ioa, type=kind)
            for ioa, kind in (
                (11, c104.Type.M_ME_NC_1),
                (12, c104.Type.M_ME_TF_1),
                (13, c104.Type.M_ME_NC_1),
                (14, c104.Type.M_ME_NC_1),
                (15, c104.Type.M_ME_NC_1),
            )
        }
        for ioa, value in ((11, 230.5), (12, 1.25), (13, 9.0), (14, 7.0), (15, 99.0)):
            self.points[ioa].value = value
        self.points[14].quality = c104.Quality.Invalid
        self.points[15].quality = c104.Quality.Substituted | c104.Quality.Overflow
        self.server.start()

    def send(self, ioa: int, value: float) -> None:
        self.points[ioa].value = value
        if not self.points[ioa].transmit(cause=c104.Cot.SPONTANEOUS):
            msg = f"the outstation could not send IOA {ioa}"
            raise RuntimeError(msg)

    def stop(self) -> None:
        self.server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _map(port: int) -> Iec104Map:
    points = [
        {"ioa": 11, "point_id": "sub.u"},
        {"ioa": 12, "point_id": "sub.p", "type": "M_ME_TF_1"},
        {"ioa": 14, "point_id": "sub.i"},
        {"ioa": 15, "point_id": "sub.q"},
    ]
    station = {"name": "sub", "host": "127.0.0.1", "port": port, "common_address": CA}
    return Iec104Map.model_validate({"stations": [{**station, "points": points}]})


def _wait_until(cond: Callable[[], bool], timeout_s: float = 15.0) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            msg = f"condition not met within {timeout_s} s"
            raise AssertionError(msg)
        time.sleep(0.05)


@pytest.fixture
def outstation() -> Iterator[Outstation]:
    try:
        station = Outstation()
    except Exception as exc:  # a server that cannot start is a skip, with the reason
        pytest.skip(f"c104 server cannot start on 127.0.0.1: {exc}")
    yield station
    station.stop()


@pytest.fixture
def running() -> Iterator[Callable[[Iec104Source, Any], threading.Event]]:
    started: list[tuple[threading.Event, threading.Thread]] = []

    def start(source: Iec104Source, sink: Any) -> threading.Event:
        stop = threading.Event()
        t = threading.Thread(target=source.run, args=(sink, stop), daemon=True)
        t.start()
        started.append((stop, t))
        return stop

    yield start
    for stop, t in started:
        stop.set()
        t.join(10)


def _quality(sink: CollectingSink) -> dict[str, int]:
    with sink.lock:
        return {
            str(p): int(q) for b in sink.batches for p, q in zip(b.point_id, b.quality, strict=True)
        }


def test_quality_descriptor_mapping() -> None:
    assert quality_from_qds(0) == (Quality.VALID, False)
    assert quality_from_qds(0x80) == (Quality.VALID, True)  # IV
    assert quality_from_qds(0x40) == (Quality.QUESTIONABLE, False)  # NT
    assert quality_from_qds(0x20) == (Quality.SUBSTITUTED, False)  # SB
    assert quality_from_qds(0x10) == (Quality.QUESTIONABLE, False)  # BL
    assert quality_from_qds(0x01) == (Quality.QUESTIONABLE, False)  # OV
    assert quality_from_qds(0x21) == (Quality.SUBSTITUTED | Quality.QUESTIONABLE, False)


def test_interrogation_then_spontaneous_updates(
    outstation: Outstation, running: Callable[[Iec104Source, Any], threading.Event]
) -> None:
    source = Iec104Source(_map(outstation.port), flush_s=0.05)
    sink = CollectingSink()
    stop = running(source, sink)
    _wait_until(lambda: {"sub.u", "sub.p", "sub.q"} <= set(sink.values()))
    got = sink.last()
    assert got == {"sub.u": 230.5, "sub.p": 1.25, "sub.q": 99.0}
    quality = _quality(sink)
    assert quality["sub.u"] == Quality.VALID
    assert quality["sub.q"] == Quality.SUBSTITUTED | Quality.QUESTIONABLE
    reasons = {(p, r) for p, r, _ in sink.rejects()}
    assert ("sub.i", "bad_quality") in reasons  # IV: not stored as a value
    assert (None, "unknown_point") in reasons  # IOA 13 is not in the map
    details = " ".join(d for _, _, d in sink.rejects())
    assert "IOA 13" in details
    assert "CA 47" in details

    before = time.time_ns() // 1000
    outstation.send(12, -3.5)
    outstation.send(11, float("nan"))
    _wait_until(lambda: sink.values()["sub.p"][-1] == -3.5 and len(sink.values()["sub.u"]) >= 2)
    stop.set()
    with sink.lock:
        batches = list(sink.batches)
    last_p = [
        (ts, src)
        for b in batches
        for pid, ts, src in zip(b.point_id, b.ts_utc, b.source_ts_utc, strict=True)
        if pid == "sub.p"
    ][-1]
    tag_us = int(last_p[0].astype(np.int64))
    assert last_p[1] == last_p[0]  # M_ME_TF_1: labelled with its time tag
    assert before - 2_000_000 <= tag_us <= time.time_ns() // 1000  # UTC, not local time
    assert math.isnan(sink.values()["sub.u"][-1])  # NaN passed on for the pipeline
    c = source.counters()
    assert c.connects >= 1
    assert c.interrogations >= 1
    assert c.unmapped >= 1
    assert c.invalid >= 1


def test_reconnect_interrogates_again(
    running: Callable[[Iec104Source, Any], threading.Event],
) -> None:
    first = Outstation()
    port = first.port
    source = Iec104Source(_map(port), flush_s=0.05)
    sink = CollectingSink()
    running(source, sink)
    try:
        _wait_until(lambda: "sub.u" in sink.values())
    finally:
        first.stop()
    _wait_until(lambda: source.counters().disconnects >= 1)
    n = len(sink.values()["sub.u"])
    second = Outstation(port)
    try:
        _wait_until(lambda: len(sink.values()["sub.u"]) > n, timeout_s=30)
    finally:
        second.stop()
    c = source.counters()
    assert c.connects >= 2
    assert c.interrogations >= 2


def test_values_into_the_store(outstation: Outstation, tmp_path: Path) -> None:
    store = open_store(tmp_path / "st", create=True)
    try:
        store.add_points(
            [
                MeasurementPoint("sub.u", "u", "V"),
                MeasurementPoint("sub.p", "p", "kW", scale=0.001),  # the station sends W
                MeasurementPoint("sub.i", "i", "A"),
                MeasurementPoint("sub.q", "q", "kvar"),
            ]
        )
        source = Iec104Source(_map(outstation.port), flush_s=0.05)
        stop = threading.Event()
        with Pipeline(store) as pipe:
            t = threading.Thread(target=source.run, args=(pipe, stop))
            t.start()
            try:
                _wait_until(lambda: pipe.counters().stored >= 3)
            finally:
                stop.set()
                t.join(10)
            counters = pipe.flush()
        latest = store.latest().set_index("point_id")
    finally:
        store.close()
    assert latest.loc["sub.p", "value"] == pytest.approx(0.00125)
    assert latest.loc["sub.u", "value"] == 230.5
    assert latest.loc["sub.q", "quality"] == Quality.SUBSTITUTED | Quality.QUESTIONABLE
    assert counters.rejected_by_reason.get("bad_quality", 0) >= 1
    assert counters.rejected_by_reason.get("unknown_point", 0) >= 1


def test_bad_ioa_map(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        """
stations:
  - name: s1
    host: 10.0.0.1
    common_address: 0
    time_zone: Mars/Olympus
    points:
      - {ioa: 0, point_id: a}
      - {ioa: 5, point_id: b, type: M_ME_NA_1}
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_iec104_map(path)
    text = str(info.value)
    for expected in (
        "stations.0.common_address: Input should be greater than or equal to 1",
        "stations.0.time_zone: unknown time zone 'Mars/Olympus'",
        "stations.0.points.0.ioa: Input should be greater than or equal to 1",
        "stations.0.points.1.type: Input should be 'M_ME_NC_1' or 'M_ME_TF_1'",
    ):
        assert f"{path}: {expected}" in text


def test_a_slow_sink_spools_to_disk_and_loses_nothing(tmp_path: Path) -> None:
    """c104's thread never waits: past ``max_buffer`` updates go to spool files, which
    are delivered first and in order; a failing sink leaves the file for the next try."""
    from gridtwin.errors import StoreError
    from gridtwin.ingest._iec104 import _Update

    source = Iec104Source(_map(2404), max_buffer=5, spool_dir=tmp_path / "spool")
    t0 = 1_772_323_200_000_000  # 2026-03-01 UTC [us]
    for k in range(23):
        source._keep(_Update("p1", float(k), 0, t0 + k, None, "test", "iec104:test"))
    assert len(source.spooled_files()) == 4
    assert source.counters().values_spooled == 20
    sink = CollectingSink()
    sink.fail = True
    with pytest.raises(StoreError):
        source._flush(sink)
    assert len(source.spooled_files()) == 4  # nothing lost when the sink fails
    sink.fail = False
    source._flush(sink)
    assert sink.values()["p1"] == [float(k) for k in range(23)]
    assert source.spooled_files() == []
    assert not list((tmp_path / "spool").iterdir())
    assert source.counters().values_dropped == 0
