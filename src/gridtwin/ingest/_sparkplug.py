"""Sparkplug B over MQTT: the payload codec and a source that follows births and deaths.

**Codec.** :func:`encode_payload` / :func:`decode_payload` read and write the Sparkplug B
``Payload`` protobuf message (``timestamp`` 1, ``metrics`` 2, ``seq`` 3, ``uuid`` 4,
``body`` 5; per metric ``name`` 1, ``alias`` 2, ``timestamp`` 3, ``datatype`` 4,
``is_historical`` 5, ``is_transient`` 6, ``is_null`` 7, and the value fields 10-16) with a
small protobuf wire-format reader and writer of our own: no generated code, no protobuf
runtime. Metadata, property sets, data sets and templates are skipped when read and never
written. Signed integers travel as two's complement in the unsigned ``int_value`` /
``long_value`` fields and are sign-extended by their datatype's width when read.

**Source.** :class:`SparkplugSource` subscribes to ``spBv1.0/<group>/#`` and keeps, per
edge node, the NBIRTH (metric names and aliases, ``bdSeq``), the devices' DBIRTHs and the
sequence number ``seq`` (0-255, wrapping). Values of NBIRTH, DBIRTH, NDATA and DDATA are
stored; ``bdSeq``, ``Node Control/*`` and ``Properties/*`` metrics, and metrics that are
not numbers (strings, bytes, data sets, date-times) or are null, are counted and skipped.
When a sequence number is missing (a gap) or data comes from a node whose birth was not
seen, the values are stored with ``Quality.QUESTIONABLE`` (values sent by alias only
cannot be named and are rejected as ``unknown_point``) and a rebirth is requested (an
``NCMD`` with ``Node Control/Rebirth`` = true); values stay questionable until the new
NBIRTH. An NDEATH whose ``bdSeq`` matches the birth's (or a DDEATH) marks the node's (the
device's) points stale: counted and listed by :meth:`SparkplugSource.stale_points`; the
store gets no value for it (nothing is fabricated). Point ids are
``<group>/<edge>[/<device>]/<metric name>`` with characters outside ``A-Za-z0-9_.:/-``
replaced by ``_``, or taken from an explicit mapping. Timestamps are milliseconds since
1970 UTC (the metric's, else the payload's).
"""

from __future__ import annotations

import re
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from gridtwin.errors import InputError
from gridtwin.ingest._mqtt import Columns, MqttConfig, MqttSourceBase, _Received
from gridtwin.store._model import Quality

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

__all__ = [
    "DataType",
    "Metric",
    "Payload",
    "SparkplugSource",
    "decode_payload",
    "encode_payload",
    "rebirth_payload",
]

NAMESPACE = "spBv1.0"
REBIRTH_METRIC = "Node Control/Rebirth"


class DataType:
    """Sparkplug B datatype numbers (the ones a value can be read from)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19


_INT_VALUE = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.UINT8: 0,
              DataType.UINT16: 0, DataType.UINT32: 0}  # fmt: skip
_LONG_VALUE = {DataType.INT64: 64, DataType.UINT64: 0, DataType.DATETIME: 0}
_STRING_TYPES = (DataType.STRING, DataType.TEXT, DataType.UUID)
_BYTES_TYPES = (DataType.BYTES, DataType.FILE)
_NUMERIC = (*_INT_VALUE, DataType.INT64, DataType.UINT64, DataType.FLOAT, DataType.DOUBLE,
            DataType.BOOLEAN)  # fmt: skip

Value = int | float | bool | str | bytes | None


@dataclass
class Metric:
    """One Sparkplug metric (``timestamp_ms`` in ms since 1970 UTC)."""

    name: str | None = None
    alias: int | None = None
    timestamp_ms: int | None = None
    datatype: int = DataType.UNKNOWN
    is_historical: bool = False
    is_transient: bool = False
    is_null: bool = False
    value: Value = None


@dataclass
class Payload:
    """A Sparkplug B payload (``timestamp_ms`` in ms since 1970 UTC; ``seq`` 0-255)."""

    timestamp_ms: int | None = None
    metrics: list[Metric] = field(default_factory=list)
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None


# ----------------------------------------------------------------------- wire format


def _varint(n: int) -> bytes:
    if n < 0:
        n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field_no: int, wire: int) -> bytes:
    return _varint(field_no << 3 | wire)


def _len_field(field_no: int, data: bytes) -> bytes:
    return _key(field_no, 2) + _varint(len(data)) + data


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            msg = "truncated varint"
            raise ValueError(msg)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            msg = "varint longer than 10 bytes"
            raise ValueError(msg)


def _fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """The (field number, wire type, value) of a message: ints for varint and fixed
    fields (raw bits), bytes for length-delimited ones. Raises ValueError when malformed."""
    out: list[tuple[int, int, int | bytes]] = []
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if field_no == 0:
            msg = "field number 0"
            raise ValueError(msg)
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            out.append((field_no, wire, value))
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > end:
                msg = "truncated fixed-size field"
                raise ValueError(msg)
            out.append((field_no, wire, int.from_bytes(buf[pos : pos + size], "little")))
            pos += size
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            if pos + size > end:
                msg = "truncated length-delimited field"
                raise ValueError(msg)
            out.append((field_no, wire, bytes(buf[pos : pos + size])))
            pos += size
        else:
            msg = f"unsupported wire type {wire}"
            raise ValueError(msg)
    return out


def _signed(n: int, bits: int) -> int:
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >> (bits - 1) else n


# ----------------------------------------------------------------------- encode


def _encode_value(m: Metric) -> bytes:
    v, dt = m.value, m.datatype
    if m.is_null or v is None:
        return b""
    if dt in _INT_VALUE and isinstance(v, int):
        return _key(10, 0) + _varint(int(v) & 0xFFFFFFFF)
    if dt in _LONG_VALUE and isinstance(v, int):
        return _key(11, 0) + _varint(int(v) & 0xFFFFFFFFFFFFFFFF)
    if dt == DataType.FLOAT and isinstance(v, int | float):
        return _key(12, 5) + struct.pack("<f", float(v))
    if dt == DataType.DOUBLE and isinstance(v, int | float):
        return _key(13, 1) + struct.pack("<d", float(v))
    if dt == DataType.BOOLEAN and isinstance(v, bool | int):
        return _key(14, 0) + _varint(int(bool(v)))
    if dt in _STRING_TYPES and isinstance(v, str):
        return _len_field(15, v.encode())
    if dt in _BYTES_TYPES and isinstance(v, bytes):
        return _len_field(16, v)
    msg = f"metric {m.name or m.alias!r}: value {v!r} does not fit datatype {dt}"
    raise InputError(msg)


def _encode_metric(m: Metric) -> bytes:
    out = bytearray()
    if m.name is not None:
        out += _len_field(1, m.name.encode())
    if m.alias is not None:
        out += _key(2, 0) + _varint(m.alias)
    if m.timestamp_ms is not None:
        out += _key(3, 0) + _varint(m.timestamp_ms)
    out += _key(4, 0) + _varint(m.datatype)
    for no, flag in ((5, m.is_historical), (6, m.is_transient), (7, m.is_null)):
        if flag:
            out += _key(no, 0) + b"\x01"
    out += _encode_value(m)
    return bytes(out)


def encode_payload(p: Payload) -> bytes:
    """The protobuf bytes of a Sparkplug B payload."""
    out = bytearray()
    if p.timestamp_ms is not None:
        out += _key(1, 0) + _varint(p.timestamp_ms)
    for m in p.metrics:
        out += _len_field(2, _encode_metric(m))
    if p.seq is not None:
        out += _key(3, 0) + _varint(p.seq)
    if p.uuid is not None:
        out += _len_field(4, p.uuid.encode())
    if p.body is not None:
        out += _len_field(5, p.body)
    return bytes(out)


def rebirth_payload(timestamp_ms: int) -> bytes:
    """An NCMD payload asking an edge node for a rebirth."""
    metric = Metric(REBIRTH_METRIC, None, timestamp_ms, DataType.BOOLEAN, value=True)
    return encode_payload(Payload(timestamp_ms, [metric]))


# ----------------------------------------------------------------------- decode


def _text(v: int | bytes) -> str:
    if not isinstance(v, bytes):
        msg = "a string field has a numeric wire type"
        raise ValueError(msg)
    return v.decode("utf-8")


def _num(v: int | bytes) -> int:
    if isinstance(v, bytes):
        msg = "a numeric field is length-delimited"
        raise ValueError(msg)
    return v


def _decode_value(no: int, v: int | bytes, datatype: int) -> Value:
    if no == 10:
        bits = _INT_VALUE.get(datatype, 0)
        return _signed(_num(v), bits) if bits else _num(v) & 0xFFFFFFFF
    if no == 11:
        bits = _LONG_VALUE.get(datatype, 0)
        return _signed(_num(v), bits) if bits else _num(v)
    if no == 12:
        return float(struct.unpack("<f", _num(v).to_bytes(4, "little"))[0])
    if no == 13:
        return float(struct.unpack("<d", _num(v).to_bytes(8, "little"))[0])
    if no == 14:
        return bool(_num(v))
    if no == 15:
        return _text(v)
    if not isinstance(v, bytes):
        msg = "bytes_value has a numeric wire type"
        raise ValueError(msg)
    return v


def _decode_metric(buf: bytes) -> Metric:
    m = Metric()
    values: list[tuple[int, int | bytes]] = []
    for no, _wire, v in _fields(buf):
        if no == 1:
            m.name = _text(v)
        elif no == 2:
            m.alias = _num(v)
        elif no == 3:
            m.timestamp_ms = _num(v)
        elif no == 4:
            m.datatype = _num(v)
        elif no in (5, 6, 7):
            setattr(m, ("is_historical", "is_transient", "is_null")[no - 5], bool(_num(v)))
        elif 10 <= no <= 16:
            values.append((no, v))
        # 8 metadata, 9 properties, 17-19 data set / template / extension: skipped
    if values and not m.is_null:
        m.value = _decode_value(*values[-1], m.datatype)
    return m


def decode_payload(data: bytes) -> Payload:
    """A Sparkplug B payload from its protobuf bytes; ``ValueError`` when malformed."""
    p = Payload()
    for no, _wire, v in _fields(data):
        if no == 1:
            p.timestamp_ms = _num(v)
        elif no == 2:
            if not isinstance(v, bytes):
                msg = "a metric is not length-delimited"
                raise ValueError(msg)
            p.metrics.append(_decode_metric(v))
        elif no == 3:
            p.seq = _num(v)
        elif no == 4:
            p.uuid = _text(v)
        elif no == 5:
            p.body = v if isinstance(v, bytes) else None
    return p


# ----------------------------------------------------------------------- the source

_BAD_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:/\-]")
_MESSAGE_TYPES = ("NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA", "NCMD", "DCMD")


def default_point_id(group: str, edge: str, device: str | None, metric: str) -> str:
    """``<group>/<edge>[/<device>]/<metric>`` with characters outside ``A-Za-z0-9_.:/-``
    replaced by ``_`` (at most 200 characters)."""
    parts = [group, edge, *([device] if device else []), metric]
    return _BAD_ID_CHARS.sub("_", "/".join(parts))[:200]


@dataclass
class _Node:
    """What we know of one edge node."""

    born: bool = False
    in_sync: bool = False
    bd_seq: int | None = None
    last_seq: int | None = None
    aliases: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    points: set[str] = field(default_factory=set)
    device_points: dict[str, set[str]] = field(default_factory=dict)
    rebirth_at: float = -1e18


class SparkplugSource(MqttSourceBase):
    """Sparkplug B edge nodes of one group as measurements (see the module docstring).

    Parameters
    ----------
    config : MqttConfig
        The broker and batching (its ``topics`` are ignored: ``spBv1.0/<group>/#``).
    group : str
        The Sparkplug group id.
    mapping : mapping of str to str, optional
        ``<group>/<edge>[/<device>]/<metric name>`` → point id.
    unmapped : {"default", "skip"}
        Metrics not in ``mapping``: the default point id, or skipped (counted).
    rebirth_min_interval_s : float
        At most one rebirth request per node within this time [s].
    name : str, optional
    """

    def __init__(
        self,
        config: MqttConfig,
        group: str,
        *,
        mapping: Mapping[str, str] | None = None,
        unmapped: Literal["default", "skip"] = "default",
        rebirth_min_interval_s: float = 5.0,
        name: str | None = None,
    ) -> None:
        if not group or any(c in group for c in "/+#"):
            msg = f"Sparkplug group id {group!r} must be non-empty without '/', '+', '#'"
            raise InputError(msg)
        if unmapped not in ("default", "skip"):
            msg = f"unmapped must be 'default' or 'skip', not {unmapped!r}"
            raise InputError(msg)
        super().__init__(config, name or f"sparkplug:{group}@{config.address}")
        self.group = group
        self.mapping = dict(mapping or {})
        self.unmapped = unmapped
        self.rebirth_min_interval_s = rebirth_min_interval_s
        self._nodes: dict[str, _Node] = {}
        self._stale: set[str] = set()

    def filters(self) -> tuple[str, ...]:
        """``spBv1.0/<group>/#``."""
        return (f"{NAMESPACE}/{self.group}/#",)

    def on_connected(self, client: mqtt.Client) -> None:
        """After a (re)connection nothing is known to be in order: every node is asked
        for a rebirth when it next speaks."""
        for node in self._nodes.values():
            node.rebirth_at = -1e18

    def stale_points(self) -> list[str]:
        """Point ids of nodes and devices that died (NDEATH/DDEATH) and were not reborn."""
        return sorted(self._stale)

    def point_id(self, edge: str, device: str | None, metric: str) -> str | None:
        """The point of a metric (None: unmapped and skipped)."""
        key = "/".join([self.group, edge, *([device] if device else []), metric])
        pid = self.mapping.get(key)
        if pid is not None or self.unmapped == "skip":
            return pid
        return default_point_id(self.group, edge, device, metric)

    # -- decoding

    def decode(self, msg: _Received, out: Columns) -> None:
        """Decode one Sparkplug message and follow the node's state."""
        src = "mqtt:" + msg.topic
        parts = msg.topic.split("/")
        if len(parts) not in (4, 5) or parts[2] not in _MESSAGE_TYPES:
            out.reject("malformed", "not a Sparkplug B topic", src, msg.topic)
            return
        kind, edge = parts[2], parts[3]
        device = parts[4] if len(parts) == 5 else None
        if kind in ("NCMD", "DCMD"):
            self.count("commands_seen")
            return
        try:
            payload = decode_payload(msg.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            out.reject(
                "malformed", f"not a Sparkplug B payload: {exc}", src, msg.payload[:500].hex()
            )
            return
        node = self._nodes.setdefault(edge, _Node())
        if kind == "NDEATH":
            self._death(edge, node, payload)
            return
        if kind == "NBIRTH":
            self._birth(node, payload)
        else:
            self._check_seq(edge, node, payload.seq, msg.dup)
        if kind == "DDEATH":
            self._device_death(node, device)
            return
        if kind == "DBIRTH" and device is not None:
            self._device_birth(node, device, payload)
        quality = 0 if node.born and node.in_sync else int(Quality.QUESTIONABLE)
        self._values(edge, device, node, payload, quality, src, out)

    def _birth(self, node: _Node, p: Payload) -> None:
        self.count("births")
        node.born = node.in_sync = True
        node.last_seq = p.seq
        node.aliases = {}
        node.bd_seq = None
        for m in p.metrics:
            if m.name == "bdSeq" and isinstance(m.value, int):
                node.bd_seq = int(m.value)
            if m.name is not None and m.alias is not None:
                node.aliases[m.alias] = (None, m.name)
        self._unstale(node.points)
        for pts in node.device_points.values():
            self._unstale(pts)

    def _device_birth(self, node: _Node, device: str, p: Payload) -> None:
        self.count("device_births")
        for m in p.metrics:
            if m.name is not None and m.alias is not None:
                node.aliases[m.alias] = (device, m.name)
        self._unstale(node.device_points.get(device, set()))

    def _unstale(self, points: set[str]) -> None:
        self._stale -= points

    def _death(self, edge: str, node: _Node, p: Payload) -> None:
        bd = next((m.value for m in p.metrics if m.name == "bdSeq"), None)
        if node.bd_seq is not None and bd is not None and bd != node.bd_seq:
            self.count("deaths_ignored_bdseq")  # the death of an earlier session
            return
        self.count("node_deaths")
        node.born = node.in_sync = False
        node.last_seq = None
        dead = set(node.points)
        for pts in node.device_points.values():
            dead |= pts
        self._stale |= dead
        self.count("stale_points", len(dead))

    def _device_death(self, node: _Node, device: str | None) -> None:
        self.count("device_deaths")
        dead = node.device_points.get(device or "", set())
        self._stale |= dead
        self.count("stale_points", len(dead))

    def _check_seq(self, edge: str, node: _Node, seq: int | None, dup: bool) -> None:
        last = node.last_seq
        if seq is not None and last is not None and seq == last and dup:
            return  # the broker's repeat of the last message
        if not node.born:
            self.count("data_before_birth")
            self._request_rebirth(edge, node)
        elif seq is None or last is None or seq != (last + 1) % 256:
            self.count("seq_gaps")
            node.in_sync = False
            self._request_rebirth(edge, node)
        node.last_seq = seq

    def _request_rebirth(self, edge: str, node: _Node) -> None:
        now = time.monotonic()
        if now - node.rebirth_at < self.rebirth_min_interval_s:
            return
        node.rebirth_at = now
        topic = f"{NAMESPACE}/{self.group}/NCMD/{edge}"
        if self.publish(topic, rebirth_payload(int(time.time() * 1000))):
            self.count("rebirth_requests")

    def _values(
        self,
        edge: str,
        device: str | None,
        node: _Node,
        p: Payload,
        quality: int,
        src: str,
        out: Columns,
    ) -> None:
        source_us = p.timestamp_ms * 1000 if p.timestamp_ms is not None else -(2**63)
        for m in p.metrics:
            name, dev = m.name, device
            if name is None:
                hit = node.aliases.get(m.alias) if m.alias is not None else None
                if hit is None:
                    detail = (
                        f"alias {m.alias} of {self.group}/{edge} is not in its birth certificate"
                    )
                    out.reject("unknown_point", detail, src, repr(m)[:1000])
                    continue
                dev, name = hit
                dev = dev if dev is not None else device
            self._metric(edge, dev, node, m, name, quality, source_us, p, src, out)

    def _metric(
        self,
        edge: str,
        device: str | None,
        node: _Node,
        m: Metric,
        name: str,
        quality: int,
        source_us: int,
        p: Payload,
        src: str,
        out: Columns,
    ) -> None:
        if name == "bdSeq" or name.startswith(("Node Control/", "Properties/")):
            self.count("skipped_control")
            return
        if m.is_null or m.value is None:
            self.count("skipped_null")
            return
        if m.datatype not in _NUMERIC or not isinstance(m.value, int | float):
            self.count("skipped_not_numeric")
            return
        pid = self.point_id(edge, device, name)
        if pid is None:
            self.count("skipped_unmapped")
            return
        (node.device_points.setdefault(device, set()) if device else node.points).add(pid)
        ts_ms = m.timestamp_ms if m.timestamp_ms is not None else p.timestamp_ms
        if ts_ms is None:
            out.reject("bad_timestamp", "no metric or payload timestamp", src, repr(m), pid)
            return
        out.add(pid, ts_ms * 1000, float(m.value), quality, source_us)
