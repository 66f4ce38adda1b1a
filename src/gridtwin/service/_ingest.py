"""``POST /measurements`` through the ingest pipeline, with a report per request.

The API's values go through :class:`gridtwin.ingest.Pipeline` like every other source's,
so the same checks (unknown point, not finite, out of range, future time), the same
de-duplication and the same rejects table apply. The pipeline reports counters for all
its writes together, and a request needs its own: how many of *its* values were stored,
how many were duplicates, and which of its items were rejected and why. So the API owns
one pipeline, requests pass through it one at a time (a lock held from ``submit`` to
``flush``), and the store is wrapped so that the writes made during a request's flush (its
values only) are seen with their :class:`~gridtwin.store.WriteReport` and rejects.

One request at a time costs one transaction per request (milliseconds on the embedded
store); bulk loads belong to ``gridtwin ingest``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.errors import StoreError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.ingest import Pipeline, RawBatch
    from gridtwin.store import (
        ExportFormat,
        MeasurementBatch,
        MeasurementPoint,
        MeasurementStore,
        RejectBatch,
        ResampleHow,
        StoreInfo,
        WriteReport,
    )

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


class _RecordingStore:
    """The store, with the writes made through it recorded (see the module docstring)."""

    def __init__(self, store: MeasurementStore) -> None:
        self._store = store
        self.backend = store.backend
        self.writes: list[tuple[WriteReport, RejectBatch | None]] = []

    def write(self, batch: MeasurementBatch, rejects: RejectBatch | None = None) -> WriteReport:
        report = self._store.write(batch, rejects)
        self.writes.append((report, rejects))
        return report

    def add_points(self, points: Iterable[MeasurementPoint]) -> int:
        return self._store.add_points(points)

    def points(self) -> list[MeasurementPoint]:
        return self._store.points()

    def latest(self, point_ids: Sequence[str] | None = None) -> pd.DataFrame:
        return self._store.latest(point_ids)

    def window(
        self,
        point_ids: Sequence[str] | None,
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        *,
        all_revisions: bool = False,
    ) -> pd.DataFrame:
        return self._store.window(point_ids, start_utc, end_utc, all_revisions=all_revisions)

    def resample(
        self,
        point_ids: Sequence[str],
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        step: pd.Timedelta,
        how: ResampleHow = "mean",
    ) -> pd.DataFrame:
        return self._store.resample(point_ids, start_utc, end_utc, step, how)

    def rejects(self, limit: int | None = None) -> pd.DataFrame:
        return self._store.rejects(limit)

    def export(
        self,
        path: Path,
        fmt: ExportFormat,
        *,
        point_ids: Sequence[str] | None = None,
        start_utc: pd.Timestamp | None = None,
        end_utc: pd.Timestamp | None = None,
        all_revisions: bool = False,
    ) -> int:
        return self._store.export(
            path,
            fmt,
            point_ids=point_ids,
            start_utc=start_utc,
            end_utc=end_utc,
            all_revisions=all_revisions,
        )

    def info(self) -> StoreInfo:
        return self._store.info()

    def close(self) -> None:
        """The wrapped store is closed by its owner, not here."""

    def __enter__(self) -> _RecordingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ApiIngest:
    """The API's way into the store: one pipeline, one request at a time."""

    def __init__(self, store: MeasurementStore, timeout_s: float) -> None:
        from gridtwin.ingest import Pipeline, PipelineConfig

        self._recorder = _RecordingStore(store)
        # the API waits for each request's flush, so the writer need not wait for more rows
        self._pipeline: Pipeline = Pipeline(self._recorder, PipelineConfig(flush_s=0.0))
        self._lock = threading.Lock()
        self._timeout_s = timeout_s

    def refresh_points(self) -> None:
        """Re-read the points (after ``POST``/``PUT /points``)."""
        with self._lock:
            self._pipeline.refresh_points()

    def ingest(self, raw: RawBatch) -> IngestOutcome:
        """Check, write and report one request's values (blocks until durable)."""
        with self._lock:
            self._pipeline.flush(self._timeout_s)  # anything left by a timed-out request
            self._recorder.writes.clear()
            self._pipeline.submit(raw, timeout_s=self._timeout_s)
            self._pipeline.flush(self._timeout_s)
            writes = list(self._recorder.writes)
        stored = sum(w.stored for w, _ in writes)
        duplicates = sum(w.duplicates for w, _ in writes)
        revisions = sum(w.revisions for w, _ in writes)
        rejected = _rejected_items(raw, [r for _, r in writes if r is not None])
        if len(rejected) + stored + duplicates != len(raw):
            msg = (
                f"ingest: {len(raw)} values sent, but {stored} stored, {duplicates} "
                f"duplicates and {len(rejected)} rejected were reported"
            )
            raise StoreError(msg)
        return IngestOutcome(len(raw), stored, duplicates, revisions, rejected)

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        self._pipeline.close(self._timeout_s)


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
