"""Read measurement files into pyarrow tables and decode their columns.

Owns the CSV header and table reading (ids dictionary-encoded, values float64, an empty
cell is null), the Parquet type check, the message naming the first cell that is not a
number, and the decoding of dictionary codes, timestamps and flags of a table column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.quality._parsing import (
    _FLAG_NAMES,
    _first_rows,
    _flag_values,
    _localise,
    _parse_text_times,
    _Where,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_DICT_STR: Final = pa.dictionary(pa.int32(), pa.string())
_READ_OPTS: Final = pacsv.ReadOptions(block_size=16 << 20)


def _csv_names(file: Path) -> list[str]:
    """Column names of a CSV header."""
    try:
        with pacsv.open_csv(
            str(file),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
        ) as reader:
            return [str(n) for n in reader.schema.names]
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read a CSV header ({exc}); expected comma-separated columns"
        raise InputError(msg) from exc


def _read_table(
    file: Path, names: list[str], is_csv: bool, long: bool, ts_col: str, point_col: str
) -> Any:
    """Read with pyarrow: ids dictionary-encoded, values float64 (empty cell = null)."""
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        msg = f"{file}: the header repeats column name(s) {dup}; column names must be unique"
        raise InputError(msg)
    text_cols = {ts_col, point_col, *_FLAG_NAMES}
    if long:
        need = [c for c in ("indicator", "value") if c not in names]
        if need:
            msg = (
                f"{file}: long layout needs columns timestamp, point_id, indicator, "
                f"[phase], value, [unit], [flagged]; {need} missing, found {names[:10]}"
            )
            raise InputError(msg)
        text_cols |= {"indicator", "phase", "unit"}
    value_cols = [c for c in names if c not in text_cols]
    if is_csv:
        types = {c: (_DICT_STR if c in text_cols else pa.float64()) for c in names}
        opts = pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True)
        try:
            return pacsv.read_csv(str(file), _READ_OPTS, convert_options=opts)
        except pa.ArrowInvalid as exc:
            if "conversion error" in str(exc) or "CSV conversion" in str(exc):
                _raise_bad_number(file, value_cols)
            msg = f"{file}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
            raise InputError(msg) from exc
        except (pa.ArrowException, OSError) as exc:
            msg = f"{file}: cannot read as CSV ({exc})"
            raise InputError(msg) from exc
    try:
        table = pq.read_table(str(file))
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc
    for col in value_cols:
        typ = table.column(col).type
        if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)):
            msg = f"{file}: column {col!r} has type {typ}; expected numbers"
            raise InputError(msg)
        table = table.set_column(names.index(col), col, table.column(col).cast(pa.float64()))
    return table


def _raise_bad_number(file: Path, value_cols: list[str]) -> None:
    """Raise naming the first CSV cell of a value column that is not a number."""
    opts = pacsv.ConvertOptions(  # bytes, not text: a cell may not be UTF-8
        column_types=dict.fromkeys(value_cols, pa.binary()), include_columns=value_cols
    )
    try:
        table = pacsv.read_csv(str(file), convert_options=opts)
    except (pa.ArrowException, OSError) as exc:
        msg = f"{file}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
        raise InputError(msg) from exc
    for col in value_cols:
        raw = table.column(col).to_pylist()
        text = pd.Series([None if b is None else b.decode("utf-8", "replace") for b in raw])
        num = pd.to_numeric(text.replace("", np.nan), errors="coerce")
        bad = np.flatnonzero(
            num.isna().to_numpy() & text.notna().to_numpy() & (text != "").to_numpy()
        )
        if bad.size:
            cell = text.iloc[int(bad[0])]
            why = (
                "holds bytes that are not UTF-8 text"
                if "\ufffd" in cell
                else "is not a number (use a dot as decimal separator; leave the cell "
                "empty for no value)"
            )
            msg = (
                f"{file}: data row {int(bad[0]) + 1} (1-based, header excluded), column "
                f"{col!r}: {cell!r} {why}"
            )
            raise InputError(msg)
    msg = f"{file}: a value column is not numeric (columns {value_cols[:10]})"
    raise InputError(msg)


def _codes(column: Any) -> tuple[IntArray, list[Any]]:
    """Dictionary codes of a pyarrow column (-1 for null) and its distinct values."""
    arr = column.combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    idx = arr.indices.fill_null(-1) if arr.indices.null_count else arr.indices
    return np.asarray(idx.to_numpy(), dtype=np.int64), list(arr.dictionary.to_pylist())


def _table_times(column: Any, tz: str | None, where: _Where) -> IntArray:
    """UTC ns per row from a timestamp column (text or timestamp type)."""
    typ = column.type
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            stamps = pd.DatetimeIndex(column.to_pandas())
            return _localise(stamps, np.arange(len(stamps), dtype=np.int64), tz, where)
        ns = column.cast(pa.timestamp("ns", tz="UTC")).combine_chunks()
        nulls = np.asarray(ns.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if nulls.any():
            msg = f"{where.source}: {where.rows(np.flatnonzero(nulls))}: empty timestamp"
            raise InputError(msg)
        return np.asarray(ns.cast(pa.int64()).to_numpy(), dtype=np.int64)
    codes, uniq = _codes(column)
    empty = np.flatnonzero(codes < 0)
    if empty.size:
        msg = f"{where.source}: {where.rows(empty)}: empty timestamp"
        raise InputError(msg)
    first_rows = _first_rows(codes, len(uniq))
    parsed = _parse_text_times([str(u) for u in uniq], first_rows, tz, where)
    return parsed[codes]


def _table_flags(column: Any, where: _Where) -> BoolArray:
    """Flags of a pyarrow column (text via its dictionary: each distinct value once)."""
    typ = column.type
    if pa.types.is_dictionary(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ):
        codes, uniq = _codes(column)
        parsed = _flag_values(
            np.array(["", *[str(u) for u in uniq]], dtype=object),
            where,
            rows=np.r_[0, _first_rows(codes, len(uniq))],
        )
        return np.asarray(parsed[codes + 1], dtype=bool)
    arr = column.combine_chunks()
    if arr.null_count:
        arr = arr.fill_null(False if pa.types.is_boolean(typ) else 0)
    return _flag_values(np.asarray(arr.to_numpy(zero_copy_only=False)), where)
