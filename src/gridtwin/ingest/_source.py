"""What every ingest source delivers, and to what: the source and sink protocols.

Ingest runs in stages (transport → decode → validate → batch → write). A **source** owns
the transport and the decoding: it reads its files, subscribes to its topics or polls its
device, and hands :class:`RawBatch` objects (values as the source gave them, not yet
scaled or checked against the points) to a **sink**. The sink is the ingest pipeline
(:class:`gridtwin.ingest.Pipeline`): it validates, batches and writes through one writer
thread, and calls ``on_durable`` once the batch is committed, so that a source that can
acknowledge (MQTT QoS 1) acknowledges only what is stored.

A source decodes; it never decides whether a value is plausible (the pipeline does, with
the points' ranges). What it cannot decode (a malformed message) it reports in the
batch's ``rejects`` with reason ``malformed``, so that nothing is dropped silently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.store._model import Quality, RejectBatch

__all__ = ["RawBatch", "Sink", "Source"]

_US = "datetime64[us]"


@dataclass
class RawBatch:
    """Values as a source read them (before scaling and validation), column-wise.

    Attributes
    ----------
    point_id : ndarray of str
        The measurement point each value belongs to (already mapped from the source's
        own names: topic, Sparkplug metric, register, usage point).
    ts_utc : ndarray of datetime64[us]
        The measurement time in UTC (the interval's start for interval quantities); NaT
        where the source gave none it could read (rejected as ``bad_timestamp``).
    raw_value : ndarray of float64
        The value before the point's ``scale`` and ``offset``.
    quality : ndarray of uint8
        :class:`~gridtwin.store.Quality` bits the source already knows (a Sparkplug
        sequence gap marks ``QUESTIONABLE``).
    source_ts_utc : ndarray of datetime64[us]
        The source's own timestamp of the message (NaT if none).
    source : str
        Who delivered it, for the rejects (``mqtt:<topic>``, ``file:<path>``, ...).
    rejects : RejectBatch
        Inputs the source could not decode (reason ``malformed``, ``bad_timestamp``).
    """

    point_id: npt.NDArray[np.object_]
    ts_utc: npt.NDArray[np.datetime64]
    raw_value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]
    source_ts_utc: npt.NDArray[np.datetime64]
    source: str = ""
    rejects: RejectBatch = field(default_factory=RejectBatch)

    @classmethod
    def build(
        cls,
        point_id: Sequence[str] | npt.NDArray[Any],
        ts_utc: Any,
        raw_value: Any,
        *,
        quality: Any = None,
        source_ts_utc: Any = None,
        source: str = "",
        rejects: RejectBatch | None = None,
    ) -> RawBatch:
        """A batch from columns. ``ts_utc`` as datetime64 (naive UTC) or int64 µs since
        1970; quality defaults to valid, the source timestamp to NaT."""
        pid = np.asarray(point_id, dtype=object)
        n = len(pid)
        ts = np.asarray(ts_utc)
        ts = ts.astype(np.int64).view(_US) if ts.dtype.kind in "iu" else ts.astype(_US)
        val = np.asarray(raw_value, dtype=np.float64)
        if quality is None:
            qual = np.full(n, Quality.VALID, np.uint8)
        else:
            qual = np.asarray(quality, dtype=np.uint8)
        if source_ts_utc is None:
            src = np.full(n, np.datetime64("NaT"), _US)
        else:
            src = np.asarray(source_ts_utc).astype(_US)
        for name, col in (("ts_utc", ts), ("raw_value", val), ("quality", qual), ("src", src)):
            if col.shape != (n,):
                msg = f"RawBatch: {name} has shape {col.shape}, point_id has {n} values"
                raise InputError(msg)
        return cls(pid, ts, val, qual, src, source, rejects or RejectBatch())

    @classmethod
    def empty(cls, source: str = "", rejects: RejectBatch | None = None) -> RawBatch:
        """A batch with no values (e.g. only rejects)."""
        return cls.build([], np.array([], _US), [], source=source, rejects=rejects)

    def __len__(self) -> int:
        return len(self.point_id)


@runtime_checkable
class Sink(Protocol):
    """Where a source puts what it read: the ingest pipeline."""

    def submit(
        self,
        batch: RawBatch,
        on_durable: Callable[[], None] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """Hand over a batch. Blocks while the pipeline's bounded queue is full (that is
        the back-pressure: the source slows down); raises
        :class:`~gridtwin.errors.StoreError` if ``timeout_s`` passes first, or if the
        pipeline has stopped. ``on_durable`` is called (from the writer thread) once
        every value and reject of the batch is committed."""
        ...


@runtime_checkable
class Source(Protocol):
    """A producer of measurements: files, Green Button, MQTT, Modbus, replay."""

    #: A short name for counters and messages (``mqtt``, ``modbus:plc1``, ...).
    name: str

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Deliver batches to ``sink`` until the input is exhausted (files, replay) or
        ``stop`` is set (live sources). Connection errors of live sources are retried
        with a back-off and counted; an error that makes going on pointless (a broker
        that refuses the credentials, a file that is not there) raises an
        :class:`~gridtwin.errors.InputError` naming what to fix."""
        ...
