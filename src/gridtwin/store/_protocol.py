"""The one interface every measurement store implements (DuckDB embedded, PostgreSQL).

Semantics every backend keeps (one test suite, ``tests/store/test_contract.py``, checks
them on both):

- **Keys**: a measurement is keyed by ``(point_id, ts_utc)``. Writing a value equal to one
  already stored for that key (any revision) stores nothing and counts a duplicate; a
  different value is stored as the next revision (``revision`` 0, 1, 2, ...), never an
  overwrite. Reads return the highest revision unless asked for all.
- **Durability**: :meth:`MeasurementStore.write` returns only after the batch and its
  rejects are committed durably, in one transaction: after a crash either all of a write
  is there or none of it.
- **Order**: late and out-of-order values are normal input.
- **Points**: a measurement of an unknown point is refused (:class:`StoreError`); ingest
  turns such values into rejects before they reach the store.
- **Time**: UTC everywhere; frames returned have tz-aware UTC columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

from gridtwin.store._model import (
    LatestValues,
    MeasurementBatch,
    MeasurementPoint,
    RejectBatch,
    StoreInfo,
    WriteReport,
)

__all__ = ["ExportFormat", "MeasurementStore", "ResampleHow"]

ResampleHow = Literal["mean", "last", "sum", "min", "max"]
ExportFormat = Literal["parquet", "csv"]


@runtime_checkable
class MeasurementStore(Protocol):
    """A time-series store of measurements (see the module docstring for its rules)."""

    backend: str

    def add_points(self, points: Iterable[MeasurementPoint]) -> int:
        """Add points, or update existing ones (same ``point_id``); the number written.

        Changing the quantity or unit of a point that has measurements is refused with a
        :class:`~gridtwin.errors.InputError` (its stored values would change meaning).
        """
        ...

    def points(self) -> list[MeasurementPoint]:
        """Every point, ordered by ``point_id``."""
        ...

    def write(self, batch: MeasurementBatch, rejects: RejectBatch | None = None) -> WriteReport:
        """Store validated measurements and rejects, durably and atomically."""
        ...

    def write_many(
        self, items: Sequence[tuple[MeasurementBatch, RejectBatch | None]]
    ) -> list[WriteReport]:
        """Several writes in one durable transaction (a group commit), each with its own
        report, as if written one after the other: a value repeated by a later item is a
        duplicate of the earlier one."""
        ...

    def latest(self, point_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The newest value per point (highest ``ts_utc``, its highest revision).

        Columns ``point_id, ts_utc, value, quality, revision, source_ts_utc,
        arrival_ts_utc``; one row per point that has a value, ordered by ``point_id``.
        """
        ...

    def latest_held(self, point_ids: Sequence[str] | None = None) -> LatestValues | None:
        """The newest values (as :meth:`latest`) when the store holds them in memory,
        answered without I/O and without waiting for a write (an API can answer on its
        event loop); None when it does not hold them (then ask :meth:`latest`). When they
        are held, an unknown point id is an error, as in :meth:`latest`."""
        ...

    def window(
        self,
        point_ids: Sequence[str] | None,
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        *,
        all_revisions: bool = False,
    ) -> pd.DataFrame:
        """Values with ``start_utc <= ts_utc < end_utc`` (long format, same columns as
        :meth:`latest`), ordered by ``point_id, ts_utc, revision``."""
        ...

    def window_rows(
        self,
        point_ids: Sequence[str] | None,
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        *,
        all_revisions: bool = False,
    ) -> LatestValues:
        """The rows of :meth:`window` as arrays, without a frame (times naive UTC)."""
        ...

    def resample(
        self,
        point_ids: Sequence[str],
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        step: pd.Timedelta,
        how: ResampleHow = "mean",
    ) -> pd.DataFrame:
        """Values on the model's step: one row per interval ``[t, t + step)`` labelled
        by its start, from ``start_utc`` (aligned to it) to ``end_utc``, one column per
        point; an interval without values is NaN (never filled)."""
        ...

    def rejects(self, limit: int | None = None) -> pd.DataFrame:
        """Rejected inputs, newest first: ``point_id, ts_utc, value, reason, detail,
        source, raw, arrival_ts_utc``."""
        ...

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
        """Write measurements to a Parquet or CSV file; the number of rows written."""
        ...

    def info(self) -> StoreInfo:
        """Counts and time span."""
        ...

    def close(self) -> None:
        """Release the connection (idempotent)."""
        ...

    def __enter__(self) -> MeasurementStore:
        """The store itself (``with open_store(...) as store:``)."""
        ...

    def __exit__(self, *exc: object) -> None:
        """:meth:`close`."""
        ...
