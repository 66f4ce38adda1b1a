"""Live telemetry over MQTT: plain JSON topics, acknowledged only once stored.

:class:`MqttJsonSource` subscribes to topic filters with QoS 1 and **manual
acknowledgement**: a message is acknowledged (PUBACK) only from the ``on_durable`` callback
the sink calls after the batch holding it is committed. A message whose batch never became
durable (a crash, a stop before the write) is not acknowledged, so the broker delivers it
again to the next session of the same client id (a persistent session: ``clean_start``
false, a session expiry). The store drops a value equal to one already stored for the same
key, so redelivery stores nothing twice: effectively-once storage.

Payloads (UTF-8 JSON), one measurement or a list of them::

    {"point_id": "load.1.p", "ts": "2026-01-05T10:00:00+01:00", "value": 12.5}
    [{"point": "load.1.p", "ts_ms": 1767603600000, "value": 12.5, "quality": "estimated"}]

``point_id`` (or ``point``); ``ts`` as ISO 8601 with an offset (``Z`` or ``+01:00``) or a
number of milliseconds since 1970 UTC, or ``ts_ms``; ``value`` a JSON number;
``quality`` optional (``valid``, ``estimated``, ``substituted``, ``questionable``, or
several joined by ``|``). With a topic template such as ``twin/{point_id}`` the point comes
from the topic and the payload may be a bare number (time = arrival) or an object without
``point_id``. What cannot be decoded (bad JSON, a missing field, a naive timestamp, a
string where a number belongs) becomes a reject (``malformed``, ``bad_timestamp``,
``bad_quality``) with the topic as source and the input as raw text; the valid items of
the same message still go through.

Messages are batched (up to ``batch_max_messages`` or ``batch_max_s``) before they are
submitted; while the sink blocks (its queue is full), no more messages are taken from the
client, the window of unacknowledged messages (``receive_maximum``) fills and the broker
holds the rest. Connection losses are retried by paho with a back-off and counted; a broker
that refuses the connection (bad credentials, not authorised) is an
:class:`~gridtwin.errors.InputError` naming ``host:port`` and the broker's reason.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

import numpy as np

from gridtwin.errors import InputError
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import Quality, RejectBatch, RejectReason

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

__all__ = ["MqttConfig", "MqttCounters", "MqttJsonSource"]

_NAT_US = int(np.iinfo(np.int64).min)  # int64 µs that view as NaT
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
#: Epoch milliseconds below this (1973-03-03) are almost certainly seconds.
_MIN_EPOCH_MS = 100_000_000_000
#: ... and above this (year 5138) microseconds or nanoseconds.
_MAX_EPOCH_MS = 100_000_000_000_000
#: CONNACK reasons after which retrying is pointless (MQTT 5 codes; paho maps 3.1.1's).
_FATAL_CONNACK = {0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}


@dataclass(frozen=True)
class MqttConfig:
    """How to reach the broker, what to subscribe to and how to batch.

    Attributes
    ----------
    host : str
    port : int
        1883 plain, usually 8883 with TLS.
    topics : tuple of str
        Topic filters (``+`` and ``#`` allowed); with a ``topic_template`` and no
        filters, the filter is derived from the template.
    qos : int
        1 (at least once, acknowledged after storage) or 0 (nothing to redeliver).
    client_id : str
        The session's identity at the broker. With an id and ``clean_start`` false the
        session persists while the client is away (``session_expiry_s``) and
        unacknowledged messages are redelivered; ``""`` makes a random id (nothing
        survives a restart).
    clean_start : bool
        Start a fresh session (drops what the broker kept for the id).
    session_expiry_s : int
        How long [s] the broker keeps the session after a disconnect (MQTT 5).
    username, password : str or None
        Credentials; the password is never shown in messages or ``repr``.
    tls : bool
        Connect with TLS (system CA certificates unless ``tls_ca_file``).
    tls_ca_file, tls_cert_file, tls_key_file : str or None
        CA bundle, client certificate and key (PEM).
    tls_insecure : bool
        Skip the host name check (test setups only).
    protocol : {"5", "3.1.1"}
        MQTT version. With 3.1.1 the broker's own in-flight limit (Mosquitto's
        ``max_inflight_messages``, 20 by default) caps the unacknowledged window.
    keepalive_s : int
    batch_max_messages : int
        Messages per submitted batch at most.
    batch_max_s : float
        A batch is submitted at the latest this long [s] after its first message.
    receive_maximum : int
        Unacknowledged messages the broker may send ahead (MQTT 5 Receive Maximum,
        1-65535); the back-pressure window.
    reconnect_min_s, reconnect_max_s : int
        Back-off [s] between reconnection attempts (doubling).
    connect_attempts : int
        Attempts of the first connection before giving up with an InputError.
    connect_timeout_s : float
        Wait [s] for the broker's answer to a connection attempt.
    drain_timeout_s : float
        On stop, wait at most this long [s] for the last batches to become durable (their
        messages are acknowledged; the rest is redelivered next time).
    submit_timeout_s : float or None
        Passed to ``Sink.submit``: None waits as long as the store needs.
    topic_template : str or None
        ``prefix/{point_id}[/suffix]``: the point id is taken from the topic.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    topics: tuple[str, ...] = ()
    qos: int = 1
    client_id: str = ""
    clean_start: bool = False
    session_expiry_s: int = 86_400
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_insecure: bool = False
    protocol: Literal["5", "3.1.1"] = "5"
    keepalive_s: int = 30
    batch_max_messages: int = 200
    batch_max_s: float = 0.05
    receive_maximum: int = 10_000
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30
    connect_attempts: int = 3
    connect_timeout_s: float = 10.0
    drain_timeout_s: float = 10.0
    submit_timeout_s: float | None = None
    topic_template: str | None = None

    def __post_init__(self) -> None:
        problems = _config_problems(self)
        if problems:
            raise InputError("MQTT settings: " + "; ".join(problems))

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    def filters(self) -> tuple[str, ...]:
        """The topic filters to subscribe to."""
        if self.topics:
            return self.topics
        if self.topic_template:
            return (_template_filter(self.topic_template),)
        return ()


def _config_problems(c: MqttConfig) -> list[str]:
    out: list[str] = []
    if not c.host:
        out.append("host is empty")
    if not 0 < c.port < 65536:
        out.append(f"port {c.port} must be 1-65535")
    if c.qos not in (0, 1):
        out.append(f"qos {c.qos} must be 0 or 1")
    if c.protocol not in ("5", "3.1.1"):
        out.append(f"protocol {c.protocol!r} must be '5' or '3.1.1'")
    for name in ("batch_max_messages", "connect_attempts", "keepalive_s"):
        if getattr(c, name) < 1:
            out.append(f"{name} must be at least 1")
    if not 1 <= c.receive_maximum <= 65535:
        out.append("receive_maximum must be 1-65535")
    for name in ("batch_max_s", "connect_timeout_s", "drain_timeout_s"):
        if not getattr(c, name) >= 0:
            out.append(f"{name} must be >= 0 [s]")
    if not 0 < c.reconnect_min_s <= c.reconnect_max_s:
        out.append("reconnect_min_s must be > 0 and <= reconnect_max_s")
    for t in c.topics:
        if not t or ("#" in t and not (t == "#" or t.endswith("/#"))):
            out.append(f"topic filter {t!r} is not valid ('#' only as the last level)")
    if c.topic_template is not None and c.topic_template.count("{point_id}") != 1:
        out.append("topic_template must contain '{point_id}' once, e.g. 'twin/{point_id}'")
    if c.password is not None and c.username is None:
        out.append("a password needs a username")
    return out


def _template_filter(template: str) -> str:
    head, tail = template.split("{point_id}")
    return head + ("#" if not tail else "+" + tail)


def _template_regex(template: str) -> re.Pattern[str]:
    head, tail = template.split("{point_id}")
    return re.compile("^" + re.escape(head) + "(?P<point_id>.+)" + re.escape(tail) + "$")


# ----------------------------------------------------------------------- counters


@dataclass(frozen=True)
class MqttCounters:
    """A snapshot of an MQTT source's counters.

    Attributes
    ----------
    messages : int
        Messages received (redeliveries included).
    redelivered : int
        Of ``messages``, those the broker flagged as a repeat (DUP).
    values : int
        Measurements decoded and submitted.
    rejected_by_reason : dict of str to int
        Inputs the source could not decode.
    batches : int
        Batches submitted.
    acked : int
        Messages acknowledged after their batch was durable.
    not_acked_stale : int
        Messages whose batch became durable after the connection they came on was lost
        (not acknowledged: the broker redelivers them, the store de-duplicates).
    connects, reconnects, disconnects : int
        Successful connections, of which after the first, and connection losses.
    last_disconnect : str
        The reason of the last connection loss ('' if none).
    extra : dict of str to int
        Counters of the payload format (Sparkplug births, deaths, sequence gaps, ...).
    """

    messages: int = 0
    redelivered: int = 0
    values: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    acked: int = 0
    not_acked_stale: int = 0
    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    last_disconnect: str = ""
    extra: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------- columns


class Columns:
    """Decoded values and rejects of one batch, gathered as Python lists."""

    __slots__ = ("point_id", "quality", "rejects", "source_ts_us", "ts_us", "value")

    def __init__(self) -> None:
        self.point_id: list[str] = []
        self.ts_us: list[int] = []
        self.value: list[float] = []
        self.quality: list[int] = []
        self.source_ts_us: list[int] = []
        self.rejects = RejectBatch()

    def add(
        self, point_id: str, ts_us: int, value: float, quality: int = 0, source_us: int = _NAT_US
    ) -> None:
        """One decoded value (times as int64 µs since 1970 UTC)."""
        self.point_id.append(point_id)
        self.ts_us.append(ts_us)
        self.value.append(value)
        self.quality.append(quality)
        self.source_ts_us.append(source_us)

    def reject(
        self,
        reason: RejectReason,
        detail: str,
        source: str,
        raw: str,
        point_id: str | None = None,
        value: float = math.nan,
    ) -> None:
        """One input that could not be decoded."""
        self.rejects.add(
            reason, detail, source=source, raw=raw[:1000], point_id=point_id, value=value
        )

    def __len__(self) -> int:
        return len(self.point_id)

    def to_batch(self, source: str) -> RawBatch:
        """The gathered values as a :class:`RawBatch`."""
        return RawBatch.build(
            self.point_id,
            np.asarray(self.ts_us, dtype=np.int64),
            self.value,
            quality=np.asarray(self.quality, dtype=np.uint8),
            source_ts_utc=np.asarray(self.source_ts_us, dtype=np.int64).view("datetime64[us]"),
            source=source,
            rejects=self.rejects,
        )


# ----------------------------------------------------------------------- JSON decoding


def iso_to_us(text: str) -> int | None:
    """ISO 8601 text with an offset → µs since 1970 UTC; None for a naive time.

    Raises ``ValueError`` if the text is not ISO 8601.
    """
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None or dt.utcoffset() is None:
        return None
    return (dt - _EPOCH) // _ONE_US


def _is_number(v: object) -> TypeGuard[int | float]:
    return type(v) is float or type(v) is int  # not bool


class JsonDecoder:
    """Decodes the JSON payloads of the module docstring into :class:`Columns`."""

    def __init__(self, topic_template: str | None = None) -> None:
        self._template = _template_regex(topic_template) if topic_template else None
        self._quality_cache: dict[str, int] = {}

    def decode(self, topic: str, payload: bytes, arrival_us: int, out: Columns) -> None:
        """Decode one message; values and rejects go to ``out``."""
        src = "mqtt:" + topic
        topic_pid = None
        if self._template is not None:
            m = self._template.match(topic)
            topic_pid = m.group("point_id") if m else None
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raw = payload[:1000].decode("utf-8", errors="replace")
            out.reject("malformed", f"not JSON: {exc}", src, raw, topic_pid)
            return
        if isinstance(doc, list):
            ts_cache: dict[str, int | None] = {}
            for item in doc:
                self._item(item, topic_pid, src, out, ts_cache)
        elif isinstance(doc, dict):
            self._item(doc, topic_pid, src, out, {})
        elif _is_number(doc) and topic_pid is not None:
            out.add(topic_pid, arrival_us - arrival_us % 1000, float(doc))
        else:
            how = "a bare number needs a topic template" if _is_number(doc) else "unexpected"
            raw = payload[:1000].decode("utf-8", errors="replace")
            detail = f"payload is a JSON {type(doc).__name__} ({how}); send an object or a list"
            out.reject("malformed", detail, src, raw, topic_pid)

    def _item(
        self,
        obj: Any,
        topic_pid: str | None,
        src: str,
        out: Columns,
        ts_cache: dict[str, int | None],
    ) -> None:
        if type(obj) is not dict:
            out.reject("malformed", "a list item is not a JSON object", src, _dump(obj))
            return
        pid = obj.get("point_id", obj.get("point", topic_pid))
        if type(pid) is not str or not pid:
            detail = "'point_id' (a non-empty string) is missing"
            out.reject(
                "malformed",
                detail if pid is None else "'point_id' must be a string",
                src,
                _dump(obj),
            )
            return
        value = obj.get("value")
        if not _is_number(value):
            what = "missing" if value is None else f"a {type(value).__name__}, not a number"
            out.reject("malformed", f"'value' is {what}", src, _dump(obj), pid)
            return
        ts_us = self._ts(obj, ts_cache, src, out, pid)
        if ts_us is None:
            return
        quality = 0
        q = obj.get("quality")
        if q is not None:
            quality = self._quality(q, obj, src, out, pid)
            if quality < 0:
                return
        out.add(pid, ts_us, float(value), quality)

    def _ts(
        self, obj: dict[str, Any], cache: dict[str, int | None], src: str, out: Columns, pid: str
    ) -> int | None:
        ts = obj.get("ts", obj.get("ts_ms"))
        if type(ts) is str:
            if ts in cache:
                us = cache[ts]
            else:
                try:
                    us = cache[ts] = iso_to_us(ts)
                except ValueError:
                    out.reject(
                        "bad_timestamp", f"'ts' {ts!r} is not ISO 8601", src, _dump(obj), pid
                    )
                    return None
            if us is None:
                detail = f"'ts' {ts!r} has no UTC offset; add 'Z' or '+01:00'"
                out.reject("bad_timestamp", detail, src, _dump(obj), pid)
            return us
        if _is_number(ts) and math.isfinite(ts):
            if _MIN_EPOCH_MS <= ts < _MAX_EPOCH_MS:
                return round(ts * 1000)
            hint = "seconds?" if ts < _MIN_EPOCH_MS else "micro- or nanoseconds?"
            detail = f"'ts' {ts} is not plausible as milliseconds since 1970 ({hint})"
            out.reject("bad_timestamp", detail, src, _dump(obj), pid)
            return None
        what = "missing" if ts is None else f"a {type(ts).__name__}"
        detail = f"'ts' is {what}; give ISO 8601 with an offset or milliseconds since 1970"
        out.reject("bad_timestamp", detail, src, _dump(obj), pid)
        return None

    def _quality(self, q: object, obj: dict[str, Any], src: str, out: Columns, pid: str) -> int:
        if type(q) is str:
            hit = self._quality_cache.get(q)
            if hit is not None:
                return hit
            try:
                bits = self._quality_cache[q] = int(Quality.parse(q))
            except InputError as exc:
                out.reject("bad_quality", str(exc), src, _dump(obj), pid)
                return -1
            return bits
        if type(q) is int and 0 <= q <= 7:  # the bits of Quality
            return q
        detail = "'quality' must be valid|estimated|substituted|questionable"
        out.reject("bad_quality", detail, src, _dump(obj), pid)
        return -1


def _dump(obj: object) -> str:
    try:
        return json.dumps(obj, allow_nan=True)[:1000]
    except (TypeError, ValueError):
        return repr(obj)[:1000]


# ----------------------------------------------------------------------- the transport


@dataclass
class _Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool
    generation: int
    arrival_us: int


class MqttSourceBase:
    """The transport of the MQTT sources: connect, subscribe, batch, acknowledge when durable.

    Subclasses implement :meth:`decode` (and may extend :meth:`filters` and
    :meth:`on_connected`).
    """

    def __init__(self, config: MqttConfig, name: str | None = None) -> None:
        self.config = config
        self.name = name or f"mqtt:{config.address}"
        self._lock = threading.Condition()
        self._last_disconnect = ""
        self._counts: dict[str, int] = {}
        self._extra: dict[str, int] = {}
        self._rejected: dict[str, int] = {}
        self._generation = 0
        self._outstanding = 0
        self._fatal = ""
        self._closing = False
        self._connected = threading.Event()
        self._client: mqtt.Client | None = None
        self._inbox: queue.Queue[_Received] = queue.Queue(maxsize=config.receive_maximum)

    # -- for subclasses

    def filters(self) -> tuple[str, ...]:
        """The topic filters to subscribe to."""
        return self.config.filters()

    def decode(self, msg: _Received, out: Columns) -> None:
        """Decode one message into ``out``."""
        raise NotImplementedError

    def on_connected(self, client: mqtt.Client) -> None:
        """Called (from paho's thread) after each successful connection."""

    def count(self, name: str, n: int = 1) -> None:
        """Add to a format counter (:attr:`MqttCounters.extra`)."""
        with self._lock:
            self._extra[name] = self._extra.get(name, 0) + n

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> bool:
        """Publish (e.g. a Sparkplug rebirth request); False when not connected."""
        client = self._client
        if client is None or not client.is_connected():
            return False
        info = client.publish(topic, payload, qos=qos)
        return info.rc == 0

    # -- counters

    def counters(self) -> MqttCounters:
        """The counters now."""
        with self._lock:
            c = self._counts
            return MqttCounters(
                messages=c.get("messages", 0),
                redelivered=c.get("redelivered", 0),
                values=c.get("values", 0),
                rejected_by_reason=dict(self._rejected),
                batches=c.get("batches", 0),
                acked=c.get("acked", 0),
                not_acked_stale=c.get("not_acked_stale", 0),
                connects=c.get("connects", 0),
                reconnects=max(0, c.get("connects", 0) - 1),
                disconnects=c.get("disconnects", 0),
                last_disconnect=self._last_disconnect,
                extra=dict(self._extra),
            )

    def _add(self, name: str, n: int = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + n

    # -- paho callbacks (paho's network thread)

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            with self._lock:
                if rc.value in _FATAL_CONNACK:
                    self._fatal = f"the broker refused the connection: {rc.getName()}"
                    if self.config.username:
                        self._fatal += f" (user {self.config.username!r})"
                self._lock.notify_all()
            return
        with self._lock:
            self._generation += 1
            self._add("connects")
            self._lock.notify_all()
        if not flags.session_present or self.config.clean_start:
            self._subscribe(client)
        self._connected.set()
        self.on_connected(client)

    def _subscribe(self, client: mqtt.Client) -> None:
        from paho.mqtt.subscribeoptions import SubscribeOptions

        q = self.config.qos
        if self.config.protocol == "5":
            client.subscribe([(f, SubscribeOptions(qos=q)) for f in self.filters()])
        else:
            client.subscribe([(f, q) for f in self.filters()])

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, rc: Any, _p: Any) -> None:
        self._connected.clear()
        with self._lock:
            self._add("disconnects")
            self._last_disconnect = str(rc)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        item = _Received(
            msg.topic,
            bytes(msg.payload),
            msg.mid,
            msg.qos,
            bool(msg.dup),
            self._generation,
            time.time_ns() // 1000,
        )
        while not self._closing:  # a full inbox holds paho's thread: back-pressure
            try:
                self._inbox.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        # closing: not taken, not acknowledged; the broker delivers it again next session

    # -- running

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Receive, decode and submit until ``stop`` is set (see the module docstring)."""
        client = self._make_client()
        self._client = client
        self._closing = False
        try:
            self._connect(client, stop)
            self._loop(sink, stop)
        finally:
            self._closing = True
            self._drain_acks()
            with contextlib.suppress(Exception):
                client.disconnect()
            client.loop_stop()
            self._client = None

    def _make_client(self) -> mqtt.Client:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        c = self.config
        v5 = c.protocol == "5"
        client_id = c.client_id or f"gridtwin-{uuid.uuid4().hex[:12]}"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if v5 else (c.clean_start or not c.client_id),
            manual_ack=True,
        )
        if c.username is not None:
            client.username_pw_set(c.username, c.password)
        if c.tls:
            client.tls_set(ca_certs=c.tls_ca_file, certfile=c.tls_cert_file, keyfile=c.tls_key_file)
            client.tls_insecure_set(c.tls_insecure)
        client.reconnect_delay_set(c.reconnect_min_s, c.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Any:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        persistent = bool(self.config.client_id) and not self.config.clean_start
        props.SessionExpiryInterval = self.config.session_expiry_s if persistent else 0
        props.ReceiveMaximum = self.config.receive_maximum
        return props

    def _connect(self, client: mqtt.Client, stop: threading.Event) -> None:
        """The first connection: retried ``connect_attempts`` times, then an InputError."""
        c = self.config
        v5 = c.protocol == "5"
        pause_s = float(c.reconnect_min_s)
        last = ""
        for attempt in range(1, c.connect_attempts + 1):
            try:
                if v5:
                    clean = c.clean_start or not c.client_id
                    client.connect(
                        c.host, c.port, c.keepalive_s,
                        clean_start=clean, properties=self._connect_properties(),
                    )  # fmt: skip
                else:
                    client.connect(c.host, c.port, c.keepalive_s)
            except OSError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                client.loop_start()
                if self._await_connack(stop):
                    return
                client.loop_stop()
                last = self._fatal or f"no answer within {c.connect_timeout_s:g} s"
                if self._fatal:
                    break
            if attempt < c.connect_attempts and not stop.wait(pause_s):
                pause_s = min(pause_s * 2, float(c.reconnect_max_s))
        msg = f"MQTT broker {c.address}: cannot connect: {last}"
        if not self._fatal:
            msg += " (is the broker running, and are host and port right?)"
        raise InputError(msg)

    def _await_connack(self, stop: threading.Event) -> bool:
        deadline = time.monotonic() + self.config.connect_timeout_s
        with self._lock:
            while not self._connected.is_set() and not self._fatal:
                left = deadline - time.monotonic()
                if left <= 0 or stop.is_set():
                    return False
                self._lock.wait(min(left, 0.1))
            return not self._fatal

    def _loop(self, sink: Sink, stop: threading.Event) -> None:
        c = self.config
        pending: list[_Received] = []
        first_at = 0.0
        while True:
            if self._fatal:
                msg = f"MQTT broker {c.address}: {self._fatal}"
                raise InputError(msg)
            stopping = stop.is_set()
            if stopping:
                self._closing = True  # paho's thread takes no more into the inbox
            wait_s = 0.1 if not pending else max(0.0, first_at + c.batch_max_s - time.monotonic())
            try:
                item = self._inbox.get(timeout=wait_s) if not stopping else self._inbox.get_nowait()
            except queue.Empty:
                item = None
            if item is not None:
                if not pending:
                    first_at = time.monotonic()
                pending.append(item)
                while len(pending) < c.batch_max_messages:
                    try:
                        pending.append(self._inbox.get_nowait())
                    except queue.Empty:
                        break
            due = time.monotonic() >= first_at + c.batch_max_s
            if pending and (len(pending) >= c.batch_max_messages or due or item is None):
                self._submit(sink, pending)
                pending = []
            if stopping and item is None:
                return

    def _submit(self, sink: Sink, msgs: list[_Received]) -> None:
        out = Columns()
        for m in msgs:
            self.decode(m, out)
        batch = out.to_batch(self.name)
        with self._lock:
            self._add("messages", len(msgs))
            self._add("redelivered", sum(m.dup for m in msgs))
            self._add("values", len(batch))
            self._add("batches")
            for reason, n in batch.rejects.counts().items():
                self._rejected[reason] = self._rejected.get(reason, 0) + n
            self._outstanding += 1
        on_durable = self._acker([(m.mid, m.qos, m.generation) for m in msgs if m.qos > 0])
        if not len(batch) and not len(batch.rejects):
            on_durable()  # nothing to store (an empty list): acknowledge at once
            return
        try:
            sink.submit(batch, on_durable, self.config.submit_timeout_s)
        except BaseException:
            with self._lock:
                self._outstanding -= 1
                self._lock.notify_all()
            raise

    def _acker(self, acks: list[tuple[int, int, int]]) -> Callable[[], None]:
        def on_durable() -> None:
            client = self._client
            with self._lock:
                gen = self._generation
                self._outstanding -= 1
                self._lock.notify_all()
            done = stale = 0
            for mid, qos, generation in acks:
                # a message of an earlier connection: its mid may be reused by now;
                # the broker redelivers it on this connection and that copy is acked
                if generation != gen or client is None:
                    stale += 1
                    continue
                client.ack(mid, qos)
                done += 1
            with self._lock:
                self._add("acked", done)
                self._add("not_acked_stale", stale)

        return on_durable

    def _drain_acks(self) -> None:
        deadline = time.monotonic() + self.config.drain_timeout_s
        with self._lock:
            while self._outstanding > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._lock.wait(left)


class MqttJsonSource(MqttSourceBase):
    """Measurements as JSON over MQTT (see the module docstring).

    Parameters
    ----------
    config : MqttConfig
        The broker, the topic filters (or ``topic_template``) and the batching.
    name : str, optional
        For counters and messages; ``mqtt:<host>:<port>`` by default.
    """

    def __init__(self, config: MqttConfig, name: str | None = None) -> None:
        if not config.filters():
            msg = "MQTT: give at least one topic filter (e.g. 'twin/#') or a topic template"
            raise InputError(msg)
        super().__init__(config, name)
        self._decoder = JsonDecoder(config.topic_template)

    def decode(self, msg: _Received, out: Columns) -> None:
        """Decode one JSON message."""
        self._decoder.decode(msg.topic, msg.payload, msg.arrival_us, out)
