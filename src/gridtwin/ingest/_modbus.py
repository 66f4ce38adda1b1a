"""Modbus TCP polling: a register map from a YAML file and :class:`ModbusSource`.

A **register map** (:class:`RegisterMap`, read by :func:`load_register_map`) lists the
field devices (host, port, Modbus device id, poll interval, timeout) and, per device, the
registers to read: the measurement point each one feeds, the table (``holding``,
``input``, ``coil``, ``discrete``), the **0-based protocol address** (the address on the
wire: "register 40001" of a device manual is ``holding`` address 0, "30011" is ``input``
address 10), the value type, the word and byte order and the scaling.

:class:`ModbusSource` polls every device in its own thread with pymodbus's
``ModbusTcpClient`` and hands one :class:`~gridtwin.ingest.RawBatch` per device and poll
to the sink. Decisions, and why:

- **Reads**: the registers of a device are grouped per table into as few requests as the
  protocol allows (at most 125 registers or 2,000 bits per request, fewer if the device
  says so with ``max_registers_per_read``); only adjacent or overlapping registers share
  a request unless ``max_gap`` allows reading unused registers in between. If a grouped
  request is refused with a Modbus exception, it is split into one request per point for
  this poll and every later one, so one bad address costs only its own point.
- **Time**: polls run on a clock-aligned grid (multiples of the poll interval since
  1970-01-01 UTC) and every value of a poll is labelled with the **start of its poll
  interval** (the grid instant at which the poll was due; interval-start labelling is the
  store's convention). All points of all devices with the same interval share keys, a
  re-poll of the same interval (a restart) is a duplicate or a revision of the same key
  rather than a new row a few milliseconds off, and scheduling or network jitter does not
  leak into the keys. The instant the device's answer arrived is kept as the value's
  ``source_ts_utc``.
- **Scaling**: the map's ``scale``, ``offset`` and ``scale_register`` describe the
  device's encoding and are applied here (``value = raw * scale * 10**sf + offset``);
  the sink then applies the measurement point's own ``scale`` and ``offset`` (normally
  1 and 0 for Modbus points; use them for a unit change such as W to kW).
- **Exceptions** (the device answers, but refuses: illegal data address, device busy):
  each affected point gets no value and a reject with reason ``malformed`` whose detail
  names the device, table, addresses, function code and the Modbus exception. The device
  did answer about exactly these keys, so the answer belongs next to them in the rejects
  table, where a wrong register map shows at once; it repeats every poll until the map or
  the device is fixed.
- **Timeouts and lost connections**: the affected points get no value (never a zero) and
  the event goes to counters (:class:`ModbusCounters`: ``timeouts``,
  ``connection_errors``, ``values_missing``) and to one log line per outage, not to the
  rejects table: nothing was received, so there is no input to keep, and an outage of a
  few hours would otherwise write points x polls identical rows. The connection is made
  again with an exponential back-off (``reconnect_delay_s`` doubling up to
  ``reconnect_delay_max_s``). Every due poll of every point ends as exactly one of
  ``values``, ``rejected`` or ``values_missing``.
- **Not-a-number**: a float register holding NaN or infinity is passed on as such, so that
  the pipeline rejects it as ``not_finite`` (never dropped silently).
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError, StoreError
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import MeasurementPoint, RejectBatch

if TYPE_CHECKING:
    from pymodbus.client import ModbusTcpClient

__all__ = [
    "ModbusCounters",
    "ModbusDevice",
    "ModbusSource",
    "RegisterEntry",
    "RegisterMap",
    "load_register_map",
    "plan_reads",
]

Table = Literal["holding", "input", "coil", "discrete"]
ValueType = Literal[
    "int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64", "bool"
]
Order = Literal["big", "little"]

#: Registers (16-bit words) per value type.
WORDS: Final[dict[str, int]] = {
    "bool": 1,
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "int64": 4,
    "uint64": 4,
    "float64": 4,
}
_STRUCT: Final = {
    "int16": ">h",
    "uint16": ">H",
    "int32": ">i",
    "uint32": ">I",
    "float32": ">f",
    "int64": ">q",
    "uint64": ">Q",
    "float64": ">d",
}
_BIT_TABLES: Final = ("coil", "discrete")
#: The protocol's limit per request (Modbus application protocol v1.1b3, 6.1-6.4).
_MAX_PER_READ: Final[dict[str, int]] = {
    "holding": 125,
    "input": 125,
    "coil": 2000,
    "discrete": 2000,
}
_FUNCTION: Final[dict[str, int]] = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
_EXCEPTIONS: Final[dict[int, str]] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
#: SunSpec: a scale-factor register holding 0x8000 is "not implemented".
_SF_NOT_IMPLEMENTED: Final = -32768
_ID_PATTERN: Final = r"^[A-Za-z0-9_.:/\-]{1,200}$"
_US = "datetime64[us]"

_log = logging.getLogger("gridtwin.ingest.modbus")


# ----------------------------------------------------------------------- the register map


class RegisterEntry(BaseModel):
    """One value to read: a register (or several) or a bit, and the point it feeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    point_id: str = Field(pattern=_ID_PATTERN)
    table: Table
    #: 0-based protocol address of the first register (or bit).
    address: int = Field(ge=0, le=65535)
    #: Value type; default ``bool`` for coils and discrete inputs, ``uint16`` otherwise.
    type: ValueType | None = Field(default=None, validate_default=True)
    #: ``big``: the most significant register first (Modbus's usual order).
    word_order: Order = "big"
    #: ``big``: the high byte first within each register (the protocol's order).
    byte_order: Order = "big"
    scale: float = Field(default=1.0, allow_inf_nan=False)
    offset: float = Field(default=0.0, allow_inf_nan=False)
    #: Address (same table) of a SunSpec-style scale factor: signed int16 power of ten.
    scale_register: int | None = Field(default=None, ge=0, le=65535)
    #: Optional: describe the measurement point too (see :meth:`RegisterMap.points`).
    quantity: str | None = None
    unit: str | None = None
    element: str | None = None
    phase: str = "abc"
    description: str = ""

    @field_validator("type")
    @classmethod
    def _type_fits_table(cls, value: str | None, info: ValidationInfo) -> str | None:
        table = info.data.get("table")
        if table is None:
            return value
        if value is None:
            return "bool" if table in _BIT_TABLES else "uint16"
        if (value == "bool") != (table in _BIT_TABLES):
            need = "bool" if table in _BIT_TABLES else "a register type such as uint16"
            msg = f"type {value!r} cannot be read from table {table!r}; use {need}"
            raise ValueError(msg)
        address = info.data.get("address")
        if address is not None and address + WORDS[value] - 1 > 65535:
            msg = f"a {value} at address {address} runs past the last address 65535"
            raise ValueError(msg)
        return value

    @field_validator("scale")
    @classmethod
    def _scale_not_zero(cls, value: float) -> float:
        if value == 0:
            msg = "scale must not be 0 (every value would read 0)"
            raise ValueError(msg)
        return value

    @field_validator("scale_register")
    @classmethod
    def _scale_register_fits(cls, value: int | None, info: ValidationInfo) -> int | None:
        table, address, kind = (info.data.get(k) for k in ("table", "address", "type"))
        if value is None or table is None or address is None or kind is None:
            return value
        if table in _BIT_TABLES:
            msg = f"a scale factor register needs a register table, not {table!r}"
            raise ValueError(msg)
        if address <= value < address + WORDS[kind]:
            msg = f"scale_register {value} is one of the value's own registers"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _point_fields(self) -> RegisterEntry:
        if (self.quantity is None) != (self.unit is None):
            msg = "give both quantity and unit (to describe the point) or neither"
            raise ValueError(msg)
        return self

    @property
    def words(self) -> int:
        """Registers (or bits) this value occupies."""
        return WORDS[self.type or "uint16"]


class ModbusDevice(BaseModel):
    """One Modbus TCP server (field device, gateway) and the values read from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_ID_PATTERN)
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)
    #: The Modbus device id ("unit id", formerly "slave id"); a gateway routes by it.
    device_id: int = Field(default=1, ge=0, le=255)
    poll_interval_s: float = Field(default=1.0, ge=0.01, le=86400.0)
    timeout_s: float = Field(default=1.0, gt=0.0, le=60.0)
    reconnect_delay_s: float = Field(default=1.0, gt=0.0, le=3600.0)
    reconnect_delay_max_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    #: Unused registers (or bits) that may be read to join two values into one request.
    max_gap: int = Field(default=0, ge=0, le=100)
    points: list[RegisterEntry] = Field(min_length=1)

    @field_validator("reconnect_delay_max_s")
    @classmethod
    def _max_delay(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("reconnect_delay_s")
        if low is not None and value < low:
            msg = f"must be at least reconnect_delay_s ({low})"
            raise ValueError(msg)
        return value


class RegisterMap(BaseModel):
    """Devices and their registers: the content of a register-map file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    devices: list[ModbusDevice] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RegisterMap:
        problems: list[str] = []
        seen_dev: dict[str, int] = {}
        seen_pt: dict[str, str] = {}
        for d, dev in enumerate(self.devices):
            if dev.name in seen_dev:
                problems.append(
                    f"devices.{d}.name: {dev.name!r} is also device {seen_dev[dev.name]}"
                )
            seen_dev.setdefault(dev.name, d)
            for p, entry in enumerate(dev.points):
                here = f"devices.{d}.points.{p}"
                if entry.point_id in seen_pt:
                    problems.append(
                        f"{here}.point_id: {entry.point_id!r} is also {seen_pt[entry.point_id]}; "
                        "each point is read from one register"
                    )
                seen_pt.setdefault(entry.point_id, here)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def points(self) -> list[MeasurementPoint]:
        """Measurement points for the entries that give ``quantity`` and ``unit``.

        Their ``source`` is ``modbus:<device>``; ``scale`` and ``offset`` are 1 and 0,
        because :class:`ModbusSource` already applies the map's scaling.
        """
        out: list[MeasurementPoint] = []
        for dev in self.devices:
            for e in dev.points:
                if e.quantity is None or e.unit is None:
                    continue
                out.append(
                    MeasurementPoint(
                        point_id=e.point_id,
                        quantity=e.quantity,
                        unit=e.unit,
                        element=e.element,
                        phase=e.phase,
                        source=f"modbus:{dev.name}",
                        description=e.description,
                    )
                )
        return out


def load_register_map(path: str | Path) -> RegisterMap:
    """Read and validate a register-map file (YAML or TOML).

    Raises
    ------
    InputError
        The file cannot be read, or does not validate: every problem on its own line as
        ``file: devices.0.points.3.type: reason`` (list indices 0-based).
    """
    return load_validated(path, RegisterMap, InputError)


# ----------------------------------------------------------------------- read planning


@dataclass(frozen=True)
class Read:
    """One read request: ``count`` registers (or bits) of ``table`` from ``address``.

    ``spans`` are the ``(first, end)`` address ranges of the values it covers (end
    exclusive): the pieces it is split into when the device refuses it.
    """

    table: Table
    address: int
    count: int
    spans: tuple[tuple[int, int], ...]

    def split(self) -> list[Read]:
        """One request per span."""
        return [Read(self.table, a, b - a, ((a, b),)) for a, b in self.spans]


def _spans(device: ModbusDevice) -> dict[Table, list[tuple[int, int]]]:
    out: dict[Table, list[tuple[int, int]]] = {}
    for e in device.points:
        spans = out.setdefault(e.table, [])
        spans.append((e.address, e.address + e.words))
        if e.scale_register is not None:
            spans.append((e.scale_register, e.scale_register + 1))
    return out


def plan_reads(device: ModbusDevice) -> list[Read]:
    """The fewest requests that read every value of ``device``.

    Per table, values sorted by address are joined into one request while the next one
    starts at most ``max_gap`` addresses after the current request ends and the request
    stays within the limit (``max_registers_per_read`` registers, 2,000 bits).
    """
    reads: list[Read] = []
    for table, spans in sorted(_spans(device).items()):
        limit = _MAX_PER_READ[table]
        if table not in _BIT_TABLES:
            limit = min(limit, device.max_registers_per_read)
        group: list[tuple[int, int]] = []
        start = end = 0
        for a, b in sorted(set(spans)):
            if group and a <= end + device.max_gap and max(end, b) - start <= limit:
                group.append((a, b))
                end = max(end, b)
                continue
            if group:
                reads.append(Read(table, start, end - start, tuple(group)))
            group, start, end = [(a, b)], a, b
        reads.append(Read(table, start, end - start, tuple(group)))
    return reads


# ----------------------------------------------------------------------- decoding


def decode(
    words: Sequence[int], kind: str, word_order: str = "big", byte_order: str = "big"
) -> float:
    """The number held in ``words`` (16-bit registers as read, in address order).

    ``word_order="little"``: the least significant register comes first;
    ``byte_order="little"``: the low byte comes first within each register. 64-bit
    integers beyond 2**53 lose precision as float64.
    """
    if kind == "bool":
        return 1.0 if words[0] else 0.0
    seq = list(words) if word_order == "big" else list(reversed(words))
    raw = b"".join(
        (w & 0xFFFF).to_bytes(2, "big" if byte_order == "big" else "little") for w in seq
    )
    return float(struct.unpack(_STRUCT[kind], raw)[0])


def _scaled(entry: RegisterEntry, raw: float, sf: int | None) -> float:
    if sf is None:
        return raw * entry.scale + entry.offset
    if sf == _SF_NOT_IMPLEMENTED:
        return math.nan
    return raw * entry.scale * 10.0**sf + entry.offset


# ----------------------------------------------------------------------- counters


@dataclass
class ModbusCounters:
    """What the polling did (a snapshot; summed over devices).

    Every due poll of every point ends as exactly one of ``values``, ``rejected`` or
    ``values_missing``.

    Attributes
    ----------
    polls : int
        Polls made (a connect attempt counts).
    polls_missed : int
        Due polls not made: the previous poll or the sink took longer than the interval,
        or the reconnect back-off was running.
    requests : int
        Read requests sent.
    values : int
        Values handed to the sink (NaN included: the pipeline rejects those).
    rejected : int
        Point values rejected (``malformed``) because the device answered with an exception.
    exceptions : int
        Modbus exception responses.
    timeouts : int
        Requests not answered within ``timeout_s`` (the connection is then made anew).
    connection_errors : int
        Failed connects and connections lost during a poll.
    reconnects : int
        Connections made again after a failure.
    values_missing : int
        Point values not delivered because of timeouts, connection errors and missed
        polls (no value and no reject: see the module docstring).
    """

    polls: int = 0
    polls_missed: int = 0
    requests: int = 0
    values: int = 0
    rejected: int = 0
    exceptions: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    reconnects: int = 0
    values_missing: int = 0

    def add(self, other: ModbusCounters) -> None:
        """Add ``other`` into this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


# ----------------------------------------------------------------------- one device


@dataclass
class _PollResult:
    """Registers read in one poll: ``address -> (word, arrival µs)`` per table, and
    ``address -> detail`` of addresses refused with an exception."""

    words: dict[str, dict[int, tuple[int, int]]]
    refused: dict[str, dict[int, str]]
    transport_failed: bool = False


class _TransportError(Exception):
    """A timeout or a lost connection during a request (internal)."""

    def __init__(self, detail: str, *, timeout: bool) -> None:
        super().__init__(detail)
        self.timeout = timeout


class _DevicePoller:
    """The connection to one device and its polls (used by one thread)."""

    def __init__(self, device: ModbusDevice) -> None:
        self.device = device
        self.reads = plan_reads(device)
        self.counters = ModbusCounters()
        self.lock = threading.Lock()
        self.source = f"modbus:{device.name}"
        self._client: ModbusTcpClient | None = None
        self._retry_at = 0.0  # time.monotonic() of the next connect attempt
        self._delay_s = device.reconnect_delay_s
        self._down = False  # an outage is under way (for one log line per outage)

    @property
    def where(self) -> str:
        d = self.device
        return f"device {d.name!r} ({d.host}:{d.port}, device id {d.device_id})"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None

    def count(self, **deltas: int) -> None:
        with self.lock:
            for name, n in deltas.items():
                setattr(self.counters, name, getattr(self.counters, name) + n)

    # -- connection

    def _connect(self) -> bool:
        """Connect unless connected; False (and counted) when the device is not there."""
        if self._client is not None:
            return True
        from pymodbus.client import ModbusTcpClient

        d = self.device
        client = ModbusTcpClient(d.host, port=d.port, timeout=d.timeout_s, retries=0)
        if client.connect():  # type: ignore[no-untyped-call]
            self._client = client
            self._delay_s = d.reconnect_delay_s
            if self._down:
                self._down = False
                self.count(reconnects=1)
                _log.warning("%s: connected again", self.where)
            return True
        client.close()  # type: ignore[no-untyped-call]
        self._failed(f"cannot connect; next attempt in {self._delay_s:g} s")
        return False

    def _failed(self, detail: str) -> None:
        """Count a connection error, close, and set the back-off."""
        self.close()
        self.count(connection_errors=1)
        if not self._down:
            _log.warning("%s: %s (no values until it answers again)", self.where, detail)
        self._down = True
        self._retry_at = time.monotonic() + self._delay_s
        self._delay_s = min(self._delay_s * 2, self.device.reconnect_delay_max_s)

    # -- requests

    def _request(self, read: Read) -> list[int] | int:
        """The registers (bits as 0/1) of ``read``, or the Modbus exception code."""
        from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

        if self._client is None:
            msg = "not connected"
            raise _TransportError(msg, timeout=False)
        call = {
            "holding": self._client.read_holding_registers,
            "input": self._client.read_input_registers,
            "coil": self._client.read_coils,
            "discrete": self._client.read_discrete_inputs,
        }[read.table]
        self.count(requests=1)
        try:
            response = call(read.address, count=read.count, device_id=self.device.device_id)
        except ModbusIOException as exc:
            msg = f"no answer within {self.device.timeout_s:g} s ({exc})"
            raise _TransportError(msg, timeout=True) from exc
        except (ConnectionException, ModbusException, OSError) as exc:
            msg = f"connection lost ({exc})"
            raise _TransportError(msg, timeout=False) from exc
        if response.isError():
            return int(getattr(response, "exception_code", 0))
        if read.table in _BIT_TABLES:
            return [int(bool(b)) for b in response.bits[: read.count]]
        return list(response.registers)

    def _refusal(self, read: Read, code: int) -> str:
        name = _EXCEPTIONS.get(code, "unknown exception")
        last = read.address + read.count - 1
        return (
            f"{self.where}: reading {read.table} {read.address}-{last} (0-based, function "
            f"{_FUNCTION[read.table]}) answered Modbus exception {code} ({name})"
        )

    def _read_all(self) -> _PollResult:
        """Run every request of the plan; split a refused grouped request for good."""
        result = _PollResult({t: {} for t in _FUNCTION}, {t: {} for t in _FUNCTION})
        plan: list[Read] = []
        queue = list(self.reads)
        while queue:
            read = queue.pop(0)
            try:
                answer = self._request(read)
            except _TransportError as exc:
                self.count(timeouts=int(exc.timeout))
                self._failed(str(exc))
                result.transport_failed = True
                plan.extend([read, *queue])
                break
            if isinstance(answer, int):
                self.count(exceptions=1)
            if isinstance(answer, int) and len(read.spans) > 1:
                queue[:0] = read.split()  # find which value is refused: one request each
                continue
            plan.append(read)
            if isinstance(answer, int):
                detail = self._refusal(read, answer)
                for a in range(read.address, read.address + read.count):
                    result.refused[read.table][a] = detail
                continue
            now_us = time.time_ns() // 1000
            table = result.words[read.table]
            for i, w in enumerate(answer[: read.count]):
                table[read.address + i] = (w, now_us)
        self.reads = plan
        return result

    # -- one poll

    def poll(self, slot_us: int) -> RawBatch | None:
        """Poll once, values labelled ``slot_us`` (µs since 1970, UTC); None if the device
        could not be reached (the missing values are counted)."""
        n = len(self.device.points)
        if self._client is None and time.monotonic() < self._retry_at:
            self.count(polls_missed=1, values_missing=n)
            return None
        self.count(polls=1)
        if not self._connect():
            self.count(values_missing=n)
            return None
        return self._decode(self._read_all(), slot_us)

    def _decode(self, result: _PollResult, slot_us: int) -> RawBatch | None:
        pids: list[str] = []
        values: list[float] = []
        arrived: list[int] = []
        rejects = RejectBatch()
        ts = np.datetime64(slot_us, "us")
        missing = 0
        for e in self.device.points:
            got = _value_of(e, result)
            if isinstance(got, tuple):
                pids.append(e.point_id)
                values.append(got[0])
                arrived.append(got[1])
            elif got is not None:
                raw = f"{e.table} address {e.address} ({e.type})"
                rejects.add(
                    "malformed",
                    f"{got}; point {e.point_id!r} at {raw} gets no value",
                    source=self.source,
                    raw=raw,
                    point_id=e.point_id,
                    ts_utc=ts,
                )
            else:
                missing += 1
        self.count(values=len(values), rejected=len(rejects), values_missing=missing)
        if not values and not len(rejects):
            return None
        return RawBatch.build(
            pids,
            np.full(len(pids), slot_us, np.int64),
            values,
            source_ts_utc=np.asarray(arrived, np.int64).view(_US),
            source=self.source,
            rejects=rejects,
        )


def _value_of(e: RegisterEntry, result: _PollResult) -> tuple[float, int] | str | None:
    """``(value, arrival µs)``, the refusal detail, or None when the value was not read."""
    addresses = list(range(e.address, e.address + e.words))
    table = result.words[e.table]
    refused = result.refused[e.table]
    for a in (*addresses, *([] if e.scale_register is None else [e.scale_register])):
        if a in refused:
            what = "its scale factor register" if a == e.scale_register else "its register"
            return f"{refused[a]} ({what} {a})"
        if a not in table:
            return None
    words = [table[a][0] for a in addresses]
    raw = decode(words, e.type or "uint16", e.word_order, e.byte_order)
    sf = None
    if e.scale_register is not None:
        sf = int(decode([table[e.scale_register][0]], "int16"))
    return _scaled(e, raw, sf), max(table[a][1] for a in addresses)


# ----------------------------------------------------------------------- the source


class ModbusSource:
    """Polls the devices of a register map and hands their values to a sink.

    Parameters
    ----------
    register_map : RegisterMap or str or Path
        The map, or a register-map file (read with :func:`load_register_map`).
    name : str
        The source's name for counters and messages.

    Notes
    -----
    :meth:`run` polls each device in its own thread, so one device that does not answer
    does not delay the others; the sink's ``submit`` is called from those threads. A
    sink that blocks (back-pressure) delays the next poll of that device: the polls that
    fall due meanwhile are counted as ``polls_missed``, never queued without bound.
    """

    def __init__(self, register_map: RegisterMap | str | Path, *, name: str = "modbus") -> None:
        if not isinstance(register_map, RegisterMap):
            register_map = load_register_map(register_map)
        self.register_map = register_map
        self.name = name
        self._pollers = [_DevicePoller(d) for d in register_map.devices]

    def counters(self) -> ModbusCounters:
        """What the polling did so far, summed over the devices."""
        total = ModbusCounters()
        for p in self._pollers:
            with p.lock:
                total.add(p.counters)
        return total

    def device_counters(self) -> dict[str, ModbusCounters]:
        """What the polling did so far, per device name."""
        out: dict[str, ModbusCounters] = {}
        for p in self._pollers:
            with p.lock:
                out[p.device.name] = ModbusCounters(**vars(p.counters))
        return out

    def poll_once(self, sink: Sink, *, timeout_s: float | None = None) -> None:
        """Poll every device once now (one after the other), labelled with the start of
        the current poll interval, and submit what was read."""
        now_us = time.time_ns() // 1000
        for p in self._pollers:
            step_us = _step_us(p.device)
            batch = p.poll(now_us // step_us * step_us)
            if batch is not None:
                sink.submit(batch, timeout_s=timeout_s)

    def close(self) -> None:
        """Close every connection (the next poll connects again)."""
        for p in self._pollers:
            p.close()

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; one thread per device.

        Raises
        ------
        StoreError
            The sink failed (the pipeline stopped); every device thread stops too.
        """
        errors: list[BaseException] = []
        halt = threading.Event()

        def device_loop(poller: _DevicePoller) -> None:
            try:
                _poll_loop(poller, sink, halt)
            except BaseException as exc:  # handed to run()'s thread below
                errors.append(exc)
                halt.set()

        threads = [
            threading.Thread(
                target=device_loop, args=(p,), name=f"{self.name}:{p.device.name}", daemon=True
            )
            for p in self._pollers
        ]
        for t in threads:
            t.start()
        try:
            while not stop.wait(0.05) and not halt.is_set():
                pass
        finally:
            halt.set()
            for t in threads:
                t.join()
            self.close()
        if errors:
            exc = errors[0]
            if isinstance(exc, (StoreError, InputError)):
                raise exc
            msg = f"{self.name}: polling failed: {exc!r}"
            raise StoreError(msg) from exc


def _step_us(device: ModbusDevice) -> int:
    return max(1, round(device.poll_interval_s * 1e6))


def _poll_loop(poller: _DevicePoller, sink: Sink, stop: threading.Event) -> None:
    """Poll ``poller`` on its clock-aligned grid until ``stop`` is set."""
    step_us = _step_us(poller.device)
    n = len(poller.device.points)
    last: int | None = None
    while not stop.is_set():
        now_us = time.time_ns() // 1000
        slot = now_us // step_us * step_us
        if last is not None and slot <= last:
            stop.wait((last + step_us - now_us) / 1e6)
            continue
        if last is not None and slot - last > step_us:
            skipped = (slot - last) // step_us - 1
            poller.count(polls_missed=skipped, values_missing=skipped * n)
        last = slot
        batch = poller.poll(slot)
        if batch is not None:
            sink.submit(batch)
