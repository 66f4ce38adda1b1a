"""Reading Parquet file metadata with errors that name the file (shared by every reader)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gridtwin.errors import InputError

__all__ = ["parquet_columns"]


def parquet_columns(file: Path) -> list[str]:
    """Column names of a Parquet file; :class:`InputError` naming the file if unreadable."""
    try:
        return [str(n) for n in pq.read_schema(str(file)).names]
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc
