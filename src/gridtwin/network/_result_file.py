"""Long-format Parquet result files: the Arrow table, the file metadata, the streaming writer.

A result file has one row per (step, element, quantity): ``time_utc, element,
element_id, quantity, value`` (see :meth:`PowerFlowResult.write_parquet`), and the
``gridtwin.powerflow`` key-value metadata of :func:`file_metadata`. :class:`ParquetStream`
writes such a file block by block while ``simulate`` runs;
:func:`gridtwin.network.read_parquet` (in :mod:`gridtwin.network._full_result`) reads one
back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.network._result_layout import (
    _LAYOUT,
    RESULT_FIELDS,
    BoolArray,
    ChunkArrays,
    IntArray,
    Series,
    _complete_ids,
    _empty_chunk,
    iter_series,
)
from gridtwin.timeseries import utc_ns

__all__ = [
    "PARQUET_FORMAT_VERSION",
    "PARQUET_GROUP_ROWS",
    "ParquetStream",
    "file_metadata",
    "long_table",
]

PARQUET_FORMAT_VERSION = 1
#: Rows per Parquet row group when streaming (bounds the memory of one write).
PARQUET_GROUP_ROWS = 1 << 21
_META_KEY = b"gridtwin.powerflow"
# dictionary-encode the repetitive key columns only (values are random floats)
_WRITE_OPTIONS: dict[str, Any] = {
    "use_dictionary": ["time_utc", "element", "element_id", "quantity"],
    "compression": "snappy",
    "write_statistics": ["time_utc", "element_id"],
}


def long_table(time_utc: pd.DatetimeIndex, series: Iterable[Series]) -> pa.Table:
    """Long-format Arrow table (``time_utc, element, element_id, quantity, value``)."""
    times = utc_ns(time_utc)
    parts_t, parts_e, parts_id, parts_q, parts_v = [], [], [], [], []
    for element, quantity, ids, block in series:
        n = block.size
        parts_t.append(np.repeat(times, len(ids)))
        parts_id.append(np.tile(ids, len(times)))
        parts_v.append(block.reshape(-1))
        parts_e.append((element, n))
        parts_q.append((quantity, n))

    def dictionary(parts: list[tuple[str, int]]) -> pa.DictionaryArray:
        names = sorted({p[0] for p in parts})
        codes = np.concatenate([np.full(n, names.index(v), dtype=np.int32) for v, n in parts])
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names))

    return pa.table(
        {
            "time_utc": pa.array(np.concatenate(parts_t), type=pa.timestamp("ns", tz="UTC")),
            "element": dictionary(parts_e),
            "element_id": pa.array(np.concatenate(parts_id), type=pa.int64()),
            "quantity": dictionary(parts_q),
            "value": pa.array(np.concatenate(parts_v), type=pa.float64()),
        }
    )


def file_metadata(
    *,
    name: str,
    symmetric: bool,
    notes: Sequence[str],
    step_duration: pd.Timedelta,
    ids: Mapping[str, IntArray],
) -> dict[str, Any]:
    """The ``gridtwin.powerflow`` metadata of a result file (JSON-able)."""
    meta: dict[str, Any] = {
        "format_version": PARQUET_FORMAT_VERSION,
        "name": name,
        "symmetric": symmetric,
        "notes": list(notes),
        "step_duration_s": step_duration.total_seconds(),
    }
    for key, values in _complete_ids(ids).items():
        meta[key] = values.tolist()
    return meta


class ParquetStream:
    """Writes a long-format result file block by block; the file appears when complete.

    Rows go to ``<path>.partial``; :meth:`close` stores the final metadata (notes known
    only at the end, e.g. failed steps) and renames the file, :meth:`abort` deletes it.
    The metadata given at opening is also stored in the Arrow schema; the file's
    key-value metadata holds the final version (what :func:`read_parquet` reads).

    Parameters
    ----------
    path : str or Path
        Target file.
    metadata : dict
        :func:`file_metadata` as known at the start.
    ids : mapping
        Element ids of the columns (``bus_ids`` ...).
    symmetric : bool
        Balanced result.
    """

    def __init__(
        self,
        path: str | Path,
        metadata: Mapping[str, Any],
        ids: Mapping[str, IntArray],
        symmetric: bool,
    ) -> None:
        self.target = Path(path)
        self.tmp = self.target.with_name(self.target.name + ".partial")
        self.ids = _complete_ids(ids)
        self.symmetric = symmetric
        phases = 1 if symmetric else 3
        self.rows_per_step = (
            sum(
                len(self.ids[ids_name]) * (phases if per_phase else 1)
                for _n, _e, _q, ids_name, per_phase in _LAYOUT
            )
            + 2
        )
        empty = {name: _empty_chunk(name, self.ids, symmetric) for name in RESULT_FIELDS}
        self.schema = long_table(
            pd.DatetimeIndex([], tz="UTC"),
            iter_series(empty, np.zeros(0, dtype=bool), self.ids, symmetric),
        ).schema
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            str(self.tmp), self.schema.with_metadata(_encode(metadata)), **_WRITE_OPTIONS
        )

    def write(
        self,
        time_utc: pd.DatetimeIndex,
        arrays: ChunkArrays,
        converged: BoolArray,
        group_steps: int | None = None,
    ) -> None:
        """Append a block of steps (row groups of about :data:`PARQUET_GROUP_ROWS` rows)."""
        if self._writer is None:
            msg = f"{self.target}: the Parquet stream is closed"
            raise InputError(msg)
        n = len(time_utc)
        step = group_steps or max(1, PARQUET_GROUP_ROWS // max(self.rows_per_step, 1))
        for start in range(0, n, step):
            sl = slice(start, min(start + step, n))
            part = {name: arrays[name][sl] for name in RESULT_FIELDS}
            table = long_table(
                time_utc[sl], iter_series(part, converged[sl], self.ids, self.symmetric)
            )
            self._writer.write_table(table.cast(self.schema), row_group_size=max(table.num_rows, 1))

    def close(self, metadata: Mapping[str, Any]) -> Path:
        """Store the final metadata, close and move the file into place."""
        if self._writer is None:
            return self.target
        try:
            self._writer.add_key_value_metadata(_encode(metadata))
            self._writer.close()
            self._writer = None
            self.tmp.replace(self.target)
        except BaseException:
            self.abort()
            raise
        return self.target

    def abort(self) -> None:
        """Close and delete the partial file."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            finally:
                self.tmp.unlink(missing_ok=True)
        else:
            self.tmp.unlink(missing_ok=True)


def _encode(metadata: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Parquet key-value metadata holding ``metadata`` as JSON."""
    return {_META_KEY: json.dumps(dict(metadata)).encode()}
