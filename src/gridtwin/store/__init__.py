"""The measurement store of the live twin: points, measurements, revisions, rejects.

One interface (:class:`MeasurementStore`), two backends tested by one suite:

- **embedded** (default): a data directory holding a DuckDB database, no server;
  exports and archives are Parquet;
- **server**: PostgreSQL through psycopg 3 (``postgresql://`` URL), with SQL kept
  TimescaleDB-compatible (a hypertable when the extension is present).

:func:`open_store` picks the backend from the location.
"""

from __future__ import annotations

from pathlib import Path

from gridtwin.errors import InputError
from gridtwin.store._model import (
    PHASES,
    REJECT_REASONS,
    LatestValues,
    MeasurementBatch,
    MeasurementPoint,
    Quality,
    QuantitySpec,
    RejectBatch,
    RejectReason,
    StoreInfo,
    WriteReport,
    points_from_records,
    quantities,
)
from gridtwin.store._points import read_points
from gridtwin.store._protocol import ExportFormat, MeasurementStore, ResampleHow

__all__ = [
    "PHASES",
    "REJECT_REASONS",
    "ExportFormat",
    "LatestValues",
    "MeasurementBatch",
    "MeasurementPoint",
    "MeasurementStore",
    "Quality",
    "QuantitySpec",
    "RejectBatch",
    "RejectReason",
    "ResampleHow",
    "StoreInfo",
    "WriteReport",
    "is_server_url",
    "open_store",
    "points_from_records",
    "quantities",
    "read_points",
]


def is_server_url(location: str | Path) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL, False for a directory."""
    text = str(location)
    return text.startswith(("postgresql://", "postgres://"))


def open_store(
    location: str | Path,
    *,
    create: bool = False,
    read_only: bool = False,
    threads: int | None = None,
) -> MeasurementStore:
    """Open a store: a data directory (embedded DuckDB) or a ``postgresql://`` URL.

    Parameters
    ----------
    location : str or Path
        The data directory, or the server's URL.
    create : bool
        Create the directory / the schema if missing (``gridtwin store init``); otherwise
        a missing store is an :class:`~gridtwin.errors.InputError` that says to run it.
    read_only : bool
        Open without write access (embedded: other read-only processes may open it too).
    threads : int, optional
        Embedded: DuckDB's worker threads (default: DuckDB's, one per core). One suits a
        service's many small queries, which parallel work only slows down; bulk loads and
        long exports gain from more. Ignored by the PostgreSQL store.
    """
    if is_server_url(location):
        from gridtwin.store._postgres import PostgresStore

        return PostgresStore.open(str(location), create=create, read_only=read_only)
    if not str(location).strip():
        msg = "the store location is empty; give a data directory or a postgresql:// URL"
        raise InputError(msg)
    from gridtwin.store._duckdb import DuckDBStore

    return DuckDBStore.open(Path(location), create=create, read_only=read_only, threads=threads)
