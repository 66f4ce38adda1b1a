"""The ingest pipeline: validate, queue (bounded), batch and write through one writer.

Sources hand :class:`~gridtwin.ingest.RawBatch` objects to :meth:`Pipeline.submit`. The
batch is checked against the points at once (in the source's thread), then queued. The
queue is bounded in rows: when the store is slower than the input, ``submit`` blocks and
the source slows down (an MQTT client stops reading, the broker holds the messages; a
file reader waits). One writer thread takes everything queued, up to
``flush_rows`` at a time or whatever arrived within ``flush_s``, and writes it in one
durable transaction; then it calls each batch's ``on_durable``. A write that fails
(disk full, server gone) is retried with a back-off and counted; the batch stays queued,
nothing is dropped. :meth:`Pipeline.flush` is a barrier for tests and for a clean stop.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gridtwin.errors import InputError, StoreError
from gridtwin.ingest._source import RawBatch, Source
from gridtwin.ingest._validate import PointTable
from gridtwin.store._model import MeasurementBatch, RejectBatch
from gridtwin.store._protocol import MeasurementStore

__all__ = ["IngestCounters", "Pipeline", "PipelineConfig", "run_sources"]


@dataclass(frozen=True)
class PipelineConfig:
    """Sizes and limits of the pipeline.

    Attributes
    ----------
    queue_max_rows : int
        Rows that may wait for the writer; ``submit`` blocks beyond (back-pressure).
    flush_rows : int
        Rows written per transaction at most.
    flush_s : float
        The writer waits at most this long [s] for more rows before writing what it has.
    max_future_s : float
        A timestamp more than this [s] ahead of the arrival time is rejected.
    ranges : mapping of str to (float, float), optional
        Plausible range per quantity in its base unit, overriding ``quantities.yaml``.
    retry_s : float
        First pause [s] after a failed write (doubling up to 30 s).
    """

    queue_max_rows: int = 2_000_000
    flush_rows: int = 500_000
    flush_s: float = 0.2
    max_future_s: float = 300.0
    ranges: Mapping[str, tuple[float, float]] | None = None
    retry_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("queue_max_rows", "flush_rows"):
            if getattr(self, name) < 1:
                msg = f"PipelineConfig.{name} must be at least 1"
                raise InputError(msg)
        for name in ("flush_s", "max_future_s", "retry_s"):
            if not getattr(self, name) >= 0:
                msg = f"PipelineConfig.{name} must be a number >= 0 [s]"
                raise InputError(msg)


@dataclass(frozen=True)
class IngestCounters:
    """A snapshot of the pipeline's counters.

    Attributes
    ----------
    received : int
        Values and rejects handed to the pipeline.
    stored, duplicates, revisions : int
        As reported by the store's writes (revisions are part of ``stored``).
    rejected : int
        Values rejected (by the sources' decoding or the checks), all written to the
        rejects table.
    rejected_by_reason : dict of str to int
    queue_rows : int
        Rows waiting for the writer.
    lag_s : float
        How long [s] the oldest waiting row has waited (0 when none waits).
    max_lag_s : float
        The largest ``lag_s`` seen at a write.
    writes, write_errors : int
        Transactions committed, and failed attempts (each retried).
    last_error : str
        The last write error ('' if none).
    """

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    revisions: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    queue_rows: int = 0
    lag_s: float = 0.0
    max_lag_s: float = 0.0
    writes: int = 0
    write_errors: int = 0
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The counters as plain JSON-able values."""
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "revisions": self.revisions,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "queue_rows": self.queue_rows,
            "lag_s": self.lag_s,
            "max_lag_s": self.max_lag_s,
            "writes": self.writes,
            "write_errors": self.write_errors,
            "last_error": self.last_error,
        }


@dataclass
class _Item:
    batch: MeasurementBatch
    rejects: RejectBatch
    on_durable: Callable[[], None] | None
    seq: int
    queued_at: float

    @property
    def rows(self) -> int:
        return len(self.batch) + len(self.rejects)


class Pipeline:
    """Validate → bounded queue → one writer thread → store (see the module docstring).

    Use as a context manager: leaving it flushes everything queued and stops the writer.
    """

    def __init__(self, store: MeasurementStore, config: PipelineConfig | None = None) -> None:
        self.store = store
        self.config = config or PipelineConfig()
        self._table = PointTable.build(store.points(), self.config.ranges)
        self._cond = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()
        self._queued_rows = 0
        self._submitted = 0  # sequence number of the last submitted item
        self._written = 0  # every item up to this one is durable
        self._counters = IngestCounters()
        self._closing = False
        self._flushers = 0  # flush() calls waiting: write at once
        self._fatal: BaseException | None = None
        self._writer = threading.Thread(target=self._run, name="gridtwin-writer", daemon=True)
        self._writer.start()

    # ------------------------------------------------------------------ the sink side

    def refresh_points(self) -> None:
        """Re-read the points from the store (after points were added)."""
        table = PointTable.build(self.store.points(), self.config.ranges)
        with self._cond:
            self._table = table

    def submit(
        self,
        batch: RawBatch,
        on_durable: Callable[[], None] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """Check and queue a batch (blocks while the queue is full; see :class:`Sink`)."""
        arrival = np.datetime64(time.time_ns() // 1000, "us")
        accepted, rejects = self._table.check(batch, arrival, self.config.max_future_s)
        rows = len(accepted) + len(rejects)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            self._raise_if_stopped()
            # an item larger than the whole queue is let in alone, so it cannot wait forever
            while self._queued_rows and self._queued_rows + rows > self.config.queue_max_rows:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    msg = (
                        f"the ingest queue stayed full for {timeout_s:g} s "
                        f"({self._queued_rows} rows wait for the store)"
                    )
                    raise StoreError(msg)
                self._cond.wait(left)
                self._raise_if_stopped()
            self._submitted += 1
            item = _Item(accepted, rejects, on_durable, self._submitted, time.monotonic())
            self._queue.append(item)
            self._queued_rows += rows
            c = self._counters
            self._counters = replace(c, received=c.received + len(batch) + len(batch.rejects))
            self._cond.notify_all()

    def _raise_if_stopped(self) -> None:
        if self._fatal is not None:
            msg = f"the ingest writer stopped: {self._fatal}"
            raise StoreError(msg) from self._fatal
        if self._closing:
            msg = "the ingest pipeline is closed"
            raise StoreError(msg)

    def flush(self, timeout_s: float | None = None) -> IngestCounters:
        """Wait until everything submitted so far is durable; the counters then."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            target = self._submitted
            self._flushers += 1
            self._cond.notify_all()
            try:
                while self._written < target:
                    if self._fatal is not None:
                        self._raise_if_stopped()
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        msg = (
                            f"flush: {self._queued_rows} rows were not written within "
                            f"{timeout_s} s (last error: {self._counters.last_error or 'none'})"
                        )
                        raise StoreError(msg)
                    self._cond.wait(left)
            finally:
                self._flushers -= 1
            return self._snapshot()

    def counters(self) -> IngestCounters:
        """The counters now."""
        with self._cond:
            return self._snapshot()

    def _snapshot(self) -> IngestCounters:
        lag = time.monotonic() - self._queue[0].queued_at if self._queue else 0.0
        return replace(
            self._counters,
            queue_rows=self._queued_rows,
            lag_s=lag,
            rejected_by_reason=dict(self._counters.rejected_by_reason),
        )

    def close(self, timeout_s: float | None = None) -> IngestCounters:
        """Write what is queued, stop the writer; the final counters."""
        with self._cond:
            if self._closing:
                return self._snapshot()
        try:
            counters = self.flush(timeout_s)
        finally:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._writer.join(timeout=timeout_s)
        return counters

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the writer

    def _take(self) -> list[_Item] | None:
        """The next items to write (None when closing and empty)."""
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            first = self._queue[0].queued_at
            while self._queued_rows < self.config.flush_rows and not self._closing:
                left = first + self.config.flush_s - time.monotonic()
                if left <= 0 or self._flushers:
                    break
                self._cond.wait(left)
            items: list[_Item] = []
            rows = 0
            for item in self._queue:
                if items and rows + item.rows > self.config.flush_rows:
                    break
                items.append(item)
                rows += item.rows
            return items

    def _run(self) -> None:
        pause = self.config.retry_s
        while True:
            items = self._take()
            if items is None:
                return
            try:
                report = self._write(items)
            except StoreError as exc:
                self._count_error(exc)
                time.sleep(pause)
                pause = min(30.0, max(pause * 2, 0.05))
                continue
            except BaseException as exc:  # a bug: stop loudly, never lose silently
                with self._cond:
                    self._fatal = exc
                    self._cond.notify_all()
                return
            pause = self.config.retry_s
            self._done(items, report)

    def _write(self, items: Sequence[_Item]) -> Any:
        batch = MeasurementBatch.concat([i.batch for i in items])
        rejects = RejectBatch()
        for item in items:
            rejects.extend(item.rejects)
        return self.store.write(batch, rejects), len(rejects), rejects.counts()

    def _count_error(self, exc: Exception) -> None:
        with self._cond:
            c = self._counters
            self._counters = replace(c, write_errors=c.write_errors + 1, last_error=str(exc))

    def _done(self, items: Sequence[_Item], result: Any) -> None:
        report, n_rej, by_reason = result
        failed = ""
        for item in items:
            if item.on_durable is not None:
                try:
                    item.on_durable()
                except Exception as exc:  # the data is stored; only the notice failed
                    failed = f"on_durable callback failed: {exc!r}"
        with self._cond:
            lag = time.monotonic() - items[0].queued_at
            for _ in items:
                done = self._queue.popleft()
                self._queued_rows -= done.rows
            self._written = items[-1].seq
            c = self._counters
            merged = dict(c.rejected_by_reason)
            for k, v in by_reason.items():
                merged[k] = merged.get(k, 0) + v
            self._counters = replace(
                c,
                stored=c.stored + report.stored,
                duplicates=c.duplicates + report.duplicates,
                revisions=c.revisions + report.revisions,
                rejected=c.rejected + n_rej,
                rejected_by_reason=merged,
                max_lag_s=max(c.max_lag_s, lag),
                writes=c.writes + 1,
                last_error=failed or c.last_error,
            )
            self._cond.notify_all()


def run_sources(
    pipeline: Pipeline,
    sources: Sequence[Source],
    stop: threading.Event,
    on_tick: Callable[[IngestCounters], None] | None = None,
    tick_s: float = 0.5,
) -> IngestCounters:
    """Run sources (each in its own thread) into the pipeline until all are done or
    ``stop`` is set; ``on_tick`` gets the counters every ``tick_s``. The first error of a
    source stops the others and is raised after the pipeline has written what it had."""
    errors: list[BaseException] = []

    def run_one(src: Source) -> None:
        try:
            src.run(pipeline, stop)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=run_one, args=(s,), name=s.name) for s in sources]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=tick_s / max(1, len(threads)))
            if on_tick is not None:
                on_tick(pipeline.counters())
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
    counters = pipeline.flush()
    if on_tick is not None:
        on_tick(counters)
    if errors:
        raise errors[0]
    return counters
