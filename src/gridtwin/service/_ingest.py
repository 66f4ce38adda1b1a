"""``POST /measurements``: the pipeline's checks, then one durable write per request.

The API's values are checked exactly as every source's are
(:class:`gridtwin.ingest._validate.PointTable`, the pipeline's check stage: unknown point,
not finite, out of range, future time) and written with their rejects in one transaction
(:meth:`~gridtwin.store.MeasurementStore.write`), so the same de-duplication and the same
rejects table apply. A request needs its own outcome (how many of *its* values were
stored, how many were duplicates, which of its items were rejected and why), which is the
:class:`~gridtwin.store.WriteReport` of that one write: the API writes directly instead of
through the pipeline's queue, where writes of several sources share a transaction. A
store that fails answers 503 and the client sends again (a repeat is only duplicates).

One request at a time (a lock) costs one transaction per request (milliseconds on the
embedded store); bulk loads belong to ``gridtwin ingest``.
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
    from gridtwin.store import MeasurementStore, RejectBatch

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


class ApiIngest:
    """The API's way into the store: the pipeline's checks, one write per request."""

    def __init__(self, store: MeasurementStore, timeout_s: float) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        self._table = self._build_table()

    def _build_table(self) -> PointTable:
        from gridtwin.ingest import PipelineConfig
        from gridtwin.ingest._validate import PointTable

        self._max_future_s = PipelineConfig().max_future_s
        return PointTable.build(self._store.points())

    def refresh_points(self) -> None:
        """Re-read the points (after ``POST``/``PUT /points``)."""
        table = self._build_table()
        with self._lock:
            self._table = table

    def ingest(self, raw: RawBatch) -> IngestOutcome:
        """Check, write and report one request's values (returns once durable)."""
        arrival = np.datetime64(time.time_ns() // 1000, "us")
        if not self._lock.acquire(timeout=self._timeout_s):
            msg = f"ingest: the store stayed busy for {self._timeout_s:g} s"
            raise StoreError(msg)
        try:
            accepted, rejects = self._table.check(raw, arrival, self._max_future_s)
            report = self._store.write(accepted, rejects)
        finally:
            self._lock.release()
        rejected = _rejected_items(raw, [rejects])
        if len(rejected) + report.stored + report.duplicates != len(raw):
            msg = (
                f"ingest: {len(raw)} values sent, but {report.stored} stored, "
                f"{report.duplicates} duplicates and {len(rejected)} rejected were reported"
            )
            raise StoreError(msg)
        return IngestOutcome(len(raw), report.stored, report.duplicates, report.revisions, rejected)

    def close(self) -> None:
        """Nothing is queued: every request was written before it was answered."""


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
