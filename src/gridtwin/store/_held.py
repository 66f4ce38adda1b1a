"""The journaled rows the embedded store holds in memory until the database has them
(see :mod:`gridtwin.store._journal`), and how reads add them to what the database says.

Held rows are numpy columns of ``measurements`` without the revision (every held row is
a new key: revision 0): ``point_key``, ``ts_utc``, ``value``, ``quality``,
``source_ts_utc``, ``arrival_ts_utc``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from gridtwin.store._journal import JournalRecord

__all__ = ["HeldRows", "arrow_column", "columns_table", "record_columns", "with_held"]

Columns = dict[str, np.ndarray]


class HeldRows:
    """Journaled writes not yet in the database, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Columns, Any | None]] = []
        self._rows = 0
        self._cols: Columns | None = None  # the rows concatenated, until the next add

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def rows(self) -> int:
        """Rows held."""
        return self._rows

    def add(self, cols: Columns, rejects: Any | None) -> None:
        """Hold one write's rows and rejects (an Arrow table or None)."""
        with self._lock:
            self._items.append((cols, rejects))
            self._rows += len(cols["point_key"])
            self._cols = None

    def columns(self) -> Columns | None:
        """The held rows as one set of columns (None when none are held)."""
        with self._lock:
            if not self._items:
                return None
            if self._cols is None:
                parts = [c for c, _ in self._items]
                self._cols = {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}
            return self._cols

    def rejects(self) -> Any | None:
        """The held rejects as one Arrow table (None when none are held)."""
        import pyarrow as pa

        with self._lock:
            tables = [r for _, r in self._items if r is not None]
        return pa.concat_tables(tables) if tables else None

    def clear(self) -> None:
        """Forget every held row (the database has them now)."""
        with self._lock:
            self._items = []
            self._rows = 0
            self._cols = None


def arrow_column(values: np.ndarray) -> Any:
    """A numpy column as Arrow (NaT as null)."""
    import pyarrow as pa

    if values.dtype.kind == "M":
        return pa.array(values, type=pa.timestamp("us"), from_pandas=True)
    return pa.array(values)


def columns_table(cols: Columns) -> Any:
    """Held rows (numpy columns) as an Arrow table for the database or the journal."""
    import pyarrow as pa

    return pa.table({k: arrow_column(v) for k, v in cols.items()})


def record_columns(record: JournalRecord) -> Columns:
    """A journal record's rows as numpy columns (nulls as NaT)."""
    t = record.rows

    def ts(name: str) -> np.ndarray:
        return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype="datetime64[us]")

    return {
        "point_key": np.asarray(t["point_key"].to_numpy(), dtype=np.int32),
        "ts_utc": ts("ts_utc"),
        "value": np.asarray(t["value"].to_numpy(), dtype=np.float64),
        "quality": np.asarray(t["quality"].to_numpy(), dtype=np.uint8),
        "source_ts_utc": ts("source_ts_utc"),
        "arrival_ts_utc": ts("arrival_ts_utc"),
    }


def with_held(
    cols: dict[str, Any],
    held: Columns,
    keys: npt.NDArray[np.int32] | None,
    lo: Any,
    hi: Any,
) -> dict[str, Any]:
    """The database's window rows (``cols``) and the held rows of the same points
    (``keys``; None: all) in ``[lo, hi)``."""
    ts = held["ts_utc"]
    mask = (ts >= np.datetime64(lo, "us")) & (ts < np.datetime64(hi, "us"))
    if keys is not None:
        mask &= np.isin(held["point_key"], keys)
    if not mask.any():
        return cols
    out: dict[str, Any] = {}
    for name, col in cols.items():
        if name == "revision":
            extra: np.ndarray = np.zeros(int(mask.sum()), np.int16)
        else:
            extra = held[name][mask]
        base = np.asarray(col)
        if np.ma.isMaskedArray(col):
            base = col.filled(np.datetime64("NaT") if col.dtype.kind == "M" else 0)
        out[name] = np.concatenate([base.astype(extra.dtype, copy=False), extra])
    return out
