"""Sparkplug B: the payload codec, the node state machine, and the flow on a real broker."""

from __future__ import annotations

import threading
import uuid

import pytest

from gridtwin.errors import InputError
from gridtwin.ingest._mqtt import Columns, MqttConfig, _Received
from gridtwin.ingest._sparkplug import (
    REBIRTH_METRIC,
    DataType,
    Metric,
    Payload,
    SparkplugSource,
    decode_payload,
    default_point_id,
    encode_payload,
)
from gridtwin.store import Quality
from tests.ingest.mosquitto import Broker, CollectingSink, Publisher, running, wait_for

T0_MS = 1_767_603_600_000
Q = int(Quality.QUESTIONABLE)

# ----------------------------------------------------------------------- codec

ALL_TYPES = [
    Metric("i8", 1, T0_MS, DataType.INT8, value=-128),
    Metric("i16", 2, T0_MS, DataType.INT16, value=-32768),
    Metric("i32", 3, T0_MS, DataType.INT32, value=-1),
    Metric("i64", 4, T0_MS, DataType.INT64, value=-(2**63)),
    Metric("u8", 5, T0_MS, DataType.UINT8, value=255),
    Metric("u16", 6, T0_MS, DataType.UINT16, value=65535),
    Metric("u32", 7, T0_MS, DataType.UINT32, value=2**32 - 1),
    Metric("u64", 8, T0_MS, DataType.UINT64, value=2**64 - 1),
    Metric("f", 9, T0_MS, DataType.FLOAT, value=1.5),
    Metric("d", 10, T0_MS, DataType.DOUBLE, value=-2.2250738585072014e-308),
    Metric("b", 11, T0_MS, DataType.BOOLEAN, value=True),
    Metric("s", 12, None, DataType.STRING, value="Grüße/Ω"),
    Metric("dt", 13, T0_MS, DataType.DATETIME, value=T0_MS),
    Metric("txt", 14, T0_MS, DataType.TEXT, value=""),
    Metric("uuid", 15, T0_MS, DataType.UUID, value="123e4567-e89b-12d3-a456-426614174000"),
    Metric("bytes", 17, T0_MS, DataType.BYTES, value=b"\x00\xff"),
    Metric("null", 18, T0_MS, DataType.DOUBLE, is_null=True),
    Metric(
        "hist", 19, T0_MS - 5, DataType.DOUBLE, is_historical=True, is_transient=True, value=3.0
    ),
    Metric(None, 20, T0_MS, DataType.FLOAT, value=0.0),
]


def test_codec_round_trip_every_datatype() -> None:
    p = Payload(T0_MS, list(ALL_TYPES), seq=255, uuid="u-1", body=b"\x01\x02")
    back = decode_payload(encode_payload(p))
    assert back == p


def test_codec_reads_narrow_signed_ints_and_skips_unknown_fields() -> None:
    # int8 -1 sent as 0xFF (8-bit two's complement) by some encoders
    raw = bytes([0x12, 0x05, 0x20, DataType.INT8, 0x50, 0xFF, 0x01])
    assert decode_payload(raw).metrics[0].value == -1
    # unknown fields (metadata 8, an extension 6 of the payload) are skipped
    meta = bytes([0x42, 0x02, 0x08, 0x01])  # field 8, 2 bytes
    metric = bytes([0x0A, 0x01, ord("x"), 0x20, DataType.DOUBLE]) + meta
    payload = bytes([0x12, len(metric)]) + metric + bytes([0x30, 0x07])
    m = decode_payload(payload).metrics[0]
    assert (m.name, m.datatype, m.value) == ("x", DataType.DOUBLE, None)


@pytest.mark.parametrize(
    "data",
    [
        b"\x08",  # truncated varint
        b"\x12\x05\x0a",  # metric longer than the data
        b"\x0b",  # wire type 3 (groups)
        b"\x08" + b"\xff" * 11,  # varint too long
        b"\x12\x02\x0a\xff",  # name truncated
        b"\x12\x03\x0a\x01\xff",  # name not UTF-8
        b"\x00\x01",  # field 0
    ],
)
def test_codec_malformed(data: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        decode_payload(data)


def test_encode_refuses_value_of_wrong_type() -> None:
    with pytest.raises(InputError, match="does not fit datatype"):
        encode_payload(Payload(T0_MS, [Metric("x", None, None, DataType.DOUBLE, value="1")]))


# ----------------------------------------------------------------------- state machine

G = "plant"


def _birth(seq: int = 0, bd: int = 1) -> bytes:
    return encode_payload(
        Payload(
            T0_MS,
            [
                Metric("bdSeq", None, T0_MS, DataType.INT64, value=bd),
                Metric("Node Control/Rebirth", 1, T0_MS, DataType.BOOLEAN, value=False),
                Metric("Feeder 1/P", 2, T0_MS, DataType.DOUBLE, value=10.0),
                Metric("Firmware", 3, T0_MS, DataType.STRING, value="1.2"),
            ],
            seq=seq,
        )
    )


def _data(seq: int | None, value: float, by_alias: bool = True, ts: int = T0_MS) -> bytes:
    m = Metric(None, 2, ts, DataType.DOUBLE, value=value)
    if not by_alias:
        m = Metric("Feeder 1/P", None, ts, DataType.DOUBLE, value=value)
    return encode_payload(Payload(ts, [m], seq=seq))


def _death(bd: int = 1) -> bytes:
    return encode_payload(Payload(T0_MS, [Metric("bdSeq", None, None, DataType.INT64, value=bd)]))


class _Offline(SparkplugSource):
    """The state machine without a broker: publishes are recorded."""

    def __init__(self, **kw: object) -> None:
        super().__init__(MqttConfig(), G, **kw)  # type: ignore[arg-type]
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> bool:
        self.published.append((topic, payload))
        return True

    def feed(self, kind: str, payload: bytes, device: str | None = None) -> Columns:
        topic = f"spBv1.0/{G}/{kind}/edge1" + (f"/{device}" if device else "")
        out = Columns()
        self.decode(_Received(topic, payload, 0, 0, False, 1, 0), out)
        return out


PID = "plant/edge1/Feeder_1/P"


def test_birth_then_data_by_alias() -> None:
    src = _Offline()
    out = src.feed("NBIRTH", _birth())
    assert out.point_id == [PID]  # bdSeq, Node Control and the string are skipped
    assert out.value == [10.0]
    out = src.feed("NDATA", _data(1, 11.0, ts=T0_MS + 1000))
    assert (out.point_id, out.value, out.quality) == ([PID], [11.0], [0])
    assert out.ts_us == [(T0_MS + 1000) * 1000]
    assert out.source_ts_us == [(T0_MS + 1000) * 1000]
    assert src.counters().extra == {"births": 1, "skipped_control": 2, "skipped_not_numeric": 1}
    assert src.published == []


def test_device_birth_and_data() -> None:
    src = _Offline()
    src.feed("NBIRTH", _birth())
    dbirth = Payload(T0_MS, [Metric("U L1", 40, T0_MS, DataType.FLOAT, value=230.5)], seq=1)
    out = src.feed("DBIRTH", encode_payload(dbirth), device="meter 7")
    assert out.point_id == ["plant/edge1/meter_7/U_L1"]
    ddata = Payload(T0_MS + 1, [Metric(None, 40, None, DataType.FLOAT, value=231.0)], seq=2)
    out = src.feed("DDATA", encode_payload(ddata), device="meter 7")
    assert (out.point_id, out.value, out.quality) == (["plant/edge1/meter_7/U_L1"], [231.0], [0])
    assert out.ts_us == [(T0_MS + 1) * 1000]  # the payload's time when the metric has none


def test_seq_wraps_without_a_gap() -> None:
    src = _Offline()
    src.feed("NBIRTH", _birth(seq=254))
    assert src.feed("NDATA", _data(255, 1.0)).quality == [0]
    assert src.feed("NDATA", _data(0, 2.0)).quality == [0]
    assert "seq_gaps" not in src.counters().extra


def test_seq_gap_marks_questionable_until_rebirth() -> None:
    src = _Offline()
    src.feed("NBIRTH", _birth())
    src.feed("NDATA", _data(1, 1.0))
    assert src.feed("NDATA", _data(3, 3.0)).quality == [Q]  # 2 is missing
    assert src.feed("NDATA", _data(4, 4.0)).quality == [Q]  # still not in sync
    assert src.counters().extra["seq_gaps"] == 1
    assert len(src.published) == 1  # one request per interval
    topic, payload = src.published[0]
    assert topic == f"spBv1.0/{G}/NCMD/edge1"
    req = decode_payload(payload).metrics[0]
    assert (req.name, req.datatype, req.value) == (REBIRTH_METRIC, DataType.BOOLEAN, True)
    src.feed("NBIRTH", _birth(bd=2))
    assert src.feed("NDATA", _data(1, 5.0)).quality == [0]


def test_data_before_birth() -> None:
    src = _Offline()
    out = src.feed("NDATA", _data(7, 1.0, by_alias=False))
    assert (out.point_id, out.quality) == ([PID], [Q])
    out = src.feed("NDATA", _data(8, 2.0, by_alias=True))
    assert not len(out)
    assert out.rejects.reason == ["unknown_point"]
    assert "alias 2" in out.rejects.detail[0]
    assert src.counters().extra["data_before_birth"] == 2
    assert [t for t, _p in src.published] == [f"spBv1.0/{G}/NCMD/edge1"]


def test_node_death_marks_points_stale_only_with_matching_bdseq() -> None:
    src = _Offline()
    src.feed("NBIRTH", _birth(bd=5))
    assert not len(src.feed("NDEATH", _death(bd=4)))  # an earlier session's death
    assert src.stale_points() == []
    assert src.counters().extra["deaths_ignored_bdseq"] == 1
    src.feed("NDEATH", _death(bd=5))
    assert src.stale_points() == [PID]
    assert src.counters().extra["node_deaths"] == 1
    # data after the death, before a new birth: questionable, rebirth asked
    assert src.feed("NDATA", _data(1, 1.0, by_alias=False)).quality == [Q]
    assert len(src.published) == 1
    src.feed("NBIRTH", _birth(bd=6))
    assert src.stale_points() == []


def test_device_death_and_malformed_payload_and_topic() -> None:
    src = _Offline()
    src.feed("NBIRTH", _birth())
    dbirth = Payload(T0_MS, [Metric("x", 41, T0_MS, DataType.DOUBLE, value=1.0)], seq=1)
    src.feed("DBIRTH", encode_payload(dbirth), device="d1")
    src.feed("DDEATH", encode_payload(Payload(T0_MS, [], seq=2)), device="d1")
    assert src.stale_points() == ["plant/edge1/d1/x"]
    out = src.feed("NDATA", b"\x12\x09garbage")
    assert out.rejects.reason == ["malformed"]
    out = Columns()
    src.decode(_Received(f"spBv1.0/{G}/NOPE/e", b"", 0, 0, False, 1, 0), out)
    assert out.rejects.reason == ["malformed"]


def test_mapping_and_skip_unmapped() -> None:
    src = _Offline(mapping={"plant/edge1/Feeder 1/P": "feeder1.p"}, unmapped="skip")
    out = src.feed("NBIRTH", _birth())
    assert out.point_id == ["feeder1.p"]
    assert default_point_id("g", "e", None, "a b/c#") == "g/e/a_b/c_"
    with pytest.raises(InputError, match="group id"):
        SparkplugSource(MqttConfig(), "a/b")


# ----------------------------------------------------------------------- on the broker


def _observer(broker: Broker, topic: str) -> tuple[object, list[bytes]]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    seen: list[bytes] = []
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"obs-{uuid.uuid4().hex}")
    client.on_message = lambda _c, _u, m: seen.append(bytes(m.payload))
    client.on_subscribe = lambda *_a: ready.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    ready.wait(5)
    return client, seen


def test_sparkplug_flow_on_the_broker(mosquitto_broker: Broker, publisher: Publisher) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    config = MqttConfig(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        client_id=f"sp-{group}",
        batch_max_s=0.02,
        drain_timeout_s=1.0,
    )
    src = SparkplugSource(config, group, rebirth_min_interval_s=0.0)
    sink = CollectingSink()
    obs, rebirths = _observer(mosquitto_broker, f"spBv1.0/{group}/NCMD/#")
    base = f"spBv1.0/{group}"
    try:
        with running(src, sink):
            publisher.publish(f"{base}/NBIRTH/edge1", _birth(), qos=0)
            publisher.publish(f"{base}/NDATA/edge1", _data(1, 11.0), qos=0)
            publisher.publish(f"{base}/NDATA/edge1", _data(5, 15.0), qos=0)  # a gap
            publisher.publish(f"{base}/NDATA/edge2", _data(0, 1.0, by_alias=False), qos=0)
            wait_for(lambda: len(sink.values()) == 4, what="4 values")
            wait_for(lambda: len(rebirths) == 2, what="2 rebirth requests")
            publisher.publish(f"{base}/NDEATH/edge1", _death(), qos=1)
            wait_for(lambda: src.counters().extra.get("node_deaths") == 1, what="the death")
    finally:
        obs.loop_stop()  # type: ignore[attr-defined]
        obs.disconnect()  # type: ignore[attr-defined]
    qualities = [int(q) for b in sink.batches for q in b.quality]
    assert qualities == [0, 0, Q, Q]
    assert sink.values()[2] == (f"{group}/edge1/Feeder_1/P", 15.0)
    assert sink.values()[3] == (f"{group}/edge2/Feeder_1/P", 1.0)
    for raw in rebirths:
        assert decode_payload(raw).metrics[0].name == REBIRTH_METRIC
    assert src.stale_points() == [f"{group}/edge1/Feeder_1/P"]
    extra = src.counters().extra
    assert extra["seq_gaps"] == 1
    assert extra["data_before_birth"] == 1
    assert extra["rebirth_requests"] == 2
    assert extra["commands_seen"] == 2  # our own NCMDs, not data
