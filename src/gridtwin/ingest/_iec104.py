"""IEC 60870-5-104 client (optional extra, needs ``c104``): short floats from outstations.

An **IOA map** (:class:`Iec104Map`, read by :func:`load_iec104_map`) lists the outstations
(host, port, common address) and, per station, the information object addresses (IOA)
to take and the measurement point each one feeds. :class:`Iec104Source` connects as a
controlling station with ``c104``, asks for a general interrogation after every
(re)connect, and then takes the spontaneous updates: ``M_ME_NC_1`` (short float) and
``M_ME_TF_1`` (short float with a CP56Time2a time tag).

- **Start-up**: the connection is opened muted (``c104.Init.MUTED``: no clock
  synchronisation is ever sent; a twin must not set a field device's clock) and comes up
  ``OPEN_MUTED``; the source then unmutes it (STARTDT) and sends the interrogation. It
  does so again after every reconnect (``c104`` reconnects by itself).
- **Time**: ``M_ME_TF_1`` values are labelled with their time tag (also kept as
  ``source_ts_utc``); ``M_ME_NC_1`` values, which have none, with the instant they
  arrived. Time tags are read as UTC unless the station's ``time_zone`` says otherwise
  (some utilities send local time; IEC 60870-5-104 leaves it open).
- **Quality** (the quality descriptor of IEC 60870-5-101, 7.2.6.3) to
  :class:`~gridtwin.store.Quality`: **IV** (invalid) makes the value a reject with reason
  ``bad_quality`` (the station itself says the value must not be used); **SB**
  (substituted) sets ``SUBSTITUTED``; **NT** (not topical: not updated, outdated),
  **BL** (blocked: frozen at the value before blocking) and **OV** (overflow: outside the
  predefined range) set ``QUESTIONABLE``; no flag is ``VALID``.
- **Unmapped IOAs** of a station: each update is a reject with reason ``unknown_point``
  (detail: station, common address, IOA, type).
- **Delivery**: ``c104`` calls back from its own thread, which must not block (the
  protocol's acknowledgements run there). Updates are buffered in memory (up to
  ``max_buffer``; beyond that the buffer is written to a spool file on disk, counted in
  ``values_spooled``) and handed to the sink, spool files first, every ``flush_s`` from
  :meth:`Iec104Source.run`'s thread, where back-pressure blocks. Only a spool that
  cannot be written loses updates (counted in ``values_dropped`` and logged).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import Quality, RejectBatch

__all__ = [
    "Iec104Counters",
    "Iec104Map",
    "Iec104Point",
    "Iec104Source",
    "Iec104Station",
    "load_iec104_map",
    "quality_from_qds",
]

_ID_PATTERN: Final = r"^[A-Za-z0-9_.:/\-]{1,200}$"
_US = "datetime64[us]"
_NAT_US: Final = np.iinfo(np.int64).min  # NaT as int64
# quality descriptor bits (IEC 60870-5-101, 7.2.6.3)
QDS_OV: Final = 0x01
QDS_EI: Final = 0x08
QDS_BL: Final = 0x10
QDS_SB: Final = 0x20
QDS_NT: Final = 0x40
QDS_IV: Final = 0x80

_log = logging.getLogger("gridtwin.ingest.iec104")


# ----------------------------------------------------------------------- the IOA map


class Iec104Point(BaseModel):
    """One information object (IOA) of a station and the point it feeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ioa: int = Field(ge=1, le=16_777_215)
    point_id: str = Field(pattern=_ID_PATTERN)
    type: Literal["M_ME_NC_1", "M_ME_TF_1"] = "M_ME_NC_1"


class Iec104Station(BaseModel):
    """One outstation (RTU, gateway) reached over IEC 60870-5-104."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_ID_PATTERN)
    host: str = Field(min_length=1)
    port: int = Field(default=2404, ge=1, le=65535)
    common_address: int = Field(ge=1, le=65534)
    #: IANA zone of the station's time tags (``UTC`` unless it sends local time).
    time_zone: str = "UTC"
    #: A general interrogation every so many seconds as well (0: only after connecting).
    interrogation_interval_s: float = Field(default=0.0, ge=0.0, le=86400.0)
    points: list[Iec104Point] = Field(min_length=1)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"unknown time zone {value!r}; use an IANA name such as 'UTC' or 'Europe/Rome'"
            raise ValueError(msg) from exc
        return value


class Iec104Map(BaseModel):
    """Stations and their IOAs: the content of an IOA-map file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stations: list[Iec104Station] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Iec104Map:
        problems: list[str] = []
        points: dict[str, str] = {}
        names: set[str] = set()
        for s, st in enumerate(self.stations):
            if st.name in names:
                problems.append(f"stations.{s}.name: {st.name!r} is given twice")
            names.add(st.name)
            ioas: set[int] = set()
            for p, pt in enumerate(st.points):
                here = f"stations.{s}.points.{p}"
                if pt.ioa in ioas:
                    problems.append(f"{here}.ioa: IOA {pt.ioa} is given twice in this station")
                ioas.add(pt.ioa)
                if pt.point_id in points:
                    problems.append(
                        f"{here}.point_id: {pt.point_id!r} is also {points[pt.point_id]}"
                    )
                points.setdefault(pt.point_id, here)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def load_iec104_map(path: str | Path) -> Iec104Map:
    """Read and validate an IOA-map file (YAML or TOML); every problem is reported as
    ``file: stations.0.points.2.ioa: reason`` (list indices 0-based)."""
    return load_validated(path, Iec104Map, InputError)


def quality_from_qds(qds: int) -> tuple[Quality, bool]:
    """Our quality flags for an IEC quality descriptor, and whether IV (invalid) is set."""
    q = Quality.VALID
    if qds & QDS_SB:
        q |= Quality.SUBSTITUTED
    if qds & (QDS_NT | QDS_BL | QDS_OV | QDS_EI):
        q |= Quality.QUESTIONABLE
    return q, bool(qds & QDS_IV)


# ----------------------------------------------------------------------- counters


@dataclass
class Iec104Counters:
    """What the client did (a snapshot, summed over stations).

    Attributes
    ----------
    received : int
        Updates of mapped IOAs received (values and ``bad_quality`` rejects).
    invalid : int
        Of those, updates with IV set (rejected as ``bad_quality``).
    unmapped : int
        Updates of IOAs not in the map (rejected as ``unknown_point``).
    interrogations : int
        General interrogations sent.
    connects, disconnects : int
        Connections opened (unmuted) and lost.
    values_spooled : int
        Updates written to the disk spool because the memory buffer was full (the sink
        blocked); they are delivered later, in order.
    values_dropped : int
        Updates lost because the spool could not be written (disk full).
    """

    received: int = 0
    invalid: int = 0
    unmapped: int = 0
    interrogations: int = 0
    connects: int = 0
    disconnects: int = 0
    values_spooled: int = 0
    values_dropped: int = 0


@dataclass
class _Update:
    point_id: str | None
    value: float
    qds: int
    ts_us: int
    tag_us: int | None
    detail: str
    source: str


# ----------------------------------------------------------------------- the source


def _to_utc_us(stamp: dt.datetime, zone: str) -> int:
    """µs since 1970 (UTC) of a ``c104`` timestamp (naive local clock time of this
    process, or aware), the wire's fields read in ``zone``."""
    wire = stamp.astimezone(dt.UTC).replace(tzinfo=None)  # the fields as sent
    if zone != "UTC":
        wire = wire.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC).replace(tzinfo=None)
    return int((wire - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1))


def _annotate(fn: Any, *, returns: Any, **params: Any) -> Any:
    """Give a callback its annotations as objects: ``c104`` checks a callback's signature
    by comparing annotations, which ``from __future__ import annotations`` turns into
    strings."""
    fn.__annotations__ = {**params, "return": returns}
    return fn


class Iec104Source:
    """Takes the measured values of IEC 60870-5-104 outstations (needs ``c104``).

    Parameters
    ----------
    ioa_map : Iec104Map or str or Path
        The map, or an IOA-map file.
    name : str
        The source's name for counters and messages.
    flush_s : float
        How often [s] buffered updates are handed to the sink.
    max_buffer : int
        Updates buffered in memory at most; more go to a spool file on disk.
    spool_dir : str or Path, optional
        Where spool files go (default: a new temporary folder, made when needed).
    """

    def __init__(
        self,
        ioa_map: Iec104Map | str | Path,
        *,
        name: str = "iec104",
        flush_s: float = 0.1,
        max_buffer: int = 100_000,
        spool_dir: str | Path | None = None,
    ) -> None:
        if not isinstance(ioa_map, Iec104Map):
            ioa_map = load_iec104_map(ioa_map)
        self.ioa_map = ioa_map
        self.name = name
        self.flush_s = flush_s
        self.max_buffer = max_buffer
        self._lock = threading.Lock()
        self._buffer: list[_Update] = []
        self._spool: list[Path] = []
        self._spool_dir = None if spool_dir is None else Path(spool_dir)
        self._spool_seq = 0
        self._counters = Iec104Counters()

    def counters(self) -> Iec104Counters:
        """What the client did so far."""
        with self._lock:
            return Iec104Counters(**vars(self._counters))

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for k, n in deltas.items():
                setattr(self._counters, k, getattr(self._counters, k) + n)

    def _keep(self, update: _Update) -> None:
        """Buffer an update (called from c104's thread: never waits for the sink)."""
        with self._lock:
            self._buffer.append(update)
            if len(self._buffer) >= self.max_buffer:
                self._spill_locked()

    def _spill_locked(self) -> None:
        """Write the memory buffer to a new spool file (the lock is held)."""
        updates, self._buffer = self._buffer, []
        try:
            if self._spool_dir is None:
                self._spool_dir = Path(tempfile.mkdtemp(prefix="gridtwin-iec104-spool-"))
            self._spool_dir.mkdir(parents=True, exist_ok=True)
            path = self._spool_dir / f"{self._spool_seq:09d}.jsonl"
            self._spool_seq += 1
            with path.open("w", encoding="utf-8") as fh:
                for u in updates:
                    fh.write(json.dumps(dataclasses.asdict(u)) + "\n")
        except OSError as exc:
            self._counters.values_dropped += len(updates)
            _log.error(
                "%s: %d updates lost: the spool cannot be written (%s)",
                self.name,
                len(updates),
                exc,
            )
            return
        self._spool.append(path)
        self._counters.values_spooled += len(updates)
        if len(self._spool) == 1:
            _log.warning("%s: the sink is slow; updates are spooled to %s", self.name, path.parent)

    def spooled_files(self) -> list[Path]:
        """Spool files not yet delivered (left on disk if the sink failed)."""
        with self._lock:
            return list(self._spool)

    # -- c104 wiring

    def _on_value(self, name: str, zone: str, point_id: str | None) -> Any:
        """The ``on_receive`` callback of one IOA (``point_id`` None: not in the map)."""
        import c104

        source = f"iec104:{name}"

        def on_receive(
            point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage
        ) -> c104.ResponseState:
            info = message.info
            now_us = time.time_ns() // 1000
            tag = info.recorded_at
            tag_us = None if tag is None else _to_utc_us(tag, zone)
            qds = int(info.quality.value) if isinstance(info.quality, c104.Quality) else 0
            value = info.value
            num = float(value) if isinstance(value, (int, float)) else math.nan
            where = (
                f"station {name!r} CA {message.common_address} IOA {point.io_address} "
                f"({point.type.name})"
            )
            if point_id is None:
                where += " is not in the IOA map"
                self._count(unmapped=1)
            else:
                self._count(received=1, invalid=int(bool(qds & QDS_IV)))
            self._keep(_Update(point_id, num, qds, tag_us or now_us, tag_us, where, source))
            return c104.ResponseState.SUCCESS

        return _annotate(
            on_receive,
            point=c104.Point,
            previous_info=c104.Information,
            message=c104.IncomingMessage,
            returns=c104.ResponseState,
        )

    def _on_new_point(self) -> Any:
        """Take IOAs (and stations) not in the map: their updates become
        ``unknown_point`` rejects. (Adding the point is needed too: c104 2.2.1 drops the
        rest of a message after an IOA that no callback added.)"""
        import c104

        by_ca = {s.common_address: s for s in self.ioa_map.stations}

        def on_new_point(
            client: c104.Client, station: c104.Station, io_address: int, point_type: c104.Type
        ) -> None:
            st = by_ca.get(station.common_address)
            name, zone = (st.name, st.time_zone) if st is not None else ("?", "UTC")
            point = station.add_point(io_address=io_address, type=point_type)
            if point is not None:
                point.on_receive(callable=self._on_value(name, zone, None))

        def on_new_station(
            client: c104.Client, connection: c104.Connection, common_address: int
        ) -> None:
            connection.add_station(common_address=common_address)

        return _annotate(
            on_new_point,
            client=c104.Client,
            station=c104.Station,
            io_address=int,
            point_type=c104.Type,
            returns=None,
        ), _annotate(
            on_new_station,
            client=c104.Client,
            connection=c104.Connection,
            common_address=int,
            returns=None,
        )

    def _on_state(self, st: Iec104Station) -> Any:
        import c104

        def on_state_change(connection: c104.Connection, state: c104.ConnectionState) -> None:
            if state == c104.ConnectionState.CLOSED_AWAIT_RECONNECT:
                self._count(disconnects=1)
                _log.warning("station %r: connection lost; c104 reconnects", st.name)

        return _annotate(
            on_state_change, connection=c104.Connection, state=c104.ConnectionState, returns=None
        )

    def _connect_all(self, client: Any) -> list[tuple[Iec104Station, Any]]:
        import c104

        out = []
        for st in self.ioa_map.stations:
            con = client.add_connection(ip=st.host, port=st.port, init=c104.Init.MUTED)
            if con is None:
                msg = f"{self.name}: station {st.name!r}: c104 refused {st.host}:{st.port}"
                raise InputError(msg)
            station = con.add_station(common_address=st.common_address)
            for pt in st.points:
                kind = getattr(c104.Type, pt.type)
                point = station.add_point(io_address=pt.ioa, type=kind)
                point.on_receive(callable=self._on_value(st.name, st.time_zone, pt.point_id))
            con.on_state_change(callable=self._on_state(st))
            out.append((st, con))
        on_new_point, on_new_station = self._on_new_point()
        client.on_new_point(callable=on_new_point)
        client.on_new_station(callable=on_new_station)
        return out

    # -- the loop

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Take updates until ``stop`` is set.

        Raises
        ------
        InputError
            ``c104`` is not installed, or refuses a station's address.
        """
        try:
            import c104
        except ImportError as exc:
            msg = "IEC 60870-5-104 needs the optional package c104: pip install c104"
            raise InputError(msg) from exc
        client = c104.Client(tick_rate_ms=50, command_timeout_ms=5000)
        connections = self._connect_all(client)
        last_gi: dict[str, float] = {}
        client.start()
        try:
            while not stop.wait(self.flush_s):
                for st, con in connections:
                    self._supervise(st, con, last_gi)
                self._flush(sink)
        finally:
            client.stop()
            self._flush(sink)

    def _supervise(self, st: Iec104Station, con: Any, last_gi: dict[str, float]) -> None:
        """Unmute a connection that came up muted and interrogate it; repeat the
        interrogation every ``interrogation_interval_s``."""
        import c104

        state = con.state
        if state == c104.ConnectionState.OPEN_MUTED:
            if con.unmute():
                self._count(connects=1)
                last_gi.pop(st.name, None)
            return
        if state != c104.ConnectionState.OPEN:
            last_gi.pop(st.name, None)
            return
        every = st.interrogation_interval_s
        due = st.name not in last_gi or (every > 0 and time.monotonic() - last_gi[st.name] >= every)
        if due and con.interrogation(common_address=st.common_address, wait_for_response=False):
            last_gi[st.name] = time.monotonic()
            self._count(interrogations=1)

    def _flush(self, sink: Sink) -> None:
        """Hand the spool files (oldest first), then the memory buffer, to the sink."""
        while True:
            with self._lock:
                if not self._spool:
                    updates, self._buffer = self._buffer, []
                    break
                path = self._spool[0]
            spooled = [
                _Update(**json.loads(line))
                for line in path.read_text(encoding="utf-8").splitlines()
            ]
            sink.submit(_batch(spooled, self.name))  # if this raises, the file stays
            with self._lock:
                self._spool.pop(0)
            path.unlink()
        if updates:
            sink.submit(_batch(updates, self.name))


def _batch(updates: list[_Update], name: str) -> RawBatch:
    """Values (IV set: ``bad_quality`` rejects; unmapped: ``unknown_point``) as one batch."""
    rejects = RejectBatch()
    keep: list[_Update] = []
    qual: list[int] = []
    for u in updates:
        ts = np.datetime64(u.ts_us, "us")
        if u.point_id is None:
            raw = f"{u.value!r} qds=0x{u.qds:02x}"
            rejects.add(
                "unknown_point", u.detail, source=u.source, raw=raw, ts_utc=ts, value=u.value
            )
            continue
        q, invalid = quality_from_qds(u.qds)
        if invalid:
            detail = f"{u.detail}: the station marks the value invalid (IV), qds=0x{u.qds:02x}"
            rejects.add(
                "bad_quality",
                detail,
                source=u.source,
                raw=f"{u.value!r} qds=0x{u.qds:02x}",
                point_id=u.point_id,
                ts_utc=ts,
                value=u.value,
            )
            continue
        keep.append(u)
        qual.append(int(q))
    return RawBatch.build(
        [u.point_id or "" for u in keep],
        np.array([u.ts_us for u in keep], np.int64),
        [u.value for u in keep],
        quality=np.array(qual, np.uint8),
        source_ts_utc=np.array(
            [
                np.datetime64("NaT") if u.tag_us is None else np.datetime64(u.tag_us, "us")
                for u in keep
            ],
            _US,
        ),
        source=name,
        rejects=rejects,
    )
