"""``POST /measurements``: the pipeline's checks, then a durable write shared by the
requests that arrive together (a group commit).

The API's values are checked exactly as every source's are
(:class:`gridtwin.ingest._validate.PointTable`, the pipeline's check stage: unknown point,
not finite, out of range, future time) and written with their rejects
(:meth:`~gridtwin.store.MeasurementStore.write_many`), so the same de-duplication and the
same rejects table apply. A request needs its own outcome (how many of *its* values were
stored, how many were duplicates, which of its items were rejected and why): that is its
own :class:`~gridtwin.store.WriteReport`, which ``write_many`` gives per item.

Group commit: a store write costs a few milliseconds whatever its size, so one write per
request would cap the API near a hundred ingest requests a second. The first request
to find no write under way writes; requests that arrive meanwhile queue, and the next
writer takes all of them in one transaction (in arrival order, so a value repeated by a
later request is that request's duplicate). Every request is answered only after the
transaction that holds its values committed; a failed transaction fails each of its
requests with 503, and the client sends again (a repeat is only duplicates).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.errors import StoreError

if TYPE_CHECKING:
    from gridtwin.ingest import RawBatch
    from gridtwin.ingest._validate import PointTable
    from gridtwin.store import MeasurementBatch, MeasurementStore, RejectBatch, WriteReport

__all__ = ["ApiIngest", "IngestOutcome", "RejectedItem"]


@dataclass(frozen=True)
class RejectedItem:
    """One item of a request that was not stored."""

    index: int
    point_id: str | None
    reason: str
    detail: str


@dataclass(frozen=True)
class IngestOutcome:
    """What one request's values became."""

    received: int
    stored: int
    duplicates: int
    revisions: int
    rejected: list[RejectedItem] = field(default_factory=list)


@dataclass(eq=False)  # compared by identity (the queue holds each once)
class _Pending:
    """One request waiting for its write."""

    accepted: MeasurementBatch
    rejects: RejectBatch
    report: WriteReport | None = None
    error: BaseException | None = None
    done: bool = False


class ApiIngest:
    """The API's way into the store: the pipeline's checks, group-committed writes."""

    #: At most this many requests share one transaction.
    MAX_GROUP = 256

    def __init__(self, store: MeasurementStore, timeout_s: float) -> None:
        self._store = store
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False
        self._timeout_s = timeout_s
        self._table = self._build_table()
        #: Transactions written and requests they held (the group commit's figures).
        self.transactions = 0
        self.requests = 0

    def _build_table(self) -> PointTable:
        from gridtwin.ingest import PipelineConfig
        from gridtwin.ingest._validate import PointTable

        self._max_future_s = PipelineConfig().max_future_s
        return PointTable.build(self._store.points())

    def refresh_points(self) -> None:
        """Re-read the points (after ``POST``/``PUT /points``)."""
        table = self._build_table()
        with self._cond:
            self._table = table

    def ingest(self, raw: RawBatch) -> IngestOutcome:
        """Check, write and report one request's values (returns once durable)."""
        arrival = np.datetime64(time.time_ns() // 1000, "us")
        with self._cond:
            table = self._table
        accepted, rejects = table.check(raw, arrival, self._max_future_s)
        mine = _Pending(accepted, rejects)
        deadline = time.monotonic() + self._timeout_s
        with self._cond:
            self._queue.append(mine)
        while not mine.done:
            with self._cond:
                while not mine.done and self._writing:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        if mine in self._queue:  # never written: safe to give up
                            self._queue.remove(mine)
                            msg = f"ingest: the store stayed busy for {self._timeout_s:g} s"
                            raise StoreError(msg)
                        left = 1.0  # in a transaction now: wait for its outcome
                    self._cond.wait(left)
                if mine.done:
                    break
                # no write under way: this request writes the queue (its own values too,
                # unless more than MAX_GROUP came first: then it goes round again)
                group = self._queue[: self.MAX_GROUP]
                del self._queue[: self.MAX_GROUP]
                self._writing = True
            self._write(group)
        if mine.error is not None:
            raise mine.error
        report = mine.report
        assert report is not None  # done without an error: written
        rejected = _rejected_items(raw, [rejects])
        if len(rejected) + report.stored + report.duplicates != len(raw):
            msg = (
                f"ingest: {len(raw)} values sent, but {report.stored} stored, "
                f"{report.duplicates} duplicates and {len(rejected)} rejected were reported"
            )
            raise StoreError(msg)
        return IngestOutcome(len(raw), report.stored, report.duplicates, report.revisions, rejected)

    def _write(self, group: list[_Pending]) -> None:
        """One transaction for ``group``; then wake the waiting requests."""
        try:
            reports = self._store.write_many([(p.accepted, p.rejects) for p in group])
        except BaseException as exc:  # every request of the group is told
            for p in group:
                p.error = exc
        else:
            for p, r in zip(group, reports, strict=True):
                p.report = r
        with self._cond:
            for p in group:
                p.done = True
            self._writing = False
            self.transactions += 1
            self.requests += len(group)
            self._cond.notify_all()

    def close(self) -> None:
        """Nothing is left queued: every request was written before it was answered."""


def _rejected_items(raw: RawBatch, rejects: Sequence[RejectBatch]) -> list[RejectedItem]:
    """The rejects matched to the request's item indices.

    The pipeline lists a batch's rejects in the order of its rows, so each reject is the
    next row at or after the previous match with the same point id and time.
    """
    out: list[RejectedItem] = []
    pos = 0
    n = len(raw)
    for batch in rejects:
        for pid, ts, reason, detail in zip(
            batch.point_id, batch.ts_utc, batch.reason, batch.detail, strict=True
        ):
            while pos < n and not _same(raw, pos, pid, ts):
                pos += 1
            if pos == n:
                msg = f"ingest: a reject of point {pid!r} matches no item of the request"
                raise StoreError(msg)
            out.append(RejectedItem(pos, pid, reason, detail))
            pos += 1
    return out


def _same(raw: RawBatch, i: int, pid: str | None, ts: np.datetime64) -> bool:
    if str(raw.point_id[i]) != pid:
        return False
    mine = raw.ts_utc[i]
    if np.isnat(mine) or np.isnat(ts):
        return bool(np.isnat(mine) and np.isnat(ts))
    return bool(mine == ts)
