"""MqttJsonSource: JSON decoding, and the source against a real Mosquitto broker."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline, PipelineConfig
from gridtwin.ingest._mqtt import Columns, JsonDecoder, MqttConfig, MqttJsonSource, iso_to_us
from gridtwin.store import MeasurementPoint, open_store
from tests.ingest.mosquitto import (
    PASSWORD,
    USERNAME,
    Broker,
    CollectingSink,
    Publisher,
    running,
    wait_for,
)

T0_MS = 1_767_603_600_000  # 2026-01-05T09:00:00Z


def _decode(payload: object, topic: str = "twin/x", template: str | None = None) -> Columns:
    out = Columns()
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    JsonDecoder(template).decode(topic, raw, T0_MS * 1000 + 123_456, out)
    return out


# ----------------------------------------------------------------------- decoding


def test_object_list_and_timestamp_forms() -> None:
    out = _decode(
        [
            {"point_id": "a", "ts": "2026-01-05T10:00:00+01:00", "value": 1.5},
            {"point": "b", "ts": T0_MS, "value": 2, "quality": "estimated|questionable"},
            {"point_id": "c", "ts_ms": T0_MS + 1, "value": -3.25, "quality": "valid"},
            {"point_id": "d", "ts": "2026-01-05T09:00:00.000250Z", "value": 0},
        ]
    )
    assert out.point_id == ["a", "b", "c", "d"]
    assert out.ts_us == [T0_MS * 1000, T0_MS * 1000, (T0_MS + 1) * 1000, T0_MS * 1000 + 250]
    assert out.value == [1.5, 2.0, -3.25, 0.0]
    assert out.quality == [0, 5, 0, 0]
    assert not len(out.rejects)
    batch = out.to_batch("mqtt")
    assert batch.ts_utc[0] == np.datetime64("2026-01-05T09:00:00", "us")
    assert np.isnat(batch.source_ts_utc).all()


def test_topic_template_bare_number_and_object() -> None:
    out = _decode(42.5, topic="twin/feeder/7/p", template="twin/{point_id}")
    assert out.point_id == ["feeder/7/p"]
    assert out.value == [42.5]
    assert out.ts_us == [T0_MS * 1000 + 123_000]  # arrival, whole milliseconds
    out = _decode({"value": 1, "ts": T0_MS}, topic="site/p1/v", template="site/{point_id}/v")
    assert out.point_id == ["p1"]
    assert out.ts_us == [T0_MS * 1000]


@pytest.mark.parametrize(
    ("item", "reason", "words"),
    [
        ("not an object", "malformed", "not a JSON object"),
        ({"ts": T0_MS, "value": 1}, "malformed", "point_id"),
        ({"point_id": 7, "ts": T0_MS, "value": 1}, "malformed", "must be a string"),
        ({"point_id": "a", "ts": T0_MS}, "malformed", "'value' is missing"),
        ({"point_id": "a", "ts": T0_MS, "value": "1.5"}, "malformed", "a str, not a number"),
        ({"point_id": "a", "ts": T0_MS, "value": True}, "malformed", "a bool"),
        ({"point_id": "a", "ts": T0_MS, "value": None}, "malformed", "missing"),
        ({"point_id": "a", "ts": "2026-01-05T10:00:00", "value": 1}, "bad_timestamp", "offset"),
        ({"point_id": "a", "ts": "yesterday", "value": 1}, "bad_timestamp", "ISO 8601"),
        ({"point_id": "a", "ts": 1_767_603_600, "value": 1}, "bad_timestamp", "seconds?"),
        ({"point_id": "a", "ts": T0_MS * 1000, "value": 1}, "bad_timestamp", "micro"),
        ({"point_id": "a", "value": 1}, "bad_timestamp", "missing"),
        ({"point_id": "a", "ts": [1], "value": 1}, "bad_timestamp", "a list"),
        ({"point_id": "a", "ts": T0_MS, "value": 1, "quality": "great"}, "bad_quality", "great"),
        ({"point_id": "a", "ts": T0_MS, "value": 1, "quality": 99}, "bad_quality", "valid|"),
    ],
)
def test_bad_item_rejected_and_neighbour_kept(item: object, reason: str, words: str) -> None:
    good = {"point_id": "ok", "ts": T0_MS, "value": 9.0}
    out = _decode([good, item, good], topic="plant/a")
    assert out.point_id == ["ok", "ok"]
    assert out.rejects.reason == [reason]
    assert words in out.rejects.detail[0]
    assert out.rejects.source == ["mqtt:plant/a"]
    assert out.rejects.raw[0] == json.dumps(item)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"12.5", "topic template"),
        (b'"text"', "JSON str"),
        (b"null", "JSON NoneType"),
    ],
)
def test_bad_message_rejected_as_malformed(payload: bytes, words: str) -> None:
    out = _decode(payload)
    assert not len(out)
    assert out.rejects.reason == ["malformed"]
    assert words in out.rejects.detail[0]


def test_raw_is_truncated() -> None:
    out = _decode(b"[" + b"x" * 5000)
    assert len(out.rejects.raw[0]) == 1000


def test_not_finite_value_is_passed_on_for_the_pipeline() -> None:
    """The source decodes; NaN is the pipeline's to reject (``not_finite``)."""
    out = _decode(b'{"point_id": "a", "ts": 1767603600000, "value": NaN}')
    assert np.isnan(out.value[0])


def test_iso_to_us() -> None:
    assert iso_to_us("1970-01-01T00:00:01Z") == 1_000_000
    assert iso_to_us("1970-01-01T01:00:00+01:00") == 0
    assert iso_to_us("1970-01-01T00:00:00") is None
    with pytest.raises(ValueError, match="Invalid"):
        iso_to_us("noon")


# ----------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"port": 0}, "port"),
        ({"qos": 2}, "qos"),
        ({"topics": ("a/#/b",)}, "'#' only"),
        ({"password": "x"}, "needs a username"),
        ({"topic_template": "twin/+"}, "{point_id}"),
        ({"receive_maximum": 70000}, "receive_maximum"),
        ({"batch_max_messages": 0}, "batch_max_messages"),
    ],
)
def test_bad_config_refused(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InputError, match="MQTT settings") as err:
        MqttConfig(**kwargs)  # type: ignore[arg-type]
    assert words in str(err.value)


def test_password_never_shown_and_topics_needed() -> None:
    c = MqttConfig(topics=("a/#",), username="u", password="hunter2")
    assert "hunter2" not in repr(c)
    assert MqttConfig(topic_template="twin/{point_id}").filters() == ("twin/#",)
    assert MqttConfig(topic_template="s/{point_id}/v").filters() == ("s/+/v",)
    with pytest.raises(InputError, match="topic filter"):
        MqttJsonSource(MqttConfig())


# ----------------------------------------------------------------------- the broker


def _config(broker: Broker, ns: str, **kw: object) -> MqttConfig:
    base: dict[str, object] = {
        "host": broker.host,
        "port": broker.port,
        "topics": (f"{ns}/#",),
        "client_id": f"gt-{uuid.uuid4().hex[:10]}",
        "batch_max_s": 0.02,
        "drain_timeout_s": 2.0,
        "reconnect_min_s": 1,
        "reconnect_max_s": 2,
    }
    base.update(kw)
    return MqttConfig(**base)  # type: ignore[arg-type]


def _msg(i: int, n: int = 10, prefix: str = "p") -> str:
    return json.dumps(
        [
            {"point_id": f"{prefix}{k}", "ts": T0_MS + i * 1000, "value": i + k / 10}
            for k in range(n)
        ]
    )


def test_json_messages_become_batches(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str
) -> None:
    src = MqttJsonSource(_config(mosquitto_broker, topic_ns, batch_max_messages=5))
    sink = CollectingSink()
    with running(src, sink):
        for i in range(20):
            publisher.publish(f"{topic_ns}/site{i % 3}", _msg(i))
        wait_for(lambda: len(sink.values()) == 200, what="200 values")
    c = src.counters()
    assert c.messages == 20
    assert c.values == 200
    assert c.acked == 20
    assert 4 <= c.batches <= 20  # at most 5 messages per batch
    assert all(b.source == src.name for b in sink.batches)
    assert sorted(sink.values())[:2] == [("p0", 0.0), ("p0", 1.0)]


def test_malformed_payloads_rejected_on_the_broker(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str
) -> None:
    src = MqttJsonSource(_config(mosquitto_broker, topic_ns))
    sink = CollectingSink()
    good = {"point_id": "ok", "ts": "2026-01-05T09:00:00Z", "value": 1.0}
    with running(src, sink):
        publisher.publish(f"{topic_ns}/bad", b"{oops")
        publisher.publish(f"{topic_ns}/mix", json.dumps([good, {"point_id": "x", "value": 2}]))
        wait_for(lambda: src.counters().messages == 2, what="2 messages")
    assert sink.values() == [("ok", 1.0)]
    rejects = sorted(sink.rejects())
    assert [(r, s) for r, s, _raw, _d in rejects] == [
        ("bad_timestamp", f"mqtt:{topic_ns}/mix"),
        ("malformed", f"mqtt:{topic_ns}/bad"),
    ]
    assert rejects[1][2] == "{oops"
    assert src.counters().rejected_by_reason == {"malformed": 1, "bad_timestamp": 1}
    assert src.counters().acked == 2  # rejects are stored: their messages are acknowledged


def test_unacknowledged_message_is_redelivered_to_the_next_session(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str
) -> None:
    config = _config(mosquitto_broker, topic_ns, drain_timeout_s=0.2)
    # first session: receives, but its batches never become durable (the store died)
    lost = CollectingSink(ack=False)
    first = MqttJsonSource(config)
    with running(first, lost):
        for i in range(5):
            publisher.publish(f"{topic_ns}/s", _msg(i, 2))
        wait_for(lambda: len(lost.values()) == 10, what="10 values")
    assert first.counters().acked == 0
    # the same client id again: the broker delivers the 5 messages again
    sink = CollectingSink()
    second = MqttJsonSource(config)
    with running(second, sink):
        wait_for(lambda: len(sink.values()) == 10, what="the redelivery")
    assert sorted(sink.values()) == sorted(lost.values())
    assert second.counters().redelivered == 5
    assert second.counters().acked == 5
    # acknowledged now: a third session gets nothing more
    third_sink = CollectingSink()
    third = MqttJsonSource(config)
    with running(third, third_sink):
        publisher.publish(f"{topic_ns}/s", _msg(99, 1, prefix="marker"))
        wait_for(lambda: len(third_sink.values()) == 1, what="the marker")
    assert third_sink.values() == [("marker0", 99.0)]


def test_clean_start_drops_the_session(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str
) -> None:
    config = _config(mosquitto_broker, topic_ns, drain_timeout_s=0.2)
    lost = CollectingSink(ack=False)
    with running(MqttJsonSource(config), lost):
        publisher.publish(f"{topic_ns}/s", _msg(1, 1))
        wait_for(lambda: len(lost.values()) == 1, what="1 value")
    sink = CollectingSink()
    fresh = MqttJsonSource(_config(mosquitto_broker, topic_ns, client_id=config.client_id,
                                   clean_start=True))  # fmt: skip
    with running(fresh, sink):
        publisher.publish(f"{topic_ns}/s", _msg(2, 1, prefix="new"))
        wait_for(lambda: len(sink.values()) == 1, what="the new value")
    assert sink.values() == [("new0", 2.0)]


def test_blocking_sink_holds_the_broker_back(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str
) -> None:
    """While ``submit`` blocks, at most the receive window leaves the broker; nothing is
    lost when the sink moves again."""
    gate = threading.Event()
    sink = CollectingSink(block=gate)
    src = MqttJsonSource(
        _config(mosquitto_broker, topic_ns, receive_maximum=4, batch_max_messages=2)
    )
    with running(src, sink):
        for i in range(30):
            publisher.publish(f"{topic_ns}/s", _msg(i, 1))
        wait_for(lambda: src._inbox.qsize() >= 2, what="a full window")
        assert src._inbox.qsize() + 2 <= 4  # the window: 2 in submit, the rest queued
        gate.set()
        wait_for(lambda: len(sink.values()) == 30, what="all 30 values")
    assert sorted(v for _p, v in sink.values()) == [float(i) for i in range(30)]


def test_credentials(mosquitto_broker: Broker, publisher: Publisher, topic_ns: str) -> None:
    if mosquitto_broker.auth_port is None:
        pytest.skip("mosquitto_passwd is missing: no listener with a password file")
    port = mosquitto_broker.auth_port
    good = _config(mosquitto_broker, topic_ns, port=port, username=USERNAME, password=PASSWORD)
    src = MqttJsonSource(good)
    with running(src, CollectingSink()):
        pass
    assert src.counters().connects == 1
    bad = _config(mosquitto_broker, topic_ns, port=port, username=USERNAME, password="wrong")
    with pytest.raises(InputError, match=rf"127\.0\.0\.1:{port}.*refused") as err:
        MqttJsonSource(bad).run(CollectingSink(), threading.Event())
    assert "wrong" not in str(err.value)
    assert USERNAME in str(err.value)
    anonymous = _config(mosquitto_broker, topic_ns, port=port)
    with pytest.raises(InputError, match="refused the connection: Not authorized"):
        MqttJsonSource(anonymous).run(CollectingSink(), threading.Event())


def test_no_broker_is_an_input_error(topic_ns: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        config = MqttConfig(port=port, topics=("a/#",), connect_attempts=2, reconnect_min_s=1)
        with pytest.raises(InputError, match=rf"127\.0\.0\.1:{port}: cannot connect.*running"):
            MqttJsonSource(config).run(CollectingSink(), threading.Event())


# ----------------------------------------------------------------------- end to end


POINTS = 10


def _pipeline(tmp_path: Path) -> Pipeline:
    store = open_store(str(tmp_path / "store"), create=True)
    store.add_points(MeasurementPoint(f"p{k}", "p", "kW", source="mqtt") for k in range(POINTS))
    return Pipeline(store, PipelineConfig(flush_s=0.02))


class _NoAckSink:
    """Stores through the pipeline but drops the durable notice (a crash between the
    commit and the PUBACK)."""

    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe

    def submit(self, batch: object, on_durable: object = None, timeout_s: object = None) -> None:
        self.pipe.submit(batch)  # type: ignore[arg-type]


def test_end_to_end_stored_exactly_once(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str, tmp_path: Path
) -> None:
    n_msgs = 50
    with _pipeline(tmp_path) as pipe:
        src = MqttJsonSource(_config(mosquitto_broker, topic_ns, batch_max_messages=7))
        with running(src, pipe):
            for i in range(n_msgs):
                publisher.publish(f"{topic_ns}/s", _msg(i, POINTS))
            wait_for(lambda: src.counters().acked == n_msgs, what="every message acked")
        counters = pipe.flush()
        info = pipe.store.info()
    assert counters.stored == n_msgs * POINTS
    assert counters.duplicates == 0
    assert info.measurements == n_msgs * POINTS


@pytest.mark.parametrize("crash", ["before_commit", "after_commit"])
def test_end_to_end_redelivery_is_effectively_once(
    mosquitto_broker: Broker, publisher: Publisher, topic_ns: str, tmp_path: Path, crash: str
) -> None:
    n_msgs = 12
    config = _config(mosquitto_broker, topic_ns, drain_timeout_s=0.2)
    with _pipeline(tmp_path) as pipe:
        first_sink = CollectingSink(ack=False) if crash == "before_commit" else _NoAckSink(pipe)
        first = MqttJsonSource(config)
        with running(first, first_sink):
            for i in range(n_msgs):
                publisher.publish(f"{topic_ns}/s", _msg(i, POINTS))
            wait_for(lambda: first.counters().messages == n_msgs, what="the first delivery")
        pipe.flush()
        second = MqttJsonSource(config)
        with running(second, pipe):
            wait_for(lambda: second.counters().acked == n_msgs, what="the redelivery acked")
        counters = pipe.flush()
        info = pipe.store.info()
        frame = pipe.store.window(None, _ts(T0_MS - 1), _ts(T0_MS + n_msgs * 1000))
    assert second.counters().redelivered == n_msgs
    assert info.measurements == n_msgs * POINTS  # no loss, no second row
    assert len(frame) == n_msgs * POINTS
    assert counters.stored == n_msgs * POINTS
    assert counters.duplicates == (n_msgs * POINTS if crash == "after_commit" else 0)


def _ts(ms: int) -> object:
    import pandas as pd

    return pd.Timestamp(ms, unit="ms", tz="UTC")
