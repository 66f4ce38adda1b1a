"""Modbus TCP polling against a real pymodbus server on 127.0.0.1 acting as the field device."""

from __future__ import annotations

import json
import math
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError, StoreError
from gridtwin.ingest import IngestCounters, Pipeline, run_sources
from gridtwin.ingest._modbus import (
    ModbusDevice,
    ModbusSource,
    RegisterMap,
    decode,
    load_register_map,
    plan_reads,
)
from gridtwin.ingest._source import Source
from gridtwin.store import MeasurementPoint, open_store

from .modbus_device import CollectingSink, FieldDevice, SilentDevice, field_device

pytest.importorskip("pymodbus")
from pymodbus.simulator import DataType, SimData, SimDevice

EXAMPLE = Path(__file__).parents[2] / "examples" / "modbus" / "feeder-meter.yaml"


def _regs(address: int, words: list[int]) -> SimData:
    return SimData(address, values=words, datatype=DataType.REGISTERS)


def _device(
    holding: list[SimData],
    inputs: list[SimData] | None = None,
    coils: list[bool] | None = None,
    discrete: list[bool] | None = None,
) -> Callable[[], SimDevice]:
    """A device (id 1) with these blocks; addresses not given are illegal."""

    def make() -> SimDevice:
        co = [SimData(0, values=coils or [False] * 16, datatype=DataType.BITS)]
        di = [SimData(0, values=discrete or [False] * 16, datatype=DataType.BITS)]
        ir = inputs or [_regs(0, [0])]
        return SimDevice(1, simdata=(co, di, holding, ir))

    return make


def _map(port: int, points: list[dict[str, Any]], **device: Any) -> RegisterMap:
    dev = {"name": "plc1", "host": "127.0.0.1", "port": port, "timeout_s": 1.0, **device}
    return RegisterMap.model_validate({"devices": [{**dev, "points": points}]})


def _wait_until(cond: Callable[[], bool], timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            msg = f"condition not met within {timeout_s} s"
            raise AssertionError(msg)
        time.sleep(0.02)


class _Running:
    """``source.run(sink, stop)`` in a thread."""

    def __init__(self, source: ModbusSource, sink: CollectingSink) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=source.run, args=(sink, self.stop_event), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop and wait until ``run`` has returned (its counters are then final)."""
        self.stop_event.set()
        self.thread.join(10)
        if self.thread.is_alive():
            msg = "ModbusSource.run did not return within 10 s of stop"
            raise AssertionError(msg)


@pytest.fixture
def run_source() -> Iterator[Callable[[ModbusSource, CollectingSink], _Running]]:
    """Start ``source.run`` in a thread; stopped (and joined) at the end at the latest."""
    started: list[_Running] = []

    def start(source: ModbusSource, sink: CollectingSink) -> _Running:
        started.append(_Running(source, sink))
        return started[-1]

    yield start
    for running in started:
        running.stop()


# ----------------------------------------------------------------------- decoding


def test_decode_hand_written_words() -> None:
    # -2 as int32: 0xFFFF 0xFFFE (big word order), 0xFFFE 0xFFFF (little)
    assert decode([0xFFFF, 0xFFFE], "int32") == -2
    assert decode([0xFFFE, 0xFFFF], "int32", word_order="little") == -2
    # 1.5 as float32 = 0x3FC00000; byte-swapped registers: 0xC03F 0x0000
    assert decode([0x3FC0, 0x0000], "float32") == 1.5
    assert decode([0x0000, 0x3FC0], "float32", "little") == 1.5
    assert decode([0xC03F, 0x0000], "float32", byte_order="little") == 1.5
    assert decode([0x0000, 0xC03F], "float32", "little", "little") == 1.5
    assert decode([0x8000], "int16") == -32768
    assert decode([0x8000], "uint16") == 32768
    assert decode([0x0100], "uint16", byte_order="little") == 1
    assert decode([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], "int64") == -1
    assert decode([0x0000, 0x0000, 0x0000, 0x0001], "uint64") == 1
    assert decode([0x0001, 0x0000, 0x0000, 0x0000], "uint64", "little") == 1
    assert decode([0x3FF8, 0, 0, 0], "float64") == 1.5
    assert math.isnan(decode([0x7FC0, 0x0000], "float32"))
    assert decode([1], "bool") == 1.0


# ----------------------------------------------------------------------- read planning


def _dev(points: list[dict[str, Any]], **kw: Any) -> ModbusDevice:
    return ModbusDevice.model_validate({"name": "d", "host": "h", "points": points, **kw})


def _f32(point_id: str, address: int) -> dict[str, Any]:
    return {"point_id": point_id, "table": "holding", "address": address, "type": "float32"}


def test_plan_joins_adjacent_registers_into_one_request() -> None:
    pts = [_f32(f"p{i}", 2 * i) for i in range(10)]
    (read,) = plan_reads(_dev(pts))
    assert (read.table, read.address, read.count) == ("holding", 0, 20)


def test_plan_respects_the_125_register_limit_and_the_device_limit() -> None:
    pts = [{"point_id": f"p{i}", "table": "input", "address": i} for i in range(300)]
    reads = plan_reads(_dev(pts))
    assert [(r.address, r.count) for r in reads] == [(0, 125), (125, 125), (250, 50)]
    small = plan_reads(_dev(pts[:30], max_registers_per_read=10))
    assert [(r.address, r.count) for r in small] == [(0, 10), (10, 10), (20, 10)]
    # a 2-register value is never cut in two
    f32 = [_f32(f"f{i}", 2 * i) for i in range(70)]
    assert [(r.address, r.count) for r in plan_reads(_dev(f32))] == [(0, 124), (124, 16)]


def test_plan_gaps_tables_and_bits() -> None:
    pts = [
        {"point_id": "a", "table": "holding", "address": 0},
        {"point_id": "b", "table": "holding", "address": 3},
        {"point_id": "c", "table": "input", "address": 0},
        {"point_id": "d", "table": "coil", "address": 0},
        {"point_id": "e", "table": "coil", "address": 1999},
        {"point_id": "f", "table": "coil", "address": 2000},
        {"point_id": "g", "table": "holding", "address": 10, "scale_register": 11},
    ]
    got = {(r.table, r.address, r.count) for r in plan_reads(_dev(pts))}
    assert got == {
        ("coil", 0, 1),
        ("coil", 1999, 2),
        ("holding", 0, 1),
        ("holding", 3, 1),
        ("holding", 10, 2),
        ("input", 0, 1),
    }
    joined = {(r.table, r.address, r.count) for r in plan_reads(_dev(pts[:2], max_gap=2))}
    assert joined == {("holding", 0, 4)}
    bits = [{"point_id": f"b{i}", "table": "discrete", "address": i} for i in range(2001)]
    assert [(r.address, r.count) for r in plan_reads(_dev(bits))] == [(0, 2000), (2000, 1)]


# ----------------------------------------------------------------------- values from the device


def _typed_holding() -> list[SimData]:
    """Holding registers: big word order written by pymodbus's own encoder at 0-27, the
    same values in little word order and byte-swapped written by hand from 100."""
    return [
        SimData(0, values=-1234, datatype=DataType.INT16),
        SimData(1, values=65000, datatype=DataType.UINT16),
        SimData(2, values=-123456789, datatype=DataType.INT32),
        SimData(4, values=4_000_000_000, datatype=DataType.UINT32),
        SimData(6, values=-1.5, datatype=DataType.FLOAT32),
        SimData(8, values=-1_234_567_890_123, datatype=DataType.INT64),
        SimData(12, values=2**63 + 2**11, datatype=DataType.UINT64),
        SimData(16, values=-12345.625, datatype=DataType.FLOAT64),
        SimData(20, values=float("nan"), datatype=DataType.FLOAT32),
        _regs(22, [0, 0, 0, 0, 0, 0]),
        # -123456789 = 0xF8A432EB: little word order, then byte-swapped and little
        _regs(100, [0x32EB, 0xF8A4, 0xEB32, 0xA4F8]),
        # -1.5 float32 = 0xBFC00000, little word order
        _regs(104, [0x0000, 0xBFC0]),
        # -1234567890123 int64 = 0xFFFF_FEE0_8E04_FB35, little word order
        _regs(106, [0xFB35, 0x8E04, 0xFEE0, 0xFFFF]),
        # -12345.625 float64 = 0xC0C8_1CD0_0000_0000 little word order
        _regs(110, [0x0000, 0x0000, 0x1CD0, 0xC0C8]),
        # 65000 = 0xFDE8 byte-swapped; -1234 = 0xFB2E byte-swapped
        _regs(114, [0xE8FD, 0x2EFB]),
    ]


TYPED = [
    ("i16", 0, "int16", {}, -1234),
    ("u16", 1, "uint16", {}, 65000),
    ("i32", 2, "int32", {}, -123456789),
    ("u32", 4, "uint32", {}, 4_000_000_000),
    ("f32", 6, "float32", {}, -1.5),
    ("i64", 8, "int64", {}, -1_234_567_890_123),
    ("u64", 12, "uint64", {}, float(2**63 + 2**11)),
    ("f64", 16, "float64", {}, -12345.625),
    ("i32_lw", 100, "int32", {"word_order": "little"}, -123456789),
    ("i32_lw_lb", 102, "int32", {"word_order": "little", "byte_order": "little"}, -123456789),
    ("f32_lw", 104, "float32", {"word_order": "little"}, -1.5),
    ("i64_lw", 106, "int64", {"word_order": "little"}, -1_234_567_890_123),
    ("f64_lw", 110, "float64", {"word_order": "little"}, -12345.625),
    ("u16_lb", 114, "uint16", {"byte_order": "little"}, 65000),
    ("i16_lb", 115, "int16", {"byte_order": "little"}, -1234),
]


def test_every_type_and_order_read_from_the_device() -> None:
    points = [
        {"point_id": pid, "table": "holding", "address": a, "type": t, **kw}
        for pid, a, t, kw, _ in TYPED
    ]
    with field_device(_device(_typed_holding())) as dev:
        source = ModbusSource(_map(dev.port, points))
        sink = CollectingSink()
        source.poll_once(sink)
        source.close()
    got = sink.last()
    assert got == {pid: expected for pid, _, _, _, expected in TYPED}
    c = source.counters()
    assert (c.polls, c.values, c.rejected, c.values_missing) == (1, len(TYPED), 0, 0)
    assert c.exceptions == 0
    assert c.requests == 2  # 0-19 and 100-115: two requests for fifteen values


def test_nan_register_is_passed_on_as_nan_and_timestamps_are_the_poll_interval_start() -> None:
    points = [
        {"point_id": "nan", "table": "holding", "address": 20, "type": "float32"},
        {"point_id": "ok", "table": "holding", "address": 0, "type": "int16"},
    ]
    with field_device(_device(_typed_holding())) as dev:
        source = ModbusSource(_map(dev.port, points, poll_interval_s=60.0))
        sink = CollectingSink()
        before_us = time.time_ns() // 1000
        source.poll_once(sink)
        after_us = time.time_ns() // 1000
        source.close()
    (batch,) = sink.batches
    assert list(batch.point_id) == ["nan", "ok"]
    assert math.isnan(batch.raw_value[0])
    assert batch.raw_value[1] == -1234
    slot_us = batch.ts_utc.astype(np.int64)
    assert len(set(slot_us)) == 1
    assert slot_us[0] % 60_000_000 == 0  # on the minute: the start of the 60 s poll interval
    assert before_us - 60_000_000 < slot_us[0] <= before_us
    arrived = batch.source_ts_utc.astype(np.int64)
    assert np.all((arrived >= before_us) & (arrived <= after_us))  # when the device answered
    assert len(batch.rejects) == 0


def test_scale_offset_scale_register_coils_and_discrete_inputs() -> None:
    holding = [_regs(0, [2345, 0xFFFE, 1234, 0xFFFD, 1000, 0x8000])]
    inputs = [_regs(0, [5000, 0xFFFE])]
    points = [
        {"point_id": "u", "table": "holding", "address": 0, "scale": 0.1, "offset": -10},
        {"point_id": "neg", "table": "holding", "address": 1, "type": "int16", "scale": 0.5},
        # SunSpec: value 1234 with scale factor -3 (0xFFFD) in register 3
        {"point_id": "sf", "table": "holding", "address": 2, "scale_register": 3},
        # scale factor 0x8000 = not implemented: NaN, for the pipeline to reject
        {"point_id": "sf_ni", "table": "holding", "address": 4, "scale_register": 5},
        {"point_id": "f", "table": "input", "address": 0, "scale_register": 1},
        {"point_id": "co0", "table": "coil", "address": 0},
        {"point_id": "co1", "table": "coil", "address": 1},
        {"point_id": "di9", "table": "discrete", "address": 9},
    ]
    discrete = [False] * 16
    discrete[9] = True
    make = _device(holding, inputs, coils=[True] + [False] * 15, discrete=discrete)
    with field_device(make) as dev:
        source = ModbusSource(_map(dev.port, points))
        sink = CollectingSink()
        source.poll_once(sink)
        source.close()
    got = sink.last()
    assert got["u"] == pytest.approx(224.5)
    assert got["neg"] == -1.0
    assert got["sf"] == pytest.approx(1.234)
    assert math.isnan(got["sf_ni"])
    assert got["f"] == pytest.approx(50.0)
    assert (got["co0"], got["co1"], got["di9"]) == (1.0, 0.0, 1.0)


def test_illegal_address_rejects_only_the_points_it_hits() -> None:
    holding = [_regs(0, list(range(100)))]  # 0..99 exist, 100 and up are illegal
    points = [
        {"point_id": "a98", "table": "holding", "address": 98},
        {"point_id": "a99", "table": "holding", "address": 99},
        {"point_id": "a100", "table": "holding", "address": 100},  # joined with 98, 99
        {"point_id": "a500", "table": "holding", "address": 500, "type": "float32"},
    ]
    with field_device(_device(holding)) as dev:
        source = ModbusSource(_map(dev.port, points))
        sink = CollectingSink()
        source.poll_once(sink)
        first = source.counters()
        source.poll_once(sink)
        source.close()
    assert sink.values() == {"a98": [98.0, 98.0], "a99": [99.0, 99.0]}  # never a zero
    rejects = sink.rejects()
    assert [(p, r) for p, r, _ in rejects] == [("a100", "malformed"), ("a500", "malformed")] * 2
    detail = rejects[0][2]
    assert "'plc1'" in detail
    assert f"127.0.0.1:{dev.port}" in detail
    assert "holding 100-100" in detail
    assert "function 3" in detail
    assert "Modbus exception 2 (illegal data address)" in detail
    assert "holding 500-501" in rejects[1][2]
    # first poll: 98-100 refused, split into 98, 99, 100; 500-501 refused: 5 requests
    assert (first.requests, first.exceptions, first.rejected, first.values) == (5, 3, 2, 2)
    # the split is kept: the second poll needs 4 requests
    c = source.counters()
    assert (c.requests - first.requests, c.exceptions, c.rejected, c.values) == (4, 5, 4, 4)
    assert c.values_missing == 0


def test_example_register_map_is_read_from_a_device() -> None:
    register_map = load_register_map(EXAMPLE)
    ((device, ids),) = [(d, [e.point_id for e in d.points]) for d in register_map.devices]
    assert len(ids) == 9
    f32 = [struct.unpack(">HH", struct.pack(">f", v)) for v in (230.5, 231.0, 229.5, 42.25)]
    words = [w for pair in f32 for w in pair]
    # p = -2000 W as int32, least significant register first; q = -12 (x 10 var)
    holding = [_regs(0, [*words, 0, 0, 0, 0, 0xF830, 0xFFFF, 0xFFF4])]
    energy = 12_345_678_901
    inputs = [_regs(0, [4998, 0xFFFE, 0, 0, *struct.unpack(">4H", struct.pack(">Q", energy))])]
    make = _device(holding, inputs, coils=[True] + [False] * 15)
    with field_device(make) as dev:
        local = device.model_copy(update={"port": dev.port})
        source = ModbusSource(RegisterMap(devices=[local]))
        sink = CollectingSink()
        source.poll_once(sink)
        source.close()
    assert sink.last() == pytest.approx(
        {
            "feeder7.u_a": 230.5,
            "feeder7.u_b": 231.0,
            "feeder7.u_c": 229.5,
            "feeder7.i_a": 42.25,
            "feeder7.p": -2000.0,
            "feeder7.q": -120.0,
            "feeder7.f": 49.98,
            "feeder7.energy_in": float(energy),
            "feeder7.breaker": 1.0,
        }
    )
    points = {p.point_id: p for p in register_map.points()}
    assert points["feeder7.p"].unit == "W"
    assert points["feeder7.p"].element == "line:7"
    assert points["feeder7.u_b"].phase == "b"
    assert points["feeder7.u_b"].source == "modbus:feeder-7"
    assert len(points) == 9


# ----------------------------------------------------------------------- outages


def _outage_map(port: int) -> RegisterMap:
    points = [
        {"point_id": "v", "table": "holding", "address": 0, "type": "int16"},
        {"point_id": "w", "table": "holding", "address": 1, "type": "int16"},
    ]
    return _map(
        port,
        points,
        poll_interval_s=0.05,
        timeout_s=0.5,
        reconnect_delay_s=0.05,
        reconnect_delay_max_s=0.2,
    )


def test_device_that_goes_away_and_comes_back(
    run_source: Callable[[ModbusSource, CollectingSink], _Running],
) -> None:
    dev = FieldDevice(_device([_regs(0, [7, 0xFFF9])])).start()
    try:
        source = ModbusSource(_outage_map(dev.port))
        assert isinstance(source, Source)
        sink = CollectingSink()
        running = run_source(source, sink)
        _wait_until(lambda: len(sink.values().get("v", [])) >= 3)
        dev.stop()
        _wait_until(lambda: source.counters().connection_errors >= 3)
        down = len(sink.values()["v"])
        time.sleep(0.2)
        assert len(sink.values()["v"]) == down  # nothing while the device is away
        dev.start()  # the same port again
        _wait_until(lambda: len(sink.values()["v"]) >= down + 3)
        running.stop()
    finally:
        dev.stop()
    c = source.counters()
    assert set(sink.values()["v"]) == {7.0}
    assert set(sink.values()["w"]) == {-7.0}
    assert c.reconnects >= 1
    assert c.connection_errors >= 3
    assert c.values_missing >= 2
    assert c.rejected == 0
    assert sink.rejects() == []
    # every due poll of every point is accounted for exactly once
    assert c.values + c.rejected + c.values_missing == (c.polls + c.polls_missed) * 2
    ts = sink.timestamps().astype(np.int64)
    assert np.all(ts % 50_000 == 0)  # on the 50 ms grid
    assert len(np.unique(ts)) == len(ts) // 2  # one key per poll, shared by both points


def test_device_that_does_not_answer_times_out(
    run_source: Callable[[ModbusSource, CollectingSink], _Running],
) -> None:
    silent = SilentDevice()
    try:
        register_map = _outage_map(silent.port)
        dev = register_map.devices[0].model_copy(update={"timeout_s": 0.1})
        source = ModbusSource(RegisterMap(devices=[dev]))
        sink = CollectingSink()
        running = run_source(source, sink)
        _wait_until(lambda: source.counters().timeouts >= 2)
        running.stop()
    finally:
        silent.close()
    assert sink.batches == []  # no value, no zero, no reject
    c = source.counters()
    assert c.values == 0
    assert c.values_missing >= 4


def test_device_not_there_at_start_is_counted_not_raised() -> None:
    with field_device(_device([_regs(0, [1])])) as dev:
        port = dev.port
    source = ModbusSource(_outage_map(port))  # the server has stopped: connection refused
    sink = CollectingSink()
    source.poll_once(sink)
    source.poll_once(sink)  # within the back-off: not even tried
    c = source.counters()
    assert sink.batches == []
    assert (c.polls, c.polls_missed, c.connection_errors, c.values_missing) == (1, 1, 1, 4)


def test_a_failing_sink_stops_run_with_its_error() -> None:
    with field_device(_device([_regs(0, [1, 2])])) as dev:
        source = ModbusSource(_outage_map(dev.port))
        sink = CollectingSink()
        sink.fail = True
        with pytest.raises(StoreError, match="sink has stopped"):
            source.run(sink, threading.Event())


# ----------------------------------------------------------------------- the register-map file


def test_bad_register_map_reports_every_error_with_its_field_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        """
devices:
  - name: meter-1
    port: 70000
    slave: 1
    poll_interval_s: 0
    points:
      - {point_id: a, table: holding, address: -1}
      - {point_id: b, table: coil, address: 3, type: float32}
      - {point_id: c, table: holding, address: 65535, type: int32}
      - {point_id: d, table: holding, address: 1, type: int24, word_order: middle}
      - {point_id: e, table: holding, address: 2, scale: 0, scale_register: 2}
      - {point_id: "bad id", table: register, address: 4}
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_register_map(path)
    lines = str(info.value).splitlines()
    assert all(line.startswith(f"{path}: devices.0.") for line in lines)
    text = "\n".join(line.removeprefix(f"{path}: devices.0.") for line in lines)
    for expected in (
        "host: Field required",
        "port: Input should be less than or equal to 65535",
        "slave: unknown field",
        "poll_interval_s: Input should be greater than or equal to 0.01",
        "points.0.address: Input should be greater than or equal to 0",
        "points.1.type: type 'float32' cannot be read from table 'coil'; use bool",
        "points.2.type: a int32 at address 65535 runs past the last address 65535",
        "points.3.type: Input should be 'int16', 'uint16'",
        "points.3.word_order: Input should be 'big' or 'little'",
        "points.4.scale: scale must not be 0",
        "points.4.scale_register: scale_register 2 is one of the value's own registers",
        "points.5.point_id: String should match pattern",
        "points.5.table: Input should be 'holding', 'input', 'coil' or 'discrete'",
    ):
        assert expected in text, expected
    assert len(lines) == 13


def test_register_map_duplicates_and_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        """
devices:
  - {name: m1, host: 10.0.0.1, points: [{point_id: p, table: input, address: 0}]}
  - {name: m1, host: 10.0.0.2, points: [{point_id: p, table: input, address: 1}]}
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_register_map(path)
    text = str(info.value)
    assert "devices.1.name: 'm1' is also device 0" in text
    assert "devices.1.points.0.point_id: 'p' is also devices.0.points.0" in text
    with pytest.raises(InputError, match="cannot read file"):
        load_register_map(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("devices: []\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty.yaml: devices: List should have at least 1"):
        ModbusSource(empty)


# ----------------------------------------------------------------------- into the store


def _store_points() -> list[MeasurementPoint]:
    return [
        # the register holds W (after the map's scale 10); the point stores kW
        MeasurementPoint("plc1.p", "p", "kW", element="line:3", scale=0.001, source="modbus:plc1"),
        MeasurementPoint("plc1.u", "u", "V", phase="a", source="modbus:plc1"),
        MeasurementPoint("plc1.nan", "u", "V", phase="b", source="modbus:plc1"),
        MeasurementPoint("plc1.bad", "u", "V", phase="c", source="modbus:plc1"),
    ]


def _e2e_map(port: int, **device: Any) -> RegisterMap:
    points = [
        {"point_id": "plc1.p", "table": "holding", "address": 0, "type": "int32", "scale": 10},
        {"point_id": "plc1.u", "table": "holding", "address": 2, "scale": 0.1},
        {"point_id": "plc1.nan", "table": "holding", "address": 3, "type": "float32"},
        {"point_id": "plc1.bad", "table": "holding", "address": 50},  # illegal address
        {"point_id": "plc1.ghost", "table": "holding", "address": 5},  # not in the store
    ]
    return _map(port, points, **device)


def _e2e_device() -> Callable[[], SimDevice]:
    nan_words = list(struct.unpack(">HH", struct.pack(">f", float("nan"))))
    # p = -12345 (x 10 W) as int32; u = 2304 (x 0.1 V)
    return _device([_regs(0, [0xFFFF, 0xCFC7, 2304, *nan_words, 1])])


def test_poll_into_the_store_with_the_points_scaling(tmp_path: Path) -> None:
    store = open_store(tmp_path / "st", create=True)
    try:
        store.add_points(_store_points())
        with field_device(_e2e_device()) as dev, Pipeline(store) as pipe:
            source = ModbusSource(_e2e_map(dev.port))
            source.poll_once(pipe)
            counters = pipe.flush()
            source.close()
        latest = store.latest().set_index("point_id")
        rejects = store.rejects().set_index("point_id")
    finally:
        store.close()
    assert counters.stored == 2
    assert counters.rejected_by_reason == {"not_finite": 1, "malformed": 1, "unknown_point": 1}
    assert list(latest.index) == ["plc1.p", "plc1.u"]
    assert latest.loc["plc1.p", "value"] == pytest.approx(-123.45)  # -12345 x 10 W -> kW
    assert latest.loc["plc1.u", "value"] == pytest.approx(230.4)
    ts = latest["ts_utc"]
    assert ts.iloc[0] == ts.iloc[1]
    assert ts.iloc[0].microsecond == 0  # the start of the 1 s poll interval
    assert (latest["source_ts_utc"] >= ts).all()
    assert "illegal data address" in rejects.loc["plc1.bad", "detail"]
    assert rejects.loc["plc1.bad", "reason"] == "malformed"
    assert rejects.loc["plc1.nan", "reason"] == "not_finite"
    assert rejects.loc["plc1.ghost", "reason"] == "unknown_point"


def test_run_polls_into_the_store_on_the_clock_grid(tmp_path: Path) -> None:
    store = open_store(tmp_path / "st", create=True)
    try:
        store.add_points(_store_points())
        stop = threading.Event()
        with field_device(_e2e_device()) as dev, Pipeline(store) as pipe:
            source = ModbusSource(_e2e_map(dev.port, poll_interval_s=0.05))

            def enough(c: IngestCounters) -> None:
                if c.stored >= 8:
                    stop.set()

            counters = run_sources(pipe, [source], stop, on_tick=enough, tick_s=0.05)
        start = pd.Timestamp("2000-01-01", tz="UTC")
        end = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=1)
        stored = store.window(["plc1.p", "plc1.u"], start, end)
    finally:
        store.close()
    polled = source.counters()
    assert counters.stored >= 8
    assert counters.stored == len(stored)
    assert set(stored["value"].round(6)) == {-123.45, 230.4}
    us = (stored["ts_utc"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    assert (us % 50_000 == 0).all()  # the 50 ms grid
    assert stored.groupby("ts_utc").size().eq(2).all()  # both points of a poll share the key
    assert counters.rejected_by_reason["malformed"] == polled.rejected
    assert (
        polled.values
        == counters.stored
        + counters.rejected_by_reason["not_finite"]
        + (counters.rejected_by_reason["unknown_point"])
    )


def test_cli_polls_the_example_map_once_into_a_store(tmp_path: Path) -> None:
    """``gridtwin ingest modbus --map ... --add-points --once`` against a real device."""
    from typer.testing import CliRunner

    from gridtwin.cli import app
    from gridtwin.store import open_store

    f32 = [struct.unpack(">HH", struct.pack(">f", v)) for v in (230.5, 231.0, 229.5, 42.25)]
    words = [w for pair in f32 for w in pair]
    holding = [_regs(0, [*words, 0, 0, 0, 0, 0xF830, 0xFFFF, 0xFFF4])]
    inputs = [_regs(0, [4998, 0xFFFE, 0, 0, *struct.unpack(">4H", struct.pack(">Q", 12_345))])]
    make = _device(holding, inputs, coils=[True] + [False] * 15)
    store = str(tmp_path / "st")
    runner = CliRunner()
    assert runner.invoke(app, ["store", "init", "--store", store]).exit_code == 0
    with field_device(make) as dev:
        text = EXAMPLE.read_text(encoding="utf-8").replace("port: 5020", f"port: {dev.port}")
        map_file = tmp_path / "map.yaml"
        map_file.write_text(text, encoding="utf-8")
        out = runner.invoke(
            app,
            [
                "ingest",
                "modbus",
                "--map",
                str(map_file),
                "--store",
                store,
                "--add-points",
                "--once",
                "--format",
                "json",
            ],
        )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output[out.output.index("{") :])
    assert (summary["stored"], summary["rejected"]) == (9, 0)
    s = open_store(store)
    try:
        latest = s.latest().set_index("point_id")["value"]
    finally:
        s.close()
    assert latest["feeder7.p"] == -2000.0
    assert latest["feeder7.f"] == pytest.approx(49.98)
    bad = runner.invoke(
        app, ["ingest", "modbus", "--map", str(tmp_path / "none.yaml"), "--store", store]
    )
    assert bad.exit_code == 2
    assert "none.yaml" in bad.output
